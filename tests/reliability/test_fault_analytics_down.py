"""A whole server whose ClickHouse is unreachable: ingest answers 503 with Retry-After and acknowledges
nothing, while sign-up, channels, documents, the WebSocket hub and the dashboard's login keep working."""
from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from tests.reliability.frames import WsClient, insert
from tests.reliability.servers import LiveServer, server_log_problems
from tests.support.api import Api
from tests.support.server import GENEROUS_LIMITS, ROOT, free_port
from tests.support.services import data_dir_env


def _assert_retry_later(resp) -> None:  # type: ignore[no-untyped-def]
    assert resp.status_code == 503, resp.text
    assert resp.json()["error"]["code"] == "service_unavailable"
    assert resp.headers["Retry-After"].isdigit() and int(resp.headers["Retry-After"]) >= 1


def test_clickhouse_down_refuses_ingest_and_serves_the_rest(tmp_path: Path) -> None:
    dead = f"clickhouse://127.0.0.1:{free_port()}/analytics"  # nothing listens there
    env = {**GENEROUS_LIMITS, "CLICKHOUSE_URL": dead}
    server = LiveServer(tmp_path / "server", env=env).start_until("/healthz")
    try:
        api = Api(server.url)
        ready = api.get("/readyz")
        assert ready.status_code == 503 and ready.json()["checks"] == {"sql": True, "analytics": False}
        user = api.register("chdown")
        item = {"source": "Audio", "severity": "Error", "message": "not stored"}
        _assert_retry_later(api.post("/api/v1/errors/batch", user, json={"errors": [item] * 3}))
        _assert_retry_later(api.get("/api/v1/errors", user))
        dsn = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "projects", "create", "down"],
                             cwd=ROOT, env=data_dir_env(server.data_dir, **env), capture_output=True,
                             text=True, timeout=120, check=True).stdout.strip().splitlines()[-1]
        key, project = dsn.split("://", 1)[1].split("@", 1)[0], dsn.rsplit("/", 1)[1]
        _assert_retry_later(api.post(f"/api/{project}/store/", json={"message": "not stored either"},
                                     headers={"X-Sentry-Auth": f"Sentry sentry_key={key}, sentry_version=7"}))
        assert api.get("/api/v1/auth/me", user).status_code == 200
        channel = api.post("/api/v1/channels", user, json={"name": "still works"}).json()
        doc = f"channel:{channel['id']}:notes"
        client = WsClient(server.ws_url, user.token)
        try:
            client.ping("alive")
            client.send("subscribe", {"documentId": doc})
            client.of_type("snapshot")
            client.send("operation", insert(doc, 0, 0, "typed while ClickHouse is down", 3, "c3-1"))
            assert client.of_type("operation_ack")["payload"]["revision"] == 1
        finally:
            client.close()
        assert api.get(f"/api/v1/documents/{doc}", user).json()["content"] == "typed while ClickHouse is down"
        assert api.get("/dashboard/login").status_code == 200
        assert api.get("/healthz").status_code == 200
        assert server_log_problems(server.log_path) == []
    finally:
        server.stop()
