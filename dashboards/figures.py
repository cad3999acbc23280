"""Plotly figures in one house style: compact, readable at 1366x768, times in UTC.

Figures are plain dicts (the JSON plotly.js draws), not `plotly.graph_objects`: building and
validating graph objects costs tens of milliseconds per figure, a large share of a callback's
budget, for no gain when the shapes are fixed here.
"""
from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Mapping, Sequence

from app.ops.metrics_queries import TimeSpan

SEVERITY_COLOURS = {"Info": "#60a5fa", "Warning": "#f59e0b", "Error": "#ef4444", "Critical": "#7f1d1d"}
PALETTE = ("#2563eb", "#16a34a", "#f97316", "#9333ea", "#0891b2", "#dc2626", "#ca8a04", "#4b5563")
CHART_HEIGHT = 250
_AXIS = {"gridcolor": "#eef2f7", "zerolinecolor": "#d9e0ea", "linecolor": "#d9e0ea", "automargin": True,
         "tickfont": {"size": 11}}

Figure = dict[str, Any]


def bucket_times(span: TimeSpan) -> list[str]:
    """The x axis: one UTC time per bucket of the span, as plotly.js reads dates."""
    return [datetime.fromtimestamp(start, timezone.utc).strftime("%Y-%m-%d %H:%M:%S") for start in span.bucket_starts()]


def _layout(y_title: str, height: int = CHART_HEIGHT, **extra: Any) -> dict[str, Any]:
    return {"height": height, "margin": {"l": 48, "r": 12, "t": 8, "b": 32}, "paper_bgcolor": "white",
            "plot_bgcolor": "white", "font": {"size": 12, "color": "#374151"}, "hovermode": "x unified",
            "legend": {"orientation": "h", "y": 1.02, "yanchor": "bottom", "x": 0, "font": {"size": 11}},
            "xaxis": {**_AXIS, "type": "date"},
            "yaxis": {**_AXIS, "rangemode": "tozero", "title": {"text": y_title, "font": {"size": 11}}},
            "uirevision": "keep",  # keeps zoom and hidden traces across refreshes
            **extra}


def stacked_bars(span: TimeSpan, series: Mapping[str, Sequence[float]], y_title: str,
                 colours: Mapping[str, str] | None = None, top: int = 8) -> Figure:
    """One stacked bar per bucket; the largest `top` series, the rest summed as "other"."""
    x = bucket_times(span)
    names = list(series)
    if colours:  # a fixed scale (severities): keep its order, most severe at the bottom of the stack
        names.sort(key=lambda name: list(colours)[::-1].index(name) if name in colours else len(colours))
    shown, rest = names[:top], names[top:]
    data = [{"type": "bar", "x": x, "y": list(series[name]), "name": name,
             "marker": {"color": (colours or {}).get(name, PALETTE[i % len(PALETTE)])}}
            for i, name in enumerate(shown)]
    if rest:
        other = [sum(series[name][i] for name in rest) for i in range(len(x))]
        data.append({"type": "bar", "x": x, "y": other, "name": f"other ({len(rest)})", "marker": {"color": "#9ca3af"}})
    return {"data": data, "layout": _layout(y_title, barmode="stack", bargap=0.15, showlegend=True)}


def lines(span: TimeSpan, series: Mapping[str, Sequence[float | None]], y_title: str,
          percent: bool = False) -> Figure:
    """One line per series over the span's buckets."""
    x = bucket_times(span)
    data = [{"type": "scatter", "mode": "lines", "x": x, "y": list(values), "name": name,
             "line": {"color": PALETTE[i % len(PALETTE)], "width": 2}}
            for i, (name, values) in enumerate(series.items())]
    layout = _layout(y_title, showlegend=len(data) > 1)
    if percent:
        layout["yaxis"]["tickformat"] = ".0%"
    return {"data": data, "layout": layout}


def horizontal_bars(counts: Mapping[str, int], x_title: str) -> Figure:
    """Counts by label, largest on top."""
    labels = list(counts)[::-1]
    layout = _layout("", height=max(160, 48 + 28 * len(labels)), hovermode="closest", showlegend=False)
    layout["xaxis"] = {**_AXIS, "title": {"text": x_title, "font": {"size": 11}}}
    layout["yaxis"] = {**_AXIS, "automargin": True}
    return {"data": [{"type": "bar", "orientation": "h", "x": [counts[label] for label in labels], "y": labels,
                      "marker": {"color": "#dc2626"}}], "layout": layout}
