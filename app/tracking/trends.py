"""Error trends for the support dashboard: series and top groups over any window and bucket size.

Raw events are ordered by group, so a time window there reads most of the table; these queries
read rollups ordered by time instead: `error_group_minute` for minute buckets (short ranges),
`error_totals_hourly` / `error_group_hourly` for hour buckets, and `error_group_daily` for the
whole days of long windows. Only a handful of groups is read raw (a narrow read by group).
Status, message text and (for groups) severity are group properties kept in SQL: those filters
become candidate group ids first, as in the tracking API.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Sequence

from app.ops.metrics_queries import TimeSpan, pivot
from app.storage.clickhouse import ClickHouseStore
from app.tracking.group_state import GroupStateStore
from app.tracking.queries import EventQueries, Scope, Window, iso

SERIES_KEYS = ("severity", "source")
GROUP_ORDERS = {"occurrences": "occ DESC", "events": "ev DESC", "last_seen": "last_ms DESC"}
RAW_GROUP_LIMIT = 5  # up to this many groups, their raw events (ordered by group) are a narrow read
HOUR_MS, DAY_MS = 3_600_000, 86_400_000
_SINCE, _UNTIL = "fromUnixTimestamp64Milli({since:Int64}, 'UTC')", "fromUnixTimestamp64Milli({until:Int64}, 'UTC')"
_GROUP_COLUMNS = "group_id, source, events, occurrences, first_seen, last_seen"


@dataclass(frozen=True)
class GroupFilter:
    """Which events a trend counts: by source, severity, group status, message text or group ids."""

    sources: Sequence[str] = ()
    severities: Sequence[str] = ()
    status: str | None = None
    text: str | None = None
    group_ids: Sequence[str] | None = None


def _bucket(column: str) -> str:
    return f"toUInt32(intDiv(toUnixTimestamp({column}), {{bucket:UInt32}}) * {{bucket:UInt32}})"


def _in_window(column: str) -> str:
    """The span's window on a column: rollups include the whole minute/hour holding `since`."""
    start = {"minute": f"toStartOfMinute({_SINCE})", "hour": f"toStartOfHour({_SINCE})"}.get(column, _SINCE)
    return f"{column} >= {start} AND {column} <= {_UNTIL}"


def _filters(flt: GroupFilter, ids: list[str] | None, severity: bool = True) -> tuple[str, dict[str, Any]]:
    """` AND ...` conditions for sources, severities and group ids, with their parameters."""
    conds, params = [], {}
    if flt.sources:
        conds.append("source IN {sources:Array(String)}")
        params["sources"] = list(flt.sources)
    if flt.severities and severity:
        conds.append("severity IN {severities:Array(String)}")
        params["severities"] = list(flt.severities)
    if ids is not None:
        conds.append("group_id IN {gids:Array(String)}")
        params["gids"] = ids
    return "".join(f" AND {c}" for c in conds), params


class ErrorTrends:
    """Read-only error figures for dashboards; never writes."""

    def __init__(self, analytics: ClickHouseStore, groups: GroupStateStore, queries: EventQueries) -> None:
        self._ch = analytics
        self._groups = groups
        self._queries = queries

    def _candidates(self, flt: GroupFilter, severity: str | None = None) -> list[str] | None:
        """Group ids the SQL-side filters allow; None when they restrict nothing."""
        ids = list(flt.group_ids) if flt.group_ids is not None else None
        if flt.status or flt.text or severity:
            matched = self._groups.ids_matching(flt.status, flt.text, severity=severity)
            ids = matched if ids is None else [gid for gid in matched if gid in set(ids)]
        return ids

    def series(self, span: TimeSpan, by: str, flt: GroupFilter = GroupFilter()) -> dict[str, list[int]]:
        """Occurrences per bucket, one dense series per severity or source, largest first."""
        if by not in SERIES_KEYS:
            raise ValueError(by)
        ids = self._candidates(flt)
        if ids == []:
            return {}
        if span.hourly and ids is not None and len(ids) > RAW_GROUP_LIMIT:
            return self._group_hourly_series(span, by, flt, ids)
        table, column = (("error_events", "ts") if ids is not None and len(ids) <= RAW_GROUP_LIMIT
                         else ("error_totals_hourly", "hour") if span.hourly else ("error_group_minute", "minute"))
        extra, params = _filters(flt, ids)
        sql = (f"SELECT {_bucket(column)} AS bucket, {by}, sum(occurrences) FROM {table} "
               f"WHERE {_in_window(column)}{extra} GROUP BY bucket, {by}")
        return pivot(span, self._ch.query(sql, {**span.params(), **params}))

    def _group_hourly_series(self, span: TimeSpan, by: str, flt: GroupFilter, ids: list[str]) -> dict[str, list[int]]:
        """Many groups over hour buckets: the group rollup, severity being each group's own."""
        states = self._groups.get_many(ids)
        severity = "transform(group_id, {gids:Array(String)}, {gsev:Array(String)}, '')"
        extra, params = _filters(flt, ids, severity=False)
        params["gsev"] = [states[g].severity if g in states else "" for g in ids]
        if flt.severities:
            extra += f" AND {severity} IN {{severities:Array(String)}}"
            params["severities"] = list(flt.severities)
        key = severity if by == "severity" else "source"
        params.update(span.params())
        source = self._group_rows(span, extra, params, whole_days=span.bucket_s % 86400 == 0)
        sql = f"SELECT {_bucket('t')} AS bucket, {key} AS k, sum(occurrences) FROM ({source}) GROUP BY bucket, k"
        return pivot(span, self._ch.query(sql, params))

    def top_groups(self, span: TimeSpan, flt: GroupFilter = GroupFilter(), order: str = "occurrences",
                   limit: int = 50, users: bool = True) -> list[dict[str, Any]]:
        """The groups with events in the window, with their figures there and their state in SQL.

        Over hour buckets, distinct users cost a second query (`users_in`); with `users=False` it
        is left to the caller and each row's "users" is None.
        """
        severity = flt.severities[0] if flt.severities else None
        ids = self._candidates(flt, severity)
        if ids == []:
            return []
        extra, params = _filters(flt, ids, severity=False)
        params.update(span.params(), limit=limit)
        if span.hourly:
            source = self._group_rows(span, extra, params, whole_days=True)
            figures = "sum(events) AS ev, sum(occurrences) AS occ, 0"
        else:
            source = f"SELECT * FROM error_group_minute WHERE {_in_window('minute')}{extra}"
            figures = "sum(events) AS ev, sum(occurrences) AS occ, uniqMerge(users)"
        sql = (f"SELECT group_id, {figures}, toUnixTimestamp64Milli(min(first_seen)), "
               f"toUnixTimestamp64Milli(max(last_seen)) AS last_ms, any(source) FROM ({source}) "
               f"GROUP BY group_id ORDER BY {GROUP_ORDERS.get(order, GROUP_ORDERS['occurrences'])}, group_id "
               "LIMIT {limit:UInt32}")
        rows = self._ch.query(sql, params)
        found = [r[0] for r in rows]
        counted: dict[str, int | None] = {r[0]: int(r[3]) for r in rows} if not span.hourly else (
            dict(self.users_in(span, found)) if users else dict.fromkeys(found))
        states = self._groups.get_many(found)
        return [_group_row(r, states.get(r[0]), counted.get(r[0], 0)) for r in rows]

    def users_in(self, span: TimeSpan, group_ids: Sequence[str]) -> dict[str, int]:
        """Distinct users per group over the window (the tracking API's own count)."""
        return self._queries.users_per_group(Scope(None), Window(span.since_ms, span.until_ms), group_ids)

    @staticmethod
    def _group_rows(span: TimeSpan, extra: str, params: dict[str, Any], whole_days: bool) -> str:
        """Group rollup rows (time as `t`) for the window: hourly ones, and with `whole_days` the
        window's whole days from the daily rollup (ordered by group: a group filter reads little)."""
        start = span.since_ms - span.since_ms % HOUR_MS
        day_from, day_to = start + (-start) % DAY_MS, span.until_ms - span.until_ms % DAY_MS
        hourly = f"SELECT hour AS t, {_GROUP_COLUMNS} FROM error_group_hourly WHERE "
        if not whole_days or day_to - day_from < DAY_MS:
            return hourly + _in_window("hour") + extra
        params.update(day_from=day_from, day_to=day_to)
        day_from_sql = "fromUnixTimestamp64Milli({day_from:Int64}, 'UTC')"
        day_to_sql = "fromUnixTimestamp64Milli({day_to:Int64}, 'UTC')"
        return " UNION ALL ".join((
            f"{hourly}hour >= toStartOfHour({_SINCE}) AND hour < {day_from_sql}{extra}",
            f"SELECT day AS t, {_GROUP_COLUMNS} FROM error_group_daily "
            f"WHERE day >= {day_from_sql} AND day < {day_to_sql}{extra}",
            f"{hourly}hour >= {day_to_sql} AND hour <= {_UNTIL}{extra}"))

    def group_series(self, span: TimeSpan, group_id: str) -> list[int]:
        """One group's occurrences per bucket, from rollups (any group size costs the same)."""
        params: dict[str, Any] = {**span.params(), "gid": group_id}
        if span.hourly:
            source = self._group_rows(span, " AND group_id = {gid:String}", params,
                                      whole_days=span.bucket_s % 86400 == 0)
        else:
            source = (f"SELECT minute AS t, occurrences FROM error_group_minute "
                      f"WHERE {_in_window('minute')} AND group_id = {{gid:String}}")
        sql = f"SELECT {_bucket('t')} AS bucket, '', sum(occurrences) FROM ({source}) GROUP BY bucket"
        series = pivot(span, self._ch.query(sql, params))
        return series.get("", [0] * len(span.bucket_starts()))

    def sources(self, span: TimeSpan) -> list[str]:
        """The sources with events in the window (for filter choices), most frequent first."""
        sql = (f"SELECT source, sum(occurrences) AS occ FROM error_totals_hourly WHERE {_in_window('hour')} "
               "GROUP BY source ORDER BY occ DESC, source LIMIT 50")
        return [r[0] for r in self._ch.query(sql, span.params())]


def _group_row(row: Sequence[Any], state: Any, users: int | None) -> dict[str, Any]:
    """A top-groups row: window figures plus the group's lifetime first/last seen and status."""
    gid, events, occurrences, _, first_ms, last_ms, source = row
    return {"id": gid, "message": state.message if state else "", "source": state.source if state else source,
            "severity": state.severity if state else "", "status": state.status if state else "unresolved",
            "events": int(events), "occurrences": int(occurrences), "users": users,
            "first_seen": iso(state.first_seen_ms if state else int(first_ms)),
            "last_seen": iso(state.last_seen_ms if state else int(last_ms))}
