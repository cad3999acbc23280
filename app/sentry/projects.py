"""Projects and their DSN keys in SQL: create, list, add and revoke keys, and check a key on ingest."""
from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError

from app.errors import BadRequest, Conflict, Forbidden, NotFound, Unauthorized
from app.models import Project, ProjectKey, now_ms
from app.sentry.auth import well_formed
from app.storage import StorageError
from app.storage.sql import Database

_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,127}$")


@dataclass(frozen=True)
class KeyInfo:
    """A key as operators see it."""

    public_key: str
    project_id: int
    project_name: str
    created_at_ms: int
    revoked_at_ms: int | None


def new_public_key() -> str:
    """32 hex digits, the shape of Sentry's own public keys."""
    return secrets.token_hex(16)


class ProjectRegistry:
    """The SQL side of Sentry projects."""

    def __init__(self, db: Database) -> None:
        self._db = db

    def create(self, name: str) -> KeyInfo:
        """A new project with one key; 409 when the name is taken, 400 when it is malformed."""
        if not _NAME.match(name):
            raise BadRequest("A project name is 1-128 of letters, digits, '_', '.', '-', starting "
                             "with a letter or digit.", code="invalid_name")
        project = Project(name=name)
        try:
            with self._db.session() as session:
                session.add(project)
                session.flush()
                key = ProjectKey(public_key=new_public_key(), project_id=project.id)
                session.add(key)
        except StorageError as exc:
            if isinstance(exc.__cause__, IntegrityError):
                raise Conflict(f"A project named {name!r} exists.", code="project_exists") from exc
            raise
        return KeyInfo(key.public_key, project.id, project.name, key.created_at_ms, None)

    def add_key(self, name: str) -> KeyInfo:
        """One more key for a project (to rotate: add a key, deploy it, revoke the old one)."""
        with self._db.session() as session:
            project = self._project(session, name)
            key = ProjectKey(public_key=new_public_key(), project_id=project.id)
            session.add(key)
            session.flush()
            return KeyInfo(key.public_key, project.id, project.name, key.created_at_ms, None)

    def projects(self) -> list[tuple[Project, int]]:
        """Every project with its number of active keys."""
        active = (select(ProjectKey.project_id, func.count().label("n"))
                  .where(ProjectKey.revoked_at_ms.is_(None)).group_by(ProjectKey.project_id).subquery())
        query = (select(Project, func.coalesce(active.c.n, 0))
                 .outerjoin(active, active.c.project_id == Project.id).order_by(Project.id))
        with self._db.session() as session:
            return [(project, int(count)) for project, count in session.execute(query)]

    def keys(self, name: str) -> list[KeyInfo]:
        """A project's keys, revoked ones included, oldest first."""
        with self._db.session() as session:
            project = self._project(session, name)
            rows = session.scalars(select(ProjectKey).where(ProjectKey.project_id == project.id)
                                   .order_by(ProjectKey.created_at_ms, ProjectKey.public_key))
            return [KeyInfo(k.public_key, project.id, project.name, k.created_at_ms, k.revoked_at_ms)
                    for k in rows]

    def revoke(self, public_key: str) -> KeyInfo:
        """Revoke a key (kept, so its DSN gets 403 rather than 401); revoking twice is harmless."""
        with self._db.session() as session:
            key = session.get(ProjectKey, public_key)
            if key is None:
                raise NotFound(f"No key {public_key!r}.", code="unknown_key")
            if key.revoked_at_ms is None:
                key.revoked_at_ms = now_ms()
            project = session.get(Project, key.project_id)
            return KeyInfo(key.public_key, key.project_id, project.name if project else "",
                           key.created_at_ms, key.revoked_at_ms)

    def authenticate(self, project_id: int, public_key: str | None) -> KeyInfo:
        """The key if it may send to this project: 401 missing or unknown, 403 revoked or another project's."""
        if not public_key:
            raise Unauthorized("A Sentry key is required (X-Sentry-Auth or ?sentry_key=).", code="missing_key")
        if not well_formed(public_key):
            raise Unauthorized("Unknown Sentry key.", code="unknown_key")
        query = (select(ProjectKey, Project.name).join(Project, Project.id == ProjectKey.project_id)
                 .where(ProjectKey.public_key == public_key))
        with self._db.session() as session:
            found = session.execute(query).first()
        if found is None:
            raise Unauthorized("Unknown Sentry key.", code="unknown_key")
        key, project_name = found
        if key.revoked_at_ms is not None:
            raise Forbidden("This Sentry key has been revoked.", code="key_revoked")
        if key.project_id != project_id:
            raise Forbidden("This Sentry key belongs to another project.", code="wrong_project")
        return KeyInfo(key.public_key, key.project_id, project_name, key.created_at_ms, None)

    @staticmethod
    def _project(session, name: str) -> Project:  # type: ignore[no-untyped-def]
        project = session.scalar(select(Project).where(Project.name == name))
        if project is None:
            raise NotFound(f"No project named {name!r}.", code="unknown_project")
        return project
