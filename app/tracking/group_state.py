"""The SQL side of groups: status and first/last seen, updated in one transaction per flush."""
from __future__ import annotations

from typing import Iterable, Sequence

from sqlalchemy import case, select
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from app.models import ErrorGroup, now_ms
from app.storage.sql import Database


class GroupStateStore:
    """Upserts groups as events arrive; reads and changes their status."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def record_seen(self, groups: Iterable[dict]) -> None:
        """Insert new groups; widen first/last seen of known ones; a resolved group becomes regressed."""
        rows = list(groups)
        if not rows:
            return
        insert = pg_insert if self._db.dialect == "postgresql" else sqlite_insert
        stmt = insert(ErrorGroup).values(rows)
        new = stmt.excluded
        table = ErrorGroup.__table__.c
        stmt = stmt.on_conflict_do_update(index_elements=[table.id], set_={
            "first_seen_ms": case((new.first_seen_ms < table.first_seen_ms, new.first_seen_ms),
                                  else_=table.first_seen_ms),
            "last_seen_ms": case((new.last_seen_ms > table.last_seen_ms, new.last_seen_ms),
                                 else_=table.last_seen_ms),
            "severity": case((new.last_seen_ms >= table.last_seen_ms, new.severity), else_=table.severity),
            "status": case((table.status == "resolved", "regressed"), else_=table.status),
            "status_changed_at_ms": case((table.status == "resolved", new.status_changed_at_ms),
                                         else_=table.status_changed_at_ms),
        })
        with self._db.session() as session:
            session.execute(stmt)

    def get_many(self, group_ids: Sequence[str]) -> dict[str, ErrorGroup]:
        """Groups by id (missing ids are simply absent)."""
        if not group_ids:
            return {}
        with self._db.session() as session:
            found = session.scalars(select(ErrorGroup).where(ErrorGroup.id.in_(list(group_ids))))
            return {g.id: g for g in found}

    def ids_matching(self, status: str | None, text: str | None, severity: str | None = None,
                     limit: int = 10_000) -> list[str]:
        """Ids of groups with this status and severity and/or whose message contains `text` (any case)."""
        query = select(ErrorGroup.id)
        if status:
            query = query.where(ErrorGroup.status == status)
        if severity:
            query = query.where(ErrorGroup.severity == severity)
        if text:
            escaped = text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
            query = query.where(ErrorGroup.message.ilike(f"%{escaped}%", escape="\\"))
        with self._db.session() as session:
            return list(session.scalars(query.order_by(ErrorGroup.last_seen_ms.desc()).limit(limit)))

    def set_status(self, group_id: str, status: str, user_id: int) -> ErrorGroup | None:
        """Change a group's status; None when it does not exist."""
        with self._db.session() as session:
            group = session.get(ErrorGroup, group_id)
            if group is None:
                return None
            group.status = status
            group.status_changed_at_ms = now_ms()
            group.status_changed_by = user_id
            return group


def groups_from_rows(rows: Sequence[Sequence], columns: Sequence[str]) -> list[dict]:
    """Collapse event rows into one upsert row per group (first and last seen, latest severity)."""
    at = {name: i for i, name in enumerate(columns)}
    groups: dict[str, dict] = {}
    now = now_ms()
    for row in rows:
        ts_ms = int(row[at["ts"]].timestamp() * 1000)
        gid = row[at["group_id"]]
        group = groups.get(gid)
        if group is None:
            groups[gid] = {"id": gid, "project_id": row[at["project_id"]], "source": row[at["source"]],
                           "severity": row[at["severity"]], "message": row[at["message"]][:4096],
                           "status": "unresolved", "first_seen_ms": ts_ms, "last_seen_ms": ts_ms,
                           "status_changed_at_ms": now}
            continue
        group["first_seen_ms"] = min(group["first_seen_ms"], ts_ms)
        if ts_ms >= group["last_seen_ms"]:
            group["last_seen_ms"] = ts_ms
            group["severity"] = row[at["severity"]]
    return list(groups.values())
