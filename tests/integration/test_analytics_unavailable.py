"""When ClickHouse cannot take writes: 503 with Retry-After, nothing acknowledged, the rest still works."""
from typing import Callable

from flask import Flask

from tests.support.server import free_port


def _register(client) -> dict:  # type: ignore[no-untyped-def]
    resp = client.post("/api/v1/auth/register", json={"username": "carol", "password": "good-pass-1"})
    assert resp.status_code == 201
    return {"Authorization": f"Bearer {resp.get_json()['token']}"}


def test_ingest_answers_503_and_keeps_nothing(make_app: Callable[..., Flask]) -> None:
    dead = f"clickhouse://127.0.0.1:{free_port()}/analytics"  # nothing listens there
    app = make_app(clickhouse_url=dead)
    client = app.test_client()
    headers = _register(client)
    resp = client.post("/api/v1/errors/batch", headers=headers,
                       json={"errors": [{"source": "Audio", "severity": "Error", "message": "lost?"}]})
    assert resp.status_code == 503
    assert resp.get_json()["error"]["code"] == "service_unavailable"
    assert resp.headers["Retry-After"].isdigit() and int(resp.headers["Retry-After"]) >= 1
    assert app.extensions["services"].tracking.groups.ids_matching(None, "lost?") == []
    assert client.get("/api/v1/auth/me", headers=headers).status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503 and ready.get_json()["checks"] == {"sql": True, "analytics": False}
    listing = client.get("/api/v1/errors", headers=headers)
    assert listing.status_code == 503 and listing.headers["Retry-After"] == "5"


def test_ingest_recovers_when_the_table_comes_back(make_app: Callable[..., Flask]) -> None:
    app = make_app()
    client = app.test_client()
    headers = _register(client)
    store = app.extensions["services"].analytics
    item = {"errors": [{"source": "Audio", "severity": "Error", "message": "retry me"}]}
    store.command("DETACH TABLE error_events")  # the injected fault: the store cannot take the write
    try:
        resp = client.post("/api/v1/errors/batch", headers=headers, json=item)
        assert resp.status_code == 503 and int(resp.headers["Retry-After"]) >= 1
    finally:
        store.command("ATTACH TABLE error_events")
    assert client.post("/api/v1/errors/batch", headers=headers, json=item).status_code == 200
    assert store.query("SELECT sum(occurrences), count() FROM error_events WHERE message = 'retry me'") == [(1, 1)]
