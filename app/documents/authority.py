"""The document authority with storage: batches the operations of a document, commits, then fans out.

Per document, one greenlet at a time holds the lock and is the leader: it takes every
operation that arrived meanwhile, plans them (rebase and apply, in arrival order), commits
them with the new head in one transaction guarded by the head's revision, and only then
acknowledges and delivers them, still under the lock, so every connection receives the
revisions in order. When another process moved the head first, the leader reads what it
missed, delivers that, and plans again (bounded).

Group commit: before committing its batch the leader waits (at most BATCH_WAIT_SECONDS, and
no longer than BATCH_GAP_SECONDS between two arrivals) for the editors who were active in the
last second and have nothing waiting yet, since under load their next operation is already
on its way; a lone editor never waits. Each operation is planned as it arrives, by the
submitter that brings it (gathering.py), so that the wait is not wasted and only the commit
follows the last arrival.
"""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from typing import Callable, Iterator

from app.documents import sync
from app.documents.delivery import Count, deliver, prepare, replay, send_ack, send_error, send_snapshot
from app.documents.gathering import Gathering
from app.documents.ids import DocumentId
from app.documents.live import LiveDocument, LiveDocuments, Peer, Subscriber
from app.documents.planning import BatchPlanner, Outcome, Plan, Refused, Submission, plan_batch
from app.documents.store import (
    ChannelMissing,
    CommitConflict,
    ReadAfter,
    SqlDocumentStore,
    StoredDocument,
    StoredOperation,
    Write,
)
from app.documents.sync import DocumentGone
from app.locks import take_if_free
from app.models.base import now_ms
from app.storage import StorageError
from ot import StaleRevision, check_revision

log = logging.getLogger(__name__)

MAX_ATTEMPTS = 8             # commits tried per batch before its operations are refused as conflicting
MAX_BATCH = 256              # operations committed in one transaction
TURN_RECHECK_SECONDS = 0.05  # a waiting submitter looks again this often when nobody wakes it
BATCH_WAIT_SECONDS = 0.004   # the longest a leader waits for the active editors' next operations
BATCH_GAP_SECONDS = 0.001    # ... and it stops waiting after this long without an arrival
REPLAY_LIMIT = 2000          # missed revisions replayed on subscribe; further behind gets stale_revision

Committed = Callable[[str, list[StoredOperation]], None]
Decided = Callable[[LiveDocument, list[Submission]], None]


class DocumentAuthority:
    """Holds the documents in use, orders their operations, and keeps each subscriber in step."""

    def __init__(self, store: SqlDocumentStore, count: Count | None = None, replay_limit: int = REPLAY_LIMIT,
                 batch_wait: float = BATCH_WAIT_SECONDS, batch_gap: float = BATCH_GAP_SECONDS) -> None:
        self._store = store
        self._count = count
        self._replay_limit = replay_limit
        self._batch_wait = batch_wait
        self._batch_gap = batch_gap
        self.documents = LiveDocuments()
        self.on_committed: list[Committed] = []
        self.on_decided: list[Decided] = []

    @contextmanager
    def locked(self, doc_id: DocumentId) -> Iterator[LiveDocument]:
        """The document, loaded and locked; it leaves memory afterwards when nobody uses it."""
        while True:
            doc = self.documents.entry(doc_id)
            with doc.lock:
                if doc.evicted:
                    continue
                if not doc.loaded:
                    doc.reset(self._store.load(doc.id))
                try:
                    yield doc
                finally:
                    if doc.idle:
                        self.documents.evict(doc)
                return

    # --- subscriptions -----------------------------------------------------------------------------
    def subscribe(self, doc_id: DocumentId, peer: Peer, user_id: int, from_revision: int | None) -> None:
        """Send the snapshot, or every revision after `from_revision`, then keep the peer in step."""
        with self.locked(doc_id) as doc:
            sync.catch_up(self._store, doc, self._count)
            if from_revision is None:
                send_snapshot(peer, doc)
            else:
                base = check_revision(from_revision, doc.revision, doc.base_revision)
                if doc.revision - base > self._replay_limit:
                    raise StaleRevision(f"more than {self._replay_limit} revisions were missed; "
                                        "subscribe without fromRevision for a snapshot")
                replay(peer, doc.id, sync.history_after(self._store, doc, base), self._count)
            doc.subscribers[peer.conn_id] = Subscriber(peer, user_id, doc.revision)

    def unsubscribe(self, doc_id: DocumentId, conn_id: object) -> None:
        """Stop sending this document's revisions to a connection."""
        doc = self.documents.find(str(doc_id))
        if doc is None:
            return
        with doc.lock:
            doc.subscribers.pop(conn_id, None)
            doc.editors.pop(conn_id, None)
            if doc.idle and not doc.evicted:
                self.documents.evict(doc)

    # --- operations --------------------------------------------------------------------------------
    def submit(self, doc_id: DocumentId, sub: Submission) -> None:
        """Apply one operation (with any that arrived alongside); its outcome is sent to its peer.

        While a leader is at work, a submitter waits on its own `turn` event (set once it is
        decided, or when it is next to lead), not on the lock: a leader whose client answers fast
        takes a free lock again at once, and decided submitters waiting for that lock could not
        go back to reading their connections (measured: batches of 1.5 instead of 8 at K=8).
        """
        doc = self.documents.entry(doc_id)
        self._enqueue(doc, sub)
        while sub.outcome is None:
            lock = doc.lock
            if not take_if_free(lock):
                # A leader wakes the next waiting submitter when it is done; another holder of the
                # lock (a subscribe, an adoption) does not, so then look again now and then.
                sub.turn.wait(None if doc.leading else TURN_RECHECK_SECONDS)
                sub.turn.clear()
                continue
            try:
                if doc.evicted:
                    _discard(doc, sub)
                    doc = self.documents.entry(doc_id)
                    self._enqueue(doc, sub)
                    continue
                if sub.outcome is None:
                    doc.leading = True
                    self._lead(doc)
                if doc.idle:
                    self.documents.evict(doc)
            finally:
                doc.leading = False
                lock.release()
                if doc.pending:
                    doc.pending[0].turn.set()  # it leads the next batch

    def _enqueue(self, doc: LiveDocument, sub: Submission) -> None:
        """Join the batch being gathered (see gathering.py), or wait in `pending` for a leader."""
        now = time.monotonic()
        if sub.peer is not None:
            doc.note_editor(sub.peer.conn_id, now)
        gathering = doc.gathering
        if gathering is None or not gathering.offer(sub, now):
            doc.pending.append(sub)
            doc.arrived.set()

    def _lead(self, doc: LiveDocument) -> None:
        """Take the waiting operations and run them as one batch; every one gets an outcome."""
        batch = [doc.pending.popleft() for _ in range(min(MAX_BATCH, len(doc.pending)))]
        try:
            if not doc.loaded:
                doc.reset(self._store.load(doc.id))
            planner = self._planner(doc)
            for sub in batch:
                planner.add(sub)
            self._gather(doc, batch, planner)
            plan = self._commit(doc, batch, planner.plan)
        except DocumentGone:
            batch.extend(doc.pending)
            doc.pending.clear()
            self._refuse(doc, batch, "document_not_found", "The document's channel no longer exists.")
            doc.subscribers.clear()
            self.documents.evict(doc)
            return
        except StorageError as exc:
            log.warning("%s: commit failed: %s", doc.id, exc)
            self._refuse(doc, batch, "service_unavailable", "The document store is unavailable; resend later.")
            return
        except Exception:  # a bug must not leave the batch's senders waiting forever
            log.exception("%s: batch failed", doc.id)
            self._refuse(doc, batch, "internal_error", "The server failed to apply this operation.")
            return
        if plan is None:
            self._refuse(doc, batch, "conflict", "The document changed too often to apply this; resend it.")
            return
        self._apply(doc, plan, batch)

    def _planner(self, doc: LiveDocument) -> BatchPlanner:
        """A planner on the head as this process knows it; the document row is made on first use."""
        now = now_ms()
        if not doc.exists:
            try:
                self._store.create(doc.doc_id.channel_id, doc.id, now)
            except ChannelMissing:
                raise DocumentGone(doc.id) from None
            doc.exists = True
        read_after = sync.reader(self._store, doc)
        return BatchPlanner(doc, now, lambda base: sync.older_history(read_after, doc, base), {})

    def _gather(self, doc: LiveDocument, batch: list[Submission], planner: BatchPlanner) -> None:
        """Wait briefly for the active editors' next operations, each planned as it arrives.

        Planning while the others are still on their way leaves only the commit (and the last
        arrival's planning) between the last arrival and the acknowledgements. The submitters
        plan their own operations (`Gathering.offer`) and wake the leader once none is expected.
        """
        deadline = time.monotonic() + self._batch_wait
        gathering = doc.gathering = Gathering(doc, batch, planner, MAX_BATCH)
        try:
            while True:
                with gathering.lock:
                    if gathering.error is not None:
                        raise gathering.error
                    while doc.pending and len(batch) < MAX_BATCH:
                        sub = doc.pending.popleft()
                        batch.append(sub)
                        planner.add(sub)
                    now = time.monotonic()
                    until = min(deadline, gathering.last_arrival + self._batch_gap)  # a lull ends the wait
                    if now >= until or gathering.complete(now):
                        gathering.open = False
                        return
                    prepare(doc.id, planner.plan.revisions, planner.plan.wire)  # frames to send, while idle
                    doc.arrived.clear()
                doc.arrived.wait(until - now)
        finally:
            with gathering.lock:
                gathering.open = False
            doc.gathering = None

    def _commit(self, doc: LiveDocument, batch: list[Submission], plan: Plan) -> Plan | None:
        """Commit the plan optimistically; if another process moved the head, plan again locked and retry."""
        if not plan.revisions:
            return plan
        try:
            self._store.commit(doc.id, doc.revision, plan.content, _stored(plan), plan.now_ms)
            return plan
        except CommitConflict:
            pass
        for _ in range(MAX_ATTEMPTS):
            known = self._store.operations_by_op_id(doc.id, [sub.op_id for sub in batch])
            try:
                return self._commit_locked(doc, batch, known)
            except CommitConflict:  # an op id stored meanwhile: it becomes a resend
                continue
        return None

    def _commit_locked(self, doc: LiveDocument, batch: list[Submission],
                       known: dict[str, StoredOperation]) -> Plan:
        """Lock the head's row, adopt what others committed, plan again and write: this one cannot lose."""
        now = now_ms()
        planned: list[Plan] = []

        def replan(head: StoredDocument, read_after: ReadAfter) -> Write | None:
            sync.adopt_head(doc, head, read_after, self._count)
            plan = plan_batch(doc, batch, now, lambda base: sync.older_history(read_after, doc, base), known)
            planned.append(plan)
            return (doc.revision, plan.content, _stored(plan)) if plan.revisions else None

        if not self._store.commit_locked(doc.id, replan, now):
            raise DocumentGone(doc.id)
        return planned[-1]

    def _apply(self, doc: LiveDocument, plan: Plan, batch: list[Submission]) -> None:
        """The batch is durable: deliver and acknowledge in order, advance the head in memory, report."""
        origins: dict[int, Peer] = {}
        for sub in batch:
            sub.outcome = plan.outcome(sub)
            if sub.outcome.kind == "accepted" and sub.outcome.stored and sub.peer is not None:
                origins[sub.outcome.stored.revision] = sub.peer
        try:
            deliver(doc, plan.revisions, origins, self._count, plan.wire)  # first: every editor waits on it
        finally:
            doc.extend(plan.revisions, plan.content, plan.texts)
        for sub in batch:
            self._tell(doc, sub)
        self._decided(doc, batch)
        if plan.revisions:
            for hook in self.on_committed:
                _safely(hook, doc.id, _stored(plan))

    def _tell(self, doc: LiveDocument, sub: Submission) -> None:
        """Acknowledge a resend again, or send a refusal; accepted ones were acknowledged in order."""
        outcome = sub.outcome
        if sub.peer is None or outcome is None:
            return
        if outcome.kind == "duplicate" and outcome.stored is not None:
            send_ack(sub.peer, doc.id, outcome.stored)
        elif outcome.kind == "rejected" and outcome.error is not None:
            send_error(sub.peer, outcome.error.code, outcome.error.message,
                       {"document_id": doc.id, "op_id": sub.op_id})

    def _refuse(self, doc: LiveDocument, batch: list[Submission], code: str, message: str) -> None:
        error = Refused(code, message)
        for sub in batch:
            sub.outcome = Outcome("rejected", error=error)
            self._tell(doc, sub)
        self._decided(doc, batch)

    def _decided(self, doc: LiveDocument, batch: list[Submission]) -> None:
        for sub in batch:
            sub.turn.set()
        for hook in self.on_decided:
            _safely(hook, doc, batch)

    # --- other processes ---------------------------------------------------------------------------
    def adopt_published(self, document_id: str, stored: list[StoredOperation]) -> None:
        """Revisions another instance committed and published: deliver them here, in order."""
        doc = self.documents.find(document_id)
        if doc is None:
            return
        with doc.lock:
            self._syncing(doc, lambda d: sync.adopt_published(self._store, d, stored, self._count))

    def resync(self) -> None:
        """Catch every subscribed document up with its stored head (published commits can be lost)."""
        for doc in self.documents.matching(lambda d: bool(d.subscribers)):
            with doc.lock:
                if not doc.evicted and doc.loaded:
                    self._syncing(doc, lambda d: sync.catch_up(self._store, d, self._count))

    def _syncing(self, doc: LiveDocument, step: Callable[[LiveDocument], None]) -> None:
        try:
            step(doc)
        except DocumentGone:
            doc.subscribers.clear()
            self.documents.evict(doc)


def _stored(plan: Plan) -> list[StoredOperation]:
    return [revision.stored for revision in plan.revisions]


def _safely(hook: Callable[..., None], *args: object) -> None:
    """Hooks (metrics, publishing) must never break editing."""
    try:
        hook(*args)
    except Exception:
        log.exception("documents hook %r failed", hook)


def _discard(doc: LiveDocument, sub: Submission) -> None:
    try:
        doc.pending.remove(sub)
    except ValueError:
        pass
