"""Hand-written transform cases from transform_cases.json, plus TP1 on each."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ot import Insert, apply, apply_all, op_from_wire, op_to_wire, transform, transform_pair

CASES: list[dict[str, Any]] = json.loads(
    (Path(__file__).with_name("transform_cases.json")).read_text(encoding="utf-8")
)["cases"]


def test_the_case_file_covers_enough_cases() -> None:
    assert len(CASES) >= 20
    assert len({case["name"] for case in CASES}) == len(CASES)


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_transform_case(case: dict[str, Any]) -> None:
    op, against = op_from_wire(case["op"]), op_from_wire(case["against"])
    result = transform(op, against, case["op_wins_ties"])
    assert [op_to_wire(piece) for piece in result] == case["expected"]


@pytest.mark.parametrize("case", CASES, ids=[case["name"] for case in CASES])
def test_case_keeps_tp1(case: dict[str, Any]) -> None:
    op, against = op_from_wire(case["op"]), op_from_wire(case["against"])
    wins, doc = case["op_wins_ties"], case["doc"]
    left = apply_all(apply(doc, against), transform(op, against, wins))
    right = apply_all(apply(doc, op), transform(against, op, not wins))
    assert left == right


def test_transform_keeps_metadata() -> None:
    op = Insert(3, "x", 1, op_id="c1-9", timestamp=1702569600)
    [moved] = transform(op, Insert(0, "ab", 2), True)
    assert (moved.position, moved.op_id, moved.timestamp) == (5, "c1-9", 1702569600)


def test_split_delete_threads_through_a_list() -> None:
    ops, against = transform_pair(
        [op_from_wire({"type": "Delete", "client_id": 1, "position": 1, "content": "bcdef"})],
        [Insert(2, "X", 2), Insert(5, "Y", 2)],
        True,
    )
    # "abcdef" + inserts -> "abXcdYef"; the delete must leave both inserts and "a".
    assert apply_all("abXcdYef", ops) == "aXY"
    assert apply_all("a", against) == "aXY"
