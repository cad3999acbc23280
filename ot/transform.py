"""Transformation of concurrent operations (inclusion transformation, TP1).

Two ops A and B made on the same text S are rewritten so that either order of
application ends in the same text. ``w`` says whether A goes first (left) when both
insert at the same position; the other side must get ``not w``.

The contract's tie rule (ascending clientId; equal ids: the op already in the history
first) is :func:`wins_tie`; callers pass ``wins_tie(incoming, history_op)``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TypeVar

from ot.operations import Delete, Insert, Op, derived

OpT = TypeVar("OpT", Insert, Delete)


def wins_tie(op: Op, against_in_history: Op) -> bool:
    """The contract's tie rule: ascending client id; on equal ids the history op is first."""
    return op.client_id < against_in_history.client_id


def transform(op: Op, against: Op, op_wins_ties: bool) -> list[Op]:
    """Rewrite ``op`` to apply after ``against``; both were made on the same text.

    Keeps TP1: ``apply_all(apply(S, B), transform(A, B, w))
    == apply_all(apply(S, A), transform(B, A, not w))``.
    The result is a list applied in order: a Delete whose range holds a concurrent
    Insert's position splits in two around the inserted text (which survives), and a
    Delete whose text was already removed by ``against`` becomes ``[]``.
    """
    if isinstance(op, Insert):
        return [_insert_after(op, against, op_wins_ties)]
    if isinstance(against, Insert):
        return _delete_after_insert(op, against)
    return _delete_after_delete(op, against)


def transform_pair(
    ops: Sequence[Op], against: Sequence[Op], ops_win_ties: bool, *, need_against: bool = True
) -> tuple[list[Op], list[Op]]:
    """Transform two sequences made on the same text against each other.

    Keeps TP1 for lists: with ``(A', B') = transform_pair(A, B, w)``,
    ``apply_all(apply_all(S, B), A') == apply_all(apply_all(S, A), B')``.
    ``ops_win_ties`` holds for every pair, so each side should come from one client
    (a client's pending ops, one history revision); mixed sides go one revision at a time.
    With ``need_against=False`` only ``A'`` is computed (B' comes back as ``[]``): a rebase
    throws B' away, and computing it was half the work.
    """
    if len(ops) == 1 and len(against) == 1:  # the common case, without the grid walk
        op, other = ops[0], against[0]
        return transform(op, other, ops_win_ties), (transform(other, op, not ops_win_ties) if need_against else [])
    done: list[Op] = []
    remaining = list(against)
    last = len(ops) - 1
    for i, op in enumerate(ops):
        pieces, remaining = _transform_one(op, remaining, ops_win_ties, need_against or i < last)
        done.extend(pieces)
    return done, remaining


def _transform_one(op: Op, against: Sequence[Op], op_wins_ties: bool,
                   need_passed: bool = True) -> tuple[list[Op], list[Op]]:
    """One op against a sequence: the grid walk of ot.js, with ops that may split.

    Returns the op's pieces after ``against`` and ``against`` after the op (``[]`` unless
    ``need_passed``).
    """
    pieces: list[Op] = [op]
    passed: list[Op] = []
    for other in against:
        if len(pieces) == 1:
            if need_passed:
                passed.extend(transform(other, pieces[0], not op_wins_ties))
            pieces = transform(pieces[0], other, op_wins_ties)
        else:
            # Only a Delete splits and ``other`` never splits against Deletes, so this
            # recursion is at most one level deep.
            other_pieces, pieces = _transform_one(other, pieces, not op_wins_ties)
            passed.extend(other_pieces)
    return pieces, passed


def _insert_after(op: Insert, against: Op, op_wins_ties: bool) -> Insert:
    """An Insert only moves; ties between Inserts go to the winner's left."""
    if isinstance(against, Delete):
        return _moved(op, _index_after_delete(op.position, against))
    if op.position < against.position or (op.position == against.position and op_wins_ties):
        return op
    return _moved(op, op.position + len(against.content))


def _delete_after_insert(op: Delete, against: Insert) -> list[Op]:
    """Shift past an Insert before the range, or split around one inside it."""
    where, grown = against.position, len(against.content)
    if where <= op.position:
        return [_moved(op, op.position + grown)]
    if where >= op.end:
        return [op]
    cut = where - op.position
    # After the first piece is gone the inserted text starts at op.position.
    return [
        _moved(op, op.position, op.content[:cut]),
        _moved(op, op.position + grown, op.content[cut:]),
    ]


def _delete_after_delete(op: Delete, against: Delete) -> list[Op]:
    """Remove the overlap only once; what is left of ``op`` is contiguous afterwards."""
    start, stop = max(op.position, against.position), min(op.end, against.end)
    content = op.content
    if start < stop:
        content = content[: start - op.position] + content[stop - op.position :]
    if not content:
        return []
    return [_moved(op, _index_after_delete(op.position, against), content)]


def _index_after_delete(index: int, against: Delete) -> int:
    """Where a position lands once ``against`` has removed its range."""
    if index <= against.position:
        return index
    if index >= against.end:
        return index - len(against.content)
    return against.position


def _moved(op: OpT, position: int, content: str | None = None) -> OpT:
    """A copy at another place (or with less text), keeping client id and metadata."""
    if content is None:
        content = op.content
    return derived(type(op), position, content, op.client_id, op.op_id, op.timestamp)  # type: ignore[return-value]
