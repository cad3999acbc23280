"""What a client hears about its limits: the 429 body and the rate-limit header fields.

`RateLimit-Policy` / `RateLimit` follow draft-ietf-httpapi-ratelimit-headers-10 (structured
field lists, one item per policy: `"auth";q=10;w=60` and `"auth";r=3;t=17`). The
`X-RateLimit-*` fields describe the one limit closest to refusing (the breached one on a 429).
"""
from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass

from flask import Flask, Response, g
from flask_limiter import RateLimitExceeded, RequestLimit
from limits.errors import StorageError as LimitStorageError
from limits.storage import RedisStorage
from redis.exceptions import RedisError

from app.errors import json_error
from app.limits.limiters import RateLimiters

log = logging.getLogger(__name__)
STORE_RETRY_SECONDS = 5


@dataclass(frozen=True)
class Window:
    """One evaluated limit as it stands after this request."""

    name: str
    amount: int
    seconds: int
    remaining: int
    reset_at: float
    seconds_left: int
    breached: bool

    @property
    def retry_after(self) -> int:
        """Whole seconds until the window resets, at least 1 (what `Retry-After` says)."""
        return max(1, self.seconds_left)


def read_window(limit: RequestLimit) -> Window:
    """Remaining count and reset time; Redis reset read with PTTL (its TTL rounds to seconds)."""
    storage = limit.limiter.storage
    now = time.time()
    if isinstance(storage, RedisStorage):
        pipe = storage.get_connection().pipeline(transaction=False)
        key = storage.prefixed_key(limit.key)
        pipe.get(key)
        pipe.pttl(key)
        count, pttl = pipe.execute()
        remaining = max(0, limit.limit.amount - int(count or 0))
        reset_at = now + max(0, int(pttl)) / 1000.0
    else:
        reset_at, remaining = limit.window
    return Window(name=str(limit.request_args[-1]), amount=limit.limit.amount,
                  seconds=limit.limit.get_expiry(), remaining=remaining, reset_at=reset_at,
                  seconds_left=max(0, math.ceil(reset_at - now)), breached=limit.breached)


def request_windows(limiters: RateLimiters) -> list[Window]:
    """The windows of every limit evaluated for this request, read once and kept in `g`."""
    if "_rate_windows" not in g:
        try:
            g._rate_windows = [read_window(limit) for limit in limiters.current_limits()]
        except (LimitStorageError, RedisError, OSError) as exc:
            log.warning("rate-limit windows unreadable, sending no limit headers: %s", exc)
            g._rate_windows = []
    return g._rate_windows


def headline(windows: list[Window]) -> Window | None:
    """The window the X-RateLimit-* fields describe: breached, else the fewest requests left."""
    if not windows:
        return None
    return min(windows, key=lambda w: (not w.breached, w.remaining, -w.reset_at))


def add_headers(response: Response, windows: list[Window]) -> Response:
    """Write the limit fields; `Retry-After` only when a limit refused this very request."""
    top = headline(windows)
    if top is None:
        return response
    response.headers["X-RateLimit-Limit"] = str(top.amount)
    response.headers["X-RateLimit-Remaining"] = str(top.remaining)
    response.headers["X-RateLimit-Reset"] = str(math.ceil(top.reset_at))
    response.headers["RateLimit-Policy"] = ", ".join(f'"{w.name}";q={w.amount};w={w.seconds}' for w in windows)
    response.headers["RateLimit"] = ", ".join(f'"{w.name}";r={w.remaining};t={w.seconds_left}' for w in windows)
    if top.breached and response.status_code == 429:
        response.headers["Retry-After"] = str(top.retry_after)
    return response


def register_responses(app: Flask, limiters: RateLimiters) -> None:
    """The 429 body, the limit fields on every limited response, and a 503 for a dead store."""

    @app.errorhandler(RateLimitExceeded)
    def _rate_limited(exc: RateLimitExceeded) -> Response:
        top = headline(request_windows(limiters))
        name = top.name if top else "rate"
        retry = top.retry_after if top else 1
        return json_error(429, "rate_limited",
                          f"Too many requests: the {name} limit allows {exc.limit.limit}; "
                          f"retry in {retry} s.", details={"limit": name, "retry_after": retry})

    @app.errorhandler(LimitStorageError)
    @app.errorhandler(RedisError)
    def _store_down(exc: Exception) -> Response:
        # Only reached with RATE_LIMIT_STORAGE_FAILURE=closed: "open" falls back to memory.
        log.warning("rate-limit store unreachable, refusing: %s", exc)
        return json_error(503, "rate_limit_unavailable",
                          "The rate-limit store is unreachable; retry later.",
                          headers={"Retry-After": str(STORE_RETRY_SECONDS)})

    @app.after_request
    def _limit_headers(response: Response) -> Response:
        return add_headers(response, request_windows(limiters))
