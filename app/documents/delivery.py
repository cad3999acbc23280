"""The frames the authority sends: snapshots, acknowledgements, operations and errors.

Revisions fan out in batches: each `operation` frame is serialised and framed once, and a
connection gets all of a batch's frames for it in one queued write (a connection of the
hub takes pre-framed bytes through `enqueue(data, type, count=False)`).
"""
from __future__ import annotations

from bisect import bisect_right
from collections import Counter
from typing import Any, Callable, Iterable

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


class _Frame:
    """One frame to several connections: serialised and framed on first use (or before), then shared."""

    __slots__ = ("frame_type", "_payload", "_wire")

    def __init__(self, frame_type: str, payload: dict[str, Any] | Callable[[], dict[str, Any]],
                 wire: bytes | None = None) -> None:
        self.frame_type = frame_type
        self._payload = payload
        self._wire = wire

    @classmethod
    def of(cls, stored: StoredOperation, frame_type: str, document_id: str, prepared: Prepared) -> "_Frame":
        """A revision's `operation` or `operation_ack` frame, with its bytes if they were prepared."""
        if frame_type == "operation":
            return cls(frame_type, lambda: stored.payload(document_id), prepared.get((stored.revision, frame_type)))
        return cls(frame_type, lambda: ack_payload(document_id, stored), prepared.get((stored.revision, frame_type)))

    @property
    def payload(self) -> dict[str, Any]:
        """The frame's payload (built when first asked for)."""
        if callable(self._payload):
            self._payload = self._payload()
        return self._payload

    @property
    def wire(self) -> bytes:
        """The WebSocket frame's bytes (the same for every connection)."""
        if self._wire is None:
            self._wire = wire_frame(encode_frame_bytes(self.frame_type, self.payload))
        return self._wire


def _send_frames(peer: Peer, frames: list[_Frame]) -> None:
    """Queue frames to a connection as one write; one `send` each for a peer that takes only payloads."""
    enqueue = getattr(peer, "enqueue", None)
    if enqueue is None:
        for frame in frames:
            peer.send(frame.frame_type, frame.payload)
    elif frames:
        enqueue(b"".join([frame.wire for frame in frames]), frames[0].frame_type, count=False)


def prepare(document_id: str, revisions: Iterable[Revision], prepared: Prepared) -> None:
    """Encode planned revisions' `operation` and `operation_ack` frames ahead of their delivery.

    The authority calls this while it waits for the rest of a batch, so that after the commit
    the first connection's write does not wait for the whole batch to be serialised.
    """
    for revision in revisions:
        for frame_type in ("operation", "operation_ack"):
            if (revision.stored.revision, frame_type) not in prepared:
                frame = _Frame.of(revision.stored, frame_type, document_id, prepared)
                prepared[(revision.stored.revision, frame_type)] = frame.wire


def replay(peer: Peer, document_id: str, revisions: Iterable[Revision], count: Count | None) -> None:
    """Send stored revisions as `operation` frames, in order, in a few large writes."""
    chunk: list[_Frame] = []
    for revision in revisions:
        chunk.append(_Frame("operation", revision.stored.payload(document_id)))
        if len(chunk) >= REPLAY_CHUNK:
            _send_frames(peer, chunk)
            _count(count, Counter({"operation": len(chunk)}))
            chunk = []
    _send_frames(peer, chunk)
    _count(count, Counter({"operation": len(chunk)}))


def deliver(doc: LiveDocument, revisions: list[Revision], origins: dict[int, Peer],
            count: Count | None = None, prepared: Prepared | None = None) -> None:
    """Send each revision, in order, to every subscriber that has not had it; its origin gets an ack.

    Called under the document's lock, so each connection sees revisions strictly in order.
    The frames are shared: a subscriber gets the tail of the batch it has not had (a slice),
    with its own operations swapped for their acks.
    """
    if not revisions:
        return
    prepared = prepared or {}
    numbers = [revision.stored.revision for revision in revisions]
    frames = [_Frame.of(revision.stored, "operation", doc.id, prepared) for revision in revisions]
    originated: dict[object, list[int]] = {}  # connection -> indexes of the revisions it sent
    for index, number in enumerate(numbers):
        origin = origins.get(number)
        if origin is not None:
            originated.setdefault(origin.conn_id, []).append(index)
    sent: Counter[str] = Counter()
    acked: set[int] = set()
    for key, subscriber in doc.subscribers.items():
        start = bisect_right(numbers, subscriber.sent_revision)
        if start == len(numbers):
            continue
        out = frames[start:]
        for index in originated.get(key, ()):
            if index >= start:
                out[index - start] = _Frame.of(revisions[index].stored, "operation_ack", doc.id, prepared)
                acked.add(numbers[index])
                sent["operation_ack"] += 1
        sent["operation"] += len(out)
        subscriber.sent_revision = numbers[-1]
        _send_frames(subscriber.peer, out)
    sent["operation"] -= sent["operation_ack"]
    for number, origin in origins.items():
        if number not in acked:
            send_ack(origin, doc.id, revisions[numbers.index(number)].stored)
    _count(count, sent)


def _count(count: Count | None, sent: Counter[str]) -> None:
    if count is not None:
        for frame_type, n in sent.items():
            if n:
                count("frames_out", frame_type, n)
