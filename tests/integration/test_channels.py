"""Channel and membership endpoints, in-process on real SQLite (and PostgreSQL): owner checks, 404s, cascade."""
from __future__ import annotations

import itertools
import uuid
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select

from app.models import Document, Operation

_names = itertools.count()


class Caller:
    """A user of the in-process app and its bearer header."""

    def __init__(self, app: Flask, role: str = "user") -> None:
        auth = app.extensions["services"].auth
        self.user = auth.create_user(f"ch{role}{next(_names)}", "good-pass-123", role)
        self.id = self.user.id
        self.headers = {"Authorization": f"Bearer {auth.token_for(self.user)['token']}"}


@pytest.fixture(scope="module")
def chan_app(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path) -> Iterator[Flask]:
    """One app for this module (users are unique per test): building an app costs seconds."""
    from app import create_app

    app = create_app({"data_dir": tmp_path_factory.mktemp("channels"), "rate_limit_enabled": False,
                      "clickhouse_url": f"chdb:///{chdb_dir}?database=t_{uuid.uuid4().hex[:12]}",
                      "secret_key": "test-secret-" + "x" * 40})
    app.testing = True
    yield app
    app.extensions["services"].begin_shutdown()
    app.extensions["services"].close()


@pytest.fixture
def http(chan_app: Flask) -> FlaskClient:
    return chan_app.test_client()


@pytest.fixture(scope="module")
def people(chan_app: Flask) -> dict[str, Caller]:
    """Accounts shared by the tests (password hashing is slow); every test makes its own channels."""
    roles = {"owner": "user", "a": "user", "b": "user", "stranger": "user", "support": "support",
             "admin": "admin"}
    return {name: Caller(chan_app, role) for name, role in roles.items()}


def _create(http: FlaskClient, owner: Caller, name: str = "Mix room") -> dict[str, Any]:
    resp = http.post("/api/v1/channels", json={"name": name}, headers=owner.headers)
    assert resp.status_code == 201, resp.get_data(as_text=True)
    return resp.get_json()


def _listed(http: FlaskClient, caller: Caller) -> dict[str, int]:
    resp = http.get("/api/v1/channels", headers=caller.headers)
    assert resp.status_code == 200
    return {c["id"]: c["member_count"] for c in resp.get_json()["channels"]}


def test_create_list_and_read(http: FlaskClient, people: dict[str, Caller]) -> None:
    owner, stranger, support = people["owner"], people["stranger"], people["support"]
    channel = _create(http, owner, "  Mix room  ")
    assert channel["name"] == "Mix room" and channel["owner_id"] == owner.id
    assert len(channel["id"]) == 12 and channel["id"].isalnum()
    assert [m["user_id"] for m in channel["members"]] == [owner.id]
    assert _listed(http, owner)[channel["id"]] == 1
    assert channel["id"] not in _listed(http, stranger)
    newest = http.get("/api/v1/channels", headers=owner.headers).get_json()["channels"][0]
    assert newest["id"] == channel["id"]
    assert http.get(f"/api/v1/channels/{channel['id']}", headers=owner.headers).status_code == 200
    assert http.get(f"/api/v1/channels/{channel['id']}", headers=support.headers).status_code == 200
    denied = http.get(f"/api/v1/channels/{channel['id']}", headers=stranger.headers)
    assert denied.status_code == 403 and denied.get_json()["error"]["code"] == "forbidden"
    for missing in ("nope00000000", "bad%20id", "x" * 40):
        resp = http.get(f"/api/v1/channels/{missing}", headers=owner.headers)
        assert resp.status_code == 404 and resp.get_json()["error"]["code"] == "not_found"
    assert http.get("/api/v1/channels").status_code == 401


@pytest.mark.parametrize("body", [{}, {"name": ""}, {"name": "   "}, {"name": 5}, {"name": "x" * 129},
                                  {"name": "ok", "owner_id": 1}])
def test_create_refuses_bad_bodies(http: FlaskClient, people: dict[str, Caller], body: dict) -> None:
    owner = people["stranger"]
    before = _listed(http, owner)
    resp = http.post("/api/v1/channels", json=body, headers=owner.headers)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "validation_error"
    assert _listed(http, owner) == before


def test_membership_changes_are_owner_checked(chan_app: Flask, http: FlaskClient,
                                              people: dict[str, Caller]) -> None:
    owner, member, other = Caller(chan_app), people["a"], people["b"]
    channel_id = _create(http, owner)["id"]
    members = f"/api/v1/channels/{channel_id}/members"
    assert http.post(members, json={"userId": member.id}, headers=owner.headers).status_code == 201
    again = http.post(members, json={"user_id": member.id}, headers=owner.headers)
    assert again.status_code == 200 and len(again.get_json()["members"]) == 2
    assert http.post(members, json={"user_id": other.id}, headers=member.headers).status_code == 403
    assert http.post(members, json={"user_id": other.id}, headers=other.headers).status_code == 403
    missing_user = http.post(members, json={"user_id": 999999}, headers=owner.headers)
    assert missing_user.status_code == 404 and missing_user.get_json()["error"]["code"] == "user_not_found"
    assert http.post(members, json={"user_id": "2"}, headers=owner.headers).status_code == 400
    assert http.post("/api/v1/channels/nope00000000/members", json={"user_id": member.id},
                     headers=owner.headers).status_code == 404
    services = chan_app.extensions["services"]
    assert services.channels.is_member(channel_id, member.id)
    assert services.channels.members(channel_id) == sorted([owner.id, member.id])
    assert services.channels.peers_of(owner.id) == {member.id}
    assert owner.id not in services.channels.peers_of(other.id)


def test_removing_and_leaving(chan_app: Flask, http: FlaskClient, people: dict[str, Caller]) -> None:
    owner, a, b, stranger = (people[k] for k in ("owner", "a", "b", "stranger"))
    channel_id = _create(http, owner)["id"]
    for user in (a, b):
        http.post(f"/api/v1/channels/{channel_id}/members", json={"user_id": user.id}, headers=owner.headers)
    member = f"/api/v1/channels/{channel_id}/members/{{}}".format
    assert http.delete(member(b.id), headers=a.headers).status_code == 403
    assert http.delete(member(a.id), headers=stranger.headers).status_code == 403
    owner_leaving = http.delete(member(owner.id), headers=owner.headers)
    assert owner_leaving.status_code == 409 and owner_leaving.get_json()["error"]["code"] == "owner_cannot_leave"
    assert http.delete(member(a.id), headers=owner.headers).status_code == 204
    assert http.delete(member(a.id), headers=owner.headers).status_code == 404
    assert http.delete(member(b.id), headers=b.headers).status_code == 204  # leaving
    assert chan_app.extensions["services"].channels.members(channel_id) == [owner.id]
    assert http.get(f"/api/v1/channels/{channel_id}", headers=a.headers).status_code == 403


def _seed_document(chan_app: Flask, channel_id: str, field: str, revisions: int) -> str:
    document_id = f"channel:{channel_id}:{field}"
    with chan_app.extensions["services"].db.session() as session:
        session.add(Document(id=document_id, channel_id=channel_id, content="x" * revisions, revision=revisions))
        session.flush()
        for rev in range(1, revisions + 1):
            session.add(Operation(document_id=document_id, revision=rev, op_id=f"op-{rev}", client_id=1,
                                  user_id=1, operation='{"type": "Insert"}'))
    return document_id


def _counts(chan_app: Flask, channel_id: str) -> tuple[int, int]:
    with chan_app.extensions["services"].db.session() as session:
        docs = session.scalar(select(func.count()).select_from(Document).where(Document.channel_id == channel_id))
        ops = session.scalar(select(func.count()).select_from(Operation)
                             .where(Operation.document_id.like(f"channel:{channel_id}:%")))
    return docs, ops


def _delete_cascades(chan_app: Flask, http: FlaskClient, owner: Caller, member: Caller) -> None:
    doomed, kept = _create(http, owner)["id"], _create(http, owner)["id"]
    http.post(f"/api/v1/channels/{doomed}/members", json={"user_id": member.id}, headers=owner.headers)
    for field, revisions in (("description", 3), ("lyrics", 2)):
        _seed_document(chan_app, doomed, field, revisions)
    _seed_document(chan_app, kept, "description", 4)
    assert _counts(chan_app, doomed) == (2, 5)
    deleted_hooks: list[tuple[str, list[int]]] = []
    chan_app.extensions["services"].channels.on_channel_deleted(lambda cid, former: deleted_hooks.append((cid, former)))
    assert http.delete(f"/api/v1/channels/{doomed}", headers=member.headers).status_code == 403
    assert _counts(chan_app, doomed) == (2, 5)
    assert http.delete(f"/api/v1/channels/{doomed}", headers=owner.headers).status_code == 204
    assert _counts(chan_app, doomed) == (0, 0)
    assert _counts(chan_app, kept) == (1, 4)
    assert [(cid, sorted(former)) for cid, former in deleted_hooks] == [(doomed, sorted([owner.id, member.id]))]
    assert http.get(f"/api/v1/channels/{doomed}", headers=owner.headers).status_code == 404
    assert http.delete(f"/api/v1/channels/{doomed}", headers=owner.headers).status_code == 404
    assert chan_app.extensions["services"].channels.members(doomed) == []


def test_deleting_a_channel_cascades_to_documents_and_operations(chan_app: Flask, http: FlaskClient,
                                                                people: dict[str, Caller]) -> None:
    _delete_cascades(chan_app, http, people["owner"], people["a"])


@pytest.mark.pg
def test_deleting_a_channel_cascades_on_postgresql(make_app: Callable[..., Flask], pg_url: str) -> None:
    app = make_app(database_url=pg_url, rate_limit_enabled=False)
    _delete_cascades(app, app.test_client(), Caller(app), Caller(app))


def test_admin_may_delete_any_channel(http: FlaskClient, people: dict[str, Caller]) -> None:
    owner, admin = people["owner"], people["admin"]
    channel_id = _create(http, owner)["id"]
    assert http.delete(f"/api/v1/channels/{channel_id}", headers=admin.headers).status_code == 204


def test_channel_endpoints_are_in_the_openapi_document(http: FlaskClient) -> None:
    paths = http.get("/api/v1/openapi.json").get_json()["paths"]
    for path, method in (("/api/v1/channels", "post"), ("/api/v1/channels", "get"),
                         ("/api/v1/channels/{channel_id}", "get"), ("/api/v1/channels/{channel_id}", "delete"),
                         ("/api/v1/channels/{channel_id}/members", "post"),
                         ("/api/v1/channels/{channel_id}/members/{user_id}", "delete"),
                         ("/api/v1/websocket/metrics", "get"), ("/ws", "get")):
        assert method in paths[path], (path, method)
