"""The overview's data: store health, the hub's live figures, request rate and latency."""
from __future__ import annotations

from typing import Any

from app.services import services
from dashboards.timerange import span_for


def health() -> dict[str, Any]:
    """Whether SQL and ClickHouse answer, and the hub's metrics (None when no hub runs here)."""
    found = services()
    hub = found.extra.get("hub")
    hub_metrics: dict[str, Any] | None = None
    hub_error: str | None = None
    if hub is not None:
        try:
            hub_metrics = dict(hub.metrics())
        except Exception as exc:  # a broken hub must not take the overview down with it
            hub_error = f"{exc.__class__.__name__}: {exc}"[:200]
    return {"sql": found.db.ping(), "analytics": found.analytics.ping(), "hub_present": hub is not None,
            "hub": hub_metrics, "hub_error": hub_error}


def traffic(range_key: str) -> dict[str, Any]:
    """Requests, 5xx and latency per bucket, and the totals over the range."""
    span = span_for(range_key)
    queries = services().ops_metrics
    return {"span": span, "series": queries.request_series(span), "totals": queries.request_totals(span)}


def routes(range_key: str) -> dict[str, Any]:
    """The busiest routes with their rate, p50/p95 and 5xx count."""
    span = span_for(range_key)
    return {"span": span, "routes": services().ops_metrics.request_routes(span)}
