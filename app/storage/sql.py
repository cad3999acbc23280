"""The SQL engine (SQLite embedded, PostgreSQL beyond one machine) and its sessions."""
from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from app.storage import StorageError
from app.storage.wal_checkpoint import AUTOCHECKPOINT_PAGES, JOURNAL_SIZE_LIMIT, WalCheckpointer


def make_engine(url: str) -> Engine:
    """Create the engine for a URL, tuned for its dialect."""
    if url.startswith("sqlite"):
        path = url.split("///", 1)[-1]
        if path and path != ":memory:":
            Path(path).parent.mkdir(parents=True, exist_ok=True)
        # One connection at a time: SQLite has one writer anyway, and a second greenlet
        # waiting in sqlite's busy handler would block the whole gevent loop.
        engine = create_engine(url, pool_size=1, max_overflow=0, pool_timeout=30,
                               connect_args={"check_same_thread": False, "timeout": 30})
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if url.startswith("postgresql://"):
        url = "postgresql+psycopg://" + url[len("postgresql://"):]
    return create_engine(url, pool_size=10, max_overflow=20, pool_pre_ping=True)


def _sqlite_pragmas(dbapi_connection, _record) -> None:  # type: ignore[no-untyped-def]
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA synchronous=NORMAL")
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute(f"PRAGMA wal_autocheckpoint={AUTOCHECKPOINT_PAGES}")  # see wal_checkpoint.py
    cursor.execute(f"PRAGMA journal_size_limit={JOURNAL_SIZE_LIMIT}")
    cursor.close()


class Database:
    """Owns the engine and hands out transactional sessions."""

    def __init__(self, url: str) -> None:
        self.url = url
        self.engine = make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def wal_checkpointer(self) -> WalCheckpointer | None:
        """Background checkpoints for a SQLite file (None for PostgreSQL or in-memory SQLite)."""
        if self.engine.dialect.name != "sqlite":
            return None
        path = self.engine.url.database
        return WalCheckpointer(path) if path and path != ":memory:" else None

    @property
    def dialect(self) -> str:
        """`sqlite` or `postgresql`: some upserts differ by dialect."""
        return self.engine.dialect.name

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session committed on success and rolled back on error; driver errors wrapped."""
        session = self._sessions()
        try:
            yield session
            session.commit()
        except SQLAlchemyError as exc:
            session.rollback()
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def ping(self) -> bool:
        """True when a trivial query succeeds."""
        try:
            with self.engine.connect() as conn:
                conn.exec_driver_sql("SELECT 1")
            return True
        except SQLAlchemyError:
            return False

    def dispose(self) -> None:
        """Close pooled connections."""
        self.engine.dispose()
