"""Taking a lock only when it is free, without handing the CPU to other greenlets."""
from __future__ import annotations

from typing import Any


def take_if_free(lock: Any) -> bool:
    """Acquire `lock` and return True if nobody holds it; return False at once otherwise.

    Under gevent a failed `acquire(blocking=False)` also sleeps, to let spin loops progress:
    a leader checking a lock mid-batch would run every other ready greenlet before going on.
    Looking first avoids that; under real threads the acquire still decides (it may fail).
    """
    return not lock.locked() and lock.acquire(blocking=False)
