"""The time ranges the picker offers, and the chart bucket each one uses."""
from __future__ import annotations

import time
from dataclasses import dataclass

from app.ops.metrics_queries import TimeSpan


@dataclass(frozen=True)
class Range:
    """One choice of the range picker: its length and its chart bucket width."""

    key: str
    label: str
    seconds: int
    bucket_s: int

    @property
    def option(self) -> str:
        """How the picker names it: "Last 15 minutes"."""
        return f"Last {self.label}"

    @property
    def phrase(self) -> str:
        """How empty states name it: "the last 15 minutes"."""
        return f"the last {self.label}"


# Buckets of whole hours (and, for 30 days, whole days) let charts read the rollups.
RANGES: dict[str, Range] = {r.key: r for r in (
    Range("15m", "15 minutes", 15 * 60, 60),
    Range("1h", "hour", 3600, 60),
    Range("6h", "6 hours", 6 * 3600, 10 * 60),
    Range("24h", "24 hours", 24 * 3600, 3600),
    Range("7d", "7 days", 7 * 86400, 3 * 3600),
    Range("30d", "30 days", 30 * 86400, 86400),
)}
DEFAULT_RANGE = "24h"


def get_range(key: str | None) -> Range:
    """The range for a key, the default one for anything unknown."""
    return RANGES.get(key or "", RANGES[DEFAULT_RANGE])


def span_for(key: str | None, now_ms: int | None = None) -> TimeSpan:
    """The window ending now (or at `now_ms`) for a range key."""
    chosen = get_range(key)
    until = int(time.time() * 1000) if now_ms is None else now_ms
    return TimeSpan(until - chosen.seconds * 1000, until, chosen.bucket_s)
