"""One batch of submitted operations turned into the revisions to commit: pure, no I/O of its own.

The authority gathers the operations that arrived together for one document and plans
them in arrival order against the head, each one after the previous: a resend is
recognised by its op id, a bad one is rejected, the rest become consecutive revisions
committed in one transaction.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any, Callable, Literal

from app.documents.live import LiveDocument, Peer, Revision
from app.documents.store import StoredOperation
from ot import InvalidOperation, Op, OTError, apply_all, base_text, check_fits, check_revision, rebase, revision_to_wire

MAX_DOCUMENT_CHARS = 1_000_000

OlderHistory = Callable[[int], list[Revision]]


class Refused(OTError):
    """A refusal that is not about the operation itself: the store is down, the channel is gone."""

    def __init__(self, code: str, message: str) -> None:
        """Carry the wire code chosen by the authority."""
        super().__init__(message)
        self.code = code


@dataclass(eq=False)
class Submission:
    """One client operation waiting for the authority, and what became of it."""

    peer: Peer | None
    user_id: int
    op: Op
    op_id: str
    base_revision: int
    received_at: float
    outcome: "Outcome | None" = None
    turn: threading.Event = field(default_factory=threading.Event, repr=False, compare=False)


@dataclass(frozen=True, slots=True)
class Outcome:
    """Accepted as a new revision, recognised as a resend of a stored one, or rejected with an error."""

    kind: Literal["accepted", "duplicate", "rejected"]
    stored: StoredOperation | None = None
    error: OTError | None = None
    transformed_over: int = 0


@dataclass
class Plan:
    """The head after the batch and the new revisions that lead to it, in order."""

    content: str
    now_ms: int = 0  # the server timestamp of its revisions
    revisions: list[Revision] = field(default_factory=list)
    outcomes: dict[int, Outcome] = field(default_factory=dict)  # by id(submission)
    texts: dict[int, str] = field(default_factory=dict)  # the text after each new revision
    wire: dict[tuple[int, str], bytes] = field(default_factory=dict)  # frames encoded ahead (delivery.prepare)

    def outcome(self, submission: Submission) -> Outcome:
        """What the plan decided for one submission of its batch."""
        return self.outcomes[id(submission)]


class BatchPlanner:
    """Plans a batch one submission at a time, in arrival order, on top of the head and the ones before.

    The authority adds each operation as it arrives while it gathers the batch, so that only
    the last one's planning stands between the last arrival and the commit.
    `older(base)` returns the stored revisions after `base` that are no longer in memory
    (StaleRevision when they were collected); `known` holds stored revisions found by op id.
    """

    def __init__(self, doc: LiveDocument, now_ms: int, older: OlderHistory,
                 known: dict[str, StoredOperation]) -> None:
        self.plan = Plan(doc.content, now_ms)
        self._doc = doc
        self._older = older
        self._known = known
        self._seen: dict[str, StoredOperation] = {}

    def add(self, sub: Submission) -> None:
        """Decide one submission: a resend, a rejection, or the next revision."""
        plan, doc = self.plan, self._doc
        stored = doc.by_op_id.get(sub.op_id) or self._seen.get(sub.op_id) or self._known.get(sub.op_id)
        if stored is not None:
            plan.outcomes[id(sub)] = _resend(stored, sub)
            return
        try:
            revision, over = _rebased(doc, plan, sub, plan.now_ms, self._older)
        except OTError as error:
            plan.outcomes[id(sub)] = Outcome("rejected", error=error)
            return
        self._seen[sub.op_id] = revision.stored
        plan.revisions.append(revision)
        plan.outcomes[id(sub)] = Outcome("accepted", revision.stored, transformed_over=over)


def plan_batch(doc: LiveDocument, batch: list[Submission], now_ms: int, older: OlderHistory,
               known: dict[str, StoredOperation]) -> Plan:
    """Plan a whole batch at once (see BatchPlanner)."""
    planner = BatchPlanner(doc, now_ms, older, known)
    for sub in batch:
        planner.add(sub)
    return planner.plan


def _resend(stored: StoredOperation, sub: Submission) -> Outcome:
    """The same op id again: a resend when it comes from the same user and client, else a clash."""
    if (stored.user_id, stored.client_id) == (sub.user_id, sub.op.client_id):
        return Outcome("duplicate", stored)
    return Outcome("rejected", error=InvalidOperation("opId is already used by another client of this document"))


def _rebased(doc: LiveDocument, plan: Plan, sub: Submission, now_ms: int,
             older: OlderHistory) -> tuple[Revision, int]:
    """The submission as the next revision after the plan's head, and how many revisions it crossed."""
    head = doc.revision + len(plan.revisions)
    base = check_revision(sub.base_revision, head, doc.base_revision)
    history = [revision.components for revision in _history_after(doc, plan, base, older)]
    # ot.submit, with the base text taken from memory when it is there rather than rebuilt.
    base_content = plan.texts.get(base, doc.texts.get(base))
    if base_content is None:
        base_content = base_text(plan.content, history)
    check_fits(base_content, sub.op)
    components = rebase([sub.op], history)
    content = apply_all(plan.content, components)
    if len(content) > MAX_DOCUMENT_CHARS:
        raise InvalidOperation(f"a document holds at most {MAX_DOCUMENT_CHARS} characters")
    plan.content = plan.texts[head + 1] = content
    wire: dict[str, Any] = revision_to_wire(components, sub.op)
    stored = StoredOperation(head + 1, sub.op_id, sub.op.client_id, sub.user_id, wire, now_ms)
    return Revision(stored, components), len(history)


def _history_after(doc: LiveDocument, plan: Plan, base: int, older: OlderHistory) -> list[Revision]:
    """Every revision after `base` up to the plan's head: from SQL, memory, and the plan itself."""
    if base >= doc.revision:
        return plan.revisions[base - doc.revision:]
    if base >= doc.window_start:
        return doc.revisions_after(base) + plan.revisions
    return older(base) + doc.revisions_after(doc.window_start) + plan.revisions
