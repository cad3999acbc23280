"""Stored notifications over SQL: add for many users at once, page, mark read, count, expire."""
from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update

from app.models import Notification as NotificationRow
from app.models import User
from app.storage.sql import Database

EXPIRY_CHUNK = 5000  # rows per DELETE, so expiry never holds SQLite's one write lock for long


@dataclass(frozen=True)
class StoredNotification:
    """One row, decoded: the published fields plus its id and times."""

    id: int
    user_id: int
    fields: dict[str, Any]
    created_at_ms: int
    read_at_ms: int | None

    def frame(self) -> dict[str, Any]:
        """The `notification` frame's payload: id, the published fields, created_at_ms."""
        return {"id": self.id, **self.fields, "created_at_ms": self.created_at_ms}

    def public(self) -> dict[str, Any]:
        """The notification as the list and read endpoints return it."""
        return {**self.frame(), "read_at_ms": self.read_at_ms}


def _decoded(row: NotificationRow) -> StoredNotification:
    return StoredNotification(row.id, row.user_id, json.loads(row.payload), row.created_at_ms, row.read_at_ms)


class SqlNotificationStore:
    """The `notifications` table; every method is one short transaction."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def add(self, user_ids: list[int], fields: dict[str, Any], now_ms: int) -> tuple[list[StoredNotification],
                                                                                      list[int]]:
        """Store one notification per existing user; (the stored rows, the ids that are no account)."""
        text = json.dumps(fields, separators=(",", ":"), ensure_ascii=False)
        with self._db.session() as session:
            existing = set(session.scalars(select(User.id).where(User.id.in_(user_ids))))
            rows = [NotificationRow(user_id=uid, payload=text, created_at_ms=now_ms)
                    for uid in user_ids if uid in existing]
            session.add_all(rows)
            session.flush()
            stored = [StoredNotification(row.id, row.user_id, fields, now_ms, None) for row in rows]
        return stored, [uid for uid in user_ids if uid not in existing]

    def unread_counts(self, user_ids: list[int]) -> dict[int, int]:
        """Unread notifications of each user (0 included)."""
        query = (select(NotificationRow.user_id, func.count()).where(NotificationRow.user_id.in_(user_ids),
                                                                      NotificationRow.read_at_ms.is_(None))
                 .group_by(NotificationRow.user_id))
        with self._db.session() as session:
            found = {user_id: count for user_id, count in session.execute(query)}
        return {uid: int(found.get(uid, 0)) for uid in user_ids}

    def page(self, user_id: int, unread_only: bool, limit: int, before_id: int | None) -> list[StoredNotification]:
        """A user's notifications, newest first, with ids below `before_id` when given."""
        query = select(NotificationRow).where(NotificationRow.user_id == user_id)
        if unread_only:
            query = query.where(NotificationRow.read_at_ms.is_(None))
        if before_id is not None:
            query = query.where(NotificationRow.id < before_id)
        with self._db.session() as session:
            rows = session.scalars(query.order_by(NotificationRow.id.desc()).limit(limit)).all()
            return [_decoded(row) for row in rows]

    def mark_read(self, user_id: int, notification_id: int, now_ms: int) -> tuple[StoredNotification | None, bool]:
        """Mark one of the user's notifications read: (the row or None if not theirs, whether it changed)."""
        owned = (NotificationRow.id == notification_id, NotificationRow.user_id == user_id)
        with self._db.session() as session:
            changed = session.execute(update(NotificationRow).where(*owned, NotificationRow.read_at_ms.is_(None))
                                      .values(read_at_ms=now_ms)).rowcount == 1
            row = session.scalars(select(NotificationRow).where(*owned)).first()
            return (_decoded(row) if row is not None else None), changed

    def expire_read(self, read_before_ms: int) -> int:
        """Delete notifications read before `read_before_ms`, in chunks; how many went."""
        total = 0
        while True:
            doomed = (select(NotificationRow.id).where(NotificationRow.read_at_ms.is_not(None),
                                                       NotificationRow.read_at_ms < read_before_ms)
                      .limit(EXPIRY_CHUNK))
            with self._db.session() as session:
                removed = session.execute(delete(NotificationRow).where(NotificationRow.id.in_(doomed))
                                          .execution_options(synchronize_session=False)).rowcount
            total += removed
            if removed < EXPIRY_CHUNK:
                return total
