"""Per-test-run spaces in the machine's real PostgreSQL and Redis, created and removed by the tests."""
from __future__ import annotations

import subprocess
import sys
import uuid
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

import psycopg
import redis

from tests.support.server import ROOT

PG_ADMIN = "postgresql://postgres@127.0.0.1:5432/postgres"
REDIS_URL = "redis://127.0.0.1:6379/0"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A fresh PostgreSQL database for this test; dropped afterwards."""
    name = f"test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql://postgres@127.0.0.1:5432/{name}"
    finally:
        with psycopg.connect(PG_ADMIN, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextmanager
def redis_prefix() -> Iterator[str]:
    """A Redis key prefix of this test's own; its keys are deleted afterwards."""
    prefix = f"test-{uuid.uuid4().hex[:12]}"
    try:
        yield prefix
    finally:
        client = redis.Redis.from_url(REDIS_URL)
        for key in client.scan_iter(f"*{prefix}*"):
            client.delete(key)
        client.close()


def cli_create_user(env: dict[str, str], username: str, password: str, role: str) -> None:
    """Create an account through the real CLI: `flask --app wsgi users create`."""
    result = subprocess.run(
        [sys.executable, "-m", "flask", "--app", "wsgi", "users", "create", username,
         "--password", password, "--role", role],
        cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    if result.returncode != 0:
        raise RuntimeError(f"users create failed: {result.stdout}\n{result.stderr}")


def data_dir_env(data_dir: Path, **extra: str) -> dict[str, str]:
    """The environment a CLI command needs to act on a server's data."""
    import os

    return {**os.environ, "DATA_DIR": str(data_dir), **extra}
