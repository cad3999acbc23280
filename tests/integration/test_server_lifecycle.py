"""The real server: starts with nothing configured, keeps a generated secret, stops cleanly on SIGTERM."""
import os
import signal
import stat
from pathlib import Path

import requests

from tests.support.server import ServerProcess
from tests.support.services import cli_create_user, data_dir_env


def test_embedded_defaults_generate_a_secret_and_stop_cleanly(tmp_path: Path) -> None:
    env = {k: "" for k in ("SECRET_KEY", "DATABASE_URL", "CLICKHOUSE_URL", "REDIS_URL")}
    server = ServerProcess(tmp_path / "data", env=env).start()
    try:
        secret_file = tmp_path / "data" / "secret_key"
        assert secret_file.exists() and stat.S_IMODE(secret_file.stat().st_mode) == 0o600
        assert len(secret_file.read_text()) >= 32
        assert (tmp_path / "data" / "app.db").exists() and (tmp_path / "data" / "analytics").is_dir()
        resp = requests.post(f"{server.url}/api/v1/auth/register", json={"username": "erin", "password": "good-pass-1"})
        token = resp.json()["token"]
        cli_create_user(data_dir_env(tmp_path / "data"), "boss", "boss-pass-1", "admin")
    finally:
        assert server.stop(signal.SIGTERM) == 0
    assert "Traceback" not in server.log_tail(400)
    again = ServerProcess(tmp_path / "data", env=env).start()  # same secret: old tokens still valid
    try:
        me = requests.get(f"{again.url}/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        assert me.status_code == 200 and me.json()["user"]["username"] == "erin"
        login = requests.post(f"{again.url}/api/v1/auth/login", json={"username": "boss", "password": "boss-pass-1"})
        assert login.json()["user"]["role"] == "admin"
    finally:
        again.stop()


def test_short_secret_key_is_refused_at_start(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "data", env={"SECRET_KEY": "short"})
    try:
        server.start(timeout=20)
        raise AssertionError("server started with a weak SECRET_KEY")
    except RuntimeError as exc:
        assert "SECRET_KEY" in str(exc)
    finally:
        server.stop()
