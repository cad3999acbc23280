"""The collaboration page's data: operation rate, conflicts, rejections, apply latency, activity."""
from __future__ import annotations

from typing import Any

from app.services import services
from dashboards.timerange import span_for


def activity(range_key: str) -> dict[str, Any]:
    """Operations, transformed and rejected ones, apply p50/p95 per bucket."""
    span = span_for(range_key)
    return {"span": span, "series": services().ops_metrics.operation_series(span)}


def summary(range_key: str) -> dict[str, Any]:
    """Totals over the range and rejected operations by reason."""
    span = span_for(range_key)
    queries = services().ops_metrics
    return {"span": span, "totals": queries.operation_totals(span), "reasons": queries.rejections_by_reason(span)}
