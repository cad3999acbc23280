"""Channels and who belongs to them."""
from sqlalchemy import BigInteger, ForeignKey, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, now_ms


class Channel(Base):
    """A shared space owned by one user; its documents are edited by its members."""

    __tablename__ = "channels"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    name: Mapped[str] = mapped_column(String(128), nullable=False)
    owner_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), nullable=False, index=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)


class ChannelMember(Base):
    """Membership of one user in one channel (the owner is a member too)."""

    __tablename__ = "channel_members"

    channel_id: Mapped[str] = mapped_column(ForeignKey("channels.id", ondelete="CASCADE"), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"), primary_key=True, index=True)
    joined_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)
