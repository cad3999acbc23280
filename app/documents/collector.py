"""Operation GC: history older than the retention is folded into each document's base snapshot."""
from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from typing import Callable, cast

from sqlalchemy import Table, delete, func, select, update
from sqlalchemy.exc import SQLAlchemyError

from app.models import Document, Operation
from app.models.base import now_ms
from app.storage import StorageError
from app.storage.sql import Database
from ot import apply_revisions, components_from_wire

log = logging.getLogger(__name__)

_DOCS = cast(Table, Document.__table__)
_OPS = cast(Table, Operation.__table__)
DAY_MS = 86_400_000


@dataclass(frozen=True)
class Collected:
    """What one collection removed: from how many documents, how many operations."""

    documents: int
    operations: int


class OperationCollector:
    """Deletes operations older than a cutoff behind a snapshot (base_revision, base_content)."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def collect(self, older_than_ms: int, on_document: Callable[[str, int], None] | None = None) -> Collected:
        """Collect every document's operations stored before `older_than_ms` (unix ms)."""
        query = (select(_OPS.c.document_id, func.max(_OPS.c.revision))
                 .where(_OPS.c.server_timestamp_ms < older_than_ms).group_by(_OPS.c.document_id))
        try:
            with self._db.engine.connect() as conn:
                targets = list(conn.execute(query))
            documents = operations = 0
            for document_id, upto in targets:
                removed = self._collect_document(document_id, upto)
                if removed:
                    documents, operations = documents + 1, operations + removed
                    if on_document is not None:
                        on_document(document_id, upto)
        except SQLAlchemyError as exc:
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc
        return Collected(documents, operations)

    def _collect_document(self, document_id: str, upto: int) -> int:
        """Advance one document's snapshot to revision `upto` and delete the history it covers."""
        with self._db.engine.begin() as conn:
            row = conn.execute(select(_DOCS.c.base_revision, _DOCS.c.base_content)
                               .where(_DOCS.c.id == document_id)).first()
            if row is None or row.base_revision >= upto:
                return 0
            stored = conn.execute(select(_OPS.c.revision, _OPS.c.operation)
                                  .where(_OPS.c.document_id == document_id, _OPS.c.revision > row.base_revision,
                                         _OPS.c.revision <= upto).order_by(_OPS.c.revision)).all()
            if [r.revision for r in stored] != list(range(row.base_revision + 1, upto + 1)):
                log.warning("%s: history before %d is not contiguous; not collected", document_id, upto)
                return 0
            base = apply_revisions(row.base_content,
                                   [components_from_wire(json.loads(r.operation)) for r in stored])
            moved = conn.execute(update(_DOCS).where(_DOCS.c.id == document_id,
                                                     _DOCS.c.base_revision == row.base_revision)
                                 .values(base_revision=upto, base_content=base))
            if moved.rowcount != 1:
                return 0
            conn.execute(delete(_OPS).where(_OPS.c.document_id == document_id, _OPS.c.revision <= upto))
            return len(stored)


def cutoff_ms(retention_days: float) -> int:
    """The unix ms before which operations are collected, for a retention in days."""
    return now_ms() - int(retention_days * DAY_MS)

