"""Overview: are SQL, ClickHouse and the hub healthy; request rate, latency and 5xx by route."""
from __future__ import annotations

from typing import Any, Mapping

from dash import Dash, Input, Output, html

from dashboards import figures
from dashboards.data import overview as data
from dashboards.failsafe import panels_survive
from dashboards.timerange import get_range
from dashboards.widgets import controls, empty, graph, kpi, kpis, number, panel, per_second, state_id, table


def layout(state: Mapping[str, str]) -> html.Div:
    """The overview page for a URL state."""
    return html.Div([
        html.H1("Overview"), controls(state),
        html.Div([panel("Service health", "Checking…", body_id="overview-health", wide=True),
                  panel("Traffic", "Loading…", body_id="overview-kpis", wide=True),
                  panel("Requests per second", "Loading…", body_id="overview-rate"),
                  panel("Latency (ms)", "Loading…", body_id="overview-latency"),
                  panel("Routes", "Loading…", body_id="overview-routes", wide=True)], className="grid-2"),
    ])


def _status(name: str, ok: bool) -> html.Div:
    return kpi(name, "healthy" if ok else "down", "good" if ok else "bad")


def _hub(found: Mapping[str, Any]) -> list[Any]:
    if not found["hub_present"]:
        return [html.Div("The WebSocket hub is not running in this process: no live connection figures.",
                         className="empty inline")]
    if found["hub"] is None:
        return [html.Div(f"The hub did not report its metrics ({found['hub_error']}).",
                         className="empty inline failing")]
    metrics = found["hub"]
    items = [kpi("connections", number(metrics.get("connections", 0))),
             kpi("users online", number(metrics.get("users_online", 0)))]
    for key, value in metrics.items():
        if isinstance(value, dict):  # labelled counters (messages by type): their total
            value = sum(v for v in value.values() if isinstance(v, (int, float)))
        if key in ("connections", "users_online") or isinstance(value, bool) or len(items) >= 8:
            continue
        if isinstance(value, (int, float)):
            items.append(kpi(key.replace("_", " "), number(value)))
    return items


@panels_survive(1)
def update_health(_tick: int | None) -> Any:
    """Ping the stores and read the hub's counters."""
    found = data.health()
    return kpis([_status("SQL", found["sql"]), _status("ClickHouse", found["analytics"]), *_hub(found)])


@panels_survive(3)
def update_traffic(range_key: str, _tick: int | None) -> list[Any]:
    """Headline figures and the request-rate and latency charts."""
    found = data.traffic(range_key)
    totals, span = found["totals"], found["span"]
    if not totals["requests"]:
        message = f"No requests recorded in {get_range(range_key).phrase}."
        return [empty(message), empty(message), empty(message)]
    rate = {"requests/s": [b["requests"] / span.bucket_s for b in found["series"]],
            "5xx/s": [b["errors_5xx"] / span.bucket_s for b in found["series"]]}
    latency = {"p50": [b["p50_ms"] for b in found["series"]], "p95": [b["p95_ms"] for b in found["series"]]}
    headline = kpis([kpi("requests", number(totals["requests"])),
                     kpi("per second", per_second(totals["per_second"])),
                     kpi("p50 latency", f"{number(totals['p50_ms'], 1)} ms"),
                     kpi("p95 latency", f"{number(totals['p95_ms'], 1)} ms"),
                     kpi("5xx", number(totals["errors_5xx"]), "bad" if totals["errors_5xx"] else "")])
    return [headline, graph(figures.lines(span, rate, "per second")), graph(figures.lines(span, latency, "ms"))]


@panels_survive(1)
def update_routes(range_key: str, _tick: int | None) -> Any:
    """The busiest routes with rate, latency and 5xx."""
    rows = data.routes(range_key)["routes"]
    if not rows:
        return empty(f"No requests recorded in {get_range(range_key).phrase}.")
    return table(["Route", "Method", "Requests", "Per second", "p50 ms", "p95 ms", "5xx"],
                 [[html.Code(r["route"]), r["method"], number(r["requests"]), per_second(r["per_second"]),
                   number(r["p50_ms"], 1), number(r["p95_ms"], 1),
                   html.Span(number(r["errors_5xx"]), className="bad-text" if r["errors_5xx"] else "")]
                  for r in rows])


def register(app: Dash) -> None:
    """Wire the overview's callbacks."""
    rng, tick = Input(state_id("range"), "value"), Input("tick", "n_intervals")
    app.callback(Output("overview-health", "children"), tick)(update_health)
    app.callback([Output("overview-kpis", "children"), Output("overview-rate", "children"),
                  Output("overview-latency", "children")], rng, tick)(update_traffic)
    app.callback(Output("overview-routes", "children"), rng, tick)(update_routes)
