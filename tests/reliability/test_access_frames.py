"""Every client frame type against refused tokens and other users' resources (a table like the routes').

No frame can be sent without a valid token: the upgrade itself is refused (every refused token is
tried on `/ws` by test_access_routes), and a connection whose token expires is closed with 4401.
No frame type needs a role beyond a signed-in user. What remains per type is other people's
things: documents of a channel one left or never joined, and peers one does not share a channel with.
A frame type registered without a row here fails `test_every_frame_type_is_in_the_table`.
"""
from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Callable, Iterator

import jwt
import pytest
import websocket
from flask import Flask

from tests.reliability.access_table import refused_tokens
from tests.reliability.frames import WsClient, insert
from tests.support.api import Account, Api
from tests.support.server import ServerProcess
from tests.support.tokens import SERVER_SECRET


@dataclass
class World:
    """An owner with a document, a member who left, a stranger who never joined; all connected."""

    api: Api
    owner: Account
    leaver: Account
    stranger: Account
    doc: str
    owner_ws: WsClient
    leaver_ws: WsClient
    stranger_ws: WsClient

    def head(self) -> tuple[str, int]:
        body = self.api.get(f"/api/v1/documents/{self.doc}", self.owner).json()
        return body["content"], body["revision"]

    def owner_hears_nothing_of(self, *user_ids: int) -> None:
        """The owner's connection got no frame naming these users (roundtrip with a ping first)."""
        self.owner_ws.ping(f"sync{time.monotonic()}")
        leaked = [f for f in self.owner_ws.frames if f["payload"].get("user_id") in user_ids]
        assert leaked == [], leaked


@pytest.fixture(scope="module")
def world(own_server: ServerProcess, own_api: Api) -> Iterator[World]:
    owner, leaver, stranger = (own_api.register(p) for p in ("fowner", "fleaver", "fstranger"))
    channel = own_api.post("/api/v1/channels", owner, json={"name": "frames"}).json()
    own_api.post(f"/api/v1/channels/{channel['id']}/members", owner, json={"user_id": leaver.id})
    assert own_api.delete(f"/api/v1/channels/{channel['id']}/members/{leaver.id}", leaver).status_code == 204
    doc = f"channel:{channel['id']}:lyrics"
    clients = [WsClient(own_server.ws_url, a.token) for a in (owner, leaver, stranger)]
    clients[0].send("subscribe", {"documentId": doc})
    clients[0].of_type("snapshot")
    clients[0].send("operation", insert(doc, 0, 0, "verse one", 1, "owner-seed"))
    clients[0].of_type("operation_ack")
    made = World(own_api, owner, leaver, stranger, doc, *clients)
    yield made
    for client in clients:
        client.close()


def _refused(client: WsClient, code: str | tuple[str, ...]) -> None:
    codes = (code,) if isinstance(code, str) else code
    assert client.of_type("error")["payload"]["code"] in codes


def check_ping(w: World) -> None:
    w.stranger_ws.send("ping", {"n": "private"})
    assert w.stranger_ws.of_type("pong")["payload"] == {"n": "private"}
    assert all(f["payload"].get("n") != "private" for f in w.owner_ws.quiet(0.3))


def check_presence(w: World) -> None:
    for client in (w.stranger_ws, w.leaver_ws):
        client.send("presence", {"status": "in_studio"})
        client.ping("presence-sent")
    w.owner_hears_nothing_of(w.stranger.id, w.leaver.id)


def check_auth(w: World) -> None:
    for token in refused_tokens(w.stranger.id).values():
        w.stranger_ws.send("auth", {"token": token} if token is not None else {})
        _refused(w.stranger_ws, ("invalid_token", "invalid_payload"))
    w.stranger_ws.send("auth", {"token": w.owner.token})  # someone else's valid token
    _refused(w.stranger_ws, "forbidden")
    w.stranger_ws.send("subscribe", {"documentId": w.doc})
    _refused(w.stranger_ws, "not_a_member")  # still the stranger


def check_subscribe(w: World) -> None:
    for client in (w.stranger_ws, w.leaver_ws):
        for payload in ({"documentId": w.doc}, {"documentId": w.doc, "fromRevision": 0}):
            client.send("subscribe", payload)
            _refused(client, "not_a_member")
    assert not [f for c in (w.stranger_ws, w.leaver_ws) for f in c.frames if f["type"] in ("snapshot", "operation")]


def check_unsubscribe(w: World) -> None:
    before = w.head()
    w.stranger_ws.send("unsubscribe", {"documentId": w.doc})
    w.stranger_ws.ping("unsubscribed")
    w.owner_ws.send("operation", insert(w.doc, before[1], 0, "> ", 1, f"owner-{before[1]}"))
    w.owner_ws.of_type("operation_ack")  # the owner's own subscription is untouched
    assert not [f for f in w.stranger_ws.quiet(0.3) if f["type"] == "operation"]


def check_operation(w: World) -> None:
    before = w.head()
    for n, client in enumerate((w.stranger_ws, w.leaver_ws)):
        client.send("operation", insert(w.doc, before[1], 0, "graffiti ", 66, f"intruder-{n}"))
        _refused(client, "not_a_member")
        client.send("operation", {"documentId": w.doc, "operation": {"type": "Insert", "position": 0,
                                                                      "content": "x", "clientId": 66}})
        _refused(client, ("not_a_member", "invalid_operation"))
    assert w.head() == before


def check_playback(frame_type: str) -> Callable[[World], None]:
    def check(w: World) -> None:
        w.stranger_ws.send(frame_type, {"post_id": "post-1"})
        w.stranger_ws.ping(f"{frame_type}-sent")
        w.owner_hears_nothing_of(w.stranger.id)
        w.stranger_ws.send(frame_type, {"post_id": "post-1", "user_id": w.owner.id})  # impersonation
        _refused(w.stranger_ws, "forbidden")
    return check


FRAMES: dict[str, Callable[[World], None]] = {
    "ping": check_ping, "presence": check_presence, "auth": check_auth, "subscribe": check_subscribe,
    "unsubscribe": check_unsubscribe, "operation": check_operation,
    "playback_started": check_playback("playback_started"), "playback_stopped": check_playback("playback_stopped"),
}


def test_every_frame_type_is_in_the_table(make_app: Callable[..., Flask]) -> None:
    hub = make_app().extensions["services"].extra["hub"]
    assert set(hub.registry.types()) == set(FRAMES)


@pytest.mark.parametrize("frame_type", sorted(FRAMES))
def test_frame_access(frame_type: str, world: World) -> None:
    FRAMES[frame_type](world)
    for client in (world.owner_ws, world.leaver_ws, world.stranger_ws):
        client.ping(f"after-{frame_type}")  # every connection is still served
        assert [f for f in client.frames if f["payload"].get("code") == "internal_error"] == []


def test_an_expired_token_ends_the_connection(own_server: ServerProcess, world: World) -> None:
    now = int(time.time())
    short = jwt.encode({"sub": str(world.stranger.id), "role": "user", "iat": now, "exp": now + 2},
                       SERVER_SECRET, algorithm="HS256")
    client = WsClient(own_server.ws_url, short)
    client.ping("before expiry")
    deadline = time.monotonic() + 20
    while client.closed_with is None and time.monotonic() < deadline:
        client.receive(0.5)
    assert client.closed_with == 4401
    for frame_type in FRAMES:  # nothing is served any more, whatever the type
        try:
            client.send(frame_type, {})
        except (OSError, websocket.WebSocketException):
            continue
        assert client.receive(0.2) is None
