"""The frames the authority sends: snapshots, acknowledgements, operations and errors.

Revisions fan out in batches: each `operation` frame is serialised and framed once, and a
connection gets all of a batch's frames for it in one queued write (a connection of the
hub takes pre-framed bytes through `enqueue(data, type, count=False)`).
"""
from __future__ import annotations

from typing import Any, Callable, Collection, Iterable

from app.documents.live import LiveDocument, Peer, Revision
from app.documents.store import StoredOperation
from app.realtime.frames import encode_frame_bytes, wire_frame

Count = Callable[[str, str, int], None]  # (counter, frame type, n)
Prepared = dict[tuple[int, str], bytes]  # (revision, frame type) -> the frame's bytes
REPLAY_CHUNK = 256  # frames per queued write when replaying history


def send_snapshot(peer: Peer, doc: LiveDocument) -> None:
    """The head as one frame, for a subscriber that asked for no history."""
    peer.send("snapshot", {"document_id": doc.id, "content": doc.content, "revision": doc.revision})


def ack_payload(document_id: str, stored: StoredOperation) -> dict[str, Any]:
    """Which revision the sender's operation became and what it became."""
    return {"document_id": document_id, "client_id": stored.client_id, "op_id": stored.op_id,
            "revision": stored.revision, "server_timestamp": stored.server_timestamp_ms,
            "transformed_operation": stored.operation}


def send_ack(peer: Peer, document_id: str, stored: StoredOperation) -> None:
    """Acknowledge one operation on its own (a resend, or a sender that is not subscribed)."""
    peer.send("operation_ack", ack_payload(document_id, stored))


def send_error(peer: Peer, code: str, message: str, details: dict[str, Any]) -> None:
    """An `error` frame naming the document (and op) it is about."""
    peer.send("error", {"code": code, "message": message, "details": details})


def _payload(frame_type: str, stored: StoredOperation, document_id: str) -> dict[str, Any]:
    """A revision's `operation` payload, or the `operation_ack` payload its sender gets."""
    return stored.payload(document_id) if frame_type == "operation" else ack_payload(document_id, stored)


def _wire(prepared: Prepared, stored: StoredOperation, frame_type: str, document_id: str) -> bytes:
    """A revision's frame as WebSocket bytes, encoded once and kept in `prepared` for every connection."""
    key = (stored.revision, frame_type)
    data = prepared.get(key)
    if data is None:
        data = prepared[key] = wire_frame(encode_frame_bytes(frame_type, _payload(frame_type, stored, document_id)))
    return data


def prepare(document_id: str, revisions: Iterable[Revision], prepared: Prepared) -> None:
    """Encode planned revisions' `operation` and `operation_ack` frames ahead of their delivery.

    The authority calls this while it waits for the rest of a batch, so that after the commit
    the first connection's write does not wait for the whole batch to be serialised.
    """
    for revision in revisions:
        _wire(prepared, revision.stored, "operation", document_id)
        _wire(prepared, revision.stored, "operation_ack", document_id)


def _send_revisions(peer: Peer, document_id: str, stored: list[StoredOperation], start: int,
                    acks: Collection[int], prepared: Prepared, ops: list[bytes] | None = None) -> None:
    """Revisions `stored[start:]` to one connection in one write, the indexes in `acks` as acknowledgements.

    `ops` holds every revision's `operation` bytes when the caller made them already; a peer
    without `enqueue` (it takes payloads, not bytes) gets one `send` per frame.
    """
    enqueue = getattr(peer, "enqueue", None)
    if enqueue is None:
        for index in range(start, len(stored)):
            frame_type = "operation_ack" if index in acks else "operation"
            peer.send(frame_type, _payload(frame_type, stored[index], document_id))
        return
    if start >= len(stored):
        return
    out = ops[start:] if ops is not None else [_wire(prepared, op, "operation", document_id) for op in stored[start:]]
    for index in acks:
        out[index - start] = _wire(prepared, stored[index], "operation_ack", document_id)
    enqueue(b"".join(out), "operation", count=False)


def replay(peer: Peer, document_id: str, revisions: Iterable[Revision], count: Count | None) -> None:
    """Send stored revisions as `operation` frames, in order, in a few large writes."""
    chunk: list[StoredOperation] = []
    for revision in revisions:
        chunk.append(revision.stored)
        if len(chunk) >= REPLAY_CHUNK:
            _send_revisions(peer, document_id, chunk, 0, (), {})
            _count(count, len(chunk), 0)
            chunk = []
    _send_revisions(peer, document_id, chunk, 0, (), {})
    _count(count, len(chunk), 0)


def deliver(doc: LiveDocument, revisions: list[Revision], origins: dict[int, Peer],
            count: Count | None = None, prepared: Prepared | None = None) -> None:
    """Send each revision, in order, to every subscriber that has not had it; its origin gets an ack.

    Called under the document's lock, so each connection sees revisions strictly in order.
    The revisions are consecutive and their frames shared: a subscriber gets the tail of the
    batch it has not had, with its own operations swapped for their acks.
    """
    if not revisions:
        return
    prepared = {} if prepared is None else prepared
    document_id = doc.id
    stored = [revision.stored for revision in revisions]
    first, last = stored[0].revision, stored[-1].revision
    ops = [_wire(prepared, op, "operation", document_id) for op in stored]
    own: dict[object, list[int]] = {}  # connection -> indexes of the revisions it sent
    for number, origin in origins.items():
        own.setdefault(origin.conn_id, []).append(number - first)
    acked: set[int] = set()
    frames = 0
    for key, subscriber in doc.subscribers.items():
        start = max(0, subscriber.sent_revision + 1 - first)
        if start >= len(stored):
            continue
        acks = [index for index in own.get(key, ()) if index >= start]
        acked.update(acks)
        frames += len(stored) - start
        subscriber.sent_revision = last
        _send_revisions(subscriber.peer, document_id, stored, start, acks, prepared, ops)
    for number, origin in origins.items():
        if number - first not in acked:
            send_ack(origin, document_id, stored[number - first])
    _count(count, frames - len(acked), len(acked))


def _count(count: Count | None, operations: int, acks: int) -> None:
    if count is not None:
        if operations:
            count("frames_out", "operation", operations)
        if acks:
            count("frames_out", "operation_ack", acks)
