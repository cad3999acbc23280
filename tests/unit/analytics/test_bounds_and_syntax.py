"""Windows, bound errors and the EXPLAIN AST reader, without a store."""
import time

import pytest

from app.analytics.bounds import AnalyticsLimits, bound_error, check_limit, clickhouse_error, window_for
from app.api.times import parse_instant
from app.analytics.syntax_tree import parse_explain_ast
from app.errors import BadRequest
from app.storage import StorageError

LIMITS = AnalyticsLimits(max_range_days=7, max_rows=100, max_export_rows=1000, max_execution_seconds=3,
                         max_memory_bytes=1 << 20)


@pytest.mark.parametrize("value, ms", [
    (1_700_000_000, 1_700_000_000_000), (1_700_000_000.5, 1_700_000_000_500), (1_700_000_000_123, 1_700_000_000_123),
    ("1700000000", 1_700_000_000_000), ("2023-11-14T22:13:20Z", 1_700_000_000_000),
    ("2023-11-14T22:13:20", 1_700_000_000_000), ("2023-11-15T00:13:20+02:00", 1_700_000_000_000),
])
def test_instants(value: object, ms: int) -> None:
    assert parse_instant(value, "since") == ms  # type: ignore[arg-type]


def test_window_defaults_to_the_last_day_and_is_bounded() -> None:
    window = window_for(None, None, LIMITS)
    assert window.until_ms - window.since_ms == 86_400_000 and abs(window.until_ms - time.time() * 1000) < 60_000
    assert window_for(None, 1_700_000_000, LIMITS).since_ms == 1_700_000_000_000 - 86_400_000
    with pytest.raises(BadRequest) as too_long:
        window_for(1_700_000_000, 1_700_000_000 + 8 * 86400, LIMITS)
    assert too_long.value.code == "range_too_large" and too_long.value.details["limit"] == 7
    with pytest.raises(BadRequest) as backwards:
        window_for(2, 1, LIMITS)
    assert backwards.value.code == "invalid_range"
    with pytest.raises(BadRequest):
        parse_instant("yesterday", "since")


def test_limits() -> None:
    check_limit(100, 100, "ANALYTICS_MAX_ROWS")
    with pytest.raises(BadRequest) as error:
        check_limit(101, 100, "ANALYTICS_MAX_ROWS")
    assert error.value.code == "too_many_rows" and error.value.details == {"bound": "ANALYTICS_MAX_ROWS", "limit": 100}
    settings = LIMITS.clickhouse_settings(7)
    assert settings["readonly"] == 2 and settings["max_result_rows"] == 7
    assert settings["result_overflow_mode"] == "throw" and settings["timeout_overflow_mode"] == "throw"
    assert settings["max_execution_time"] == 3 and settings["max_memory_usage"] == 1 << 20


@pytest.mark.parametrize("message, code, bound", [
    ("Code: 159. DB::Exception: Timeout exceeded: elapsed 1.0 s. (TIMEOUT_EXCEEDED)", "query_timeout",
     "ANALYTICS_MAX_EXECUTION_SECONDS"),
    ("Streaming query failed: Code: 396. DB::Exception: Limit for result exceeded. (TOO_MANY_ROWS_OR_BYTES)",
     "too_many_rows", "ANALYTICS_MAX_ROWS"),
    ("Code: 241. DB::Exception: Memory limit (for query) exceeded. (MEMORY_LIMIT_EXCEEDED)", "memory_limit_exceeded",
     "ANALYTICS_MAX_MEMORY_BYTES"),
])
def test_bound_errors_name_the_bound(message: str, code: str, bound: str) -> None:
    error = bound_error(StorageError(message), LIMITS, 100)
    assert error is not None and error.status == 400 and error.code == code and error.details["bound"] == bound


def test_other_errors_are_not_bounds_and_outages_are_not_query_errors() -> None:
    assert bound_error(StorageError("Code: 47. DB::Exception: Unknown identifier x. (UNKNOWN_IDENTIFIER)"),
                       LIMITS, 1) is None
    assert clickhouse_error(StorageError("Code: 47. DB::Exception: Unknown identifier x.")) == (
        47, "Unknown identifier x.")
    assert clickhouse_error(StorageError("cannot open the analytics store: connection refused")) is None
    assert clickhouse_error(StorageError("Code: 210. DB::NetException: Connection refused")) is None


def test_explain_ast_lines_become_a_tree() -> None:
    lines = ["SelectWithUnionQuery (children 2)", " ExpressionList (children 1)", "  SelectQuery (children 2)",
             "   ExpressionList (children 1)", "    Function count (alias n) (children 1)", "     ExpressionList",
             "   TablesInSelectQuery (children 1)", "    TablesInSelectQueryElement (children 1)",
             "     TableExpression (children 1)", "      TableIdentifier db.error_events (alias e)",
             " Identifier Native"]
    root = parse_explain_ast(lines)
    assert root.kind == "SelectWithUnionQuery" and [c.kind for c in root.children] == ["ExpressionList", "Identifier"]
    nodes = {node.kind: node for node, _ in root.walk()}
    assert nodes["Function"].argument == "count"
    assert nodes["TableIdentifier"].argument == "db.error_events"
    parents = {node.kind: parent.kind for node, parent in root.walk() if parent is not None}
    assert parents["TableIdentifier"] == "TableExpression"
    with pytest.raises(ValueError):
        parse_explain_ast(["SelectWithUnionQuery", "SelectWithUnionQuery"])
    with pytest.raises(ValueError):
        parse_explain_ast([])
