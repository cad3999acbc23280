"""Error analytics: structured queries, their streamed exports and the admins' SQL console, all audited."""
from __future__ import annotations

import json
import time
from contextlib import contextmanager
from datetime import datetime, timezone
from typing import Any, Iterator

from app.analytics.audit import UNCOUNTED, AuditLog
from app.analytics.bounds import AnalyticsLimits, Window, bound_error, check_limit, clickhouse_error, window_for
from app.analytics.compiler import CompiledQuery, compile_query
from app.analytics.exports import ExportFormat, iso
from app.analytics.schemas import QueryRequest
from app.analytics.sql_guard import SqlGuard, refused
from app.errors import BadRequest
from app.storage import StorageError
from app.storage.clickhouse import ClickHouseStore

DEFAULT_LIMIT = 1000
# Times as ISO-8601 UTC, 64-bit integers as numbers (NaN and infinities come out as null).
_JSON = {"date_time_output_format": "iso", "output_format_json_quote_64bit_integers": 0}


class AnalyticsService:
    """Runs engineers' questions against the analytics store within the configured bounds."""

    def __init__(self, store: ClickHouseStore, audit: AuditLog, limits: AnalyticsLimits, guard: SqlGuard) -> None:
        self._store = store
        self.audit = audit
        self.limits = limits
        self._guard = guard

    def query(self, user_id: int, request: QueryRequest) -> dict[str, Any]:
        """`{columns, rows, stats, window}` for a structured query."""
        with self.audit.recording(user_id, "query", describe(request)) as record:
            window = window_for(request.since, request.until, self.limits)
            limit = request.limit or min(DEFAULT_LIMIT, self.limits.max_rows)
            check_limit(limit, self.limits.max_rows, "ANALYTICS_MAX_ROWS")
            compiled = compile_query(request, window, limit + 1)  # one more tells whether there are more
            started = time.monotonic()
            with self._bounded(limit + 1, "ANALYTICS_MAX_ROWS"):
                _, rows = self._fetch(compiled.sql, compiled.parameters, self._settings(limit + 1))
            record.rows = min(len(rows), limit)
            return {"columns": compiled.columns, "rows": rows[:limit],
                    "stats": {"rows": record.rows, "elapsed_ms": _ms_since(started), "truncated": len(rows) > limit},
                    "window": {"since": iso_ms(window.since_ms), "until": iso_ms(window.until_ms)}}

    def export(self, user_id: int, request: QueryRequest, fmt: ExportFormat) -> tuple[str, Iterator[bytes]]:
        """A file name and the export's chunks. The first chunk is computed before this returns,
        so a refusal or a broken bound is still a 4xx; later failures cut the stream short."""
        planned: list[Window] = []
        chunks = self._export_chunks(user_id, request, fmt, planned)
        first = next(chunks, b"")
        return fmt.filename(planned[0]), _prepend(first, chunks)

    def _export_chunks(self, user_id: int, request: QueryRequest, fmt: ExportFormat,
                       planned: list[Window]) -> Iterator[bytes]:
        with self.audit.recording(user_id, "export", describe(request, fmt.name)) as record:
            record.rows = UNCOUNTED
            window = window_for(request.since, request.until, self.limits)
            planned.append(window)
            limit = request.limit or self.limits.max_export_rows
            check_limit(limit, self.limits.max_export_rows, "ANALYTICS_MAX_EXPORT_ROWS")
            compiled: CompiledQuery = compile_query(request, window, limit)
            settings = {**self._settings(limit + 1), **fmt.settings}
            with self._bounded(limit + 1, "ANALYTICS_MAX_EXPORT_ROWS"):
                yield from self._store.stream(compiled.sql, compiled.parameters, fmt.clickhouse, settings)

    def run_sql(self, user_id: int, text: str) -> dict[str, Any]:
        """Run one SELECT over the analytics tables (admins); `{columns, rows, stats}`."""
        with self.audit.recording(user_id, "sql", text) as record:
            settings = self.limits.clickhouse_settings(self.limits.max_rows)
            canonical = self._canonical(text)
            with self._bounded(self.limits.max_rows, "ANALYTICS_MAX_ROWS", console=True):
                self._guard.check(canonical, settings)
                started = time.monotonic()
                columns, rows = self._fetch(canonical, {}, settings)
            record.rows = len(rows)
            return {"columns": columns, "rows": rows,
                    "stats": {"rows": len(rows), "elapsed_ms": _ms_since(started)}}

    def _canonical(self, text: str) -> str:
        try:
            return self._guard.canonical(text)
        except StorageError as exc:
            found = clickhouse_error(exc)
            if found is None:
                raise
            message = found[1].split(" In scope SELECT formatQuery")[0].rstrip(" :.")
            if "Multi-statements" in message:
                raise refused("multiple_statements", "Only one statement may run at a time.") from exc
            raise refused("sql_syntax_error", f"The query does not parse: {message}.") from exc

    def _fetch(self, sql: str, parameters: dict[str, Any], settings: dict[str, Any]) -> tuple[list[str], list[Any]]:
        """Run a bounded query on a connection of its own, as JSON: (column names, rows).

        Not on the shared clients: chDB leaves the partial output of a query that fails midway (a
        broken row or time bound) on its connection, and the next query there would read it.
        """
        data = b"".join(self._store.stream(sql, parameters, "JSONCompactEachRowWithNames", {**settings, **_JSON}))
        lines = data.splitlines()
        return (json.loads(lines[0]) if lines else []), [json.loads(line) for line in lines[1:]]

    def _settings(self, max_result_rows: int) -> dict[str, Any]:
        # Compiled queries group and order by position.
        return {**self.limits.clickhouse_settings(max_result_rows), "enable_positional_arguments": 1}

    @contextmanager
    def _bounded(self, max_rows: int, rows_bound: str, console: bool = False) -> Iterator[None]:
        """Turn ClickHouse's bound errors into 400s naming the bound; the console's query errors too."""
        try:
            yield
        except StorageError as exc:
            error = bound_error(exc, self.limits, max_rows, rows_bound)
            if error is not None:
                raise error from exc
            found = clickhouse_error(exc)
            if found is None:
                raise
            if console:
                message = found[1].split(" In scope ")[0].rstrip(" :.")  # the scope repeats our SETTINGS
                raise BadRequest(f"ClickHouse refused the query: {message}.", code="sql_error") from exc
            raise RuntimeError(f"a compiled analytics query failed: {found[1]}") from exc


def describe(request: QueryRequest, fmt: str = "json") -> str:
    """The audit text of a structured query: its JSON, with the format."""
    return json.dumps({"format": fmt, **request.model_dump(mode="json")}, separators=(",", ":"))


def iso_ms(ms: int) -> str:
    """Unix milliseconds as ISO-8601 UTC."""
    return iso(datetime.fromtimestamp(ms / 1000, timezone.utc))


def _ms_since(started: float) -> int:
    return int((time.monotonic() - started) * 1000)


def _prepend(first: bytes, rest: Iterator[bytes]) -> Iterator[bytes]:
    """`first`, then `rest`; closing this closes `rest` (its audit entry is then written)."""
    try:
        if first:
            yield first
        yield from rest
    finally:
        rest.close()  # type: ignore[attr-defined]
