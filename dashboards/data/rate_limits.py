"""The rate-limits page's data: limited requests over time, the most limited keys (hashed)."""
from __future__ import annotations

from typing import Any

from app.services import services
from dashboards.timerange import span_for


def hits(range_key: str) -> dict[str, Any]:
    """Limited requests per bucket, by limit and by route."""
    span = span_for(range_key)
    queries = services().ops_metrics
    return {"span": span, "by_limit": queries.rate_limit_series(span, "limit"),
            "by_route": queries.rate_limit_series(span, "route")}


def totals(range_key: str) -> dict[str, Any]:
    """Limited requests, distinct keys and routes over the range."""
    return services().ops_metrics.rate_limit_totals(span_for(range_key))


def keys(range_key: str) -> list[dict[str, Any]]:
    """The keys limited most often over the range."""
    return services().ops_metrics.rate_limit_keys(span_for(range_key))
