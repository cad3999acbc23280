"""The view's state in the query string, so a URL reproduces what its sender saw."""
from __future__ import annotations

import re
from typing import Any, Callable, Mapping
from urllib.parse import parse_qs, urlencode

from app.models.tracking import GROUP_STATUSES
from app.tracking.schemas import SEVERITIES
from app.tracking.trends import GROUP_ORDERS
from dashboards.timerange import DEFAULT_RANGE, RANGES

_SOURCE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")

# Key order is the order in the URL; values failing their check are dropped.
CHECKS: dict[str, Callable[[str], bool]] = {
    "range": lambda v: v in RANGES,
    "refresh": lambda v: v in ("on", "off"),
    "severity": lambda v: v in SEVERITIES,
    "source": lambda v: bool(_SOURCE.match(v)),
    "status": lambda v: v in GROUP_STATUSES,
    "q": lambda v: 0 < len(v) <= 200,
    "sort": lambda v: v in GROUP_ORDERS,
}
DEFAULTS = {"range": DEFAULT_RANGE, "refresh": "on", "sort": "occurrences"}
ALWAYS_SHOWN = ("range",)  # a shared link keeps its range even if the default changes


def parse_search(search: str | None) -> dict[str, str]:
    """The state in a `?a=b` string: known keys with valid values, defaults filled in."""
    raw = parse_qs((search or "").lstrip("?"), keep_blank_values=False)
    state = dict(DEFAULTS)
    for key, check in CHECKS.items():
        values = raw.get(key)
        if values and check(values[0].strip()):
            state[key] = values[0].strip()
    return state


def encode_search(state: Mapping[str, Any]) -> str:
    """`?range=6h&severity=Error` for a state; blanks and defaults (but the range) are left out."""
    pairs = []
    for key, check in CHECKS.items():
        value = state.get(key)
        value = value.strip() if isinstance(value, str) else value
        if value and (key in ALWAYS_SHOWN or value != DEFAULTS.get(key)) and check(value):
            pairs.append((key, value))
    return "?" + urlencode(pairs) if pairs else ""


def carried(state: Mapping[str, Any]) -> str:
    """The part of the state that follows you from page to page (range and auto-refresh)."""
    return encode_search({k: state.get(k) for k in ("range", "refresh")})
