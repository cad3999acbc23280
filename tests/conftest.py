"""Fixtures: in-process apps on real SQLite + chDB, a real server process, PostgreSQL and Redis spaces."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask

from tests.support.api import Account, Api, staff_factory
from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.tokens import SERVER_SECRET
from tests.support.services import REDIS_URL, postgres_database, redis_prefix


@pytest.fixture(scope="session")
def chdb_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """chDB opens one folder per process: in-process apps share it, each in a database of its own."""
    return tmp_path_factory.mktemp("chdb")


@pytest.fixture
def make_app(tmp_path: Path, chdb_dir: Path) -> Iterator[Callable[..., Flask]]:
    """Build apps on this test's own SQLite file and ClickHouse database; closed afterwards."""
    apps: list[Flask] = []

    def build(**overrides: Any) -> Flask:
        config = {**{k.lower(): v for k, v in GENEROUS_LIMITS.items()}, "data_dir": tmp_path / f"data{len(apps)}",
                  "clickhouse_url": f"chdb:///{chdb_dir}?database=t_{uuid.uuid4().hex[:12]}",
                  "secret_key": "test-secret-" + "x" * 40, **overrides}
        from app import create_app

        app = create_app(config)
        app.testing = True
        apps.append(app)
        return app

    yield build
    for app in apps:
        app.extensions["services"].begin_shutdown()
        app.extensions["services"].close()


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app()


@pytest.fixture
def client(app: Flask):  # type: ignore[no-untyped-def]
    return app.test_client()


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """One real server with the embedded defaults, shared by the API tests of this run."""
    proc = ServerProcess(tmp_path_factory.mktemp("server"), env={"SECRET_KEY": SERVER_SECRET, **GENEROUS_LIMITS})
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="session")
def api(server: ServerProcess) -> Api:
    return Api(server.url)


@pytest.fixture(scope="session")
def staff(server: ServerProcess, api: Api) -> Callable[[str], Account]:
    """Accounts of a role made through the CLI (cached per role): staff('support'), staff('admin')."""
    return staff_factory(server, api)


@pytest.fixture
def pair(tmp_path: Path, pg_url: str, redis_space: str) -> Iterator[list[ServerProcess]]:
    """Two instances sharing PostgreSQL, Redis, the prefix and the secret (each its own DATA_DIR)."""
    env = {"DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": redis_space,
           "SECRET_KEY": SERVER_SECRET, "RATE_LIMIT_ENABLED": "false"}
    servers = [ServerProcess(tmp_path / name, env=env) for name in ("one", "two")]
    try:
        for server in servers:  # one after the other: the first migrates the shared database
            server.start()
        yield servers
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_space() -> Iterator[str]:
    with redis_prefix() as prefix:
        yield prefix
