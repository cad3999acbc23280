"""Rate limits: limited requests over time by limit and by route, and the most limited keys (hashed)."""
from __future__ import annotations

from typing import Any, Mapping

from dash import Dash, Input, Output, html

from app.tracking.queries import iso
from dashboards import figures
from dashboards.data import rate_limits as data
from dashboards.failsafe import panels_survive
from dashboards.timerange import get_range
from dashboards.widgets import controls, empty, graph, kpi, kpis, number, panel, state_id, table, when


def layout(state: Mapping[str, str]) -> html.Div:
    """The rate-limits page for a URL state."""
    return html.Div([
        html.H1("Rate limits"), controls(state),
        html.Div([panel("Limited requests", "Loading…", body_id="limits-kpis", wide=True),
                  panel("By limit", "Loading…", body_id="limits-by-limit"),
                  panel("By route", "Loading…", body_id="limits-by-route"),
                  panel("Most limited keys", "Loading…", body_id="limits-keys", wide=True)], className="grid-2"),
    ])


def _nothing(range_key: str) -> str:
    return f"No rate-limited requests in {get_range(range_key).phrase}."


@panels_survive(2)
def update_hits(range_key: str, _tick: int | None) -> list[Any]:
    """Limited requests per bucket by limit name and by route."""
    found = data.hits(range_key)
    if not found["by_limit"]:
        return [empty(_nothing(range_key))] * 2
    span = found["span"]
    return [graph(figures.stacked_bars(span, found["by_limit"], "limited requests")),
            graph(figures.stacked_bars(span, found["by_route"], "limited requests"))]


@panels_survive(1)
def update_totals(range_key: str, _tick: int | None) -> Any:
    """Limited requests, distinct keys and routes."""
    totals = data.totals(range_key)
    if not totals["hits"]:
        return empty(_nothing(range_key))
    return kpis([kpi("limited requests", number(totals["hits"]), "bad"),
                 kpi("distinct keys", number(totals["keys"])), kpi("routes", number(totals["routes"]))])


@panels_survive(1)
def update_keys(range_key: str, _tick: int | None) -> Any:
    """The keys that were limited most (a callback of its own: at volume it is the page's heaviest read)."""
    found = data.keys(range_key)
    if not found:
        return empty(_nothing(range_key))
    rows = [[html.Code(k["key_hash"][:16], title=k["key_hash"]), k["key_kind"], number(k["hits"]),
             ", ".join(k["limits"]), html.Span(", ".join(k["routes"]), className="routes"),
             when(iso(k["last_ms"]))] for k in found]
    return table(["Key (hashed)", "Kind", "Hits", "Limits", "Routes", "Last hit"], rows)


def register(app: Dash) -> None:
    """Wire the rate-limits page's callbacks."""
    rng, tick = Input(state_id("range"), "value"), Input("tick", "n_intervals")
    app.callback([Output("limits-by-limit", "children"), Output("limits-by-route", "children")],
                 rng, tick)(update_hits)
    app.callback(Output("limits-kpis", "children"), rng, tick)(update_totals)
    app.callback(Output("limits-keys", "children"), rng, tick)(update_keys)
