"""Error trends for the support dashboard: series and top groups over any window and bucket size.

Windows whose buckets are whole hours read the hourly rollups (`error_totals_hourly` for plain
series, `error_group_hourly` when groups are filtered), so long ranges stay fast at tens of
millions of events; shorter buckets, and a handful of groups, read the raw events, bounded by the
window. Status, message text and a group's severity are group properties kept in SQL: those
filters become candidate group ids first, as in the tracking API.
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
RAW_GROUP_LIMIT = 100  # up to this many groups, raw events (ordered by group) are a narrow read
_SINCE, _UNTIL = "fromUnixTimestamp64Milli({since:Int64}, 'UTC')", "fromUnixTimestamp64Milli({until:Int64}, 'UTC')"


@dataclass(frozen=True)
class GroupFilter:
    """Which events a trend counts: by source, severity, group status, message text or group ids."""

    sources: Sequence[str] = ()
    severities: Sequence[str] = ()
    status: str | None = None
    text: str | None = None
    group_ids: Sequence[str] | None = None


class _Where:
    """Bound conditions of one query."""

    def __init__(self, span: TimeSpan, time_column: str) -> None:
        if time_column == "hour":
            self.conds = [f"hour >= toStartOfHour({_SINCE})", f"hour <= {_UNTIL}"]
        else:
            self.conds = [f"ts >= {_SINCE}", f"ts <= {_UNTIL}"]
        self.params: dict[str, Any] = span.params()

    def add(self, cond: str, **params: Any) -> "_Where":
        self.conds.append(cond)
        self.params.update(params)
        return self

    @property
    def sql(self) -> str:
        return " AND ".join(self.conds)


def _bucket(column: str) -> str:
    return f"toUInt32(intDiv(toUnixTimestamp({column}), {{bucket:UInt32}}) * {{bucket:UInt32}})"


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
        if span.bucket_s % 3600 or (ids is not None and len(ids) <= RAW_GROUP_LIMIT):
            where = self._event_filters(_Where(span, "ts"), flt, ids)
            sql = (f"SELECT {_bucket('ts')} AS bucket, {by}, sum(occurrences) FROM error_events "
                   f"WHERE {where.sql} GROUP BY bucket, {by}")
        elif ids is None:
            where = self._event_filters(_Where(span, "hour"), flt, None)
            sql = (f"SELECT {_bucket('hour')} AS bucket, {by}, sum(occurrences) FROM error_totals_hourly "
                   f"WHERE {where.sql} GROUP BY bucket, {by}")
        else:
            return self._group_rollup_series(span, by, flt, ids)
        return pivot(span, self._ch.query(sql, where.params))

    def _event_filters(self, where: _Where, flt: GroupFilter, ids: list[str] | None) -> _Where:
        if flt.sources:
            where.add("source IN {sources:Array(String)}", sources=list(flt.sources))
        if flt.severities:
            where.add("severity IN {severities:Array(String)}", severities=list(flt.severities))
        if ids is not None:
            where.add("group_id IN {gids:Array(String)}", gids=ids)
        return where

    def _group_rollup_series(self, span: TimeSpan, by: str, flt: GroupFilter, ids: list[str]) -> dict[str, list[int]]:
        """Many groups over hour buckets: the group rollup, severity being each group's own."""
        states = self._groups.get_many(ids)
        severity = "transform(group_id, {gids:Array(String)}, {gsev:Array(String)}, '')"
        where = _Where(span, "hour").add("group_id IN {gids:Array(String)}", gids=ids,
                                         gsev=[states[g].severity if g in states else "" for g in ids])
        if flt.sources:
            where.add("source IN {sources:Array(String)}", sources=list(flt.sources))
        if flt.severities:
            where.add(f"{severity} IN {{severities:Array(String)}}", severities=list(flt.severities))
        key = severity if by == "severity" else "source"
        sql = (f"SELECT {_bucket('hour')} AS bucket, {key} AS k, sum(occurrences) FROM error_group_hourly "
               f"WHERE {where.sql} GROUP BY bucket, k")
        return pivot(span, self._ch.query(sql, where.params))

    def top_groups(self, span: TimeSpan, flt: GroupFilter = GroupFilter(), order: str = "occurrences",
                   limit: int = 50) -> list[dict[str, Any]]:
        """The groups with events in the window, with their figures there and their state in SQL."""
        severity = flt.severities[0] if flt.severities else None
        ids = self._candidates(flt, severity)
        if ids == []:
            return []
        rollup = span.bucket_s % 3600 == 0
        where = _Where(span, "hour" if rollup else "ts")
        where.params["limit"] = limit
        if flt.sources:
            where.add("source IN {sources:Array(String)}", sources=list(flt.sources))
        if ids is not None:
            where.add("group_id IN {gids:Array(String)}", gids=ids)
        table, events, first, last = (("error_group_hourly", "sum(events)", "min(first_seen)", "max(last_seen)")
                                      if rollup else ("error_events", "count()", "min(ts)", "max(ts)"))
        sql = (f"SELECT group_id, {events} AS ev, sum(occurrences) AS occ, toUnixTimestamp64Milli({first}), "
               f"toUnixTimestamp64Milli({last}) AS last_ms, any(source) FROM {table} WHERE {where.sql} "
               f"GROUP BY group_id ORDER BY {GROUP_ORDERS.get(order, GROUP_ORDERS['occurrences'])}, group_id "
               "LIMIT {limit:UInt32}")
        rows = self._ch.query(sql, where.params)
        found = [r[0] for r in rows]
        users = self._queries.users_per_group(Scope(None), Window(span.since_ms, span.until_ms), found)
        states = self._groups.get_many(found)
        return [_group_row(r, states.get(r[0]), users.get(r[0], 0)) for r in rows]

    def sources(self, span: TimeSpan) -> list[str]:
        """The sources with events in the window (for filter choices), most frequent first."""
        where = _Where(span, "hour")
        sql = (f"SELECT source, sum(occurrences) AS occ FROM error_totals_hourly WHERE {where.sql} "
               "GROUP BY source ORDER BY occ DESC, source LIMIT 50")
        return [r[0] for r in self._ch.query(sql, where.params)]


def _group_row(row: Sequence[Any], state: Any, users: int) -> dict[str, Any]:
    """A top-groups row: window figures plus the group's lifetime first/last seen and status."""
    gid, events, occurrences, first_ms, last_ms, source = row
    return {"id": gid, "message": state.message if state else "", "source": state.source if state else source,
            "severity": state.severity if state else "", "status": state.status if state else "unresolved",
            "events": int(events), "occurrences": int(occurrences), "users": users,
            "first_seen": iso(state.first_seen_ms if state else int(first_ms)),
            "last_seen": iso(state.last_seen_ms if state else int(last_ms))}
