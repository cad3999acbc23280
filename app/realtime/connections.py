"""The connection registry: this instance's live connections, by id and by user."""
from __future__ import annotations

import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from app.realtime.connection import Connection
    from app.realtime.relay import Envelope


class ConnectionTable:
    """Live connections indexed by connection id and by user; safe from any thread or greenlet."""

    def __init__(self, max_per_user: int) -> None:
        self.max_per_user = max_per_user
        self._by_id: dict[str, "Connection"] = {}
        self._by_user: dict[int, dict[str, "Connection"]] = {}
        self._lock = threading.Lock()

    def add(self, conn: "Connection") -> bool:
        """Register a connection; False when its user already has `max_per_user` of them."""
        with self._lock:
            mine = self._by_user.setdefault(conn.user_id, {})
            if len(mine) >= self.max_per_user:
                if not mine:
                    del self._by_user[conn.user_id]
                return False
            mine[conn.conn_id] = conn
            self._by_id[conn.conn_id] = conn
            return True

    def remove(self, conn: "Connection") -> bool:
        """Unregister a connection; True when it was its user's last one here."""
        with self._lock:
            self._by_id.pop(conn.conn_id, None)
            mine = self._by_user.get(conn.user_id, {})
            mine.pop(conn.conn_id, None)
            if mine:
                return False
            self._by_user.pop(conn.user_id, None)
            return True

    def of_user(self, user_id: int) -> list["Connection"]:
        """A user's connections here."""
        with self._lock:
            return list(self._by_user.get(user_id, {}).values())

    def has(self, conn_id: str) -> bool:
        """True when the connection is held by this instance."""
        return conn_id in self._by_id

    def all(self) -> list["Connection"]:
        """Every connection here (a snapshot)."""
        with self._lock:
            return list(self._by_id.values())

    def targets(self, envelope: "Envelope") -> list["Connection"]:
        """The local connections an envelope addresses (a snapshot, taken under the lock)."""
        with self._lock:
            if envelope.target == "all":
                return list(self._by_id.values())
            if envelope.target == "conns":
                return [c for c in (self._by_id.get(i) for i in envelope.ids) if c is not None]
            return [c for u in envelope.ids for c in self._by_user.get(u, {}).values()]

    def sizes(self) -> tuple[int, int]:
        """(connections, users) held here."""
        with self._lock:
            return len(self._by_id), len(self._by_user)
