"""Error group state: the part of a group that changes transactionally (status, first/last seen)."""
from sqlalchemy import BigInteger, Index, Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, now_ms

GROUP_STATUSES = ("unresolved", "resolved", "ignored", "regressed")


class ErrorGroup(Base):
    """One group of similar errors; its id is the fingerprint the events carry in ClickHouse."""

    __tablename__ = "error_groups"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    source: Mapped[str] = mapped_column(String(64), nullable=False)
    severity: Mapped[str] = mapped_column(String(16), nullable=False)
    message: Mapped[str] = mapped_column(Text, nullable=False)
    status: Mapped[str] = mapped_column(String(16), nullable=False, default="unresolved")
    first_seen_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    last_seen_ms: Mapped[int] = mapped_column(BigInteger, nullable=False)
    status_changed_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
    status_changed_by: Mapped[int | None] = mapped_column(Integer, nullable=True)

    __table_args__ = (Index("ix_error_groups_status_last_seen", "status", "last_seen_ms"),)
