"""A token bucket per connection: a steady frame rate with a burst allowance."""
from __future__ import annotations

import time
from typing import Callable


class TokenBucket:
    """Allows `rate` events per second on average and up to `burst` at once."""

    def __init__(self, rate: float, burst: int, clock: Callable[[], float] = time.monotonic) -> None:
        self.rate = max(0.0, float(rate))
        self.capacity = max(1.0, float(burst))
        self._tokens = self.capacity
        self._clock = clock
        self._updated = clock()

    def take(self) -> bool:
        """Spend one token if there is one; False means the caller is over its rate."""
        now = self._clock()
        self._tokens = min(self.capacity, self._tokens + (now - self._updated) * self.rate)
        self._updated = now
        if self._tokens >= 1.0:
            self._tokens -= 1.0
            return True
        return False
