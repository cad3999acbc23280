"""The client side of OT for tests and benchmarks (after ot.js client.js), and an editor over a real WebSocket.

`OTClient` is the state machine: at most one operation in flight, later local edits
buffered, every incoming revision transformed against both (the server's op is already
in the history, so ours win a tie only with a smaller client id: `ot.wins_tie`). It checks
that revisions arrive strictly in order and raises `OrderError` otherwise.
"""
from __future__ import annotations

import json
import random
import time
from typing import Any, Callable

import websocket

from ot import (
    Delete,
    Insert,
    Op,
    apply,
    apply_all,
    apply_revisions,
    components_from_wire,
    op_to_wire,
    transform_pair,
    wins_tie,
)

EMOJI = "😀👍🏽🎉é\u0301漢字"


class OrderError(AssertionError):
    """The server sent a revision out of order (or acknowledged the wrong op)."""


class OTClient:
    """One client's view of one document: text, known revision, the op in flight and the buffer."""

    def __init__(self, document_id: str, client_id: int,
                 parse: Callable[[Any], list[Op]] = components_from_wire) -> None:
        self.document_id = document_id
        self.client_id = client_id
        self._parse = parse  # how a revision from the server becomes components (checked by default)
        self.content = ""
        self.revision = 0
        self.inflight: list[Op] | None = None
        self.inflight_payload: dict[str, Any] | None = None
        self.buffer: list[Op] = []
        self._seq = 0

    @property
    def idle(self) -> bool:
        """Nothing in flight and nothing buffered: the client has seen its edits acknowledged."""
        return self.inflight is None and not self.buffer

    def reset(self, content: str, revision: int) -> None:
        """Adopt a snapshot (only while nothing is pending)."""
        self.content, self.revision = content, revision

    def edit(self, op: Op) -> dict[str, Any] | None:
        """Apply a local edit; return the `operation` payload to send now, or None when buffered."""
        self.content = apply(self.content, op)
        if self.inflight is not None:
            self.buffer.append(op)
            return None
        return self._send(op)

    def _send(self, op: Op) -> dict[str, Any]:
        self._seq += 1
        op_id = f"c{self.client_id}-{self._seq}"
        wire = op_to_wire(op) | {"op_id": op_id}
        self.inflight = [op]
        self.inflight_payload = {"documentId": self.document_id, "revision": self.revision, "operation": wire}
        return self.inflight_payload

    def on_operation(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """A revision from the server: our own (an ack in disguise after a replay) or someone else's."""
        revision = payload["revision"]
        if revision <= self.revision:
            return None  # already seen (e.g. a replay overlapping live delivery)
        if revision != self.revision + 1:
            raise OrderError(f"{self.client_id}: revision {revision} after {self.revision}")
        if self.inflight_payload is not None and payload["op_id"] == self.inflight_payload["operation"]["op_id"]:
            return self._acked(revision)
        server = self._parse(payload["operation"])
        if server and self.inflight:
            self.inflight, server = transform_pair(self.inflight, server, wins_tie(self.inflight[0], server[0]))
        if server and self.buffer:
            self.buffer, server = transform_pair(self.buffer, server, wins_tie(self.buffer[0], server[0]))
        self.content = apply_all(self.content, server)
        self.revision = revision
        return None

    def on_ack(self, payload: dict[str, Any]) -> dict[str, Any] | None:
        """Our op was stored as `revision`; send the next buffered one, if any."""
        if self.inflight_payload is None or payload["op_id"] != self.inflight_payload["operation"]["op_id"]:
            return None  # a repeated ack for an op already acknowledged (a resend)
        if payload["revision"] != self.revision + 1:
            raise OrderError(f"{self.client_id}: ack of {payload['revision']} after {self.revision}")
        return self._acked(payload["revision"])

    def _acked(self, revision: int) -> dict[str, Any] | None:
        self.revision = revision
        self.inflight = self.inflight_payload = None
        if self.buffer:
            return self._send(self.buffer.pop(0))
        return None

    def random_edit(self, rng: random.Random, insert_share: float = 0.6) -> Op:
        """An edit of this client's current text: mostly inserts (emoji included), else a short delete."""
        text = self.content
        if not text or rng.random() < insert_share:
            pieces = [rng.choice("abcdefghij ") for _ in range(rng.randint(1, 4))]
            if rng.random() < 0.3:
                pieces.insert(rng.randint(0, len(pieces)), rng.choice(EMOJI))
            return Insert(rng.randint(0, len(text)), "".join(pieces), self.client_id)
        start = rng.randrange(len(text))
        return Delete(start, text[start:start + rng.randint(1, 3)], self.client_id)


class Editor:
    """An OTClient on a real WebSocket: connect, subscribe, edit, pump frames, reconnect and resend."""

    def __init__(self, ws_url: str, token: str, document_id: str, client_id: int) -> None:
        self.url = f"{ws_url}?token={token}"
        self.client = OTClient(document_id, client_id)
        self.ws: websocket.WebSocket | None = None
        self.errors: list[dict[str, Any]] = []
        self.frames: list[dict[str, Any]] = []
        self.tracking = True  # False: record frames only (a test sending hand-made operations)

    def open(self) -> "Editor":
        """Open the socket only (and read the hub's greeting)."""
        self.ws = websocket.create_connection(self.url, timeout=15)
        self.wait_for(lambda frame: frame["type"] == "system")
        return self

    def connect(self, from_revision: int | None = None) -> "Editor":
        """Open the socket, subscribe (from our revision on a reconnect) and resend what is in flight."""
        self.open()
        self.send("subscribe", {"documentId": self.client.document_id}
                  | ({} if from_revision is None else {"fromRevision": from_revision}))
        if from_revision is None:
            self.wait_for(lambda frame: frame["type"] == "snapshot")
        if self.client.inflight_payload is not None:
            self.send("operation", self.client.inflight_payload)
        return self

    def reconnect(self) -> None:
        """Drop the connection abruptly and come back from the last revision seen."""
        self.close()
        self.connect(from_revision=self.client.revision)

    def close(self) -> None:
        """Close the socket (any op in flight stays in flight)."""
        if self.ws is not None:
            try:
                self.ws.close(timeout=1)
            except (OSError, websocket.WebSocketException):
                pass  # already cut (a killed server)
            self.ws = None

    def send(self, frame_type: str, payload: dict[str, Any]) -> None:
        """Send one frame."""
        assert self.ws is not None
        self.ws.send(json.dumps({"type": frame_type, "payload": payload}))

    def edit(self, op: Op) -> None:
        """Make a local edit and send it when nothing is in flight."""
        payload = self.client.edit(op)
        if payload is not None:
            self.send("operation", payload)

    def receive(self, timeout: float) -> dict[str, Any] | None:
        """Process one frame (None when none came in time)."""
        assert self.ws is not None
        self.ws.settimeout(timeout)
        try:
            raw = self.ws.recv()
        except websocket.WebSocketTimeoutException:
            return None
        frame = json.loads(raw)
        self.frames.append(frame)
        self._handle(frame)
        return frame

    def _handle(self, frame: dict[str, Any]) -> None:
        kind, payload = frame["type"], frame.get("payload", {})
        reply = None
        if kind == "error":
            self.errors.append(payload)
        if not self.tracking:
            return
        if kind == "snapshot":
            self.client.reset(payload["content"], payload["revision"])
        elif kind == "operation":
            reply = self.client.on_operation(payload)
        elif kind == "operation_ack":
            reply = self.client.on_ack(payload)
        if reply is not None:
            self.send("operation", reply)

    def wait_for(self, predicate: Any, timeout: float = 15.0) -> dict[str, Any]:
        """Process frames until one matches; AssertionError on timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.receive(max(0.05, deadline - time.monotonic()))
            if frame is not None and predicate(frame):
                return frame
        raise AssertionError(f"no matching frame within {timeout}s; errors: {self.errors}")

    def settle(self, timeout: float = 20.0) -> None:
        """Process frames until everything we sent is acknowledged."""
        deadline = time.monotonic() + timeout
        while not self.client.idle:
            if time.monotonic() > deadline:
                raise AssertionError(f"edits not acknowledged within {timeout}s; errors: {self.errors}")
            self.receive(0.2)

    def drain(self, quiet: float = 0.3) -> None:
        """Process frames until none arrives for `quiet` seconds."""
        while self.receive(quiet) is not None:
            pass


def shared_document(api: Any, owner: Any, members: Any = (), field: str = "notes") -> str:
    """A new channel owned by `owner` with `members`, and the id of one of its documents."""
    resp = api.post("/api/v1/channels", owner, json={"name": "ot test"})
    assert resp.status_code == 201, resp.text
    channel_id = resp.json()["id"]
    for member in members:
        added = api.post(f"/api/v1/channels/{channel_id}/members", owner, json={"user_id": member.id})
        assert added.status_code in (200, 201), added.text
    return f"channel:{channel_id}:{field}"


def stored_history(api: Any, account: Any, document_id: str, from_revision: int = 0) -> list[dict[str, Any]]:
    """Every stored revision after `from_revision`, through GET .../operations (following `has_more`)."""
    operations: list[dict[str, Any]] = []
    while True:
        resp = api.get(f"/api/v1/documents/{document_id}/operations", account,
                       params={"from_revision": from_revision, "limit": 5000})
        assert resp.status_code == 200, resp.text
        body = resp.json()
        operations += body["operations"]
        if not body["has_more"]:
            return operations
        from_revision = operations[-1]["revision"]


def replayed(operations: list[dict[str, Any]], base: str = "") -> str:
    """The text the stored revisions make when applied in order to `base`."""
    return apply_revisions(base, [components_from_wire(op["operation"]) for op in operations])
