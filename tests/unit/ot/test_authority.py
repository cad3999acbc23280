"""The server's step: revision checks, validation at the base text, rebase with ties."""

from __future__ import annotations

import pytest

from ot import (
    Delete,
    Insert,
    InvalidOperation,
    Op,
    StaleRevision,
    apply_revisions,
    base_text,
    check_revision,
    rebase,
    submit,
)

BASE = "abcd"
HISTORY: list[list[Op]] = [[Delete(1, "bc", 2)], [Insert(0, "😀", 5)]]
HEAD = apply_revisions(BASE, HISTORY)


def test_the_fixture_head() -> None:
    assert HEAD == "😀ad"
    assert base_text(HEAD, HISTORY) == BASE


@pytest.mark.parametrize(
    ("incoming_id", "expected"),
    [(1, "XYab"), (3, "YXab"), (2, "YXab")],
    ids=["smaller-id-first", "larger-id-second", "equal-id-history-first"],
)
def test_insert_ties_follow_the_contract(incoming_id: int, expected: str) -> None:
    history: list[list[Op]] = [[Insert(0, "Y", 2)]]
    content, _ = submit("Yab", history, [Insert(0, "X", incoming_id)])
    assert content == expected


def test_submit_rebases_over_every_revision() -> None:
    content, stored = submit(HEAD, HISTORY, [Insert(2, "X", 9, op_id="o")])
    assert (content, stored) == ("😀aXd", [Insert(2, "X", 9)])
    assert stored[0].op_id == "o"


def test_a_delete_already_done_concurrently_becomes_empty() -> None:
    assert submit(HEAD, HISTORY, [Delete(1, "bc", 9)]) == (HEAD, [])


def test_a_split_revision_in_the_history_is_threaded() -> None:
    history: list[list[Op]] = [[Insert(2, "X", 2)], [Delete(1, "b", 3), Delete(2, "cd", 3)]]
    head = apply_revisions("abcde", history)
    assert head == "aXe"
    content, stored = submit(head, history, [Insert(3, "Y", 1)])
    assert (content, stored) == ("aXYe", [Insert(2, "Y", 1)])


@pytest.mark.parametrize(
    "incoming",
    [
        [Insert(5, "x", 9)],
        [Delete(3, "dz", 9)],
        # Would vanish against the concurrent delete, but never matched its base text.
        [Delete(1, "xy", 9)],
        [Insert(0, "x", 9), Delete(9, "x", 9)],
        [],
        [Insert(0, "x", 9), Insert(0, "y", 8)],
    ],
)
def test_an_op_that_does_not_fit_its_base_changes_nothing(incoming: list[Op]) -> None:
    with pytest.raises(InvalidOperation):
        submit(HEAD, HISTORY, incoming)


def test_rebase_without_history_is_the_op_itself() -> None:
    assert rebase([Insert(0, "x", 1)], []) == [Insert(0, "x", 1)]


def test_corrupt_history_is_not_blamed_on_the_client() -> None:
    with pytest.raises(ValueError, match="history"):
        base_text("zz", HISTORY)


def test_check_revision_accepts_the_kept_window() -> None:
    assert check_revision(3, head=5, oldest_base=2) == 3
    assert check_revision(5, head=5) == 5


@pytest.mark.parametrize("revision", [6, -1, True, "3", None, 2.0])
def test_check_revision_refuses_bad_revisions(revision: object) -> None:
    with pytest.raises(InvalidOperation) as caught:
        check_revision(revision, head=5)
    assert caught.value.code == "invalid_operation"


def test_check_revision_reports_stale_history() -> None:
    with pytest.raises(StaleRevision) as caught:
        check_revision(1, head=5, oldest_base=2)
    assert caught.value.code == "stale_revision"
