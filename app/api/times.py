"""Instants clients send: ISO-8601 or unix seconds (milliseconds past 1e11), as unix milliseconds."""
from __future__ import annotations

import math
from datetime import datetime, timezone

from app.errors import BadRequest

LATEST_MS = 10_413_791_999_999  # 2299-12-31T23:59:59.999Z, the end of ClickHouse's DateTime64


def parse_instant(value: int | float | str, name: str) -> int:
    """ISO-8601 or unix seconds (milliseconds past 1e11) to unix ms; 400 when neither."""
    if isinstance(value, str):
        text = value.strip()
        try:
            value = float(text)
        except ValueError:
            try:
                parsed = datetime.fromisoformat(text.replace("Z", "+00:00"))
            except ValueError as exc:
                raise BadRequest(f"{name} must be ISO-8601 or unix seconds.", code="validation_error") from exc
            if parsed.tzinfo is None:
                parsed = parsed.replace(tzinfo=timezone.utc)
            return _in_range(int(parsed.timestamp() * 1000), name)
    ms = value if value > 1e11 else value * 1000
    if not math.isfinite(ms):  # inf, nan, or seconds so large that milliseconds overflow
        raise BadRequest(f"{name} must be ISO-8601 or unix seconds.", code="validation_error")
    return _in_range(int(ms), name)


def _in_range(ms: int, name: str) -> int:
    """400 for instants ClickHouse's DateTime64 cannot hold (before 1970 or after 2299)."""
    if not 0 <= ms <= LATEST_MS:
        raise BadRequest(f"{name} must lie between 1970 and 2299.", code="validation_error")
    return ms
