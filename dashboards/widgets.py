"""The dashboard's building blocks: panels, figures, tables, empty states and the control bar."""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from dash import dcc, html

from dashboards.timerange import RANGES

REFRESH_MS = 30_000


def state_id(key: str) -> dict[str, str]:
    """The id of a control whose value lives in the URL (the URL-sync callback collects these)."""
    return {"type": "url-state", "key": key}


def panel(title: str, body: Any, *, wide: bool = False, body_id: str | None = None) -> html.Section:
    """A titled card; `body_id` names the part a callback fills."""
    inner = html.Div(body, id=body_id, className="panel-body") if body_id else html.Div(body, className="panel-body")
    return html.Section([html.H2(title), inner], className="panel wide" if wide else "panel")


def graph(figure: Mapping[str, Any]) -> dcc.Graph:
    """A chart without the mode bar, resizing with its card."""
    return dcc.Graph(figure=figure, config={"displayModeBar": False, "responsive": True},
                     style={"height": f"{figure['layout'].get('height', 250)}px"})


def empty(message: str) -> html.Div:
    """What a panel shows when there is nothing to show, saying what is missing."""
    return html.Div(message, className="empty")


def unavailable(what: str = "The analytics store") -> html.Div:
    """What a panel shows when its data could not be read."""
    return html.Div(f"{what} is not answering right now; this panel will retry on the next refresh.",
                    className="empty failing")


def kpi(label: str, value: Any, tone: str = "") -> html.Div:
    """One headline figure."""
    return html.Div([html.Div(value, className="kpi-value"), html.Div(label, className="kpi-label")],
                    className=f"kpi {tone}".strip())


def kpis(items: Sequence[html.Div]) -> html.Div:
    """A row of headline figures."""
    return html.Div(list(items), className="kpis")


def table(columns: Sequence[str], rows: Sequence[Sequence[Any]], class_name: str = "") -> html.Table:
    """A plain, compact table."""
    head = html.Thead(html.Tr([html.Th(c) for c in columns]))
    body = html.Tbody([html.Tr([html.Td(cell) for cell in row]) for row in rows])
    return html.Table([head, body], className=f"grid {class_name}".strip())


def number(value: float, digits: int = 0) -> str:
    """1234567 -> "1,234,567"; with digits, fixed decimals."""
    return f"{value:,.{digits}f}"


def per_second(value: float) -> str:
    """A rate readable at any size: "<0.001", "0.042", "3.1", "1,204"."""
    if value >= 100:
        return number(value)
    if value >= 1:
        return f"{value:.1f}"
    return f"{value:.3f}" if value >= 0.001 or value == 0 else "<0.001"


def when(iso_text: str, now: datetime | None = None) -> html.Span:
    """A UTC time shown as "12 min ago", the exact time on hover."""
    at = datetime.fromisoformat(iso_text.replace("Z", "+00:00"))
    seconds = max(0, int(((now or datetime.now(timezone.utc)) - at).total_seconds()))
    for size, unit in ((86400, "d"), (3600, "h"), (60, "min")):
        if seconds >= size:
            ago = f"{seconds // size} {unit} ago"
            break
    else:
        ago = "just now"
    return html.Span(ago, title=at.strftime("%Y-%m-%d %H:%M:%S UTC"))


def badge(text: str, kind: str = "") -> html.Span:
    """A small coloured label (status, severity)."""
    return html.Span(text, className=f"badge {kind or text.lower()}")


def controls(state: Mapping[str, str], *extra: Any) -> html.Div:
    """The bar above every page: time range, auto-refresh and any page filters."""
    picker = dcc.Dropdown(id=state_id("range"), value=state["range"], clearable=False, searchable=False,
                          options=[{"label": r.option, "value": r.key} for r in RANGES.values()],
                          className="range-picker")
    refresh = dcc.Checklist(id=state_id("refresh"), value=["on"] if state.get("refresh") != "off" else [],
                            options=[{"label": " Auto-refresh (30 s)", "value": "on"}], className="refresh")
    tick = dcc.Interval(id="tick", interval=REFRESH_MS, disabled=state.get("refresh") == "off")
    utc = html.Span("Times in UTC", className="muted")
    return html.Div([html.Div([picker, refresh, tick, utc], className="controls-main"),
                     html.Div(list(extra), className="controls-filters")], className="controls")
