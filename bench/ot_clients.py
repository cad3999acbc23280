"""The load clients of bench/ot.py for our server: lean WebSocket editors, several per process.

Each process drives its editors from one selector loop over raw sockets (the frame codec
is a few lines, and frames are parsed with orjson: a general client library would spend more
CPU than the server it measures, on the same two cores). Editors keep full OT client state (tests/support/ot_client.py), so every
operation they send is valid for the text they see.
"""
from __future__ import annotations

import base64
import os
import random
import selectors
import socket
import struct
import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from app.realtime.client_frames import unmask
from ot import Delete, Insert, Op
from ot.operations import derived
from tests.support.ot_client import OTClient

LETTERS = "abcdefghijklmnopqrstuvwxyz "
_HEADER_16 = struct.Struct("!BBH").pack
_UNPACK_16 = struct.Struct("!H").unpack_from
_UNPACK_64 = struct.Struct("!Q").unpack_from


@dataclass
class EditorResult:
    """What one editor measured and saw at the end."""

    latencies_ms: list[float]
    last_ack_at: float
    content: str
    revision: int
    errors: list[dict[str, Any]] = field(default_factory=list)


def trusted_components(obj: dict[str, Any]) -> list[Op]:
    """A revision from the server, parsed without checking each field again.

    The load generator trusts the server's form (the tests' editors parse it with the checking
    `ot.components_from_wire`), so that the clients spend their CPU on OT, not on validation.
    """
    op_id, client_id, timestamp = obj.get("op_id"), obj.get("client_id"), obj.get("timestamp")
    parts = obj.get("parts")
    if parts is not None:
        return [derived(Delete, part["position"], part["content"], client_id, op_id, timestamp) for part in parts]
    if not obj["content"]:
        return []
    kind = Insert if obj["type"] == "Insert" else Delete
    return [derived(kind, obj["position"], obj["content"], client_id, op_id, timestamp)]


def workload_edit(client: OTClient, rng: random.Random) -> Op:
    """60% inserts of 1-4 letters, 40% deletes of 1-3 characters, at random positions."""
    text = client.content
    if not text or rng.random() < 0.6:
        content = "".join(rng.choice(LETTERS) for _ in range(rng.randint(1, 4)))
        return Insert(rng.randint(0, len(text)), content, client.client_id)
    start = rng.randrange(len(text))
    return Delete(start, text[start:start + rng.randint(1, 3)], client.client_id)


class RawEditor:
    """One WebSocket editor: handshake, masked text frames out, a frame parser for what comes back."""

    def __init__(self, host: str, port: int, token: str, document_id: str, client_id: int, ops: int,
                 total_revisions: int, seed: int) -> None:
        self.client = OTClient(document_id, client_id, parse=trusted_components)
        self.rng = random.Random(seed)
        self.mask_rng = random.Random(seed ^ 0x5EED)
        self.ops_left = ops
        self.total_revisions = total_revisions
        self.sock = socket.create_connection((host, port))
        self.sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        self._handshake(host, port, token)
        self.buffer = b""  # an incomplete frame from the last read
        self.sent_at = 0.0
        self.last_ack_at = 0.0
        self.latencies_ms: list[float] = []
        self.errors: list[dict[str, Any]] = []
        self.subscribed = False

    def _handshake(self, host: str, port: int, token: str) -> None:
        key = base64.b64encode(os.urandom(16)).decode()
        request = (f"GET /ws?token={token} HTTP/1.1\r\nHost: {host}:{port}\r\nUpgrade: websocket\r\n"
                   f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n\r\n")
        self.sock.sendall(request.encode())
        head = b""
        while b"\r\n\r\n" not in head:
            chunk = self.sock.recv(4096)
            if not chunk:
                raise ConnectionError("closed during the handshake")
            head += chunk
        status, _, rest = head.partition(b"\r\n\r\n")
        if b" 101 " not in status.split(b"\r\n", 1)[0]:
            raise ConnectionError(status.decode(errors="replace"))
        self._leftover = rest

    def send(self, frame_type: str, payload: dict[str, Any]) -> None:
        """One masked text frame (the key from a PRNG: a load generator needs no unpredictable one)."""
        data = orjson.dumps({"type": frame_type, "payload": payload})
        size = len(data)
        mask = self.mask_rng.getrandbits(32).to_bytes(4, "big")
        header = bytes((0x81, 0x80 | size)) if size < 126 else _HEADER_16(0x81, 0x80 | 126, size)
        self.sock.sendall(header + mask + unmask(data, mask))  # masking is the same XOR as unmasking

    def frames(self, data: bytes) -> list[dict[str, Any]]:
        """Parse every complete frame received so far (server frames are unmasked).

        A read usually holds whole frames only, so they are parsed from it in place and just
        an incomplete tail is kept for the next read.
        """
        if self.buffer:
            data = self.buffer + data
        out, at, end, view = [], 0, len(data), memoryview(data)
        while end - at >= 2:
            opcode, size = data[at] & 0x0F, data[at + 1] & 0x7F
            start = at + 2
            if size == 126:
                if end - at < 4:
                    break
                size, start = _UNPACK_16(data, at + 2)[0], at + 4
            elif size == 127:
                if end - at < 10:
                    break
                size, start = _UNPACK_64(data, at + 2)[0], at + 10
            if end - start < size:
                break
            if opcode == 1:
                out.append(orjson.loads(view[start:start + size]))
            elif opcode == 9:
                self._pong(bytes(view[start:start + size]))
            at = start + size
        self.buffer = data[at:] if at < end else b""
        return out

    def _pong(self, data: bytes) -> None:
        mask = b"\x00\x00\x00\x00"
        self.sock.sendall(bytes([0x8A, 0x80 | len(data)]) + mask + data)

    def next_edit(self) -> None:
        """Make and send the next edit (the workload waits for each ack before the next)."""
        payload = self.client.edit(workload_edit(self.client, self.rng))
        self.ops_left -= 1
        self.sent_at = time.perf_counter()
        if payload is not None:
            self.send("operation", payload)

    def handle(self, frame: dict[str, Any]) -> None:
        """Feed one frame to the OT client; on our ack, time it and send the next edit."""
        kind, payload = frame["type"], frame.get("payload", {})
        if kind == "operation":
            self.client.on_operation(payload)
        elif kind == "operation_ack":
            if self.client.on_ack(payload) is not None:
                raise AssertionError("the workload never buffers")
            self.last_ack_at = time.perf_counter()
            self.latencies_ms.append((self.last_ack_at - self.sent_at) * 1000.0)
            if self.ops_left > 0:
                self.next_edit()
        elif kind == "snapshot":
            self.client.reset(payload["content"], payload["revision"])
            self.subscribed = True
        elif kind == "error":
            self.errors.append(payload)

    @property
    def done(self) -> bool:
        """All our edits acknowledged and every revision of the run seen."""
        return self.ops_left == 0 and self.client.idle and self.client.revision >= self.total_revisions


def run_editors(spec: dict[str, Any], ready: Any, start: Any, results: Any) -> None:
    """A process's editors: connect and subscribe, signal ready, wait for start, edit until all are done."""
    editors = [RawEditor(spec["host"], spec["port"], token, spec["document_id"], client_id, spec["ops"],
                         spec["total_revisions"], seed=client_id)
               for token, client_id in spec["editors"]]
    selector = selectors.DefaultSelector()
    for editor in editors:
        selector.register(editor.sock, selectors.EVENT_READ, editor)
        editor.send("subscribe", {"documentId": spec["document_id"]})
        for frame in editor.frames(editor._leftover):
            editor.handle(frame)
    _pump(selector, lambda: all(e.subscribed for e in editors), time.monotonic() + 60)
    ready.wait()
    start.wait()
    cpu = time.process_time()
    for editor in editors:
        editor.next_edit()
    _pump(selector, lambda: all(e.done for e in editors), time.monotonic() + spec["timeout"])
    cpu = time.process_time() - cpu
    results.put({"cpu_s": cpu, "editors": [
        EditorResult(e.latencies_ms, e.last_ack_at, e.client.content, e.client.revision, e.errors).__dict__
        for e in editors]})
    for editor in editors:
        editor.sock.close()


def _pump(selector: selectors.BaseSelector, finished: Any, deadline: float) -> None:
    """Read and handle frames until `finished()` or the deadline."""
    while not finished():
        if time.monotonic() > deadline:
            raise TimeoutError("the editors did not finish in time")
        for key, _ in selector.select(timeout=1.0):
            editor: RawEditor = key.data
            data = editor.sock.recv(262144)  # readable, so this does not block
            if not data:
                raise ConnectionError(f"editor {editor.client.client_id}: connection closed")
            for frame in editor.frames(data):
                editor.handle(frame)
