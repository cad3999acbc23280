"""Run a blocking C call (chDB, a driver) without stalling the gevent loop."""
from __future__ import annotations

from typing import Any, Callable, TypeVar

T = TypeVar("T")


def _gevent_active() -> bool:
    try:
        from gevent import monkey
    except ImportError:  # pragma: no cover - gevent is a dependency
        return False
    return bool(monkey.is_module_patched("threading"))


class _Raised:
    """An exception carried back from the pool thread as a value."""

    __slots__ = ("error",)

    def __init__(self, error: Exception) -> None:
        self.error = error


def _captured(fn: Callable[..., Any], args: tuple[object, ...]) -> Any:
    try:
        return fn(*args)
    except Exception as exc:
        return _Raised(exc)


def run_blocking(fn: Callable[..., T], *args: object) -> T:
    """Call `fn` in a real OS thread under gevent (chDB releases the GIL), inline otherwise.

    An exception comes back as a value and is raised here, in the caller: raised in the pool
    thread, gevent would also print its traceback to the log, though the caller handles it
    (a syntax error in the SQL console is a 400, not a server fault).
    """
    if _gevent_active():
        import gevent

        outcome = gevent.get_hub().threadpool.apply(_captured, (fn, args))
        if isinstance(outcome, _Raised):
            raise outcome.error
        return outcome
    return fn(*args)
