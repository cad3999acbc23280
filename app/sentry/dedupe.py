"""Event ids already stored, so an SDK's resend of the same event is answered but stored once.

SDKs resend what they are not sure arrived: after a timeout, or from an offline cache on the
next start. The ids live in the same storage as the key quota (Redis when REDIS_URL is set,
so every instance sees them; else this process's memory) for a bounded time. An id is
remembered only after its event was stored: a refused or failed request leaves the resend
free to store it. Two copies racing in at the same instant may both be stored.
"""
from __future__ import annotations

import logging
from typing import Iterable

from limits.storage import Storage

log = logging.getLogger(__name__)

REMEMBER_SECONDS = 6 * 3600  # long enough for an SDK's retries and an offline cache's resend


class RecentEventIds:
    """Per project, the event ids stored in the last REMEMBER_SECONDS."""

    def __init__(self, storage: Storage, remember_seconds: int = REMEMBER_SECONDS) -> None:
        self._storage = storage
        self._seconds = remember_seconds

    @staticmethod
    def _key(project_id: int, event_id: str) -> str:
        return f"sentry-seen/{project_id}/{event_id}"

    def seen(self, project_id: int, event_id: str) -> bool:
        """True when this project stored this event id recently (unknown on an outage: store again)."""
        try:
            return self._storage.get(self._key(project_id, event_id)) > 0
        except Exception as exc:  # an outage must not lose error reports: a duplicate is the lesser harm
            log.warning("sentry event ids unavailable, storing: %s", exc)
            return False

    def remember(self, project_id: int, event_ids: Iterable[str]) -> None:
        """Mark stored event ids (best effort)."""
        try:
            for event_id in event_ids:
                self._storage.incr(self._key(project_id, event_id), self._seconds)
        except Exception as exc:
            log.warning("sentry event ids unavailable, not remembered: %s", exc)
