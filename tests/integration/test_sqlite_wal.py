"""WAL checkpoints run in the background on a real SQLite file, and the commits no longer do them."""
from __future__ import annotations

import sqlite3
from pathlib import Path

from sqlalchemy import text

from app.storage.sql import Database
from app.storage.wal_checkpoint import AUTOCHECKPOINT_PAGES


def _write_rows(db: Database, rows: int) -> None:
    with db.engine.begin() as conn:
        conn.execute(text("CREATE TABLE IF NOT EXISTS notes (id INTEGER PRIMARY KEY, body TEXT)"))
    for i in range(rows):
        with db.engine.begin() as conn:
            conn.execute(text("INSERT INTO notes (body) VALUES (:b)"), {"b": "x" * 3000 + str(i)})


def test_commits_leave_the_log_to_the_background_round(tmp_path: Path) -> None:
    path = tmp_path / "app.db"
    db = Database(f"sqlite:///{path}")
    try:
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("PRAGMA wal_autocheckpoint").scalar() == AUTOCHECKPOINT_PAGES
        _write_rows(db, 400)  # ~1200 pages of log: past SQLite's default of 1000, under ours
        wal = path.with_name(path.name + "-wal")
        assert wal.stat().st_size > 1000 * 4096
        assert path.stat().st_size < 100_000  # no commit stopped to copy the log into the file
        checkpointer = db.wal_checkpointer()
        assert checkpointer is not None
        checkpointer.checkpoint()
        assert path.stat().st_size > 400 * 3000  # the background round copied it
        with sqlite3.connect(path) as probe:  # and left nothing for anyone else to copy
            _busy, log_frames, copied = probe.execute("PRAGMA wal_checkpoint(PASSIVE)").fetchone()
        assert log_frames == copied
        checkpointer.close()
        with db.engine.connect() as conn:
            assert conn.exec_driver_sql("SELECT count(*) FROM notes").scalar() == 400
    finally:
        db.dispose()

