"""The errors pages' data: trends, top groups, one group's detail and its triage."""
from __future__ import annotations

from typing import Any, Mapping

from app.dashboard_auth import dashboard_user
from app.ops.metrics_queries import TimeSpan
from app.services import services
from app.tracking.queries import Scope, iso
from app.tracking.trends import GroupFilter
from dashboards.timerange import span_for

RECENT_EVENTS = 15
TOP_GROUPS = 30


def group_filter(state: Mapping[str, Any]) -> GroupFilter:
    """The URL state's error filters as a trends filter."""
    return GroupFilter(sources=[state["source"]] if state.get("source") else [],
                       severities=[state["severity"]] if state.get("severity") else [],
                       status=state.get("status") or None, text=state.get("q") or None)


def trends(range_key: str, state: Mapping[str, Any]) -> dict[str, Any]:
    """Occurrences over time by severity and by source, filtered."""
    span, flt = span_for(range_key), group_filter(state)
    found = services().error_trends
    return {"span": span, "by_severity": found.series(span, "severity", flt),
            "by_source": found.series(span, "source", flt)}


def top_groups(range_key: str, state: Mapping[str, Any], limit: int = TOP_GROUPS) -> dict[str, Any]:
    """The groups with events in the range (most occurrences first, or as sorted), and the sources seen.

    Over long ranges each group's "users" is None: `group_users` counts them in a callback of its own.
    """
    span = span_for(range_key)
    found = services().error_trends
    groups = found.top_groups(span, group_filter(state), order=state.get("sort") or "occurrences", limit=limit,
                              users=False)
    return {"span": span, "groups": groups, "sources": found.sources(span)}


def group_users(since_ms: int, until_ms: int, group_ids: list[str]) -> dict[str, int]:
    """Distinct users per group over a window (the table's heaviest figure over long ranges)."""
    span = TimeSpan(since_ms, until_ms, 3600)
    return services().error_trends.users_in(span, group_ids[:TOP_GROUPS])


def group(group_id: str, range_key: str) -> dict[str, Any] | None:
    """One group's state and figures over the range, recent events with context and its series.

    None when no such group exists. Figures come from the rollups (the range's, not all time),
    so a group with millions of events costs no more than a small one.
    """
    span = span_for(range_key)
    found = services()
    state = found.tracking.groups.get_many([group_id]).get(group_id)
    if state is None:
        return None
    only = GroupFilter(group_ids=[group_id])
    figures = next(iter(found.error_trends.top_groups(span, only, limit=1, users=False)), None)
    detail = {"id": group_id, "message": state.message, "source": state.source, "severity": state.severity,
              "status": state.status, "first_seen": iso(state.first_seen_ms), "last_seen": iso(state.last_seen_ms),
              "occurrences": figures["occurrences"] if figures else 0, "events": figures["events"] if figures else 0,
              "users": figures["users"] if figures else 0,  # None: counted by the users callback
              "recent_events": found.tracking.queries.recent_events(Scope(None), group_id, limit=RECENT_EVENTS)}
    return {"span": span, "detail": detail, "series": found.error_trends.group_series(span, group_id)}


def set_status(group_id: str, status: str) -> dict[str, Any]:
    """Resolve, ignore or reopen a group as the signed-in staff member."""
    return services().tracking.set_status(dashboard_user(), group_id, status)
