"""Collaboration: operations per second, conflict rate, rejections by reason, apply latency, activity."""
from __future__ import annotations

from typing import Any, Mapping

from dash import Dash, Input, Output, html

from dashboards import figures
from dashboards.data import collaboration as data
from dashboards.failsafe import panels_survive
from dashboards.timerange import get_range
from dashboards.widgets import controls, empty, graph, kpi, kpis, number, panel, per_second, state_id


def layout(state: Mapping[str, str]) -> html.Div:
    """The collaboration page for a URL state."""
    return html.Div([
        html.H1("Collaboration"), controls(state),
        html.Div([panel("Editing activity", "Loading…", body_id="collab-kpis", wide=True),
                  panel("Operations per second", "Loading…", body_id="collab-rate"),
                  panel("Conflict rate (transformed over ≥ 1 concurrent operation)", "Loading…",
                        body_id="collab-conflicts"),
                  panel("Apply latency (ms)", "Loading…", body_id="collab-latency"),
                  panel("Rejected operations by reason", "Loading…", body_id="collab-reasons")],
                 className="grid-2"),
    ])


def _nothing(range_key: str) -> str:
    return f"No document operations in {get_range(range_key).phrase}."


@panels_survive(3)
def update_activity(range_key: str, _tick: int | None) -> list[Any]:
    """Operation rate, conflict rate and apply latency per bucket."""
    found = data.activity(range_key)
    series, span = found["series"], found["span"]
    if not any(b["operations"] for b in series):
        return [empty(_nothing(range_key))] * 3
    rate = {"operations/s": [b["operations"] / span.bucket_s for b in series],
            "rejected/s": [b["rejected"] / span.bucket_s for b in series]}
    conflicts = {"conflict rate": [b["transformed"] / b["operations"] if b["operations"] else None
                                   for b in series]}
    latency = {"p50": [b["p50_ms"] if b["operations"] else None for b in series],
               "p95": [b["p95_ms"] if b["operations"] else None for b in series]}
    return [graph(figures.lines(span, rate, "per second")),
            graph(figures.lines(span, conflicts, "share of operations", percent=True)),
            graph(figures.lines(span, latency, "ms"))]


@panels_survive(2)
def update_summary(range_key: str, _tick: int | None) -> list[Any]:
    """Headline figures and the rejection reasons."""
    found = data.summary(range_key)
    totals = found["totals"]
    if not totals["operations"]:
        return [empty(_nothing(range_key)), empty(_nothing(range_key))]
    headline = kpis([kpi("operations", number(totals["operations"])),
                     kpi("per second", per_second(totals["per_second"])),
                     kpi("conflict rate", f"{totals['conflict_rate']:.1%}"),
                     kpi("rejected", number(totals["rejected"]), "bad" if totals["rejected"] else ""),
                     kpi("apply p50 / p95", f"{number(totals['p50_ms'], 1)} / {number(totals['p95_ms'], 1)} ms"),
                     kpi("documents edited", number(totals["documents"])),
                     kpi("editors", number(totals["editors"]))])
    reasons = found["reasons"]
    chart = (graph(figures.horizontal_bars(reasons, "rejected operations")) if reasons
             else empty(f"No operation was rejected in {get_range(range_key).phrase}."))
    return [headline, chart]


def register(app: Dash) -> None:
    """Wire the collaboration page's callbacks."""
    rng, tick = Input(state_id("range"), "value"), Input("tick", "n_intervals")
    app.callback([Output("collab-rate", "children"), Output("collab-conflicts", "children"),
                  Output("collab-latency", "children")], rng, tick)(update_activity)
    app.callback([Output("collab-kpis", "children"), Output("collab-reasons", "children")],
                 rng, tick)(update_summary)
