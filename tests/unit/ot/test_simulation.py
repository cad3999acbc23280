"""A server and several ot.js-style clients editing at once, with random delivery order.

Each client keeps at most one op in flight and buffers the rest (the contract's rule);
messages from the server to one client arrive in order but interleave at random with that
client's own sends and with every other client. Everything crosses the wire as JSON
objects, as it would on the WebSocket.
"""

from __future__ import annotations

import random
from collections import deque
from dataclasses import dataclass, field
from typing import Any

import pytest

from ot import (
    Op,
    apply,
    apply_all,
    apply_revisions,
    components_from_wire,
    op_from_wire,
    op_to_wire,
    revision_to_wire,
    submit,
    transform_pair,
    wins_tie,
)
from tests.unit.ot.strategies import random_op

CLIENTS = 5
EDITS_PER_CLIENT = 12
SEEDS_PER_CHUNK = 25
CHUNKS = 12


@dataclass
class Server:
    """The storage layer's part, in memory: history kept as stored wire objects."""

    initial: str
    content: str = ""
    history: list[dict[str, Any]] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.content = self.initial

    def receive(self, revision: int, wire: dict[str, Any]) -> dict[str, Any]:
        incoming = [op_from_wire(wire)]
        after = [components_from_wire(stored) for stored in self.history[revision:]]
        self.content, components = submit(self.content, after, incoming)
        self.history.append(revision_to_wire(components, incoming[0]))
        return self.history[-1]


@dataclass
class Client:
    """ot.js client: synchronized, awaiting confirm, or awaiting with a buffer."""

    client_id: int
    text: str = ""
    revision: int = 0
    in_flight: list[Op] | None = None
    buffer: list[Op] = field(default_factory=list)
    outbox: deque[tuple[int, dict[str, Any]]] = field(default_factory=deque)
    inbox: deque[tuple[str, Any]] = field(default_factory=deque)
    edits: int = 0
    sent: int = 0

    def edit(self, rng: random.Random) -> None:
        self.edits += 1
        op = random_op(rng, self.text, self.client_id, f"c{self.client_id}-{self.edits}")
        self.text = apply(self.text, op)
        if self.in_flight is None:
            self._send(op)
        else:
            self.buffer.append(op)

    def _send(self, op: Op) -> None:
        self.in_flight = [op]
        self.sent += 1
        self.outbox.append((self.revision, op_to_wire(op)))

    def on_ack(self, revision: int) -> None:
        assert self.in_flight is not None
        assert revision == self.revision + 1
        self.revision, self.in_flight = revision, None
        if self.buffer:
            self._send(self.buffer.pop(0))

    def on_operation(self, revision: int, wire: dict[str, Any]) -> None:
        assert revision == self.revision + 1
        self.revision = revision
        remote = components_from_wire(wire)
        pending = (self.in_flight or []) + self.buffer
        if not remote or not pending:
            self.text = apply_all(self.text, remote)
            return
        wins = wins_tie(pending[0], remote[0])
        if self.in_flight is not None:
            self.in_flight, remote = transform_pair(self.in_flight, remote, wins)
        self.buffer, remote = transform_pair(self.buffer, remote, wins)
        self.text = apply_all(self.text, remote)

    def deliver_one(self) -> None:
        kind, message = self.inbox.popleft()
        if kind == "ack":
            self.on_ack(message)
        else:
            self.on_operation(*message)


def _deliver_to_server(server: Server, clients: list[Client], sender: Client) -> None:
    revision, wire = sender.outbox.popleft()
    stored = server.receive(revision, wire)
    head = len(server.history)
    for client in clients:
        if client is sender:
            client.inbox.append(("ack", head))
        else:
            client.inbox.append(("op", (head, stored)))


def _step(rng: random.Random, server: Server, clients: list[Client], editing: bool) -> bool:
    """Do one random thing; False when nothing is left to do."""
    choices: list[tuple[str, Client]] = []
    for client in clients:
        if editing and client.edits < EDITS_PER_CLIENT:
            choices.append(("edit", client))
        if client.outbox:
            choices.append(("send", client))
        if client.inbox:
            choices.append(("receive", client))
    if not choices:
        return False
    action, client = rng.choice(choices)
    if action == "edit":
        client.edit(rng)
    elif action == "send":
        _deliver_to_server(server, clients, client)
    else:
        client.deliver_one()
    return True


def run(seed: int) -> tuple[Server, list[Client]]:
    """One session: everyone edits while messages fly, then the network drains."""
    rng = random.Random(seed)
    initial = "".join(rng.choice(["ab", "😀", "e\u0301", "中文", "👍🏽"]) for _ in range(3))
    server = Server(initial)
    ids = rng.sample(range(1, 50), CLIENTS)
    clients = [Client(client_id, text=initial) for client_id in ids]
    while _step(rng, server, clients, editing=True):
        pass
    return server, clients


@pytest.mark.parametrize("chunk", range(CHUNKS))
def test_every_client_converges_with_the_server(chunk: int) -> None:
    for seed in range(chunk * SEEDS_PER_CHUNK, (chunk + 1) * SEEDS_PER_CHUNK):
        server, clients = run(seed)
        # Buffered edits may vanish (deleted concurrently) or split, so count sends.
        assert len(server.history) == sum(client.sent for client in clients), seed
        assert all(client.edits == EDITS_PER_CLIENT for client in clients), seed
        for client in clients:
            assert client.text == server.content, f"seed {seed}, client {client.client_id}"
            assert (client.revision, client.in_flight, client.buffer) == (
                len(server.history),
                None,
                [],
            ), seed


def test_replaying_the_stored_history_rebuilds_the_content() -> None:
    for seed in range(20):
        server, _ = run(seed)
        revisions = [components_from_wire(stored) for stored in server.history]
        assert apply_revisions(server.initial, revisions) == server.content, seed
