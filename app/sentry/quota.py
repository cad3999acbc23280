"""Events per minute per DSN key, answered the way Sentry SDKs back off (`X-Sentry-Rate-Limits`).

Separate from the app's per-IP API limiter on purpose: SDKs key their back-off on data
categories, and one busy service behind one IP must not starve the others. Counters live in
Redis when REDIS_URL is set (shared by workers), else in the process.
"""
from __future__ import annotations

import logging
import math
import time

from limits import RateLimitItemPerMinute
from limits.storage import MemoryStorage, RedisStorage, Storage
from limits.strategies import MovingWindowRateLimiter

from app.errors import ApiError

log = logging.getLogger(__name__)

# The data categories an event item counts against (what sentry-sdk checks before sending).
EVENT_CATEGORIES = "error;default;security"


class SentryRateLimited(ApiError):
    """429 with `Retry-After` and `X-Sentry-Rate-Limits: <seconds>:<categories>:key`."""

    status, code = 429, "rate_limited"

    def __init__(self, retry_after: int, limit: int) -> None:
        seconds = str(max(1, retry_after))
        super().__init__(f"This DSN key may send {limit} events a minute; retry in {seconds} s.",
                         headers={"Retry-After": seconds,
                                  "X-Sentry-Rate-Limits": f"{seconds}:{EVENT_CATEGORIES}:key"})


def make_storage(redis_url: str, prefix: str, name: str = "sentry-quota") -> Storage:
    """Redis counters shared by every worker when configured, else this process's memory."""
    if redis_url:
        return RedisStorage(redis_url, key_prefix=f"{prefix}:{name}")
    return MemoryStorage()


class KeyQuota:
    """A moving-window budget of events per minute for each public key; 0 means unlimited."""

    def __init__(self, storage: Storage, events_per_minute: int) -> None:
        self._limit = events_per_minute
        self._item = RateLimitItemPerMinute(max(1, events_per_minute))
        self._limiter = MovingWindowRateLimiter(storage)

    def spend(self, public_key: str, events: int) -> None:
        """Count `events` against the key, or raise SentryRateLimited (and count nothing)."""
        if self._limit <= 0 or events <= 0:
            return
        try:
            allowed = self._limiter.hit(self._item, "sentry", public_key, cost=events)
            if allowed:
                return
            reset = self._limiter.get_window_stats(self._item, "sentry", public_key).reset_time
        except Exception as exc:  # a limiter outage must not lose error reports: fail open
            log.warning("sentry quota unavailable, allowing: %s", exc)
            return
        raise SentryRateLimited(math.ceil(reset - time.time()), self._limit)
