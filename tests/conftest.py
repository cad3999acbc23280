"""Fixtures: in-process apps on real SQLite + chDB, a real server process, PostgreSQL and Redis spaces."""
from __future__ import annotations

import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask

from tests.support.api import Account, Api, unique_name
from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.tokens import SERVER_SECRET
from tests.support.services import cli_create_user, data_dir_env, postgres_database, redis_prefix


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
    cache: dict[str, Account] = {}

    def get(role: str) -> Account:
        if role not in cache:
            name, password = unique_name(role), "staff-pass-123"
            cli_create_user(data_dir_env(server.data_dir), name, password, role)
            cache[role] = api.login(name, password)
        return cache[role]

    return get


@pytest.fixture
def pg_url() -> Iterator[str]:
    with postgres_database() as url:
        yield url


@pytest.fixture
def redis_space() -> Iterator[str]:
    with redis_prefix() as prefix:
        yield prefix
