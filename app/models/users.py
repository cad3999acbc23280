"""Accounts and their roles."""
from sqlalchemy import BigInteger, Integer, String
from sqlalchemy.orm import Mapped, mapped_column

from app.models.base import Base, now_ms

ROLES = ("user", "support", "admin", "service")


class User(Base):
    """A person or a backend service that signs in."""

    __tablename__ = "users"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    username: Mapped[str] = mapped_column(String(64), unique=True, nullable=False)
    email: Mapped[str | None] = mapped_column(String(254), nullable=True)
    password_hash: Mapped[str] = mapped_column(String(255), nullable=False)
    role: Mapped[str] = mapped_column(String(16), nullable=False, default="user")
    avatar_upload_id: Mapped[str | None] = mapped_column(String(36), nullable=True)
    created_at_ms: Mapped[int] = mapped_column(BigInteger, nullable=False, default=now_ms)

    def public(self) -> dict:
        """The contract's `user` object."""
        return {"id": self.id, "username": self.username, "role": self.role}
