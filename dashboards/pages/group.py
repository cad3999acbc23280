"""One error group: its state, occurrences over the range, recent events with context, and triage."""
from __future__ import annotations

import json
from typing import Any, Mapping

from dash import Dash, Input, Output, State, callback_context, dcc, html, no_update

from app.errors import ApiError
from app.storage import StorageError
from dashboards import figures
from dashboards.data import errors as data
from dashboards.failsafe import panels_survive
from dashboards.pages.errors import users_cell
from dashboards.timerange import get_range
from dashboards.urlstate import carried
from dashboards.widgets import badge, controls, empty, graph, kpi, kpis, number, panel, table, when

# button id -> (status it sets, button label, what the notice says afterwards)
ACTIONS = {"group-resolve": ("resolved", "Resolve", "Resolved"), "group-ignore": ("ignored", "Ignore", "Ignored"),
           "group-reopen": ("unresolved", "Reopen", "Reopened")}


def layout(state: Mapping[str, str], group_id: str) -> html.Div:
    """The group page for a URL state."""
    buttons = [html.Button(label, id=button_id, n_clicks=0, className=f"action {status}")
               for button_id, (status, label, _) in ACTIONS.items()]
    return html.Div([
        dcc.Link("← All groups", href=f"/dashboard/errors{carried(state)}", className="back"),
        dcc.Store(id="group-id", data=group_id), dcc.Store(id="group-version", data=0),
        html.Div("Loading…", id="group-header"), controls(state),
        html.Div([html.Div(buttons, className="actions"), html.Div(id="group-notice", className="notice")],
                 className="triage"),
        html.Div([panel("Occurrences", "Loading…", body_id="group-histogram", wide=True),
                  panel("Recent events", "Loading…", body_id="group-events", wide=True)], className="grid-2"),
    ])


def _header(detail: Mapping[str, Any], range_key: str, span: Any) -> html.Div:
    in_range = get_range(range_key).phrase
    return html.Div([
        html.H1(detail["message"] or f"Group {detail['id']}", className="group-title"),
        html.Div([badge(detail["status"]), " ", badge(detail["severity"]), " ", html.Span(detail["source"]),
                  html.Span(f" · group {detail['id']}", className="muted")],
                 id="group-status", **{"data-status": detail["status"]}),
        kpis([kpi(f"occurrences in {in_range}", number(detail["occurrences"])),
              kpi("events", number(detail["events"])), kpi("users", users_cell(detail, span)),
              kpi("first seen", when(detail["first_seen"])), kpi("last seen", when(detail["last_seen"]))]),
    ])


def _context(event: Mapping[str, Any]) -> html.Pre:
    text = json.dumps(event["context"], ensure_ascii=False, sort_keys=True)
    if len(text) > 100:  # long contexts one key per line
        text = json.dumps(event["context"], indent=1, ensure_ascii=False, sort_keys=True)
    return html.Pre(text if len(text) <= 600 else text[:600] + "\n…", className="context")


def _events(detail: Mapping[str, Any]) -> Any:
    events = detail["recent_events"]
    if not events:
        return empty("No stored events for this group (they may have aged out).")
    return table(["When", "User", "Severity", "Occurrences", "Message", "Context"],
                 [[when(e["timestamp"]), e["user_id"] or "—", badge(e["severity"]), number(e["occurrences"]),
                   e["message"][:200], _context(e)] for e in events], "events")


@panels_survive(3)
def update_group(range_key: str, _tick: int | None, _version: int, group_id: str) -> list[Any]:
    """Header, chart and recent events of the group."""
    found = data.group(group_id, range_key)
    if found is None:
        gone = empty(f"No error group {group_id} (it may have aged out, or the link is wrong).")
        return [html.H1("Unknown group"), gone, ""]
    detail, series = found["detail"], found["series"]
    chart = (graph(figures.stacked_bars(found["span"], {detail["severity"] or "occurrences": series}, "occurrences",
                                        figures.SEVERITY_COLOURS))
             if any(series) else empty(f"No events of this group in {get_range(range_key).phrase}."))
    return [_header(detail, range_key, found["span"]), chart, _events(detail)]


def change_status(_resolve: int, _ignore: int, _reopen: int, group_id: str, version: int) -> list[Any]:
    """Apply the clicked button's status as the signed-in staff member, then refresh the page."""
    clicked = callback_context.triggered_id
    if clicked not in ACTIONS:
        return [no_update, no_update]
    status, _, done = ACTIONS[clicked]
    try:
        data.set_status(group_id, status)
    except (ApiError, StorageError) as exc:  # told to the person who clicked
        return [html.Span(f"Could not change the status: {exc}", className="bad-text"), no_update]
    return [html.Span(f"{done}.", className="good-text"), (version or 0) + 1]


def register(app: Dash) -> None:
    """Wire the group page's callbacks."""
    app.callback([Output("group-header", "children"), Output("group-histogram", "children"),
                  Output("group-events", "children")],
                 Input({"type": "url-state", "key": "range"}, "value"), Input("tick", "n_intervals"),
                 Input("group-version", "data"), State("group-id", "data"))(update_group)
    app.callback([Output("group-notice", "children"), Output("group-version", "data")],
                 [Input(button_id, "n_clicks") for button_id in ACTIONS],
                 State("group-id", "data"), State("group-version", "data"),
                 prevent_initial_call=True)(change_status)
