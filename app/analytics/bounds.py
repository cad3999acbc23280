"""Guard rails: how long a window, how many rows, how much time and memory a query may take.

ClickHouse enforces the row, time and memory bounds itself (query settings); breaking one is a
400 naming the bound, never a 500 or a hang.
"""
from __future__ import annotations

import re
import time
from dataclasses import dataclass
from typing import Any

from app.config import Settings
from app.api.times import parse_instant
from app.errors import BadRequest
from app.storage import StorageError

DAY_MS = 86_400_000
DEFAULT_WINDOW_MS = DAY_MS
_CODE = re.compile(r"Code: (\d+)\. (?:DB::Exception: )?(.*)$", re.S)
# ClickHouse error codes that mean the store is in trouble, not the query.
_STORE_TROUBLE = {202, 209, 210, 999}


@dataclass(frozen=True)
class AnalyticsLimits:
    """The bounds, from ANALYTICS_MAX_* settings."""

    max_range_days: int = 90
    max_rows: int = 10_000
    max_export_rows: int = 1_000_000
    max_execution_seconds: int = 10
    max_memory_bytes: int = 512 * 1024 * 1024

    @classmethod
    def from_settings(cls, settings: Settings) -> "AnalyticsLimits":
        """Read the bounds from the app's settings."""
        return cls(settings.analytics_max_range_days, settings.analytics_max_rows,
                   settings.analytics_max_export_rows, settings.analytics_max_execution_seconds,
                   settings.analytics_max_memory_bytes)

    def clickhouse_settings(self, max_result_rows: int) -> dict[str, Any]:
        """Per-query settings: read-only, and throw (never truncate silently) past a bound.

        readonly=2 rather than 1: 1 also forbids the other settings of the same request on a
        ClickHouse server; the console refuses SETTINGS in the text, so users cannot change them.
        """
        return {"readonly": 2, "max_execution_time": self.max_execution_seconds,
                "timeout_overflow_mode": "throw", "max_result_rows": max_result_rows,
                "result_overflow_mode": "throw", "max_memory_usage": self.max_memory_bytes}


@dataclass(frozen=True)
class Window:
    """[since, until) in unix milliseconds."""

    since_ms: int
    until_ms: int


def window_for(since: Any, until: Any, limits: AnalyticsLimits) -> Window:
    """The query's window: defaults to the last 24 hours; 400 `range_too_large` past the bound."""
    until_ms = parse_instant(until, "until") if until is not None else int(time.time() * 1000)
    since_ms = parse_instant(since, "since") if since is not None else until_ms - DEFAULT_WINDOW_MS
    if since_ms > until_ms:
        raise BadRequest("since must not be after until.", code="invalid_range")
    if until_ms - since_ms > limits.max_range_days * DAY_MS:
        raise BadRequest(f"The time range is longer than ANALYTICS_MAX_RANGE_DAYS ({limits.max_range_days} days).",
                         code="range_too_large",
                         details={"bound": "ANALYTICS_MAX_RANGE_DAYS", "limit": limits.max_range_days})
    return Window(since_ms, until_ms)


def check_limit(limit: int, bound: int, name: str) -> None:
    """400 `too_many_rows` when a requested limit is past its bound."""
    if limit > bound:
        raise BadRequest(f"limit {limit} is more than {name} ({bound}).", code="too_many_rows",
                         details={"bound": name, "limit": bound})


def clickhouse_error(exc: StorageError) -> tuple[int, str] | None:
    """The ClickHouse error code and message in a store error, or None (the store is unreachable)."""
    match = _CODE.search(str(exc))
    if match is None or int(match.group(1)) in _STORE_TROUBLE:
        return None
    return int(match.group(1)), match.group(2).strip()


def bound_error(exc: StorageError, limits: AnalyticsLimits, max_rows: int,
                rows_bound: str = "ANALYTICS_MAX_ROWS") -> BadRequest | None:
    """The 400 naming the bound a query broke, or None when it broke none."""
    found = clickhouse_error(exc)
    if found is None:
        return None
    code = found[0]
    if code in (159, 160):  # TIMEOUT_EXCEEDED, TOO_SLOW
        return BadRequest(f"The query ran past ANALYTICS_MAX_EXECUTION_SECONDS ({limits.max_execution_seconds} s).",
                          code="query_timeout", details={"bound": "ANALYTICS_MAX_EXECUTION_SECONDS",
                                                         "limit": limits.max_execution_seconds})
    if code in (396, 158):  # TOO_MANY_ROWS_OR_BYTES, TOO_MANY_ROWS
        return BadRequest(f"The result has more rows than allowed ({max_rows}).", code="too_many_rows",
                          details={"bound": rows_bound, "limit": max_rows})
    if code == 241:  # MEMORY_LIMIT_EXCEEDED
        return BadRequest(f"The query needed more memory than ANALYTICS_MAX_MEMORY_BYTES ({limits.max_memory_bytes}).",
                          code="memory_limit_exceeded",
                          details={"bound": "ANALYTICS_MAX_MEMORY_BYTES", "limit": limits.max_memory_bytes})
    return None
