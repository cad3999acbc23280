"""The SQL side of documents: heads, their revision history, and the one commit that moves a head."""
from __future__ import annotations

import json
from dataclasses import dataclass
from operator import itemgetter
from typing import Any, Callable, Sequence, cast

from sqlalchemy import Connection, Engine, Select, Table, bindparam, func, insert, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.exc import IntegrityError, SQLAlchemyError

from app.json_codec import dumps_text
from app.models import Channel, Document, Operation
from app.storage import StorageError
from app.storage.sql import Database

_DOCS = cast(Table, Document.__table__)
_OPS = cast(Table, Operation.__table__)
# Built once: the commit is the hot path, and building statements costs more than running them.
_MOVE_HEAD = (update(_DOCS)
              .where(_DOCS.c.id == bindparam("doc_id"), _DOCS.c.revision == bindparam("expected"))
              .values(content=bindparam("new_content"), revision=bindparam("new_revision"),
                      updated_at_ms=bindparam("now")))
_LOCK_HEAD = update(_DOCS).where(_DOCS.c.id == bindparam("doc_id")).values(updated_at_ms=_DOCS.c.updated_at_ms)
_READ_HEAD = select(_DOCS.c.channel_id, _DOCS.c.content, _DOCS.c.revision, _DOCS.c.base_revision
                    ).where(_DOCS.c.id == bindparam("doc_id"))
_APPEND = insert(_OPS).values({name: bindparam(name) for name in (
    "document_id", "revision", "op_id", "client_id", "user_id", "operation", "server_timestamp_ms")})
_OP_COLUMNS = (_OPS.c.revision, _OPS.c.op_id, _OPS.c.client_id, _OPS.c.user_id, _OPS.c.operation,
               _OPS.c.server_timestamp_ms)


class CommitConflict(Exception):
    """The head moved (another writer committed first) or an op id is already stored: re-read, retry."""


class ChannelMissing(Exception):
    """The channel a document belongs to does not exist (any more)."""


@dataclass(frozen=True, slots=True)
class StoredDocument:
    """A document head as stored: its text at `revision`, and where its kept history starts."""

    channel_id: str
    content: str
    revision: int
    base_revision: int


@dataclass(frozen=True, slots=True)
class StoredOperation:
    """One revision of the history, exactly what an `operation` frame carries."""

    revision: int
    op_id: str
    client_id: int
    user_id: int
    operation: dict[str, Any]
    server_timestamp_ms: int

    def payload(self, document_id: str) -> dict[str, Any]:
        """The `operation` frame's payload (also an item of GET .../operations)."""
        return {"document_id": document_id, "revision": self.revision, "user_id": self.user_id,
                "client_id": self.client_id, "op_id": self.op_id,
                "server_timestamp": self.server_timestamp_ms, "operation": self.operation}


ReadAfter = Callable[[int, "int | None"], list[StoredOperation]]
Write = tuple[int, str, Sequence[StoredOperation]]  # (expected revision, new content, operations)
Replan = Callable[[StoredDocument, ReadAfter], "Write | None"]


class SqlDocumentStore:
    """Reads heads and history; commits a batch of revisions with a check that the head has not moved."""

    def __init__(self, db: Database) -> None:
        self._db = db
        self._driver_commit = _DriverCommit(db.engine)

    def load(self, document_id: str) -> StoredDocument | None:
        """The stored head, or None for a document never edited."""
        query = select(_DOCS.c.channel_id, _DOCS.c.content, _DOCS.c.revision, _DOCS.c.base_revision
                       ).where(_DOCS.c.id == document_id)
        with _wrapped(), self._db.engine.connect() as conn:
            row = conn.execute(query).first()
        return StoredDocument(*row) if row is not None else None

    def operations_after(self, document_id: str, from_revision: int,
                         limit: int | None = None) -> list[StoredOperation]:
        """The revisions after `from_revision`, oldest first (at most `limit`)."""
        with _wrapped(), self._db.engine.connect() as conn:
            return [_operation(row) for row in conn.execute(_after(document_id, from_revision, limit))]

    def operations_by_op_id(self, document_id: str, op_ids: Sequence[str]) -> dict[str, StoredOperation]:
        """Stored revisions whose op id is one of `op_ids` (to acknowledge a resend again)."""
        if not op_ids:
            return {}
        query = select(*_OP_COLUMNS).where(_OPS.c.document_id == document_id, _OPS.c.op_id.in_(list(op_ids)))
        with _wrapped(), self._db.engine.connect() as conn:
            return {row.op_id: _operation(row) for row in conn.execute(query)}

    def channel_exists(self, channel_id: str) -> bool:
        """Whether the channel a document id names exists (documents live and die with it)."""
        query = select(func.count()).select_from(Channel).where(Channel.id == channel_id)
        with _wrapped(), self._db.engine.connect() as conn:
            return bool(conn.execute(query).scalar())

    def create(self, channel_id: str, document_id: str, now_ms: int) -> None:
        """Make the empty head (revision 0) of a document about to get its first edit, unless it exists.

        Raises ChannelMissing when the channel is gone (the foreign key refuses the row).
        """
        insert_for = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        stmt = insert_for(_DOCS).values(id=document_id, channel_id=channel_id, content="", revision=0,
                                        base_revision=0, base_content="", updated_at_ms=now_ms)
        try:
            with self._db.engine.begin() as conn:
                conn.execute(stmt.on_conflict_do_nothing(index_elements=[_DOCS.c.id]))
        except IntegrityError as exc:
            raise ChannelMissing(channel_id) from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc

    def commit(self, document_id: str, expected_revision: int, content: str,
               operations: Sequence[StoredOperation], now_ms: int) -> None:
        """Store `operations` and the new head in one transaction, iff the head is still `expected_revision`.

        Raises CommitConflict when another writer moved the head first or an op id is already
        stored; nothing is written then.
        """
        self._driver_commit(document_id, expected_revision, content, operations, now_ms)

    def commit_locked(self, document_id: str, replan: Replan, now_ms: int) -> bool:
        """Commit with the head's row locked, so that this writer cannot lose to another again.

        `replan(head, read_after)` gets the head read under the lock and a reader of the stored
        revisions in the same transaction, and returns what to write (or None for nothing).
        Returns False when the document row is gone. Raises CommitConflict on a duplicate op id.
        """
        try:
            with self._db.engine.begin() as conn:
                if conn.execute(_LOCK_HEAD, {"doc_id": document_id}).rowcount != 1:
                    return False
                row = conn.execute(_READ_HEAD, {"doc_id": document_id}).one()
                head = StoredDocument(row.channel_id, row.content, row.revision, row.base_revision)

                def read_after(from_revision: int, limit: int | None = None) -> list[StoredOperation]:
                    return [_operation(r) for r in conn.execute(_after(document_id, from_revision, limit))]

                write = replan(head, read_after)
                if write is not None:
                    _write(conn, document_id, *write, now_ms=now_ms)
                return True
        except IntegrityError as exc:
            raise CommitConflict(f"{document_id}: {exc.__class__.__name__}") from exc
        except SQLAlchemyError as exc:
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc


def _head_params(document_id: str, expected_revision: int, content: str, count: int,
                 now_ms: int) -> dict[str, Any]:
    return {"doc_id": document_id, "expected": expected_revision, "new_content": content,
            "new_revision": expected_revision + count, "now": now_ms}


def _operation_rows(document_id: str, operations: Sequence[StoredOperation]) -> list[dict[str, Any]]:
    return [{"document_id": document_id, "revision": op.revision, "op_id": op.op_id,
             "client_id": op.client_id, "user_id": op.user_id,
             "operation": dumps_text(op.operation),
             "server_timestamp_ms": op.server_timestamp_ms} for op in operations]


class _DriverCommit:
    """The optimistic commit on the driver's own connection: the editing hot path.

    The same two statements as `_write`, compiled once for the engine's dialect and run on
    a raw DBAPI connection from the engine's pool: SQLAlchemy's per-execution machinery
    cost more than SQLite's own work for a batch of a few operations.
    """

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        dbapi = engine.dialect.dbapi
        assert dbapi is not None
        self._integrity_error: type[Exception] = dbapi.IntegrityError
        self._driver_error: type[Exception] = dbapi.Error
        self._move_head = _DriverStatement(_MOVE_HEAD, engine)
        self._append = _DriverStatement(_APPEND, engine)

    def __call__(self, document_id: str, expected_revision: int, content: str,
                 operations: Sequence[StoredOperation], now_ms: int) -> None:
        try:
            raw = self._engine.raw_connection()
        except SQLAlchemyError as exc:
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc
        try:
            cursor = raw.cursor()
            head = _head_params(document_id, expected_revision, content, len(operations), now_ms)
            cursor.execute(self._move_head.sql, self._move_head.params(head))
            if cursor.rowcount != 1:
                self._rollback(raw)
                raise CommitConflict(f"{document_id} is no longer at revision {expected_revision}")
            cursor.executemany(self._append.sql,
                               [self._append.params(row) for row in _operation_rows(document_id, operations)])
            raw.commit()
        except self._integrity_error as exc:
            self._rollback(raw)
            raise CommitConflict(f"{document_id}: {exc.__class__.__name__}") from exc
        except self._driver_error as exc:
            self._rollback(raw)
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc
        finally:
            raw.close()

    def _rollback(self, raw: Any) -> None:
        """Undo the transaction; a connection too broken to roll back is the pool's to replace."""
        try:
            raw.rollback()
        except self._driver_error:
            raw.invalidate()


class _DriverStatement:
    """A Core statement compiled for one dialect: its SQL text and how to order its parameters."""

    def __init__(self, statement: Any, engine: Engine) -> None:
        compiled = statement.compile(dialect=engine.dialect)
        self.sql: str = compiled.string
        self._order: tuple[str, ...] | None = tuple(compiled.positiontup) if compiled.positional else None
        # With two or more names, itemgetter returns their values as a tuple, built in C.
        self._pick: Callable[[dict[str, Any]], Any] | None = (
            itemgetter(*self._order) if self._order and len(self._order) > 1 else None)

    def params(self, values: dict[str, Any]) -> Any:
        """Parameters in the driver's style: a tuple for `?`, the dict itself for `%(name)s`."""
        if self._pick is not None:
            return self._pick(values)
        return values if self._order is None else tuple(values[name] for name in self._order)


def _write(conn: Connection, document_id: str, expected_revision: int, content: str,
           operations: Sequence[StoredOperation], now_ms: int) -> None:
    """Move the head from `expected_revision` and append the operations (CommitConflict if it moved)."""
    head = _head_params(document_id, expected_revision, content, len(operations), now_ms)
    if conn.execute(_MOVE_HEAD, head).rowcount != 1:
        raise CommitConflict(f"{document_id} is no longer at revision {expected_revision}")
    conn.execute(_APPEND, _operation_rows(document_id, operations))


def _after(document_id: str, from_revision: int, limit: int | None) -> Select:
    """The revisions after `from_revision`, oldest first."""
    query = (select(*_OP_COLUMNS).where(_OPS.c.document_id == document_id, _OPS.c.revision > from_revision)
             .order_by(_OPS.c.revision))
    return query.limit(limit) if limit is not None else query


def _operation(row: Any) -> StoredOperation:
    return StoredOperation(row.revision, row.op_id, row.client_id, row.user_id,
                           json.loads(row.operation), row.server_timestamp_ms)


class _wrapped:
    """Turn driver errors into StorageError, the one error type stores raise."""

    def __enter__(self) -> None:
        return None

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None, tb: Any) -> None:
        if isinstance(exc, SQLAlchemyError):
            raise StorageError(f"SQL store failed: {exc.__class__.__name__}") from exc
