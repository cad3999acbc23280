"""The JSON shapes of operations and of stored revisions.

An operation object is ``{"type": "Insert"|"Delete", "client_id", "position", "content",
"op_id"?, "timestamp"?}``; camelCase keys (``clientId``, ``opId``) are accepted on the
way in, snake_case is emitted. Unknown keys are refused.

A stored revision is a list of components (what one client op became after transformation),
written as one object:

- one component: the plain operation object;
- no component (a Delete whose text a concurrent Delete already removed):
  ``{"type": "Delete", "position": 0, "content": "", ...metadata}``; it changes nothing
  and position 0 fits every document;
- several components (a Delete split around concurrent inserts):
  ``{"type": "Delete", "position": <first part's position>, "content": <all removed text
  concatenated>, "parts": [{"position", "content"}, ...], ...metadata}``; the parts apply
  in order, each position already counting the removal of the parts before it, so
  ``apply_all(text, parts)`` is the revision. ``position``/``content`` alone are a summary.

``...metadata`` is ``client_id`` and, when known, ``op_id`` and ``timestamp``.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from ot.errors import InvalidOperation
from ot.operations import Delete, Insert, Op, check_int, check_metadata, check_position, check_text

_FIELD_NAMES = {
    "type": "type",
    "clientId": "client_id",
    "client_id": "client_id",
    "position": "position",
    "content": "content",
    "opId": "op_id",
    "op_id": "op_id",
    "timestamp": "timestamp",
}
_TYPES: dict[str, type[Insert] | type[Delete]] = {"Insert": Insert, "Delete": Delete}
_PART_KEYS = {"position", "content"}
_SNAKE_KEYS = frozenset(_FIELD_NAMES.values())


def op_from_wire(obj: object) -> Op:
    """Parse a client's operation object; raise InvalidOperation on anything off-contract."""
    return _build(_fields(obj, allow_parts=False))


def op_to_wire(op: Op) -> dict[str, Any]:
    """The snake_case object the server sends for one operation."""
    wire: dict[str, Any] = {
        "type": type(op).__name__,
        "client_id": op.client_id,
        "position": op.position,
        "content": op.content,
    }
    return wire | _metadata(op)


def revision_to_wire(components: Sequence[Op], origin: Op) -> dict[str, Any]:
    """Encode a stored revision as one object (rule in the module docstring).

    ``origin`` is the op as the client sent it; only its metadata is used, and only
    when no component is left to carry it.
    """
    if len(components) == 1:
        return op_to_wire(components[0])
    if not components:
        return {"type": "Delete", "client_id": origin.client_id, "position": 0, "content": ""} | (
            _metadata(origin)
        )
    if not all(isinstance(c, Delete) for c in components):
        raise ValueError("only a split Delete is stored as several components")
    first = components[0]
    return {
        "type": "Delete",
        "client_id": first.client_id,
        "position": first.position,
        "content": "".join(c.content for c in components),
        "parts": [{"position": c.position, "content": c.content} for c in components],
    } | _metadata(first)


def components_from_wire(obj: object) -> list[Op]:
    """Parse a stored revision object back into the components it applies in order."""
    fields = _fields(obj, allow_parts=True)
    if "parts" in fields:
        return _split_from_wire(fields)
    if fields.get("type") == "Delete" and fields.get("content") == "":
        _check_empty(fields)
        return []
    return [_build(fields)]


def _fields(obj: object, allow_parts: bool) -> dict[str, Any]:
    """Map wire keys to field names, refusing unknown and doubled keys."""
    if not isinstance(obj, dict):
        raise InvalidOperation("an operation must be a JSON object")
    if obj.keys() <= _SNAKE_KEYS:  # already field names, each once: the server's own form
        return dict(obj)
    fields: dict[str, Any] = {}
    for key, value in obj.items():
        name = "parts" if allow_parts and key == "parts" else _FIELD_NAMES.get(key)
        if name is None:
            raise InvalidOperation(f"unknown operation field {key!r}")
        if name in fields:
            raise InvalidOperation(f"operation field {name} is given twice")
        fields[name] = value
    return fields


def _build(fields: dict[str, Any]) -> Op:
    """Construct the op; the value types themselves check every field."""
    kind = fields.get("type")
    cls = _TYPES.get(kind) if isinstance(kind, str) else None
    if cls is None:
        raise InvalidOperation("operation type must be Insert or Delete")
    missing = [name for name in ("client_id", "position", "content") if name not in fields]
    if missing:
        raise InvalidOperation(f"operation is missing {', '.join(missing)}")
    return cls(
        fields["position"],
        fields["content"],
        fields["client_id"],
        fields.get("op_id"),
        fields.get("timestamp"),
    )


def _check_empty(fields: dict[str, Any]) -> None:
    """An emptied Delete still has to be a well-formed object."""
    check_position(fields.get("position"))
    if "client_id" in fields:
        check_int("client_id", fields["client_id"])
    check_metadata(fields.get("op_id"), fields.get("timestamp"))


def _split_from_wire(fields: dict[str, Any]) -> list[Op]:
    """Rebuild a split Delete's pieces and check they agree with the summary fields."""
    parts = fields.pop("parts")
    if fields.get("type") != "Delete":
        raise InvalidOperation("only a Delete can have parts")
    if not isinstance(parts, list) or len(parts) < 2:
        raise InvalidOperation("parts must be a list of at least two pieces")
    pieces = [_build(fields | _part_fields(part)) for part in parts]
    if check_text(fields.get("content")) != "".join(p.content for p in pieces):
        raise InvalidOperation("a split Delete's content must be its parts' content joined")
    if fields.get("position") != pieces[0].position:
        raise InvalidOperation("a split Delete's position must be its first part's")
    return pieces


def _part_fields(part: object) -> dict[str, Any]:
    """A part is exactly ``{"position", "content"}``."""
    if not isinstance(part, dict) or set(part) != _PART_KEYS:
        raise InvalidOperation("each part must be an object with position and content only")
    return {"position": part["position"], "content": part["content"]}


def _metadata(op: Op) -> dict[str, Any]:
    """The optional fields that are set, in wire form."""
    extra: dict[str, Any] = {}
    if op.op_id is not None:
        extra["op_id"] = op.op_id
    if op.timestamp is not None:
        extra["timestamp"] = op.timestamp
    return extra
