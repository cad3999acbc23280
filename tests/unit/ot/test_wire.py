"""The JSON shapes: client operations in, operations and stored revisions out."""

from __future__ import annotations

from typing import Any

import pytest

from ot import (
    Delete,
    Insert,
    InvalidOperation,
    Op,
    apply_all,
    components_from_wire,
    op_from_wire,
    op_to_wire,
    revision_to_wire,
    transform,
)

CONTRACT_EXAMPLE = {
    "type": "Insert",
    "clientId": 12345,
    "timestamp": 1702569600,
    "position": 42,
    "content": "new text",
    "opId": "c12345-88",
}


def test_the_contract_example_parses() -> None:
    op = op_from_wire(CONTRACT_EXAMPLE)
    assert op == Insert(42, "new text", 12345)
    assert (op.op_id, op.timestamp) == ("c12345-88", 1702569600)


def test_snake_case_in_and_out() -> None:
    wire = {"type": "Delete", "client_id": 3, "position": 0, "content": "😀", "op_id": "x"}
    assert op_to_wire(op_from_wire(wire)) == wire


def test_camel_case_comes_back_as_snake_case() -> None:
    assert op_to_wire(op_from_wire(CONTRACT_EXAMPLE)) == {
        "type": "Insert",
        "client_id": 12345,
        "position": 42,
        "content": "new text",
        "op_id": "c12345-88",
        "timestamp": 1702569600,
    }


def _example(**changes: object) -> dict[str, Any]:
    wire: dict[str, Any] = {"type": "Insert", "clientId": 1, "position": 0, "content": "x"}
    wire.update(changes)
    return {key: value for key, value in wire.items() if value is not ...}


@pytest.mark.parametrize(
    ("wire", "message"),
    [
        ([], "JSON object"),
        ("Insert", "JSON object"),
        (_example(type="insert"), "Insert or Delete"),
        (_example(type="Replace"), "Insert or Delete"),
        (_example(type=None), "Insert or Delete"),
        (_example(type=...), "Insert or Delete"),
        (_example(position=...), "missing position"),
        (_example(clientId=...), "missing client_id"),
        (_example(content=...), "missing content"),
        (_example(position=-1), "negative"),
        (_example(position=True), "integer"),
        (_example(position="3"), "integer"),
        (_example(position=1.5), "integer"),
        (_example(clientId=True), "integer"),
        (_example(clientId="12345"), "integer"),
        (_example(content=""), "empty"),
        (_example(type="Delete", content=""), "empty"),
        (_example(content=7), "string"),
        (_example(opId=12), "opId"),
        (_example(timestamp="now"), "number"),
        (_example(extra=1), "unknown"),
        (_example(parts=[]), "unknown"),
        (_example(client_id=1), "twice"),
    ],
)
def test_bad_wire_input_is_an_invalid_operation(wire: object, message: str) -> None:
    with pytest.raises(InvalidOperation, match=message) as caught:
        op_from_wire(wire)
    assert caught.value.code == "invalid_operation"


def _revision_round_trip(components: list[Op], origin: Op) -> dict[str, Any]:
    wire = revision_to_wire(components, origin)
    assert components_from_wire(wire) == components
    return wire


def test_one_component_is_the_plain_object() -> None:
    op = Insert(2, "中", 9, op_id="o")
    assert _revision_round_trip([op], op) == op_to_wire(op)


def test_no_component_is_an_empty_delete() -> None:
    origin = Delete(4, "cd", 9, op_id="o", timestamp=5)
    wire = _revision_round_trip([], origin)
    assert wire == {
        "type": "Delete",
        "client_id": 9,
        "position": 0,
        "content": "",
        "op_id": "o",
        "timestamp": 5,
    }
    assert components_from_wire({"type": "Delete", "position": 3, "content": ""}) == []


def test_a_split_delete_has_parts_that_apply_in_order() -> None:
    origin = Delete(1, "bcde", 9, op_id="o")
    pieces = transform(origin, Insert(3, "XY", 2), False)
    wire = _revision_round_trip(pieces, origin)
    assert wire == {
        "type": "Delete",
        "client_id": 9,
        "position": 1,
        "content": "bcde",
        "parts": [{"position": 1, "content": "bc"}, {"position": 3, "content": "de"}],
        "op_id": "o",
    }
    assert apply_all("abcXYdef", components_from_wire(wire)) == "aXYf"


SPLIT = {
    "type": "Delete",
    "client_id": 9,
    "position": 1,
    "content": "bcde",
    "parts": [{"position": 1, "content": "bc"}, {"position": 3, "content": "de"}],
}


@pytest.mark.parametrize(
    "wire",
    [
        SPLIT | {"type": "Insert"},
        SPLIT | {"content": "bcd"},
        SPLIT | {"position": 2},
        SPLIT | {"parts": [{"position": 1, "content": "bcde"}]},
        SPLIT | {"parts": "bcde"},
        SPLIT | {"parts": [{"position": 1, "content": "bc"}, {"position": 3}]},
        SPLIT | {"parts": [{"position": 1, "content": "bc"}, {"position": 3, "content": ""}]},
        SPLIT | {"parts": [{"position": 1, "content": "bc"}, [3, "de"]]},
        SPLIT
        | {"parts": [{"position": 1, "content": "bc", "x": 1}, {"position": 3, "content": "de"}]},
        {"type": "Delete", "position": -1, "content": ""},
        {"type": "Delete", "position": 0, "content": "", "client_id": "me"},
        {"type": "Delete", "content": ""},
    ],
)
def test_bad_revisions_are_refused(wire: dict[str, Any]) -> None:
    with pytest.raises(InvalidOperation):
        components_from_wire(wire)


def test_only_a_split_delete_has_several_components() -> None:
    with pytest.raises(ValueError):
        revision_to_wire([Insert(0, "a", 1), Delete(1, "b", 1)], Insert(0, "a", 1))
