"""The value types and apply: what fits a text and what is refused."""

from __future__ import annotations

import pytest

from ot import Delete, Insert, InvalidOperation, Op, apply, apply_all, invert


def test_insert_counts_code_points() -> None:
    assert apply("a😀b", Insert(2, "👍🏽", 1)) == "a😀👍🏽b"


def test_delete_removes_exactly_its_content() -> None:
    assert apply("xe\u0301y", Delete(1, "e\u0301", 1)) == "xy"


def test_insert_at_the_end_fits() -> None:
    assert apply("中文", Insert(2, "!", 1)) == "中文!"


@pytest.mark.parametrize(
    ("text", "op"),
    [
        ("abc", Insert(4, "x", 1)),
        ("", Insert(1, "x", 1)),
        ("abc", Delete(2, "cd", 1)),
        ("abc", Delete(3, "a", 1)),
        ("a😀", Delete(1, "😀!", 1)),
    ],
)
def test_apply_refuses_out_of_range(text: str, op: Op) -> None:
    with pytest.raises(InvalidOperation, match="beyond the end"):
        apply(text, op)


@pytest.mark.parametrize(
    ("text", "op"),
    [("abc", Delete(0, "b", 1)), ("a👍🏽", Delete(2, "👍", 1))],
)
def test_apply_refuses_a_delete_that_does_not_match(text: str, op: Op) -> None:
    with pytest.raises(InvalidOperation, match="does not match"):
        apply(text, op)


def test_apply_all_is_in_order_and_all_or_nothing() -> None:
    ops: list[Op] = [Insert(0, "x", 1), Delete(1, "a", 1)]
    assert apply_all("ab", ops) == "xb"
    with pytest.raises(InvalidOperation):
        apply_all("ab", [Insert(0, "x", 1), Delete(5, "a", 1)])


@pytest.mark.parametrize(
    "make",
    [
        lambda: Insert(-1, "x", 1),
        lambda: Insert(0, "", 1),
        lambda: Delete(0, "", 1),
        lambda: Insert(True, "x", 1),
        lambda: Insert(0, "x", False),
        lambda: Insert(1.0, "x", 1),  # type: ignore[arg-type]
        lambda: Insert(0, "x", "12"),  # type: ignore[arg-type]
        lambda: Insert(0, b"x", 1),  # type: ignore[arg-type]
        lambda: Insert(0, "\ud800", 1),
        lambda: Insert(0, "x", 1, op_id=""),
        lambda: Insert(0, "x", 1, op_id=7),  # type: ignore[arg-type]
        lambda: Insert(0, "x", 1, timestamp=True),
        lambda: Insert(0, "x", 1, timestamp=float("nan")),
        lambda: Insert(0, "x", 1, timestamp=-1),
    ],
)
def test_malformed_values_cannot_exist(make: object) -> None:
    with pytest.raises(InvalidOperation):
        make()  # type: ignore[operator]


def test_metadata_does_not_affect_equality() -> None:
    assert Insert(1, "x", 2, op_id="a", timestamp=1) == Insert(1, "x", 2)
    assert Insert(1, "x", 2) != Insert(1, "x", 3)
    other_kind: object = Delete(1, "x", 2)
    assert Insert(1, "x", 2) != other_kind


def test_invert_swaps_the_kind_and_keeps_the_rest() -> None:
    assert invert(Delete(1, "b", 4, op_id="o")) == Insert(1, "b", 4)
    assert apply(apply("abc", Delete(1, "b", 4)), invert(Delete(1, "b", 4))) == "abc"
