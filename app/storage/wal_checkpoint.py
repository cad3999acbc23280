"""SQLite WAL checkpoints off the event loop.

By default the connection that commits runs a checkpoint whenever the write-ahead log passes
1000 pages: it copies the log into the database file and syncs it, on the gevent loop, and
every editor and request waits those few milliseconds (the OT benchmark's p99 was set by
them). Here a background round copies the log every CHECKPOINT_SECONDS on a connection of its
own, in a real thread (SQLite releases the GIL), and the committing connection only steps in
past AUTOCHECKPOINT_PAGES, when the background rounds cannot keep up.
"""
from __future__ import annotations

import logging
import sqlite3
import threading
from pathlib import Path

from app.storage.blocking import run_blocking

log = logging.getLogger(__name__)

CHECKPOINT_SECONDS = 0.25
AUTOCHECKPOINT_PAGES = 10_000   # ~40 MB of log before a commit checkpoints on its own
JOURNAL_SIZE_LIMIT = 64 << 20   # the log file is cut back to this after it restarts


class WalCheckpointer:
    """Runs PASSIVE checkpoints (never waiting on readers or the writer) of one SQLite file."""

    def __init__(self, path: str) -> None:
        self._path = path
        self._conn: sqlite3.Connection | None = None
        self._lock = threading.Lock()

    def checkpoint(self) -> None:
        """One round, in a pool thread; a busy or failed round is simply tried again next time."""
        run_blocking(self._checkpoint)

    def _checkpoint(self) -> None:
        with self._lock:
            try:
                if self._conn is None:
                    if not Path(self._path).exists():
                        return
                    self._conn = sqlite3.connect(self._path, timeout=0, check_same_thread=False,
                                                 isolation_level=None)
                self._conn.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchall()
            except sqlite3.Error as exc:
                log.debug("wal checkpoint skipped: %s", exc)

    def close(self) -> None:
        """Close the checkpoint connection."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
