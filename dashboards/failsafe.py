"""Keep a page standing when a store fails: the panels say so instead of the callback erroring."""
from __future__ import annotations

import functools
import logging
from typing import Any, Callable

from dash import no_update

from app.storage import StorageError
from dashboards.widgets import unavailable

log = logging.getLogger(__name__)


def panels_survive(outputs: int, untouched: tuple[int, ...] = ()) -> Callable[[Callable[..., Any]], Callable[..., Any]]:
    """Decorate a callback with `outputs` outputs: on a StorageError each shows "not answering".

    Outputs listed in `untouched` (by position) are not panels (e.g. a dropdown's options) and stay as
    they are.
    """

    def decorate(fn: Callable[..., Any]) -> Callable[..., Any]:
        @functools.wraps(fn)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            try:
                return fn(*args, **kwargs)
            except StorageError as exc:
                log.warning("dashboard panel %s: %s", fn.__name__, exc)
                if outputs == 1:
                    return unavailable()
                return [no_update if i in untouched else unavailable() for i in range(outputs)]

        return wrapper

    return decorate
