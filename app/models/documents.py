"""Collaborative documents and their operation history."""
from sqlalchemy import BigInteger, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, now_ms


class Document(Base):
    """The current text of a document at `revision`; history older than `base_revision` is collected."""

    __tablename__ = "documents"

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), nullable=False, index=True)
    content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    base_revision: Mapped[int] = mapped_column(Integer, nullable=False, default=0)
    base_content: Mapped[str] = mapped_column(Text, nullable=False, default="")
    updated_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)


class Operation(Base):
    """One accepted revision: the transformed operation as applied, with who and when."""

    __tablename__ = "operations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    document_id: Mapped[str] = mapped_column(ForeignKey("documents.id", ondelete="CASCADE"), nullable=False)
    revision: Mapped[int] = mapped_column(Integer, nullable=False)
    op_id: Mapped[str] = mapped_column(String(128), nullable=False)
    client_id: Mapped[int] = mapped_column(BigInteger, nullable=False)
    user_id: Mapped[int] = mapped_column(Integer, nullable=False)
    operation: Mapped[str] = mapped_column(Text, nullable=False)
    server_timestamp_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)

    __table_args__ = (
        UniqueConstraint("document_id", "revision", name="uq_operations_document_revision"),
        UniqueConstraint("document_id", "op_id", name="uq_operations_document_op_id"),
    )
