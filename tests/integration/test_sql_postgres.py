"""The SQL side on PostgreSQL: migrations, accounts and group state, through the same code as SQLite."""
from typing import Callable

import pytest
from flask import Flask
from sqlalchemy import inspect

pytestmark = pytest.mark.pg


def test_same_code_path_on_postgresql(make_app: Callable[..., Flask], pg_url: str) -> None:
    app = make_app(database_url=pg_url)
    make_app(database_url=pg_url)  # a second start-up migrates nothing and breaks nothing
    services = app.extensions["services"]
    assert services.db.dialect == "postgresql"
    tables = set(inspect(services.db.engine).get_table_names())
    assert {"users", "error_groups", "channels", "documents", "operations", "alembic_version"} <= tables
    client = app.test_client()
    token = client.post("/api/v1/auth/register", json={"username": "pgdave", "password": "good-pass-1"}).get_json()["token"]
    headers = {"Authorization": f"Bearer {token}"}
    batch = {"errors": [{"source": "Audio", "severity": "Error", "message": "PG underrun 12"},
                        {"source": "Audio", "severity": "Warning", "message": "PG underrun 99", "occurrences": 2}]}
    assert client.post("/api/v1/errors/batch", headers=headers, json=batch).get_json()["accepted"] == 2
    groups = client.get("/api/v1/errors", headers=headers).get_json()["groups"]
    assert len(groups) == 1 and groups[0]["occurrences"] == 3 and groups[0]["severity"] == "Warning"
    services.tracking.groups.set_status(groups[0]["id"], "resolved", 1)
    client.post("/api/v1/errors/batch", headers=headers, json=batch)
    assert client.get("/api/v1/errors", headers=headers).get_json()["groups"][0]["status"] == "regressed"
    assert client.post("/api/v1/auth/register", json={"username": "pgdave", "password": "good-pass-1"}).status_code == 409
