"""Taking a lock only when it is free, without handing the CPU to other greenlets."""
from __future__ import annotations

import threading
from typing import Any


def take_if_free(lock: Any) -> bool:
    """Acquire `lock` and return True if nobody holds it; return False at once otherwise.

    Under gevent a failed `acquire(blocking=False)` also sleeps, to let spin loops progress:
    a leader checking a lock mid-batch would run every other ready greenlet before going on.
    Looking first avoids that; under real threads the acquire still decides (it may fail).
    """
    return not lock.locked() and lock.acquire(blocking=False)


def native_lock() -> Any:
    """A real OS lock, also under gevent, for a critical section that never waits or yields.

    gevent's patched lock is Python code (about a microsecond per acquire); a counter bumped
    on every frame needs only to be safe from the pool's real threads. Never hold it across
    anything that may switch greenlets: a second greenlet taking it would block the loop.
    """
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return threading.Lock()
    return monkey.get_original("_thread", "allocate_lock")()
