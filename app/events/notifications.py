"""Notifications that wait: stored for each recipient, delivered live with their id, read, counted, expired."""
from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from app.errors import BadRequest, NotFound
from app.events.catalogue import MAX_USER_ID, Notification
from app.events.sender import EventSender
from app.events.store import SqlNotificationStore, StoredNotification
from app.models.base import now_ms

if TYPE_CHECKING:
    from app.events.schemas import NotificationsQuery
    from app.realtime.connection import Connection

log = logging.getLogger(__name__)
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Notified:
    """What `notify` did: the rows stored, the ids that are no account, the connections reached."""

    stored: list[StoredNotification]
    unknown_user_ids: list[int]
    delivered: int


def parse_notification_id(raw: str) -> int:
    """A notification id from a URL; 404 for anything that cannot be one (never a driver error)."""
    if not raw.isdigit() or len(raw) > 10 or not 0 < int(raw) <= MAX_USER_ID:
        raise NotFound("No such notification.")
    return int(raw)


def _cursor_id(cursor: str | None) -> int | None:
    if cursor is None:
        return None
    if not cursor.isdigit() or len(cursor) > 10:
        raise BadRequest("The cursor is not valid.", code="invalid_cursor")
    return int(cursor)


class NotificationService:
    """Stores, delivers and reads notifications; keeps every connection's `notification_count` true."""

    def __init__(self, store: SqlNotificationStore, sender: EventSender,
                 clock: Callable[[], int] = now_ms) -> None:
        self._store = store
        self._send = sender
        self._clock = clock

    def notify(self, user_ids: list[int], notification: Notification) -> Notified:
        """Store one for each user that exists, then send it and the new count to their connections."""
        stored, unknown = self._store.add(user_ids, notification.wire(), self._clock())
        counts = self._store.unread_counts([row.user_id for row in stored]) if stored else {}
        delivered = 0
        for row in stored:
            delivered += self._send.to_users("notification", row.frame(), [row.user_id])
            self._send.to_users("notification_count", {"unread": counts[row.user_id]}, [row.user_id])
        return Notified(stored, unknown, delivered)

    def unread(self, user_id: int) -> int:
        """How many of the user's notifications are unread."""
        return self._store.unread_counts([user_id])[user_id]

    def page(self, user_id: int, query: "NotificationsQuery") -> dict[str, Any]:
        """A page of the user's own notifications, newest first, and the unread total."""
        rows = self._store.page(user_id, query.unread, query.limit + 1, _cursor_id(query.cursor))
        more = len(rows) > query.limit
        rows = rows[:query.limit]
        return {"notifications": [row.public() for row in rows],
                "next_cursor": str(rows[-1].id) if more and rows else None,
                "unread": self.unread(user_id)}

    def mark_read(self, user_id: int, notification_id: int) -> dict[str, Any]:
        """Mark one of the user's own read (404 otherwise); on a change, tell all their connections."""
        row, changed = self._store.mark_read(user_id, notification_id, self._clock())
        if row is None:
            raise NotFound("No such notification.")
        unread = self.unread(user_id)
        if changed:
            self._send.to_users("notification_read", {"id": row.id}, [user_id])
            self._send.to_users("notification_count", {"unread": unread}, [user_id])
        return {"notification": row.public(), "unread": unread, "changed": changed}

    def greet(self, conn: "Connection") -> None:
        """On connect: the connection learns its user's unread count."""
        self._send.to_connection(conn, "notification_count", {"unread": self.unread(conn.user_id)})

    def expire(self, older_than_days: float) -> int:
        """Delete notifications read more than `older_than_days` ago; unread ones are kept."""
        return self._store.expire_read(self._clock() - int(older_than_days * DAY_MS))

