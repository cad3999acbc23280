"""The frame around every page: header, navigation, sign-out, the router and the URL state."""
from __future__ import annotations

import re
from typing import Any

from dash import ALL, Dash, Input, Output, State, callback_context, dcc, html
from flask import g, has_request_context

from app.dashboard_auth.session import csrf_token
from dashboards.pages import collaboration, errors, group, overview, rate_limits
from dashboards.urlstate import carried, encode_search, parse_search

PREFIX = "/dashboard"
NAV = (("overview", "Overview", ""), ("errors", "Errors", "errors"),
       ("rate-limits", "Rate limits", "rate-limits"), ("collaboration", "Collaboration", "collaboration"))
_GROUP_PATH = re.compile(r"^errors/([0-9a-f]{16})$")


def _account() -> list[Any]:
    """Who is signed in and the sign-out form (a POST with the session's CSRF token)."""
    user = g.get("dashboard_user") if has_request_context() else None
    if user is None:
        return []
    sign_out = html.Form([dcc.Input(type="hidden", name="csrf_token", value=csrf_token()),
                          html.Button("Sign out", type="submit", id="sign-out", className="link-button")],
                         method="POST", action=f"{PREFIX}/logout", className="sign-out")
    return [html.Span(f"{user.username} · {user.role}", className="who"), sign_out]


def layout() -> html.Div:
    """The page frame; Dash asks for it once per page load, for the signed-in user."""
    links = [dcc.Link(label, href=f"{PREFIX}/{path}", id=f"nav-{key}", className="nav-link")
             for key, label, path in NAV]
    header = html.Header([html.Div("Support dashboard", className="brand"), html.Nav(links),
                          html.Div(_account(), className="account")], className="top")
    return html.Div([dcc.Location(id="url", refresh=False), header,
                     html.Main(id="page", className="page")], className="frame")


def page_for(pathname: str | None, search: str | None) -> Any:
    """The page at a dashboard path, with its controls set from the query string."""
    state = parse_search(search)
    rest = (pathname or "")[len(PREFIX):].strip("/") if (pathname or "").startswith(PREFIX) else ""
    pages = {"": overview.layout, "overview": overview.layout, "errors": errors.layout,
             "rate-limits": rate_limits.layout, "collaboration": collaboration.layout}
    if rest in pages:
        return pages[rest](state)
    found = _GROUP_PATH.match(rest)
    if found:
        return group.layout(state, found.group(1))
    return html.Div([html.H1("No such page"),
                     html.P(["Nothing lives at ", html.Code(pathname or ""), ". Pick a page above."])],
                    className="empty-page")


def url_search(_values: list[Any]) -> str:
    """The query string for the controls on the page now (their ids say which key each sets)."""
    state: dict[str, Any] = {}
    for item in callback_context.inputs_list[0]:
        key, value = item["id"]["key"], item.get("value")
        state[key] = ("on" if value else "off") if key == "refresh" else value
    return encode_search(state)


def nav_links(pathname: str | None, search: str | None) -> list[Any]:
    """Each nav link keeps the range and auto-refresh; the current section is highlighted."""
    query = carried(parse_search(search))
    rest = (pathname or "")[len(PREFIX):].strip("/")
    section = rest.split("/", 1)[0] or "overview"
    hrefs = [f"{PREFIX}/{path}{query}" for _, _, path in NAV]
    classes = ["nav-link active" if key == section else "nav-link" for key, _, _ in NAV]
    return hrefs + classes


def tick_disabled(value: list[str] | None) -> bool:
    """Auto-refresh off stops the interval."""
    return not value


def register(app: Dash) -> None:
    """Wire the router, the URL state, the navigation and the refresh toggle."""
    app.callback(Output("page", "children"), Input("url", "pathname"), State("url", "search"))(page_for)
    app.callback(Output("url", "search"), Input({"type": "url-state", "key": ALL}, "value"),
                 prevent_initial_call=True)(url_search)
    app.callback([Output(f"nav-{key}", "href") for key, _, _ in NAV]
                 + [Output(f"nav-{key}", "className") for key, _, _ in NAV],
                 Input("url", "pathname"), Input("url", "search"))(nav_links)
    app.callback(Output("tick", "disabled"), Input({"type": "url-state", "key": "refresh"}, "value"))(tick_disabled)
