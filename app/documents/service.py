"""The document service: who may read and edit, request parsing, and the authority underneath."""
from __future__ import annotations

import threading
import time
import uuid
from typing import Any, Protocol

from app.documents.authority import DocumentAuthority
from app.documents.delivery import send_error
from app.documents.ids import DocumentId, parse_document_id
from app.documents.live import LiveDocument, Peer
from app.documents.planning import Submission
from app.documents.store import SqlDocumentStore
from app.errors import ApiError, Forbidden, NotFound
from ot import InvalidOperation, op_from_wire
from ot.operations import check_int

MAX_HISTORY_PAGE = 5000
MAX_SUBSCRIPTIONS = 100  # documents one connection may follow at once
CLIENT_ID_MIN, CLIENT_ID_MAX = -(2**63), 2**63 - 1  # what the operations table (BIGINT) can hold


class Membership(Protocol):
    """Who belongs to a channel (the channels feature answers this)."""

    def is_member(self, channel_id: str, user_id: int) -> bool:
        """True when the user may read and edit the channel's documents."""


class DocumentService:
    """Reads for HTTP, subscriptions and operations for WebSocket, all behind the membership check."""

    def __init__(self, store: SqlDocumentStore, authority: DocumentAuthority, members: Membership) -> None:
        self.store = store
        self.authority = authority
        self.members = members
        self._subscriptions: dict[Any, set[DocumentId]] = {}
        self._lock = threading.Lock()

    def document_id(self, raw: object) -> DocumentId:
        """Parse a document id; 404 `document_not_found` when malformed."""
        doc_id = parse_document_id(raw)
        if doc_id is None:
            raise NotFound("No such document: ids look like channel:<channel_id>:<field>.",
                           code="document_not_found", details={"document_id": _printable(raw)})
        return doc_id

    def check_access(self, doc_id: DocumentId, user_id: int) -> None:
        """Members only: 404 when the channel does not exist, 403 `not_a_member` otherwise."""
        if self.members.is_member(doc_id.channel_id, user_id):
            return
        details = {"document_id": str(doc_id)}
        if not self.store.channel_exists(doc_id.channel_id):
            raise NotFound("No such document: its channel does not exist.", code="document_not_found",
                           details=details)
        raise Forbidden("Only members of the channel may read or edit its documents.", code="not_a_member",
                        details=details)

    def read(self, user_id: int, raw_id: str) -> dict[str, Any]:
        """The stored head (a never-edited document is empty at revision 0)."""
        doc_id = self.document_id(raw_id)
        self.check_access(doc_id, user_id)
        head = self.store.load(str(doc_id))
        return {"document_id": str(doc_id), "content": head.content if head else "",
                "revision": head.revision if head else 0}

    def history(self, user_id: int, raw_id: str, from_revision: int, limit: int) -> dict[str, Any]:
        """The revisions after `from_revision`, oldest first; 410 `stale_revision` when collected."""
        doc_id = self.document_id(raw_id)
        self.check_access(doc_id, user_id)
        head = self.store.load(str(doc_id))
        revision, base = (head.revision, head.base_revision) if head else (0, 0)
        details = {"document_id": str(doc_id), "revision": revision, "oldest_revision": base}
        if from_revision > revision:
            raise ApiError(f"from_revision {from_revision} is ahead of the document ({revision}).",
                           code="invalid_revision", details=details)
        if from_revision < base:
            raise ApiError(f"The history before revision {base} was collected.", code="stale_revision",
                           status=410, details=details)
        stored = self.store.operations_after(str(doc_id), from_revision, limit=limit + 1)
        return {"operations": [op.payload(str(doc_id)) for op in stored[:limit]],
                "has_more": len(stored) > limit}

    def subscribe(self, peer: Peer, user_id: int, raw_id: object, from_revision: object) -> None:
        """Send the snapshot or the missed revisions, then live ones."""
        doc_id = self.document_id(raw_id)
        self.check_access(doc_id, user_id)
        base = None if from_revision is None else check_int("fromRevision", from_revision)
        with self._lock:
            mine = self._subscriptions.get(peer.conn_id, set())
            if len(mine) >= MAX_SUBSCRIPTIONS and doc_id not in mine:
                raise ApiError(f"A connection subscribes to at most {MAX_SUBSCRIPTIONS} documents; "
                               "unsubscribe from one first.", code="too_many_subscriptions",
                               details={"document_id": str(doc_id)})
        self.authority.subscribe(doc_id, peer, user_id, base)
        with self._lock:
            self._subscriptions.setdefault(peer.conn_id, set()).add(doc_id)

    def unsubscribe(self, peer: Peer, raw_id: object) -> None:
        """Stop the live revisions of one document to this connection."""
        doc_id = self.document_id(raw_id)
        with self._lock:
            self._subscriptions.get(peer.conn_id, set()).discard(doc_id)
        self.authority.unsubscribe(doc_id, peer.conn_id)

    def submit(self, peer: Peer, user_id: int, raw_id: object, revision: object, operation: object) -> None:
        """Validate, then hand the operation to the authority (which acknowledges or refuses it)."""
        received = time.perf_counter()
        doc_id = self.document_id(raw_id)
        subscribed = self._subscribed(peer, doc_id)
        if subscribed is None:
            self.check_access(doc_id, user_id)
        op = op_from_wire(operation)
        if not CLIENT_ID_MIN <= op.client_id <= CLIENT_ID_MAX:
            raise InvalidOperation("clientId must fit in a signed 64-bit integer")
        if revision is None:
            if subscribed is None:
                raise InvalidOperation("revision is required unless the document is subscribed")
            revision = subscribed
        base = check_int("revision", revision)
        op_id = op.op_id or f"srv-{uuid.uuid4().hex}"
        self.authority.submit(doc_id, Submission(peer, user_id, op, op_id, base, received))

    def _subscribed(self, peer: Peer, doc_id: DocumentId) -> int | None:
        """The last revision sent to this connection for the document, or None when not subscribed."""
        live = self.authority.documents.find(str(doc_id))
        subscriber = live.subscribers.get(peer.conn_id) if live is not None else None
        return subscriber.sent_revision if subscriber is not None else None

    def disconnect(self, peer: Peer) -> None:
        """A closed connection leaves every document it subscribed."""
        with self._lock:
            doc_ids = self._subscriptions.pop(peer.conn_id, set())
        for doc_id in doc_ids:
            self.authority.unsubscribe(doc_id, peer.conn_id)

    def revoke(self, channel_id: str, user_id: int | None) -> None:
        """A member lost the channel (`user_id`), or everyone did (None: the channel was deleted)."""
        if user_id is None:
            self.channel_deleted(channel_id)
        else:
            self.member_removed(channel_id, user_id)

    def channel_deleted(self, channel_id: str) -> None:
        """The channel's documents are gone (SQL cascades): forget them and their subscribers."""
        for doc in self.authority.documents.matching(lambda d: d.doc_id.channel_id == channel_id):
            with doc.lock:
                doc.subscribers.clear()
                self.authority.documents.evict(doc)

    def member_removed(self, channel_id: str, user_id: int) -> None:
        """A removed member stops receiving the channel's documents at once."""
        for doc in self.authority.documents.matching(lambda d: d.doc_id.channel_id == channel_id):
            with doc.lock:
                _drop_user(doc, user_id)


def _drop_user(doc: LiveDocument, user_id: int) -> None:
    for key, subscriber in list(doc.subscribers.items()):
        if subscriber.user_id == user_id:
            del doc.subscribers[key]
            send_error(subscriber.peer, "not_a_member", "You are no longer a member of this channel.",
                       {"document_id": doc.id})


def _printable(raw: object) -> str | None:
    return raw[:200] if isinstance(raw, str) else None
