"""Randomised invariants of the algebra (after ot.js test/helpers.js)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ot import (
    Insert,
    Op,
    apply,
    apply_all,
    InvalidOperation,
    apply_revisions,
    base_text,
    check_fits,
    invert,
    rebase,
    submit,
    transform,
    transform_pair,
    wins_tie,
)
from tests.unit.ot.strategies import documents, op_on, ops_on

# No example database: the run must not write files into the repository.
SETTINGS = settings(max_examples=400, deadline=None, database=None)


@SETTINGS
@given(data=st.data(), text=documents, a_wins=st.booleans(), same_client=st.booleans())
def test_tp1_single_ops(data: st.DataObject, text: str, a_wins: bool, same_client: bool) -> None:
    a = data.draw(op_on(text, 1))
    b = data.draw(op_on(text, 1 if same_client else 2))
    left = apply_all(apply(text, b), transform(a, b, a_wins))
    right = apply_all(apply(text, a), transform(b, a, not a_wins))
    assert left == right


@SETTINGS
@given(data=st.data(), text=documents, a_wins=st.booleans())
def test_tp1_sequences(data: st.DataObject, text: str, a_wins: bool) -> None:
    a = data.draw(ops_on(text, 1))
    b = data.draw(ops_on(text, 2))
    a_after_b, b_after_a = transform_pair(a, b, a_wins)
    assert apply_all(apply_all(text, b), a_after_b) == apply_all(apply_all(text, a), b_after_a)
    assert transform_pair(a, b, a_wins, need_against=False)[0] == a_after_b
    for op in a_after_b + b_after_a:  # built unchecked, so they must pass the checked constructor
        assert type(op)(op.position, op.content, op.client_id, op.op_id, op.timestamp) == op


@SETTINGS
@given(data=st.data(), text=documents, other=documents)
def test_check_fits_agrees_with_apply(data: st.DataObject, text: str, other: str) -> None:
    op = data.draw(op_on(other, 1))  # made on another text: it may or may not fit this one
    try:
        apply(text, op)
    except InvalidOperation:
        fits = False
    else:
        fits = True
    try:
        check_fits(text, op)
    except InvalidOperation:
        assert not fits
    else:
        assert fits


@SETTINGS
@given(data=st.data(), text=documents, a_wins=st.booleans())
def test_inserted_text_always_survives(data: st.DataObject, text: str, a_wins: bool) -> None:
    a = data.draw(op_on(text, 1))
    b = data.draw(op_on(text, 2))
    merged = apply_all(apply(text, b), transform(a, b, a_wins))
    for op in (a, b):
        if isinstance(op, Insert):
            assert op.content in merged


@SETTINGS
@given(data=st.data(), text=documents)
def test_invert_undoes(data: st.DataObject, text: str) -> None:
    op = data.draw(op_on(text, 1))
    assert apply(apply(text, op), invert(op)) == text


@st.composite
def histories(draw: st.DrawFn, text: str) -> list[list[Op]]:
    """Revisions of one op each, from clients below, equal to and above the incoming 3."""
    revisions: list[list[Op]] = []
    for _ in range(draw(st.integers(0, 4))):
        op = draw(op_on(text, draw(st.sampled_from([2, 3, 5]))))
        text = apply(text, op)
        revisions.append([op])
    return revisions


@SETTINGS
@given(data=st.data(), text=documents)
def test_server_rebase_matches_client_side_transform(data: st.DataObject, text: str) -> None:
    history = data.draw(histories(text))
    incoming = [data.draw(op_on(text, 3))]
    head = apply_revisions(text, history)
    assert base_text(head, history) == text
    new_head, stored = submit(head, history, incoming)
    # The client applied its op first, then each revision transformed against it.
    client_text, pending = apply_all(text, incoming), list(incoming)
    for revision in history:
        pending, seen = transform_pair(pending, revision, wins_tie(incoming[0], revision[0]))
        client_text = apply_all(client_text, seen)
    assert stored == pending == rebase(incoming, history)
    assert client_text == new_head


def _rebase_by_transform_pair(incoming: list[Op], history: list[list[Op]]) -> list[Op]:
    """The definition: transform_pair against each revision, the tie decided by its first component."""
    ops = list(incoming)
    for revision in history:
        if ops and revision:
            ops, _ = transform_pair(ops, revision, wins_tie(ops[0], revision[0]))
    return ops


@st.composite
def server_histories(draw: st.DrawFn, text: str) -> list[list[Op]]:
    """Revisions as a server makes them: ops made at older bases, so some are split or emptied."""
    texts, history = [text], []
    for _ in range(draw(st.integers(0, 6))):
        base = draw(st.integers(0, len(history)))
        op = draw(op_on(texts[base], draw(st.sampled_from([1, 2, 3, 4]))))
        revision = _rebase_by_transform_pair([op], history[base:])
        history.append(revision)
        texts.append(apply_all(texts[-1], revision))
    return history


@SETTINGS
@given(data=st.data(), text=documents, client_id=st.sampled_from([1, 2, 3, 4]))
def test_rebase_of_one_op_follows_the_definition(data: st.DataObject, text: str, client_id: int) -> None:
    """`rebase` moves a single op without the list machinery; it must agree with it, splits and all."""
    history = data.draw(server_histories(text))
    incoming = [data.draw(op_on(text, client_id))]
    expected = _rebase_by_transform_pair(incoming, history)
    rebased = rebase(incoming, history)
    assert rebased == expected
    assert [(op.op_id, op.timestamp) for op in rebased] == [(op.op_id, op.timestamp) for op in expected]
