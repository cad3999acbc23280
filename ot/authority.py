"""The document authority: the server's side of OT as pure functions (after ot.js server.js).

The history is a list of revisions; revision ``r`` (1-based) is the list of components
that the r-th accepted op became (see ``ot.wire`` for how one is stored). A client op
made at ``revision`` is checked against the text it was made on, transformed over
``history[revision:]`` and applied to the head. The caller (the storage layer) does the
I/O: read the head, call :func:`check_revision` and :func:`submit`, append the result as
revision ``head + 1``; if another writer appended first, re-read and call again.

Ties: the incoming op wins a tie against a history revision iff its client id is
smaller (``ot.transform.wins_tie``); equal ids put the history op first.
"""

from __future__ import annotations

from collections.abc import Sequence

from ot.errors import InvalidOperation, StaleRevision
from ot.operations import Delete, Insert, Op, apply, apply_all, check_int, derived, invert
from ot.transform import _index_after_delete, transform, transform_pair, wins_tie

Revision = Sequence[Op]


def check_revision(revision: object, head: int, oldest_base: int = 0) -> int:
    """Refuse a base revision the server cannot rebase from, with the contract's codes.

    ``oldest_base`` is the oldest revision whose successors are all still kept.
    """
    base = check_int("revision", revision)
    if base < 0 or base > head:
        raise InvalidOperation(f"revision {base} is not between 0 and the server's {head}")
    if base < oldest_base:
        raise StaleRevision(f"revision {base} is older than the kept history ({oldest_base})")
    return base


def rebase(incoming: Sequence[Op], history_after: Sequence[Revision]) -> list[Op]:
    """Carry one client's op over every revision it had not seen, so it applies at the head.

    Keeps: ``rebase(A, [R]) == transform_pair(A, R, wins_tie(A[0], R[0]))[0]`` and
    ``rebase(A, H1 + H2) == rebase(rebase(A, H1), H2)``.
    """
    ops = list(incoming)
    if len(ops) == 1:
        return _rebase_one(ops[0], history_after)
    if len({op.client_id for op in ops}) > 1:
        raise InvalidOperation("the components of one operation must share a client id")
    return _rebase_general(ops, history_after)


def _rebase_general(ops: list[Op], history_after: Sequence[Revision]) -> list[Op]:
    """The list form: transform_pair against each revision in turn."""
    for revision in history_after:
        if not ops:
            break
        if len(ops) == 1 and len(revision) == 1:  # the common case, without the list walk
            ops = transform(ops[0], revision[0], wins_tie(ops[0], revision[0]))
        elif revision:
            ops, _ = transform_pair(ops, revision, wins_tie(ops[0], revision[0]), need_against=False)
    return ops


def _rebase_one(op: Op, history_after: Sequence[Revision]) -> list[Op]:
    """`rebase` of a single op, following only its position and text, built once at the end.

    The same rules as `ot.transform` (the property tests hold the two together), without a
    new op per revision crossed: a client is usually several revisions behind. An Insert only
    moves; a Delete moves, loses text or vanishes, and when an Insert splits it the revision
    is taken again from its start by the general path.
    """
    position, content, client_id = op.position, op.content, op.client_id
    is_insert = isinstance(op, Insert)
    for index, revision in enumerate(history_after):
        if not revision:
            continue
        wins = wins_tie(op, revision[0])
        before = (position, content)
        for other in revision:
            if isinstance(other, Delete):
                if not is_insert:
                    start, stop = max(position, other.position), min(position + len(content), other.end)
                    if start < stop:
                        content = content[: start - position] + content[stop - position:]
                        if not content:
                            return []
                position = _index_after_delete(position, other)
            elif is_insert:
                if position > other.position or (position == other.position and not wins):
                    position += len(other.content)
            elif other.position <= position:
                position += len(other.content)
            elif other.position < position + len(content):  # inside the range: it splits
                at = derived(Delete, before[0], before[1], client_id, op.op_id, op.timestamp)
                return _rebase_general([at], history_after[index:])
    if position == op.position and content == op.content:
        return [op]
    return [derived(type(op), position, content, client_id, op.op_id, op.timestamp)]


def base_text(content: str, history_after: Sequence[Revision]) -> str:
    """Undo the revisions after a base to recover the text a client op was made on.

    Keeps: ``base_text(apply_revisions(S, H), H) == S``; possible because a Delete
    carries the text it removed.
    """
    for revision in reversed(history_after):
        for op in reversed(revision):
            try:
                content = apply(content, invert(op))
            except InvalidOperation as error:
                raise ValueError(f"the stored history does not fit the content: {error}") from error
    return content


def submit(
    content: str, history_after: Sequence[Revision], incoming: Sequence[Op]
) -> tuple[str, list[Op]]:
    """The server's whole job for one op: check it fits its base text, rebase it, apply it.

    Returns the new head content and the components to store as the next revision.
    Raises InvalidOperation (nothing changed) when the op does not fit the text at its
    base revision: position out of range or a Delete whose content does not match.
    """
    if not incoming:
        raise InvalidOperation("an operation needs at least one component")
    apply_all(base_text(content, history_after), incoming)
    ops = rebase(incoming, history_after)
    return apply_all(content, ops), ops


def apply_revisions(content: str, revisions: Sequence[Revision]) -> str:
    """Replay stored revisions in order, e.g. to rebuild a head from a snapshot."""
    for revision in revisions:
        content = apply_all(content, revision)
    return content
