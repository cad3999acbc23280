"""Keeping a document in memory in step with SQL, where other processes commit too.

Every function here runs with the document's lock held, and delivers what it adopts to
the local subscribers in revision order, exactly as locally committed revisions are.
"""
from __future__ import annotations

from app.documents.delivery import Count, deliver, send_error
from app.documents.live import LiveDocument, Revision
from app.documents.store import ReadAfter, SqlDocumentStore, StoredDocument, StoredOperation
from app.errors import NotFound
from ot import InvalidOperation, StaleRevision, apply_revisions


class DocumentGone(NotFound):
    """The document's channel was deleted while it was in use."""

    code = "document_not_found"

    def __init__(self, document_id: str) -> None:
        super().__init__("The document's channel no longer exists.", details={"document_id": document_id})


def catch_up(store: SqlDocumentStore, doc: LiveDocument, count: Count | None = None) -> None:
    """Adopt what other processes committed since our head; raise DocumentGone if it was deleted."""
    head = store.load(doc.id)
    if head is None:
        if doc.exists or not store.channel_exists(doc.doc_id.channel_id):
            raise DocumentGone(doc.id)
        return
    adopt_head(doc, head, reader(store, doc), count)


def adopt_head(doc: LiveDocument, head: StoredDocument, read_after: ReadAfter, count: Count | None) -> None:
    """Bring memory to the stored head, reading the revisions in between with `read_after`."""
    doc.base_revision, doc.exists = max(doc.base_revision, head.base_revision), True
    if head.revision != doc.revision and not adopt(doc, read_after(doc.revision, None), count):
        restart(doc, head)


def adopt(doc: LiveDocument, stored: list[StoredOperation], count: Count | None = None) -> bool:
    """Apply and deliver revisions that follow our head; False (nothing changed) if they do not fit."""
    try:
        if not stored or any(op.revision != doc.revision + i for i, op in enumerate(stored, start=1)):
            raise InvalidOperation("the missed history is not contiguous")
        revisions = [Revision.parse(op) for op in stored]
        content = apply_revisions(doc.content, [revision.components for revision in revisions])
    except InvalidOperation:
        return False
    doc.extend(revisions, content, {})
    deliver(doc, revisions, {}, count)
    return True


def adopt_published(store: SqlDocumentStore, doc: LiveDocument, stored: list[StoredOperation],
                    count: Count | None = None) -> None:
    """Revisions another instance published: the next ones are adopted, a gap is read from SQL."""
    if doc.evicted or not doc.loaded or not stored or stored[-1].revision <= doc.revision:
        return
    if not adopt(doc, [op for op in stored if op.revision > doc.revision], count):
        catch_up(store, doc, count)


def restart(doc: LiveDocument, head: StoredDocument | None) -> None:
    """The history that leads to the head is gone: subscribers behind it must resubscribe."""
    doc.reset(head)
    for key, subscriber in list(doc.subscribers.items()):
        if subscriber.sent_revision < doc.revision:
            del doc.subscribers[key]
            send_error(subscriber.peer, "stale_revision", "The document moved past what can be replayed; "
                       "subscribe again.", {"document_id": doc.id})


def older_history(read_after: ReadAfter, doc: LiveDocument, base: int) -> list[Revision]:
    """Stored revisions after `base` that memory no longer holds; stale when they were collected."""
    wanted = doc.window_start - base
    stored = read_after(base, wanted)
    if len(stored) != wanted or (stored and stored[0].revision != base + 1):
        raise StaleRevision(f"revision {base} is older than the kept history")
    return [Revision.parse(op) for op in stored]


def history_after(store: SqlDocumentStore, doc: LiveDocument, base: int) -> list[Revision]:
    """Every revision after `base`, from SQL for the part memory no longer holds."""
    if base >= doc.window_start:
        return doc.revisions_after(base)
    return older_history(reader(store, doc), doc, base) + doc.revisions_after(doc.window_start)


def reader(store: SqlDocumentStore, doc: LiveDocument) -> ReadAfter:
    """This document's stored revisions after a revision (at most `limit`), read on their own."""
    def read_after(from_revision: int, limit: int | None = None) -> list[StoredOperation]:
        return store.operations_after(doc.id, from_revision, limit)

    return read_after
