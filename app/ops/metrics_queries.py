"""Read queries over the ops tables: request_metrics, rate_limit_hits and operation_metrics.

Every query is bounded by a TimeSpan (both ends bound as parameters; every table read is ordered
by time first, so only the window is read) and buckets by whole seconds since the epoch, which
lines up with hours in UTC. Spans whose buckets are whole hours read the hourly rollups
(`*_hourly`, migrations/clickhouse/0004), whose window starts at the hour holding `since`;
shorter buckets read the raw rows. Callers get plain dicts; series come back dense.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Iterable, Sequence

from app.storage.clickhouse import ClickHouseStore

_SINCE, _UNTIL = "fromUnixTimestamp64Milli({since:Int64}, 'UTC')", "fromUnixTimestamp64Milli({until:Int64}, 'UTC')"


def _bucket(column: str) -> str:
    return f"toUInt32(intDiv(toUnixTimestamp({column}), {{bucket:UInt32}}) * {{bucket:UInt32}})"


def _window(column: str) -> str:
    start = f"toStartOfHour({_SINCE})" if column == "hour" else _SINCE
    return f"{column} >= {start} AND {column} <= {_UNTIL}"


@dataclass(frozen=True)
class TimeSpan:
    """A window in unix milliseconds (inclusive) and the width of its chart buckets in seconds."""

    since_ms: int
    until_ms: int
    bucket_s: int

    @property
    def hourly(self) -> bool:
        """True when the buckets are whole hours, so the hourly rollups can answer."""
        return self.bucket_s % 3600 == 0

    @property
    def seconds(self) -> float:
        """The window's length in seconds (at least one)."""
        return max(1.0, (self.until_ms - self.since_ms) / 1000)

    def params(self, **extra: Any) -> dict[str, Any]:
        """The bound parameters every span query uses."""
        return {"since": self.since_ms, "until": self.until_ms, "bucket": self.bucket_s, **extra}

    def bucket_starts(self) -> list[int]:
        """Every bucket start (unix seconds) the window touches, oldest first."""
        first = self.since_ms // 1000 // self.bucket_s * self.bucket_s
        last = self.until_ms // 1000 // self.bucket_s * self.bucket_s
        return list(range(first, last + 1, self.bucket_s))


def dense(span: TimeSpan, rows: Iterable[dict[str, Any]], fields: Sequence[str]) -> list[dict[str, Any]]:
    """One row per bucket of the span, in order; buckets without rows get zeros."""
    by_bucket = {row["bucket"]: row for row in rows}
    zero = dict.fromkeys(fields, 0)
    return [by_bucket.get(start, {**zero, "bucket": start}) for start in span.bucket_starts()]


def pivot(span: TimeSpan, rows: Iterable[tuple[int, str, int]]) -> dict[str, list[int]]:
    """(bucket, key, value) rows to one dense value list per key, keys by descending total."""
    starts = span.bucket_starts()
    index = {start: i for i, start in enumerate(starts)}
    series: dict[str, list[int]] = {}
    for bucket, key, value in rows:
        if bucket in index:
            series.setdefault(key, [0] * len(starts))[index[bucket]] += int(value)
    return dict(sorted(series.items(), key=lambda item: -sum(item[1])))


def _quantiles(values: Sequence[float]) -> tuple[float, float]:
    """(p50, p95) from ClickHouse's `quantiles(0.5, 0.95)` array (NaN when no rows: 0)."""
    p50, p95 = (float(v) for v in (list(values) + [0.0, 0.0])[:2])
    return (p50 if p50 == p50 else 0.0, p95 if p95 == p95 else 0.0)


class OpsMetricsQueries:
    """The dashboard's questions about requests, rate limits and collaboration, as bound queries."""

    def __init__(self, analytics: ClickHouseStore) -> None:
        self._ch = analytics

    def _requests(self, span: TimeSpan) -> tuple[str, str, str]:
        """(FROM-and-WHERE, bucket expression, aggregates: count, 5xx, [p50, p95]) for a span."""
        if span.hourly:
            return (f"request_metrics_hourly WHERE {_window('hour')}", _bucket("hour"),
                    "sum(requests), sum(errors_5xx), quantilesTDigestMerge(0.5, 0.95)(duration)")
        return (f"request_metrics WHERE {_window('ts')}", _bucket("ts"),
                "count(), countIf(status >= 500), quantiles(0.5, 0.95)(duration_ms)")

    def request_series(self, span: TimeSpan) -> list[dict[str, Any]]:
        """Per bucket: requests, 5xx responses, p50 and p95 duration (ms)."""
        source, bucket, figures = self._requests(span)
        sql = f"SELECT {bucket} AS bucket, {figures} FROM {source} GROUP BY bucket ORDER BY bucket"
        rows = ({"bucket": int(r[0]), "requests": int(r[1]), "errors_5xx": int(r[2]),
                 "p50_ms": _quantiles(r[3])[0], "p95_ms": _quantiles(r[3])[1]}
                for r in self._ch.query(sql, span.params()))
        return dense(span, rows, ("requests", "errors_5xx", "p50_ms", "p95_ms"))

    def request_routes(self, span: TimeSpan, limit: int = 25) -> list[dict[str, Any]]:
        """The busiest routes: requests, rate per second, 5xx and latency percentiles."""
        source, _, figures = self._requests(span)
        sql = (f"SELECT route, method, {figures} FROM {source} GROUP BY route, method "
               "ORDER BY 3 DESC, route LIMIT {limit:UInt32}")
        out = []
        for route, method, count, errors, quantiles in self._ch.query(sql, span.params(limit=limit)):
            p50, p95 = _quantiles(quantiles)
            out.append({"route": route, "method": method, "requests": int(count),
                        "per_second": int(count) / span.seconds, "errors_5xx": int(errors),
                        "p50_ms": p50, "p95_ms": p95})
        return out

    def request_totals(self, span: TimeSpan) -> dict[str, Any]:
        """Requests, rate per second, 5xx and overall p50/p95 over the window."""
        source, _, figures = self._requests(span)
        count, errors, quantiles = self._ch.query(f"SELECT {figures} FROM {source}", span.params())[0]
        p50, p95 = _quantiles(quantiles)
        return {"requests": int(count), "per_second": int(count) / span.seconds,
                "errors_5xx": int(errors), "p50_ms": p50, "p95_ms": p95}

    def _hits(self, span: TimeSpan) -> tuple[str, str, str, str]:
        """(FROM-and-WHERE, bucket expression, hit count, last hit) for rate-limit hits."""
        if span.hourly:
            return f"rate_limit_hits_hourly WHERE {_window('hour')}", _bucket("hour"), "sum(hits)", "max(last_hit)"
        return f"rate_limit_hits WHERE {_window('ts')}", _bucket("ts"), "count()", "max(ts)"

    def rate_limit_series(self, span: TimeSpan, by: str) -> dict[str, list[int]]:
        """Limited requests per bucket, one series per limit name or per route."""
        column = {"limit": "limit_name", "route": "route"}[by]
        source, bucket, hits, _ = self._hits(span)
        sql = f"SELECT {bucket} AS bucket, {column}, {hits} FROM {source} GROUP BY bucket, {column}"
        return pivot(span, self._ch.query(sql, span.params()))

    def rate_limit_keys(self, span: TimeSpan, limit: int = 20) -> list[dict[str, Any]]:
        """The most limited keys (hashed): hits, their limits and routes, last hit."""
        source, _, hits, last = self._hits(span)
        sql = (f"SELECT key_kind, key_hash, {hits} AS n, groupUniqArray(3)(limit_name), "
               f"groupUniqArray(3)(route), toUnixTimestamp64Milli({last}) FROM {source} "
               "GROUP BY key_kind, key_hash ORDER BY n DESC, key_hash LIMIT {limit:UInt32}")
        return [{"key_kind": r[0], "key_hash": r[1], "hits": int(r[2]), "limits": sorted(r[3]),
                 "routes": sorted(r[4]), "last_ms": int(r[5])}
                for r in self._ch.query(sql, span.params(limit=limit))]

    def rate_limit_totals(self, span: TimeSpan) -> dict[str, int]:
        """Limited requests, distinct keys and distinct routes over the window."""
        source, _, hits, _ = self._hits(span)
        total, keys, routes = self._ch.query(f"SELECT {hits}, uniq(key_hash), uniq(route) FROM {source}",
                                             span.params())[0]
        return {"hits": int(total), "keys": int(keys), "routes": int(routes)}

    def _operations(self, span: TimeSpan) -> tuple[str, str, list[str]]:
        """(FROM-and-WHERE, bucket, aggregates: count, transformed, rejected, [p50, p95], docs, editors)."""
        if span.hourly:
            return (f"operation_metrics_hourly WHERE {_window('hour')}", _bucket("hour"),
                    ["sum(operations)", "sum(transformed_ops)", "sum(rejected_ops)",
                     "quantilesTDigestIfMerge(0.5, 0.95)(apply_latency)", "uniqMerge(documents)", "uniqMerge(editors)"])
        return (f"operation_metrics WHERE {_window('ts')}", _bucket("ts"),
                ["count()", "countIf(transformed_over >= 1)", "countIf(rejected != 0)",
                 "quantilesIf(0.5, 0.95)(apply_ms, rejected = 0)", "uniq(document_id)", "uniq(user_id)"])

    def operation_series(self, span: TimeSpan) -> list[dict[str, Any]]:
        """Per bucket: operations, transformed ones, rejected ones, apply p50/p95 (ms)."""
        source, bucket, figures = self._operations(span)
        charted = ", ".join(figures[:4])  # documents and editors per bucket are not charted
        sql = f"SELECT {bucket} AS bucket, {charted} FROM {source} GROUP BY bucket ORDER BY bucket"
        rows = ({"bucket": int(r[0]), "operations": int(r[1]), "transformed": int(r[2]),
                 "rejected": int(r[3]), "p50_ms": _quantiles(r[4])[0], "p95_ms": _quantiles(r[4])[1]}
                for r in self._ch.query(sql, span.params()))
        return dense(span, rows, ("operations", "transformed", "rejected", "p50_ms", "p95_ms"))

    def operation_totals(self, span: TimeSpan) -> dict[str, Any]:
        """Totals over the window: operations, conflict and rejection counts, latency, documents, editors."""
        source, _, figures = self._operations(span)
        count, transformed, rejected, quantiles, documents, editors = self._ch.query(
            f"SELECT {', '.join(figures)} FROM {source}", span.params())[0]
        p50, p95 = _quantiles(quantiles)
        return {"operations": int(count), "per_second": int(count) / span.seconds,
                "transformed": int(transformed), "rejected": int(rejected),
                "conflict_rate": int(transformed) / int(count) if count else 0.0,
                "p50_ms": p50, "p95_ms": p95, "documents": int(documents), "editors": int(editors)}

    def rejections_by_reason(self, span: TimeSpan) -> dict[str, int]:
        """Rejected operations per reason over the window, most frequent first."""
        if span.hourly:
            source, rejected = f"operation_metrics_hourly WHERE {_window('hour')}", "sum(rejected_ops)"
        else:
            source, rejected = f"operation_metrics WHERE {_window('ts')} AND rejected != 0", "count()"
        sql = (f"SELECT if(reason = '', 'unspecified', reason) AS why, {rejected} AS n FROM {source} "
               "GROUP BY why HAVING n > 0 ORDER BY n DESC, why")
        return {r[0]: int(r[1]) for r in self._ch.query(sql, span.params())}
