"""The two operation value types and how they change a text.

Positions count Unicode code points, i.e. they are Python ``str`` indexes: an emoji is
one position, ``'👍🏽'`` (thumb + skin tone) is two, ``'e\\u0301'`` is two.
A value that exists is valid on its own (non-negative position, non-empty content,
integer client id); whether it fits a given text is decided by :func:`apply`.
``op_id`` and ``timestamp`` ride along for the caller and take no part in equality
or in the algebra.
"""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from ot.errors import InvalidOperation

OP_ID_MAX_LENGTH = 128


def check_int(name: str, value: object) -> int:
    """Accept a real integer only: JSON ``true`` must not pass for 1."""
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidOperation(f"{name} must be an integer")
    return value


def check_position(value: object) -> int:
    """Positions are code-point indexes, so they are integers from 0 up."""
    position = check_int("position", value)
    if position < 0:
        raise InvalidOperation("position must not be negative")
    return position


def check_text(value: object) -> str:
    """Content must be a string that can be stored, i.e. encodable as UTF-8."""
    if not isinstance(value, str):
        raise InvalidOperation("content must be a string")
    try:
        value.encode("utf-8")
    except UnicodeEncodeError:
        raise InvalidOperation("content must not contain lone surrogates") from None
    return value


def check_metadata(op_id: object, timestamp: object) -> None:
    """The optional metadata must still be of the contract's types."""
    if op_id is not None and (not isinstance(op_id, str) or not 0 < len(op_id) <= OP_ID_MAX_LENGTH):
        raise InvalidOperation(f"opId must be a string of 1-{OP_ID_MAX_LENGTH} characters")
    if timestamp is None:
        return
    if isinstance(timestamp, bool) or not isinstance(timestamp, (int, float)):
        raise InvalidOperation("timestamp must be a number")
    if not math.isfinite(timestamp) or timestamp < 0:
        raise InvalidOperation("timestamp must be a finite number from 0 up")


def _check_op(op: Insert | Delete) -> None:
    """Shared validation so that every constructed operation is well formed."""
    check_position(op.position)
    check_int("client_id", op.client_id)
    if not check_text(op.content):
        raise InvalidOperation(f"{type(op).__name__} content must not be empty")
    check_metadata(op.op_id, op.timestamp)


@dataclass(frozen=True, slots=True)
class Insert:
    """Put ``content`` before the character now at ``position``."""

    position: int
    content: str
    client_id: int
    op_id: str | None = field(default=None, compare=False)
    timestamp: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Refuse to exist when malformed, so later code need not re-check."""
        _check_op(self)


@dataclass(frozen=True, slots=True)
class Delete:
    """Remove ``content``, which is exactly the text found at ``position``."""

    position: int
    content: str
    client_id: int
    op_id: str | None = field(default=None, compare=False)
    timestamp: float | None = field(default=None, compare=False)

    def __post_init__(self) -> None:
        """Refuse to exist when malformed, so later code need not re-check."""
        _check_op(self)

    @property
    def end(self) -> int:
        """One past the last removed position, for range arithmetic."""
        return self.position + len(self.content)


Op = Insert | Delete


def derived(kind: type[Insert] | type[Delete], position: int, content: str, client_id: int,
            op_id: str | None, timestamp: float | None) -> Op:
    """An op built from the fields of a valid one (a transform's result), without re-checking them.

    Transforms only move positions within the text and cut non-empty pieces of valid content,
    so the checks of ``__post_init__`` hold by construction; skipping them halves the cost of
    the transform hot path.
    """
    op = object.__new__(kind)
    set_position, set_content, set_client_id, set_op_id, set_timestamp = _SLOT_SETTERS[kind]
    set_position(op, position)
    set_content(op, content)
    set_client_id(op, client_id)
    set_op_id(op, op_id)
    set_timestamp(op, timestamp)
    return op


# The slots' own setters: a frozen dataclass refuses setattr, and object.__setattr__ looks
# each name up again (a quarter slower, on the transform hot path of server and clients).
_SLOT_SETTERS = {kind: tuple(kind.__dict__[name].__set__
                             for name in ("position", "content", "client_id", "op_id", "timestamp"))
                 for kind in (Insert, Delete)}


def check_fits(text: str, op: Op) -> None:
    """Raise InvalidOperation unless ``op`` applies to ``text``; builds nothing.

    Keeps: ``check_fits(S, op)`` returns iff ``apply(S, op)`` does.
    """
    if isinstance(op, Insert):
        if op.position > len(text):
            raise InvalidOperation(
                f"insert position {op.position} is beyond the end of the document ({len(text)})"
            )
        return
    if op.end > len(text):
        raise InvalidOperation(
            f"delete range {op.position}-{op.end} is beyond the end of the document ({len(text)})"
        )
    if not text.startswith(op.content, op.position):
        raise InvalidOperation(f"delete content does not match the document at {op.position}")


def apply(text: str, op: Op) -> str:
    """Return the text after ``op``; raise InvalidOperation when the op does not fit it."""
    check_fits(text, op)
    if isinstance(op, Insert):
        return text[: op.position] + op.content + text[op.position :]
    return text[: op.position] + text[op.end :]


def apply_all(text: str, ops: Iterable[Op]) -> str:
    """Apply a sequence in order; all or nothing, since ``str`` is immutable."""
    for op in ops:
        text = apply(text, op)
    return text


def invert(op: Op) -> Op:
    """The op that undoes ``op``: ``apply(apply(S, op), invert(op)) == S``."""
    kind = Delete if isinstance(op, Insert) else Insert
    return kind(op.position, op.content, op.client_id, op.op_id, op.timestamp)
