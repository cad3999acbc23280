"""Catalogue events leave through here: the hub's fan-out, counted by type in the hub's metrics."""
from __future__ import annotations

from typing import TYPE_CHECKING, Any, Iterable

if TYPE_CHECKING:
    from app.realtime.connection import Connection

PUBLISHED = "events_published"  # events sent, by type (a notification to 3 users is 3 events)
DELIVERED = "events_delivered"  # connections reached on this instance, by type
REJECTED = "events_rejected"  # publications refused, by error code


class EventSender:
    """Sends one event to users, everyone, or one connection; every send is counted."""

    def __init__(self, hub: Any) -> None:
        self._hub = hub

    def to_users(self, frame_type: str, payload: dict[str, Any], user_ids: Iterable[int],
                 exclude_conn: str | None = None) -> int:
        """Send to every connection of these users (every instance); the local connections reached."""
        return self._counted(frame_type, self._hub.send_to_users(user_ids, frame_type, payload, exclude_conn))

    def to_all(self, frame_type: str, payload: dict[str, Any]) -> int:
        """Send to every connection (every instance); the local connections reached."""
        return self._counted(frame_type, self._hub.broadcast(frame_type, payload))

    def to_connection(self, conn: "Connection", frame_type: str, payload: dict[str, Any]) -> int:
        """Send to one local connection; 1 when queued."""
        return self._counted(frame_type, 1 if conn.send(frame_type, payload) else 0)

    def rejected(self, code: str) -> None:
        """Count a refused publication by its error code."""
        self._hub.count(REJECTED, by=code)

    def _counted(self, frame_type: str, reached: int) -> int:
        self._hub.count(PUBLISHED, by=frame_type)
        self._hub.count(DELIVERED, by=frame_type, n=reached)
        return reached
