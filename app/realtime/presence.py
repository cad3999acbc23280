"""Presence: a user's status across connections (and instances), announced when it changes."""
from __future__ import annotations

import logging
import threading
from typing import Callable, Iterable, Protocol

log = logging.getLogger(__name__)

STATUSES = ("offline", "online", "in_studio")
RANK = {status: rank for rank, status in enumerate(STATUSES)}


def aggregate(statuses: Iterable[str]) -> str:
    """The status several connections add up to: the highest of in_studio > online > offline."""
    return STATUSES[max((RANK[s] for s in statuses), default=0)]


class PresenceStore(Protocol):
    """Where each instance's view of a user is kept, so a global status can be computed."""

    def set_local(self, user_id: int, status: str) -> tuple[str, str]:
        """Record this instance's status for a user; return the global status before and after."""

    def heartbeat(self) -> list[tuple[int, str]]:
        """Keep this instance alive; return (user, new status) changes left by instances that died."""

    def forget_instance(self) -> None:
        """Remove everything this instance recorded (at shutdown)."""


class LocalPresenceStore:
    """One process: this instance's view is the global one."""

    def __init__(self) -> None:
        self._status: dict[int, str] = {}

    def set_local(self, user_id: int, status: str) -> tuple[str, str]:
        """Record and return (before, after)."""
        before = self._status.get(user_id, "offline")
        if status == "offline":
            self._status.pop(user_id, None)
        else:
            self._status[user_id] = status
        return before, status

    def heartbeat(self) -> list[tuple[int, str]]:
        """Nothing can die behind our back in one process."""
        return []

    def forget_instance(self) -> None:
        """Drop every status."""
        self._status.clear()


class PresenceTracker:
    """Turns connection statuses into user statuses and announces each global change once."""

    def __init__(self, store: PresenceStore, statuses_of: Callable[[int], list[str]],
                 announce: Callable[[int, str], None]) -> None:
        self._store = store
        self._statuses_of = statuses_of
        self._announce = announce
        self._local: dict[int, str] = {}
        self._lock = threading.RLock()  # one change at a time keeps announcements in order

    def refresh(self, user_id: int, force_offline: bool = False) -> None:
        """Recompute a user's status on this instance from its connections; announce a change."""
        with self._lock:
            status = "offline" if force_offline else aggregate(self._statuses_of(user_id))
            if self._local.get(user_id, "offline") == status:
                return
            if status == "offline":
                self._local.pop(user_id, None)
            else:
                self._local[user_id] = status
            before, after = self._store.set_local(user_id, status)
            if before != after:
                self._safe_announce(user_id, after)

    def heartbeat(self) -> None:
        """Keep this instance registered and announce users whose dead instance was reaped."""
        with self._lock:
            for user_id, status in self._store.heartbeat():
                self._safe_announce(user_id, status)

    def forget_all(self) -> None:
        """Mark every local user offline (announcing it) and remove this instance's records."""
        for user_id in list(self._local):
            self.refresh(user_id, force_offline=True)
        self._store.forget_instance()

    def online_users(self) -> int:
        """How many users are not offline on this instance."""
        return len(self._local)

    def status(self, user_id: int) -> str:
        """A user's status as seen by this instance."""
        return self._local.get(user_id, "offline")

    def _safe_announce(self, user_id: int, status: str) -> None:
        try:
            self._announce(user_id, status)
        except Exception:  # a failed announcement must not break a connect or a close
            log.exception("presence announcement for user %s failed", user_id)
