"""Shapes of the analytics API: the structured query, the SQL console, the audit trail."""
from __future__ import annotations

from typing import Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StrictBool,
    StrictFloat,
    StrictInt,
    StrictStr,
    field_validator,
    model_validator,
)
from pydantic.alias_generators import to_camel

from app.analytics.fields import Column, ContextPath, resolve

Scalar = StrictBool | StrictInt | StrictFloat | StrictStr
Op = Literal["=", "!=", "<", "<=", ">", ">=", "in", "contains", "exists"]
Metric = Literal["events", "occurrences", "users", "first_seen", "last_seen"]
Bucket = Literal["minute", "hour", "day"]
Instant = StrictInt | StrictFloat | StrictStr
_CONFIG = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=True)
DEFAULT_METRICS: tuple[Metric, ...] = ("events", "occurrences")


class Filter(BaseModel):
    """One condition, `{field, op, value}`; a query's conditions are ANDed."""

    model_config = _CONFIG
    field: StrictStr = Field(max_length=400, description="a column (source, severity, ...) or context.<key>[.<key>]")
    op: Op = "="
    value: Scalar | list[Scalar] | None = Field(default=None, description="typed: 429 compares numbers, '429' text")

    @model_validator(mode="after")
    def _value_fits(self) -> "Filter":
        check_filter(resolve(self.field), self.op, self.value)
        return self


def check_filter(field: Column | ContextPath, op: str, value: Any) -> None:
    """Refuse a value whose shape or type does not fit the operator and the field."""
    if op == "exists":
        if not isinstance(field, ContextPath) or not (value is None or isinstance(value, bool)):
            raise ValueError("exists applies to context paths, with value true, false or none")
        return
    values = value if isinstance(value, list) else [value]
    if op == "in":
        if not isinstance(value, list) or not 1 <= len(value) <= 1000:
            raise ValueError("in needs a list of 1 to 1000 values")
        if len({_type_name(v) for v in values}) != 1:
            raise ValueError("the values of in must share one type")
    elif isinstance(value, list) or value is None:
        raise ValueError(f"{op} needs a single value")
    if op == "contains" and not isinstance(value, str):
        raise ValueError("contains needs a string")
    if isinstance(field, Column):
        wanted = int if field.kind == "integer" else str
        if op == "contains" and field.kind == "integer":
            raise ValueError(f"contains does not apply to {field.name}")
        if any(type(v) is not wanted or (isinstance(v, int) and v < 0) for v in values):
            raise ValueError(f"{field.name} compares with {'non-negative integers' if wanted is int else 'strings'}")
    elif op not in ("=", "!=", "in") and isinstance(values[0], bool):
        raise ValueError(f"{op} does not apply to true/false")


def _type_name(value: Any) -> str:
    return "number" if isinstance(value, (int, float)) and not isinstance(value, bool) else type(value).__name__


class Dimension(BaseModel):
    """A group-by key; a context path may be read as a string (default), int, float or bool."""

    model_config = _CONFIG
    field: StrictStr = Field(max_length=400)
    type: Literal["string", "int", "float", "bool"] = "string"

    @model_validator(mode="after")
    def _known(self) -> "Dimension":
        if isinstance(resolve(self.field), Column) and self.type != "string":
            raise ValueError("type applies to context paths only")
        return self


class OrderBy(BaseModel):
    """Sort by an output column (a dimension, `bucket` or a metric)."""

    model_config = _CONFIG
    field: StrictStr
    direction: Literal["asc", "desc"] = "desc"


class QueryRequest(BaseModel):
    """A structured question over `error_events`: window, filters, group-by, metrics, order, limit."""

    model_config = _CONFIG
    since: Instant | None = Field(default=None, description="ISO-8601 or unix seconds; default until - 24 h")
    until: Instant | None = Field(default=None, description="ISO-8601 or unix seconds, exclusive; default now")
    filters: list[Filter] = Field(default_factory=list, max_length=50)
    group_by: list[Dimension] = Field(default_factory=list, max_length=10)
    bucket: Bucket | None = Field(default=None, description="adds a `bucket` time column (start of each period)")
    metrics: list[Metric] = Field(default_factory=lambda: list(DEFAULT_METRICS), min_length=1)
    order_by: list[OrderBy] = Field(default_factory=list, max_length=10)
    limit: StrictInt | None = Field(default=None, ge=1, description="rows; default 1000 (exports: the export bound)")

    @field_validator("group_by", mode="before")
    @classmethod
    def _plain_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [{"field": item} if isinstance(item, str) else item for item in value]

    @field_validator("order_by", mode="before")
    @classmethod
    def _signed_names(cls, value: Any) -> Any:
        if not isinstance(value, list):
            return value
        return [{"field": item.lstrip("-"), "direction": "desc" if item.startswith("-") else "asc"}
                if isinstance(item, str) else item for item in value]

    @model_validator(mode="after")
    def _outputs_unique_and_known(self) -> "QueryRequest":
        outputs = self.output_names()
        if len(set(outputs)) != len(outputs):
            raise ValueError("group_by and metrics must not repeat a name")
        for order in self.order_by:
            if order.field not in outputs:
                raise ValueError(f"order_by {order.field!r} is not an output column: {', '.join(outputs)}")
        return self

    def output_names(self) -> list[str]:
        """The answer's columns in order: bucket, the dimensions, the metrics."""
        return (["bucket"] if self.bucket else []) + [d.field for d in self.group_by] + list(self.metrics)


class FormatQuery(BaseModel):
    """`?format=`: the answer as JSON (default) or a streamed export."""

    model_config = ConfigDict(extra="ignore")
    format: Literal["json", "csv", "jsonl", "parquet"] = "json"


class QueryStats(BaseModel):
    """How the answer came about."""

    rows: int
    elapsed_ms: int
    truncated: bool = Field(description="more rows matched than `limit`")


class WindowOut(BaseModel):
    """The time window the answer covers, [since, until)."""

    since: str
    until: str


class QueryResponse(BaseModel):
    """Columns and rows, ready for `pandas.DataFrame(rows, columns=columns)`."""

    columns: list[str]
    rows: list[list[Any]]
    stats: QueryStats
    window: WindowOut


class SqlRequest(BaseModel):
    """One SELECT (or WITH ... SELECT) over the analytics tables."""

    model_config = _CONFIG
    sql: StrictStr = Field(min_length=1, max_length=100_000)


class SqlStats(BaseModel):
    """Rows returned and time taken."""

    rows: int
    elapsed_ms: int


class SqlResponse(BaseModel):
    """The console's answer."""

    columns: list[str]
    rows: list[list[Any]]
    stats: SqlStats


class AuditQuery(BaseModel):
    """Filters for the audit trail, newest first."""

    model_config = ConfigDict(extra="ignore")
    limit: int = Field(default=100, ge=1, le=500)
    cursor: str | None = Field(default=None, description="next_cursor of the previous page")
    kind: Literal["query", "export", "sql"] | None = None
    user_id: int | None = None


class AuditEntry(BaseModel):
    """Who ran what, when, with which outcome."""

    id: int
    user_id: int
    username: str | None
    kind: str
    query_text: str
    outcome: str
    rows: int
    elapsed_ms: int
    created_at_ms: int


class AuditPage(BaseModel):
    """A page of audit entries."""

    entries: list[AuditEntry]
    next_cursor: str | None
