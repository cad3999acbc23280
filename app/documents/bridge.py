"""Across instances: committed revisions go out on the hub's Redis relay; the database keeps the order.

A publisher sends each committed batch once; every other instance hands it to its
authority, which delivers it to local subscribers in revision order and reads any gap
from SQL. Pub/sub is at-most-once, so a resync round also compares live documents with
their stored heads now and then.
"""
from __future__ import annotations

import json
import logging
import threading
from typing import Any, Callable

from app.documents.store import StoredOperation
from app.realtime.relay import Envelope, LocalRelay, RedisRelay

log = logging.getLogger(__name__)

TARGET = "document"
REVOKE = "document-access"  # a channel deleted, or a member removed: other instances drop subscriptions
RESYNC_SECONDS = 2.0

Adopt = Callable[[str, list[StoredOperation]], None]
Revoke = Callable[[str, "int | None"], None]  # (channel id, removed user id, or None: channel deleted)


class DocumentBridge:
    """Publishes this instance's commits and adopts the others'; a no-op on a single instance."""

    def __init__(self, relay: LocalRelay | RedisRelay, resync: Callable[[], None] | None = None) -> None:
        self._relay = relay
        self._resync = resync
        self._stopped = threading.Event()
        self._thread: threading.Thread | None = None

    @property
    def shared(self) -> bool:
        """True when other instances may exist (a Redis relay)."""
        return isinstance(self._relay, RedisRelay)

    def start(self, adopt: Adopt, revoke: Revoke) -> None:
        """Listen for the other instances' commits and revocations; start the resync rounds (idempotent)."""
        self._relay.start(lambda envelope: _receive(envelope, adopt, revoke))
        if self.shared and self._resync is not None and self._thread is None:
            self._thread = threading.Thread(target=self._resync_loop, name="documents-resync", daemon=True)
            self._thread.start()

    def publish(self, document_id: str, stored: list[StoredOperation]) -> None:
        """Tell the other instances about revisions committed here (never raises)."""
        if not self.shared:
            return
        text = json.dumps([_to_dict(op) for op in stored], ensure_ascii=False, separators=(",", ":"))
        self._relay.publish(Envelope(TARGET, (document_id,), text, "operation"))

    def publish_revocation(self, channel_id: str, user_id: int | None) -> None:
        """Tell the other instances that a member lost a channel (or everyone did: it was deleted)."""
        if self.shared:
            text = json.dumps({"channel_id": channel_id, "user_id": user_id})
            self._relay.publish(Envelope(REVOKE, (channel_id,), text, "revoke"))

    def stop(self) -> None:
        """Stop listening and resyncing."""
        self._stopped.set()
        self._relay.stop()

    def _resync_loop(self) -> None:
        while not self._stopped.wait(RESYNC_SECONDS):
            try:
                if self._resync is not None:
                    self._resync()
            except Exception:  # the next round tries again
                log.exception("document resync failed")


def _to_dict(op: StoredOperation) -> dict[str, Any]:
    return {"r": op.revision, "i": op.op_id, "c": op.client_id, "u": op.user_id, "o": op.operation,
            "t": op.server_timestamp_ms}


def _receive(envelope: Envelope, adopt: Adopt, revoke: Revoke) -> int:
    """The relay's delivery callback: a published batch goes to the authority, a revocation to the service."""
    if envelope.target == REVOKE:
        try:
            event = json.loads(envelope.text)
            revoke(str(event["channel_id"]), None if event["user_id"] is None else int(event["user_id"]))
        except (ValueError, KeyError, TypeError):
            log.warning("ignored a malformed revocation")
        return 0
    if envelope.target != TARGET or len(envelope.ids) != 1:
        return 0
    try:
        stored = [StoredOperation(item["r"], item["i"], item["c"], item["u"], item["o"], item["t"])
                  for item in json.loads(envelope.text)]
    except (ValueError, KeyError, TypeError):
        log.warning("ignored a malformed document envelope")
        return 0
    adopt(str(envelope.ids[0]), stored)
    return len(stored)
