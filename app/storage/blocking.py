"""Run a blocking C call (chDB, a driver) without stalling the gevent loop."""
from __future__ import annotations

from typing import Callable, TypeVar

T = TypeVar("T")


def _gevent_active() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("threading"))


def run_blocking(fn: Callable[..., T], *args: object) -> T:
    """Call `fn` in a real OS thread under gevent (chDB releases the GIL), inline otherwise."""
    if _gevent_active():
        import gevent

        return gevent.get_hub().threadpool.apply(fn, args)
    return fn(*args)
