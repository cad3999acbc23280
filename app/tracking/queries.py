"""Read-side queries over ClickHouse: hourly rollups for lists and stats, raw events for detail.

Lists and stats read the hourly rollups, so their windows are whole hours (the `since` hour
is included whole). All user input is bound as parameters.
"""
from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any, Sequence

from app.storage.clickhouse import ClickHouseStore


@dataclass(frozen=True)
class Window:
    """A time window in unix milliseconds, inclusive."""

    since_ms: int
    until_ms: int


@dataclass(frozen=True)
class Scope:
    """Whose events a query sees: one user's (plain users) or everyone's (support, admin)."""

    user_id: int | None = None

    @property
    def rollup(self) -> str:
        return "error_user_group_hourly" if self.user_id is not None else "error_group_hourly"


def iso(value: datetime | int) -> str:
    """ISO-8601 UTC with milliseconds, from a datetime or unix milliseconds."""
    if isinstance(value, int):
        value = datetime.fromtimestamp(value / 1000, timezone.utc)
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def _ms(value: datetime) -> int:
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return int(value.timestamp() * 1000)


class EventQueries:
    """The analytics store's answers to the tracking API's questions."""

    def __init__(self, analytics: ClickHouseStore) -> None:
        self._ch = analytics

    def _where(self, scope: Scope, window: Window, sources: Sequence[str] = (),
               severities: Sequence[str] = (), group_ids: Sequence[str] | None = None,
               column: str = "hour") -> tuple[str, dict[str, Any]]:
        bucket = "toStartOfHour" if column == "hour" else ""
        conds = [f"{column} >= {bucket}(fromUnixTimestamp64Milli({{since:Int64}}, 'UTC'))",
                 f"{column} <= fromUnixTimestamp64Milli({{until:Int64}}, 'UTC')"]
        params: dict[str, Any] = {"since": window.since_ms, "until": window.until_ms}
        if scope.user_id is not None:
            conds.append("user_id = {user_id:UInt64}")
            params["user_id"] = scope.user_id
        if sources:
            conds.append("source IN {sources:Array(String)}")
            params["sources"] = list(sources)
        if severities:
            conds.append("severity IN {severities:Array(String)}")
            params["severities"] = list(severities)
        if group_ids is not None:
            conds.append("group_id IN {group_ids:Array(String)}")
            params["group_ids"] = list(group_ids)
        return " AND ".join(conds), params

    def group_page(self, scope: Scope, window: Window, *, sources: Sequence[str] = (),
                   severities: Sequence[str] = (), group_ids: Sequence[str] | None = None,
                   after: tuple[int, str] | None = None, limit: int = 50) -> list[dict[str, Any]]:
        """Groups with events in the window, most recently seen first, after a keyset cursor."""
        where, params = self._where(scope, window, sources, severities, group_ids)
        having = ""
        if after is not None:
            having = "HAVING (last_ms, group_id) < ({after_ms:Int64}, {after_id:String})"
            params.update(after_ms=after[0], after_id=after[1])
        params["limit"] = limit
        sql = (f"SELECT group_id, sum(events) AS ev, sum(occurrences) AS occ, "
               f"toUnixTimestamp64Milli(min(first_seen)) AS first_ms, "
               f"toUnixTimestamp64Milli(max(last_seen)) AS last_ms, any(source) AS src "
               f"FROM {scope.rollup} WHERE {where} GROUP BY group_id {having} "
               f"ORDER BY last_ms DESC, group_id DESC LIMIT {{limit:UInt32}}")
        return [{"id": r[0], "events": int(r[1]), "occurrences": int(r[2]), "first_ms": int(r[3]),
                 "last_ms": int(r[4]), "source": r[5]} for r in self._ch.query(sql, params)]

    def users_per_group(self, scope: Scope, window: Window, group_ids: Sequence[str]) -> dict[str, int]:
        """Distinct users per group over the window (1 for a user's own view)."""
        if scope.user_id is not None:
            return {gid: 1 for gid in group_ids}
        if not group_ids:
            return {}
        where, params = self._where(scope, window, group_ids=group_ids)
        sql = f"SELECT group_id, uniqMerge(users) FROM error_group_hourly WHERE {where} GROUP BY group_id"
        return {r[0]: int(r[1]) for r in self._ch.query(sql, params)}

    def recent_events(self, scope: Scope, group_id: str, limit: int = 50) -> list[dict[str, Any]]:
        """The newest events of a group, with their context."""
        params: dict[str, Any] = {"gid": group_id, "limit": limit}
        user_filter = ""
        if scope.user_id is not None:
            user_filter = "AND user_id = {user_id:UInt64}"
            params["user_id"] = scope.user_id
        sql = ("SELECT toString(event_id), ts, user_id, severity, message, occurrences, context, release, "
               "environment, platform FROM error_events WHERE group_id = {gid:String} "
               f"{user_filter} ORDER BY ts DESC LIMIT {{limit:UInt32}}")
        return [{"event_id": r[0], "timestamp": iso(r[1]), "user_id": int(r[2]), "severity": r[3],
                 "message": r[4], "occurrences": int(r[5]), "context": _json(r[6]), "release": r[7],
                 "environment": r[8], "platform": r[9]} for r in self._ch.query(sql, params)]

    def hourly(self, scope: Scope, window: Window, group_ids: Sequence[str] | None = None) -> list[dict[str, Any]]:
        """Events and occurrences per hour over the window, hours without events included as zero."""
        where, params = self._where(scope, window, group_ids=group_ids)
        sql = (f"SELECT hour, sum(events), sum(occurrences) FROM {scope.rollup} WHERE {where} "
               "GROUP BY hour ORDER BY hour WITH FILL "
               "FROM toDateTime(toStartOfHour(fromUnixTimestamp64Milli({since:Int64}, 'UTC')), 'UTC') "
               "TO toDateTime(fromUnixTimestamp64Milli({until:Int64}, 'UTC'), 'UTC') + 1 STEP INTERVAL 1 HOUR")
        return [{"hour": iso(r[0]), "events": int(r[1]), "occurrences": int(r[2])}
                for r in self._ch.query(sql, params)]

    def totals_by(self, scope: Scope, window: Window, column: str) -> dict[str, int]:
        """Occurrences per severity or per source over the window."""
        if column not in ("severity", "source"):
            raise ValueError(column)
        where, params = self._where(scope, window)
        sql = f"SELECT {column}, sum(occurrences) FROM {scope.rollup} WHERE {where} GROUP BY {column}"
        return {r[0]: int(r[1]) for r in self._ch.query(sql, params)}

    def top_groups(self, scope: Scope, window: Window, limit: int = 10) -> list[dict[str, Any]]:
        """The groups with the most occurrences in the window."""
        where, params = self._where(scope, window)
        params["limit"] = limit
        sql = (f"SELECT group_id, any(source), sum(occurrences) AS occ, sum(events) FROM {scope.rollup} "
               f"WHERE {where} GROUP BY group_id ORDER BY occ DESC, group_id LIMIT {{limit:UInt32}}")
        return [{"group_id": r[0], "source": r[1], "occurrences": int(r[2]), "events": int(r[3])}
                for r in self._ch.query(sql, params)]


def _json(text: str) -> dict[str, Any]:
    try:
        value = json.loads(text)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {"value": value}


__all__ = ["EventQueries", "Scope", "Window", "iso", "_ms"]
