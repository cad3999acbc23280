"""What a structured query may filter and group on: a whitelist of columns built here, plus context paths.

Identifiers in the compiled SQL come only from this module; everything a client sends (values, the
segments of a context path, output names) is bound as a query parameter.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Literal

Kind = Literal["string", "integer"]
PATH_SEGMENT = re.compile(r"^[A-Za-z0-9_-]{1,64}$")
MAX_PATH_DEPTH = 5
CONTEXT_PREFIX = "context."


@dataclass(frozen=True)
class Column:
    """A column of `error_events` a query may use; `name` is both its public name and its SQL name."""

    name: str
    clickhouse_type: str
    kind: Kind


COLUMNS: dict[str, Column] = {column.name: column for column in (
    Column("source", "String", "string"),
    Column("severity", "String", "string"),
    Column("group_id", "String", "string"),
    Column("message", "String", "string"),
    Column("release", "String", "string"),
    Column("environment", "String", "string"),
    Column("platform", "String", "string"),
    Column("exception_type", "String", "string"),
    Column("user_id", "UInt64", "integer"),
    Column("project_id", "UInt32", "integer"),
)}


@dataclass(frozen=True)
class ContextPath:
    """A key inside the event's `context` JSON, e.g. `context.http_status` or `context.device.os`."""

    segments: tuple[str, ...]

    @property
    def name(self) -> str:
        """The public name, `context.a.b`."""
        return CONTEXT_PREFIX + ".".join(self.segments)


Field = Column | ContextPath


def resolve(field: str) -> Field:
    """The column or context path a field name means; ValueError naming what is wrong."""
    if field.startswith(CONTEXT_PREFIX):
        segments = tuple(field[len(CONTEXT_PREFIX):].split("."))
        if len(segments) > MAX_PATH_DEPTH:
            raise ValueError(f"a context path has at most {MAX_PATH_DEPTH} segments")
        for segment in segments:
            if not PATH_SEGMENT.match(segment):
                raise ValueError(f"context path segment {segment!r} must be 1-64 of [A-Za-z0-9_-]")
        return ContextPath(segments)
    if field in COLUMNS:
        return COLUMNS[field]
    known = ", ".join(sorted(COLUMNS))
    raise ValueError(f"unknown field {field!r}: use one of {known}, or context.<key>[.<key>...]")
