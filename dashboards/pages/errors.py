"""Errors: occurrences over time by severity and by source, and the top groups with filters."""
from __future__ import annotations

from typing import Any, Mapping

from dash import MATCH, Dash, Input, Output, State, callback_context, dcc, html

from app.models.tracking import GROUP_STATUSES
from app.storage import StorageError
from app.tracking.schemas import SEVERITIES
from dashboards import figures
from dashboards.data import errors as data
from dashboards.failsafe import panels_survive
from dashboards.timerange import get_range
from dashboards.urlstate import carried
from dashboards.widgets import badge, controls, empty, graph, number, panel, state_id, table, when

KNOWN_SOURCES = ("Network", "Audio", "UI")
SORTS = {"occurrences": "Most occurrences", "events": "Most events", "last_seen": "Last seen"}
FILTER_KEYS = ("severity", "source", "status", "q")


def _filters(state: Mapping[str, str]) -> list[Any]:
    sources = sorted({*KNOWN_SOURCES, *([state["source"]] if state.get("source") else [])})
    return [
        dcc.Dropdown(id=state_id("severity"), value=state.get("severity"), placeholder="Any severity",
                     options=list(SEVERITIES), className="filter"),
        dcc.Dropdown(id=state_id("source"), value=state.get("source"), placeholder="Any source",
                     options=sources, className="filter"),
        dcc.Dropdown(id=state_id("status"), value=state.get("status"), placeholder="Any status",
                     options=list(GROUP_STATUSES), className="filter"),
        dcc.Input(id=state_id("q"), value=state.get("q", ""), placeholder="Message contains…", type="search",
                  debounce=True, className="filter text"),
    ]


def layout(state: Mapping[str, str]) -> html.Div:
    """The errors page for a URL state."""
    sort = dcc.Dropdown(id=state_id("sort"), value=state.get("sort", "occurrences"), clearable=False,
                        options=[{"label": label, "value": key} for key, label in SORTS.items()],
                        className="filter")
    return html.Div([
        html.H1("Errors"), controls(state, *_filters(state)),
        html.Div([panel("Occurrences by severity", "Loading…", body_id="errors-by-severity"),
                  panel("Occurrences by source", "Loading…", body_id="errors-by-source"),
                  html.Section([html.Div([html.H2("Top groups"), sort], className="panel-head"),
                                html.Div("Loading…", id="errors-groups", className="panel-body")],
                               className="panel wide")], className="grid-2"),
    ])


def _nothing(range_key: str, state: Mapping[str, Any]) -> str:
    filtered = " matching these filters" if any(state.get(k) for k in FILTER_KEYS) else ""
    return f"No error events{filtered} in {get_range(range_key).phrase}."


def _state(severity: str | None, source: str | None, status: str | None, q: str | None,
           sort: str | None = None) -> dict[str, Any]:
    return {"severity": severity, "source": source, "status": status, "q": (q or "").strip(), "sort": sort}


@panels_survive(2)
def update_trends(range_key: str, _tick: int | None, severity: str | None, source: str | None,
                  status: str | None, q: str | None) -> list[Any]:
    """The two trend charts for the range and filters."""
    state = _state(severity, source, status, q)
    found = data.trends(range_key, state)
    if not found["by_severity"]:
        return [empty(_nothing(range_key, state))] * 2
    span = found["span"]
    return [graph(figures.stacked_bars(span, found["by_severity"], "occurrences", figures.SEVERITY_COLOURS)),
            graph(figures.stacked_bars(span, found["by_source"], "occurrences"))]


def _group_link(group: Mapping[str, Any], query: str) -> dcc.Link:
    text = group["message"] or f"group {group['id']}"
    return dcc.Link(text[:140] + ("…" if len(text) > 140 else ""), href=f"/dashboard/errors/{group['id']}{query}",
                    className="group-link", title=text)


def users_cell(group: Mapping[str, Any], span: Any) -> Any:
    """The count, or a placeholder its own callback fills (long ranges count users group by group)."""
    if group["users"] is not None:
        return number(group["users"])
    window = {"since_ms": span.since_ms, "until_ms": span.until_ms}
    return html.Span([html.Span("…", id={"type": "group-users", "gid": group["id"]}),
                      dcc.Store(id={"type": "group-users-window", "gid": group["id"]}, data=window)])


@panels_survive(2, untouched=(1,))
def update_groups(range_key: str, _tick: int | None, severity: str | None, source: str | None,
                  status: str | None, q: str | None, sort: str | None, refresh: list[str] | None) -> list[Any]:
    """The top groups table, and the source filter's choices (what the range has seen)."""
    state = _state(severity, source, status, q, sort)
    found = data.top_groups(range_key, state)
    sources = sorted({*KNOWN_SOURCES, *found["sources"], *([source] if source else [])})
    if not found["groups"]:
        return [empty(_nothing(range_key, state)), sources]
    query = carried({"range": range_key, "refresh": "on" if refresh else "off"})
    rows = [[_group_link(g, query), g["source"], badge(g["severity"]), badge(g["status"]),
             number(g["occurrences"]), users_cell(g, found["span"]), when(g["first_seen"]), when(g["last_seen"])]
            for g in found["groups"]]
    return [table(["Message", "Source", "Severity", "Status", "Occurrences", "Users", "First seen", "Last seen"],
                  rows, "groups"), sources]


def update_group_users(window: Mapping[str, Any] | None) -> str:
    """One row's distinct users over the table's window (each row asks on its own, in parallel)."""
    found = callback_context.outputs_list
    if not window or not found:
        return ""
    group_id = found["id"]["gid"]
    try:
        counted = data.group_users(int(window["since_ms"]), int(window["until_ms"]), [group_id])
    except StorageError:
        return "?"
    return number(counted.get(group_id, 0))


def register(app: Dash) -> None:
    """Wire the errors page's callbacks."""
    inputs = [Input(state_id("range"), "value"), Input("tick", "n_intervals")] + [
        Input(state_id(key), "value") for key in FILTER_KEYS]
    app.callback([Output("errors-by-severity", "children"), Output("errors-by-source", "children")],
                 *inputs)(update_trends)
    app.callback([Output("errors-groups", "children"), Output(state_id("source"), "options")],
                 *inputs, Input(state_id("sort"), "value"), State(state_id("refresh"), "value"))(update_groups)
    app.callback(Output({"type": "group-users", "gid": MATCH}, "children"),
                 Input({"type": "group-users-window", "gid": MATCH}, "data"))(update_group_users)
