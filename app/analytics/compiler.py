"""Compile a structured query into parameterised ClickHouse SQL over `error_events`.

Every identifier and operator comes from the tables in this module and in `fields`; every value
the client sent (filter values, context path segments, even the output column names) is bound as
a `{name:Type}` parameter. GROUP BY and ORDER BY refer to output columns by position, so no output
name (`occurrences` is also a column) can capture an expression.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.analytics.bounds import Window
from app.analytics.fields import Column, ContextPath, resolve
from app.analytics.schemas import Dimension, Filter, QueryRequest
from app.tracking.schemas import SEVERITIES

METRICS = {"events": "count()", "occurrences": "sum(occurrences)", "users": "uniqExact(user_id)",
           "first_seen": "min(ts)", "last_seen": "max(ts)"}
# Buckets keep the events' own type, DateTime64(3, 'UTC'), so every time in an answer looks alike.
BUCKETS = {name: f"toDateTime64({fn}(ts), 3, 'UTC')" for name, fn in
           (("minute", "toStartOfMinute"), ("hour", "toStartOfHour"), ("day", "toStartOfDay"))}
_EXTRACT_AS = {"string": "Nullable(String)", "int": "Nullable(Int64)", "float": "Nullable(Float64)",
               "bool": "Nullable(Bool)"}
_VALUE_TYPE = {"string": "String", "float": "Float64", "bool": "Bool"}
_OPERATORS = {"=": "=", "!=": "!=", "<": "<", "<=": "<=", ">": ">", ">=": ">="}
_SEVERITY = {name.lower(): name for name in SEVERITIES}


@dataclass
class CompiledQuery:
    """SQL with `{name:Type}` placeholders, their values, and the output column names."""

    sql: str
    parameters: dict[str, Any] = field(default_factory=dict)
    columns: list[str] = field(default_factory=list)


class _Binder:
    """Hands out placeholder names and keeps their values."""

    def __init__(self) -> None:
        self.parameters: dict[str, Any] = {}

    def bind(self, clickhouse_type: str, value: Any) -> str:
        name = f"p{len(self.parameters)}"
        self.parameters[name] = value
        return "{" + name + ":" + clickhouse_type + "}"


def compile_query(request: QueryRequest, window: Window, limit: int) -> CompiledQuery:
    """The SELECT answering `request` over `window`, returning at most `limit` rows."""
    binder = _Binder()
    outputs: list[tuple[str, str]] = [(BUCKETS[request.bucket], "bucket")] if request.bucket else []
    outputs += [(_dimension(dimension, binder), dimension.field) for dimension in request.group_by]
    keys = len(outputs)
    outputs += [(METRICS[metric], metric) for metric in request.metrics]
    select = ", ".join(f"{expr} AS {binder.bind('Identifier', name)}" for expr, name in outputs)
    conditions = [f"ts >= fromUnixTimestamp64Milli({binder.bind('Int64', window.since_ms)}, 'UTC')",
                  f"ts < fromUnixTimestamp64Milli({binder.bind('Int64', window.until_ms)}, 'UTC')"]
    conditions += [_condition(condition, binder) for condition in request.filters]
    sql = f"SELECT {select} FROM error_events WHERE {' AND '.join(conditions)}"
    if keys:
        sql += " GROUP BY " + ", ".join(str(position) for position in range(1, keys + 1))
    names = [name for _, name in outputs]
    sql += " ORDER BY " + ", ".join(f"{names.index(name) + 1} {direction.upper()}"
                                     for name, direction in _ordering(request))
    sql += f" LIMIT {binder.bind('UInt64', limit)}"
    return CompiledQuery(sql, binder.parameters, names)


def _ordering(request: QueryRequest) -> list[tuple[str, str]]:
    """The requested order; by default oldest bucket first, then the first metric, largest first."""
    if request.order_by:
        return [(order.field, order.direction) for order in request.order_by]
    return ([("bucket", "asc")] if request.bucket else []) + [(request.metrics[0], "desc")]


def _dimension(dimension: Dimension, binder: _Binder) -> str:
    target = resolve(dimension.field)
    if isinstance(target, Column):
        return target.name
    return f"JSONExtract(context, {_path(target, binder)}, '{_EXTRACT_AS[dimension.type]}')"


def _path(path: ContextPath, binder: _Binder) -> str:
    return ", ".join(binder.bind("String", segment) for segment in path.segments)


def _condition(condition: Filter, binder: _Binder) -> str:
    target = resolve(condition.field)
    if isinstance(target, Column):
        return _column_condition(target, condition.op, condition.value, binder)
    return _context_condition(target, condition.op, condition.value, binder)


def _column_condition(column: Column, op: str, value: Any, binder: _Binder) -> str:
    if column.name == "severity":
        value = [_SEVERITY.get(v.lower(), v) for v in value] if op == "in" else _SEVERITY.get(value.lower(), value)
    if op == "contains":
        return f"{column.name} ILIKE {binder.bind('String', like_pattern(value))}"
    if op == "in":
        return f"has({binder.bind(f'Array({column.clickhouse_type})', value)}, {column.name})"
    return f"{column.name} {_OPERATORS[op]} {binder.bind(column.clickhouse_type, value)}"


def _context_condition(path: ContextPath, op: str, value: Any, binder: _Binder) -> str:
    if op == "exists":
        return ("NOT " if value is False else "") + f"JSONHas(context, {_path(path, binder)})"
    sample = value[0] if isinstance(value, list) else value
    kind = "bool" if isinstance(sample, bool) else "string" if isinstance(sample, str) else "float"
    if kind == "float":
        value = [float(v) for v in value] if isinstance(value, list) else float(value)
    extracted = f"JSONExtract(context, {_path(path, binder)}, '{_EXTRACT_AS[kind]}')"
    if op == "contains":
        return f"{extracted} ILIKE {binder.bind('String', like_pattern(value))}"
    if op == "in":
        return f"has({binder.bind(f'Array({_VALUE_TYPE[kind]})', value)}, {extracted})"
    return f"{extracted} {_OPERATORS[op]} {binder.bind(_VALUE_TYPE[kind], value)}"


def like_pattern(text: str) -> str:
    """`%text%` for ILIKE, with LIKE's own wildcards and escape character escaped."""
    return "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
