"""Read-side queries over ClickHouse: rollups for lists and stats, raw events for one group.

Severity and status are group properties kept in SQL; the service turns those filters into
candidate group ids, so the group rollups need no severity in their keys.

Windows are read from rollups in whole hours: the `since` hour is included whole. Long
windows read whole days from the daily rollup and only the ragged edges from the hourly one.
All user input is bound as parameters.
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from app.storage.clickhouse import ClickHouseStore

HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS
SHORT_WINDOW_MS = 3 * DAY_MS  # up to this, distinct users are counted exactly from raw events
PRESENT_SLACK_MS = 5_000  # a window ending this close to now counts as reaching the present


@dataclass(frozen=True)
class Window:
    """A time window in unix milliseconds, inclusive."""

    since_ms: int
    until_ms: int


@dataclass(frozen=True)
class Scope:
    """Whose events a query sees: one user's (plain users) or everyone's (support, admin)."""

    user_id: int | None = None


def iso(value: datetime | int) -> str:
    """ISO-8601 UTC with milliseconds, from a datetime or unix milliseconds."""
    if isinstance(value, int):
        value = datetime.fromtimestamp(value / 1000, timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ts(param: str) -> str:
    return f"fromUnixTimestamp64Milli({{{param}:Int64}}, 'UTC')"


class _Filters:
    """Collects bound conditions shared by every rollup part of one query."""

    def __init__(self, scope: Scope, sources: Sequence[str], group_ids: Sequence[str] | None) -> None:
        self.conds: list[str] = []
        self.params: dict[str, Any] = {}
        if scope.user_id is not None:
            self.add("user_id = {user_id:UInt64}", user_id=scope.user_id)
        if sources:
            self.add("source IN {sources:Array(String)}", sources=list(sources))
        if group_ids is not None:
            self.add("group_id IN {group_ids:Array(String)}", group_ids=list(group_ids))

    def add(self, cond: str, **params: Any) -> None:
        self.conds.append(cond)
        self.params.update(params)

    def sql(self) -> str:
        return "".join(f" AND {c}" for c in self.conds)


def _group_parts(scope: Scope, window: Window, columns: str, filters: _Filters) -> tuple[str, dict[str, Any]]:
    """A FROM source (UNION ALL of rollup ranges) covering the window in whole hours."""
    params = dict(filters.params)
    start = window.since_ms - window.since_ms % HOUR_MS
    params.update(w_start=start, w_end=window.until_ms)
    extra = filters.sql()
    if scope.user_id is not None:
        return (f"SELECT {columns} FROM error_user_group_hourly WHERE hour >= {_ts('w_start')} "
                f"AND hour <= {_ts('w_end')}{extra}"), params
    day_from = start + (-start) % DAY_MS
    day_to = window.until_ms - window.until_ms % DAY_MS
    if day_to - day_from < DAY_MS:
        return (f"SELECT {columns} FROM error_group_hourly WHERE hour >= {_ts('w_start')} "
                f"AND hour <= {_ts('w_end')}{extra}"), params
    params.update(d_from=day_from, d_to=day_to)
    parts = [
        f"SELECT {columns} FROM error_group_hourly WHERE hour >= {_ts('w_start')} AND hour < {_ts('d_from')}{extra}",
        f"SELECT {columns} FROM error_group_daily WHERE day >= {_ts('d_from')} AND day < {_ts('d_to')}{extra}",
        f"SELECT {columns} FROM error_group_hourly WHERE hour >= {_ts('d_to')} AND hour <= {_ts('w_end')}{extra}",
    ]
    return " UNION ALL ".join(parts), params


_GROUP_COLUMNS = "group_id, source, events, occurrences, first_seen, last_seen"


class EventQueries:
    """The analytics store's answers to the tracking API's questions."""

    def __init__(self, analytics: ClickHouseStore) -> None:
        self._ch = analytics

    def group_page(self, scope: Scope, window: Window, *, sources: Sequence[str] = (),
                   group_ids: Sequence[str] | None = None,
                   after: tuple[int, str] | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Groups with events in the window, most recently seen first, after a keyset cursor."""
        source, params = _group_parts(scope, window, _GROUP_COLUMNS,
                                      _Filters(scope, sources, group_ids))
        having = ""
        if after is not None:
            having = "HAVING (last_ms, group_id) < ({after_ms:Int64}, {after_id:String})"
            params.update(after_ms=after[0], after_id=after[1])
        params["limit"] = limit
        sql = (f"SELECT group_id, sum(events) AS ev, sum(occurrences) AS occ, "
               f"toUnixTimestamp64Milli(min(first_seen)) AS first_ms, "
               f"toUnixTimestamp64Milli(max(last_seen)) AS last_ms, any(source) AS src "
               f"FROM ({source}) GROUP BY group_id {having} "
               f"ORDER BY last_ms DESC, group_id DESC LIMIT {{limit:UInt32}}")
        return [{"id": r[0], "events": int(r[1]), "occurrences": int(r[2]), "first_ms": int(r[3]),
                 "last_ms": int(r[4]), "source": r[5]} for r in self._ch.query(sql, params)]

    def users_per_group(self, scope: Scope, window: Window, group_ids: Sequence[str]) -> dict[str, int]:
        """Distinct users per group in the window.

        A window that reaches the present counts the (group, user) pairs last seen since its
        start: exact, and a narrow read at any volume. Older windows count raw events when
        short and merge whole days' `uniq` states when long.
        """
        if scope.user_id is not None:
            return {gid: 1 for gid in group_ids}
        if not group_ids:
            return {}
        params: dict[str, Any] = {"gids": list(group_ids), "since": window.since_ms, "until": window.until_ms}
        if window.until_ms >= time.time() * 1000 - PRESENT_SLACK_MS:
            sql = ("SELECT group_id, uniqExact(user_id) FROM error_group_users "
                   f"WHERE group_id IN {{gids:Array(String)}} AND last_seen >= {_ts('since')} "
                   f"AND first_seen <= {_ts('until')} GROUP BY group_id")
        elif window.until_ms - window.since_ms <= SHORT_WINDOW_MS:
            sql = ("SELECT group_id, uniq(user_id) FROM error_events WHERE group_id IN {gids:Array(String)} "
                   f"AND ts >= {_ts('since')} AND ts <= {_ts('until')} GROUP BY group_id")
        else:
            sql = ("SELECT group_id, uniqMerge(users) FROM error_group_daily "
                   "WHERE group_id IN {gids:Array(String)} "
                   f"AND day >= toStartOfDay({_ts('since')}) AND day <= {_ts('until')} GROUP BY group_id")
        return {r[0]: int(r[1]) for r in self._ch.query(sql, params)}

    def group_figures(self, scope: Scope, group_id: str) -> dict[str, Any] | None:
        """All-time figures of one group from the raw events (ordered by group: a narrow read)."""
        params: dict[str, Any] = {"gid": group_id}
        user_filter = ""
        if scope.user_id is not None:
            user_filter, params["user_id"] = " AND user_id = {user_id:UInt64}", scope.user_id
        sql = ("SELECT count(), sum(occurrences), toUnixTimestamp64Milli(min(ts)), "
               "toUnixTimestamp64Milli(max(ts)), uniq(user_id), any(source) FROM error_events "
               f"WHERE group_id = {{gid:String}}{user_filter}")
        events, occ, first_ms, last_ms, users, source = self._ch.query(sql, params)[0]
        if not events:
            return None
        return {"id": group_id, "events": int(events), "occurrences": int(occ), "first_ms": int(first_ms),
                "last_ms": int(last_ms), "users": int(users), "source": source}

    def recent_events(self, scope: Scope, group_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest events of a group, with their context."""
        params: dict[str, Any] = {"gid": group_id, "limit": limit}
        user_filter = ""
        if scope.user_id is not None:
            user_filter, params["user_id"] = "AND user_id = {user_id:UInt64}", scope.user_id
        sql = ("SELECT toString(event_id), ts, user_id, severity, message, occurrences, context, release, "
               "environment, platform FROM error_events WHERE group_id = {gid:String} "
               f"{user_filter} ORDER BY ts DESC LIMIT {{limit:UInt32}}")
        return [{"event_id": r[0], "timestamp": iso(r[1]), "user_id": int(r[2]), "severity": r[3],
                 "message": r[4], "occurrences": int(r[5]), "context": _json(r[6]), "release": r[7],
                 "environment": r[8], "platform": r[9]} for r in self._ch.query(sql, params)]

    def hourly(self, scope: Scope, window: Window, group_id: str | None = None) -> list[dict[str, Any]]:
        """Events and occurrences per hour over the window, hours without events included as zero."""
        params: dict[str, Any] = {"since": window.since_ms, "until": window.until_ms}
        if group_id is not None:
            table, cond = "error_events", "group_id = {gid:String} AND ts >= toStartOfHour(" + _ts("since") + ")"
            params["gid"] = group_id
            select = "toStartOfHour(ts) AS h, count(), sum(occurrences)"
        else:
            table = "error_user_group_hourly" if scope.user_id is not None else "error_totals_hourly"
            cond = f"hour >= toStartOfHour({_ts('since')})"
            select = "hour AS h, sum(events), sum(occurrences)"
        cond += f" AND {'ts' if group_id else 'hour'} <= {_ts('until')}"
        if scope.user_id is not None:
            cond, params["user_id"] = cond + " AND user_id = {user_id:UInt64}", scope.user_id
        sql = (f"SELECT {select} FROM {table} WHERE {cond} GROUP BY h ORDER BY h WITH FILL "
               f"FROM toDateTime(toStartOfHour({_ts('since')}), 'UTC') "
               f"TO toDateTime({_ts('until')}, 'UTC') + 1 STEP INTERVAL 1 HOUR")
        return [{"hour": iso(r[0]), "events": int(r[1]), "occurrences": int(r[2])}
                for r in self._ch.query(sql, params)]

    def totals_by(self, scope: Scope, window: Window, column: str) -> dict[str, int]:
        """Occurrences per severity or per source over the window."""
        if column not in ("severity", "source"):
            raise ValueError(column)
        table = "error_user_group_hourly" if scope.user_id is not None else "error_totals_hourly"
        params: dict[str, Any] = {"since": window.since_ms, "until": window.until_ms}
        cond = f"hour >= toStartOfHour({_ts('since')}) AND hour <= {_ts('until')}"
        if scope.user_id is not None:
            cond, params["user_id"] = cond + " AND user_id = {user_id:UInt64}", scope.user_id
        sql = f"SELECT {column}, sum(occurrences) FROM {table} WHERE {cond} GROUP BY {column}"
        return {r[0]: int(r[1]) for r in self._ch.query(sql, params)}

    def top_groups(self, scope: Scope, window: Window, limit: int = 10) -> list[dict[str, Any]]:
        """The groups with the most occurrences in the window."""
        source, params = _group_parts(scope, window, _GROUP_COLUMNS, _Filters(scope, (), None))
        params["limit"] = limit
        sql = (f"SELECT group_id, any(source), sum(occurrences) AS occ, sum(events) FROM ({source}) "
               f"GROUP BY group_id ORDER BY occ DESC, group_id LIMIT {{limit:UInt32}}")
        return [{"group_id": r[0], "source": r[1], "occurrences": int(r[2]), "events": int(r[3])}
                for r in self._ch.query(sql, params)]


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}
