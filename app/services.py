"""The service container the app factory builds; handlers reach services through it."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Callable

from flask import current_app

if TYPE_CHECKING:
    from app.auth.service import AuthService
    from app.config import Settings
    from app.storage.clickhouse import ClickHouseStore
    from app.storage.sql import Database
    from app.tracking.service import TrackingService


@dataclass
class Services:
    """Every long-lived object of one app: stores, services, and what to close at shutdown."""

    settings: "Settings"
    db: "Database"
    analytics: "ClickHouseStore"
    auth: "AuthService"
    tracking: "TrackingService"
    extra: dict[str, Any] = field(default_factory=dict)
    _closers: list[Callable[[], None]] = field(default_factory=list)
    _drainers: list[Callable[[], None]] = field(default_factory=list)

    def on_shutdown(self, drainer: Callable[[], None]) -> None:
        """Register something to run when shutdown begins (e.g. close WebSockets with 1001)."""
        self._drainers.append(drainer)

    def begin_shutdown(self) -> None:
        """Run the drain hooks once: the server has stopped accepting and is winding down."""
        while self._drainers:
            self._drainers.pop()()

    def on_close(self, closer: Callable[[], None]) -> None:
        """Register something to run at shutdown (last registered runs first)."""
        self._closers.append(closer)

    def close(self) -> None:
        """Flush writers and release stores, in reverse order of registration."""
        while self._closers:
            self._closers.pop()()

    def __getattr__(self, name: str) -> Any:
        try:
            return self.__dict__["extra"][name]
        except KeyError:
            raise AttributeError(name) from None


def services() -> Services:
    """The services of the current app."""
    return current_app.extensions["services"]
