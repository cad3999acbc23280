"""Sentry-protocol projects and their DSN keys."""
from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, now_ms


class Project(Base):
    """A source of Sentry SDK reports (this server, a web front end, another service)."""

    __tablename__ = "projects"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128), unique=True, nullable=False)
    created_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)


class ProjectKey(Base):
    """A DSN public key; revoked keys are kept so a revoked DSN gets 403, not 401."""

    __tablename__ = "project_keys"

    public_key: Mapped[str] = mapped_column(String(64), primary_key=True)
    project_id: Mapped[int] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    revoked_at_ms: Mapped[int | None] = mapped_column(BigInteger, nullable=True)
