"""The audit trail of analytics queries: who ran what, when, how many rows, how long, and the outcome."""
from __future__ import annotations

import logging
import time
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Iterator

from sqlalchemy import select

from app.errors import ApiError, BadRequest
from app.models import AnalyticsAudit, User
from app.storage import StorageError
from app.storage.sql import Database

log = logging.getLogger(__name__)
UNCOUNTED = -1  # exports stream their rows without counting them


@dataclass
class AuditRecord:
    """One query being audited; the code running it fills in `rows`."""

    user_id: int
    kind: str
    query_text: str
    rows: int = 0


def outcome_of(exc: BaseException | None) -> str:
    """`ok`, the client-facing error code, `aborted` (the client went away) or `internal_error`."""
    if exc is None:
        return "ok"
    if isinstance(exc, ApiError):
        return exc.code[:32]
    if isinstance(exc, GeneratorExit):
        return "aborted"
    return "store_unavailable" if isinstance(exc, StorageError) else "internal_error"


class AuditLog:
    """Writes and pages `analytics_audit` rows in the SQL store."""

    def __init__(self, db: Database) -> None:
        self._db = db

    @contextmanager
    def recording(self, user_id: int, kind: str, query_text: str) -> Iterator[AuditRecord]:
        """Audit the block: its outcome (refusals included), rows and time; nothing runs unaudited."""
        record = AuditRecord(user_id, kind, query_text)
        started = time.monotonic()
        try:
            yield record
        except BaseException as exc:
            self._write_quietly(record, outcome_of(exc), started)
            raise
        self.write(record, "ok", started)

    def write(self, record: AuditRecord, outcome: str, started: float) -> None:
        """Store one entry (a StorageError when the SQL store cannot take it)."""
        entry = AnalyticsAudit(user_id=record.user_id, kind=record.kind, query_text=record.query_text,
                               outcome=outcome, rows=record.rows,
                               elapsed_ms=int((time.monotonic() - started) * 1000))
        with self._db.session() as session:
            session.add(entry)

    def _write_quietly(self, record: AuditRecord, outcome: str, started: float) -> None:
        try:
            self.write(record, outcome, started)
        except StorageError:  # the original error is what the caller must see
            log.exception("could not audit a failed analytics query")

    def page(self, limit: int, cursor: str | None, kind: str | None, user_id: int | None) -> dict[str, Any]:
        """Entries newest first, with the cursor of the next page."""
        before = _decode_cursor(cursor)
        statement = select(AnalyticsAudit, User.username).outerjoin(User, User.id == AnalyticsAudit.user_id)
        if before is not None:
            statement = statement.where(AnalyticsAudit.id < before)
        if kind:
            statement = statement.where(AnalyticsAudit.kind == kind)
        if user_id is not None:
            statement = statement.where(AnalyticsAudit.user_id == user_id)
        statement = statement.order_by(AnalyticsAudit.id.desc()).limit(limit + 1)
        with self._db.session() as session:
            found = session.execute(statement).all()
        entries = [_entry(row, username) for row, username in found[:limit]]
        more = len(found) > limit
        return {"entries": entries, "next_cursor": str(entries[-1]["id"]) if more else None}


def _entry(row: AnalyticsAudit, username: str | None) -> dict[str, Any]:
    return {"id": row.id, "user_id": row.user_id, "username": username, "kind": row.kind,
            "query_text": row.query_text, "outcome": row.outcome, "rows": row.rows,
            "elapsed_ms": row.elapsed_ms, "created_at_ms": row.created_at_ms}


def _decode_cursor(cursor: str | None) -> int | None:
    if cursor is None or cursor == "":
        return None
    if not cursor.isdigit():
        raise BadRequest("The cursor is not valid.", code="invalid_cursor")
    return int(cursor)

