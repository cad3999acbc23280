"""Compiling structured queries: identifiers from the whitelist only, every client value a bound parameter."""
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from app.analytics.bounds import Window
from app.analytics.compiler import compile_query, like_pattern
from app.analytics.fields import PATH_SEGMENT, Column, ContextPath, resolve
from app.analytics.schemas import QueryRequest

WINDOW = Window(1_700_000_000_000, 1_700_086_400_000)


def compiled(**body: Any):  # type: ignore[no-untyped-def]
    return compile_query(QueryRequest.model_validate(body), WINDOW, 100)


def test_resolve_columns_and_context_paths() -> None:
    assert resolve("source") == Column("source", "String", "string")
    assert resolve("context.http_status") == ContextPath(("http_status",))
    assert resolve("context.a.b-c.d_e.5.f").segments == ("a", "b-c", "d_e", "5", "f")
    for bad in ("tags", "context.", "context.a..b", "context.a b", "context.a.b.c.d.e.f", "context." + "x" * 65,
                "Source", "context.a'b", "context.é"):
        with pytest.raises(ValueError):
            resolve(bad)


def test_a_query_selects_metrics_over_the_window_grouped_and_ordered_by_position() -> None:
    query = compiled(bucket="hour", groupBy=["source", "context.os"], metrics=["events", "occurrences"])
    assert query.columns == ["bucket", "source", "context.os", "events", "occurrences"]
    assert "FROM error_events WHERE ts >= fromUnixTimestamp64Milli({p" in query.sql
    assert "count() AS {p" in query.sql and "sum(occurrences) AS {p" in query.sql
    assert " GROUP BY 1, 2, 3 ORDER BY 1 ASC, 4 DESC LIMIT {p" in query.sql
    assert WINDOW.since_ms in query.parameters.values() and 100 in query.parameters.values()
    assert "context.os" in query.parameters.values() and "os" in query.parameters.values()


def test_without_group_by_there_is_no_group_by_and_order_follows_the_request() -> None:
    query = compiled(metrics=["users", "first_seen"], orderBy=["first_seen"])
    last = len(query.parameters) - 1
    assert "GROUP BY" not in query.sql and query.sql.endswith(f"ORDER BY 2 ASC LIMIT {{p{last}:UInt64}}")


@pytest.mark.parametrize("condition, fragment", [
    ({"field": "source", "value": "Audio"}, "source = {p3:String}"),
    ({"field": "user_id", "op": ">=", "value": 3}, "user_id >= {p3:UInt64}"),
    ({"field": "project_id", "op": "in", "value": [1, 2]}, "has({p3:Array(UInt32)}, project_id)"),
    ({"field": "message", "op": "contains", "value": "x"}, "message ILIKE {p3:String}"),
    ({"field": "context.http_status", "value": 429},
     "JSONExtract(context, {p3:String}, 'Nullable(Float64)') = {p4:Float64}"),
    ({"field": "context.flaky", "op": "!=", "value": True}, "'Nullable(Bool)') != {p4:Bool}"),
    ({"field": "context.os", "op": "in", "value": ["a"]},
     "has({p4:Array(String)}, JSONExtract(context, {p3:String}, 'Nullable(String)'))"),
    ({"field": "context.a.b", "op": "exists"}, "JSONHas(context, {p3:String}, {p4:String})"),
    ({"field": "context.a", "op": "exists", "value": False}, "NOT JSONHas(context, {p3:String})"),
])
def test_filters_compile_to_typed_placeholders(condition: dict, fragment: str) -> None:
    assert fragment in compiled(filters=[condition], metrics=["events"]).sql


def test_severity_is_matched_in_its_canonical_case() -> None:
    query = compiled(filters=[{"field": "severity", "op": "in", "value": ["critical", "WARNING", "odd"]}])
    assert ["Critical", "Warning", "odd"] in query.parameters.values()


def test_like_pattern_escapes_wildcards() -> None:
    assert like_pattern("100%_done\\") == "%100\\%\\_done\\\\%"


segments = st.from_regex(PATH_SEGMENT, fullmatch=True)
texts = st.text(min_size=1, max_size=30)


@settings(max_examples=150, deadline=None)
@given(path=st.lists(segments, min_size=1, max_size=5), value=texts, needle=texts)
def test_client_strings_never_reach_the_sql_text(path: list[str], value: str, needle: str) -> None:
    """The SQL text depends on the query's shape only; every client string travels as a parameter."""

    def query(path: list[str], value: str, needle: str):  # type: ignore[no-untyped-def]
        field = "context." + ".".join(path)
        return compiled(groupBy=[field], orderBy=[field], filters=[
            {"field": field, "value": value}, {"field": "message", "op": "contains", "value": needle},
            {"field": "source", "value": value}, {"field": field, "op": "in", "value": [value, needle]}])

    hostile, plain = query(path, value, needle), query(["k"] * len(path), "v", "n")
    assert hostile.sql == plain.sql
    values = list(hostile.parameters.values())
    assert all(segment in values for segment in path) and value in values and [value, needle] in values


@pytest.mark.parametrize("body, problem", [
    ({"groupBy": ["source", "source"]}, "must not repeat"),
    ({"metrics": ["events", "events"]}, "must not repeat"),
    ({"orderBy": ["-users"]}, "not an output column"),
    ({"groupBy": [{"field": "source", "type": "int"}]}, "context paths only"),
    ({"filters": [{"field": "context.a", "op": "<", "value": False}]}, "true/false"),
    ({"filters": [{"field": "context.a", "op": "in", "value": []}]}, "1 to 1000"),
    ({"filters": [{"field": "context.a", "op": "=", "value": [1]}]}, "single value"),
    ({"filters": [{"field": "context.a", "op": "contains", "value": 3}]}, "needs a string"),
    ({"filters": [{"field": "user_id", "value": -1}]}, "non-negative"),
    ({"filters": [{"field": "user_id", "value": True}]}, "non-negative"),
    ({"filters": [{"field": "source", "value": 3}]}, "strings"),
    ({"filters": [{"field": "context.a", "op": "exists", "value": "yes"}]}, "exists"),
    ({"unknown": 1}, "Extra inputs"),
])
def test_request_validation_names_the_problem(body: dict, problem: str) -> None:
    with pytest.raises(ValidationError, match=problem):
        QueryRequest.model_validate(body)


def test_camel_and_snake_keys_and_short_orders() -> None:
    camel = QueryRequest.model_validate({"groupBy": ["source"], "orderBy": ["-events", "source"]})
    snake = QueryRequest.model_validate({"group_by": ["source"], "order_by": [
        {"field": "events"}, {"field": "source", "direction": "asc"}]})
    assert camel == snake
    assert camel.output_names() == ["source", "events", "occurrences"]
