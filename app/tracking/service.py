"""Error tracking's read and triage side: groups joined from ClickHouse figures and SQL state."""
from __future__ import annotations

import base64
import binascii
import time
from typing import Any

from app.api.times import parse_instant
from app.errors import BadRequest, NotFound
from app.models import ErrorGroup, User
from app.tracking.group_state import GroupStateStore
from app.tracking.ingest import IngestService
from app.tracking.queries import EventQueries, Scope, Window, iso
from app.tracking.schemas import SEVERITIES, ListQuery

STAFF_ROLES = ("support", "admin")


def scope_for(user: User) -> Scope:
    """Plain users see their own events; support and admin see everyone's."""
    return Scope(None if user.role in STAFF_ROLES else user.id)


def parse_time(value: str | None, name: str, default_ms: int) -> int:
    """An instant from the query string, or `default_ms` when absent; 400 when malformed."""
    return default_ms if value is None or value == "" else parse_instant(value, name)


def encode_cursor(last_ms: int, group_id: str) -> str:
    """An opaque cursor for the row after (last_ms, group_id)."""
    return base64.urlsafe_b64encode(f"{last_ms}:{group_id}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[int, str]:
    """The keyset position in a cursor; 400 `invalid_cursor` when it was not ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        last, group_id = raw.split(":", 1)
        return int(last), group_id
    except (ValueError, binascii.Error, UnicodeDecodeError) as exc:
        raise BadRequest("The cursor is not valid.", code="invalid_cursor") from exc


class TrackingService:
    """Ingest plus the questions support and engineers ask of the groups."""

    def __init__(self, ingest: IngestService, queries: EventQueries, groups: GroupStateStore,
                 retention_days: int) -> None:
        self.ingest = ingest
        self.queries = queries
        self.groups = groups
        self._retention_ms = retention_days * 86_400_000

    def _window(self, since: str | None, until: str | None) -> Window:
        now = int(time.time() * 1000)
        window = Window(parse_time(since, "since", now - self._retention_ms), parse_time(until, "until", now))
        if window.since_ms > window.until_ms:
            raise BadRequest("since must not be after until.", code="validation_error")
        return window

    def list_groups(self, user: User, query: ListQuery) -> dict[str, Any]:
        """A page of groups, newest first, with the figures of the window."""
        scope, window = scope_for(user), self._window(query.since, query.until)
        candidates = None
        severity = _canonical_severity(query.severity)
        if query.status or query.q or severity:
            candidates = self.groups.ids_matching(query.status, query.q, severity)
            if not candidates:
                return {"groups": [], "next_cursor": None}
        rows = self.queries.group_page(
            scope, window, sources=[query.source] if query.source else [], group_ids=candidates,
            after=decode_cursor(query.cursor) if query.cursor else None, limit=query.limit + 1)
        more = len(rows) > query.limit
        rows = rows[: query.limit]
        users = self.queries.users_per_group(scope, window, [r["id"] for r in rows])
        states = self.groups.get_many([r["id"] for r in rows])
        groups = [_group_out(r, states.get(r["id"]), users.get(r["id"], 0)) for r in rows]
        cursor = encode_cursor(rows[-1]["last_ms"], rows[-1]["id"]) if more and rows else None
        return {"groups": groups, "next_cursor": cursor}

    def group_detail(self, user: User, group_id: str, hours: int) -> dict[str, Any]:
        """A group with its recent events and hourly histogram; 404 when the caller has no events in it."""
        scope = scope_for(user)
        figures = self.queries.group_figures(scope, group_id)
        if figures is None:
            raise NotFound("No such error group.")
        state = self.groups.get_many([group_id]).get(group_id)
        detail = _group_out(figures, state, figures["users"])
        now = int(time.time() * 1000)
        detail["recent_events"] = self.queries.recent_events(scope, group_id)
        detail["histogram"] = self.queries.hourly(scope, Window(now - hours * 3_600_000, now), group_id)
        return detail

    def set_status(self, user: User, group_id: str, status: str) -> dict[str, Any]:
        """Resolve, ignore or reopen a group (support/admin; the route checks the role)."""
        if self.groups.set_status(group_id, status, user.id) is None:
            raise NotFound("No such error group.")
        return self.group_detail(user, group_id, hours=24)

    def stats(self, user: User, hours: int) -> dict[str, Any]:
        """Totals by severity and source, the top groups and an hourly series over the last `hours`."""
        scope = scope_for(user)
        now = int(time.time() * 1000)
        window = Window(now - hours * 3_600_000, now)
        by_severity = self.queries.totals_by(scope, window, "severity")
        by_source = self.queries.totals_by(scope, window, "source")
        hourly = self.queries.hourly(scope, window)
        top = self.queries.top_groups(scope, window)
        states = self.groups.get_many([t["group_id"] for t in top])
        top_messages = [{"group_id": t["group_id"], "source": t["source"], "occurrences": t["occurrences"],
                         "message": states[t["group_id"]].message if t["group_id"] in states else ""}
                        for t in top]
        return {"hours": hours, "total": sum(by_severity.values()),
                "events": sum(h["events"] for h in hourly), "by_severity": by_severity,
                "by_source": by_source, "top_messages": top_messages, "hourly": hourly}


def _canonical_severity(value: str | None) -> str | None:
    if not value:
        return None
    for canonical in SEVERITIES:
        if canonical.lower() == value.lower():
            return canonical
    raise BadRequest(f"severity must be one of {', '.join(SEVERITIES)}.", code="validation_error")


def _group_out(row: dict[str, Any], state: ErrorGroup | None, users: int) -> dict[str, Any]:
    return {
        "id": row["id"],
        "source": state.source if state else row["source"],
        "severity": state.severity if state else "",
        "message": state.message if state else "",
        "occurrences": row["occurrences"],
        "events": row["events"],
        "users": users,
        "first_seen": iso(state.first_seen_ms if state else row["first_ms"]),
        "last_seen": iso(state.last_seen_ms if state else row["last_ms"]),
        "status": state.status if state else "unresolved",
    }
