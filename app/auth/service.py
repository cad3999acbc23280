"""Accounts: creating, authenticating and resolving users."""
from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from app.auth.passwords import hash_password, verify_password
from app.auth.tokens import Claims, TokenError, TokenSigner
from app.errors import ApiError, Conflict, Unauthorized
from app.models import ROLES, User
from app.storage.sql import Database


class AuthService:
    """Users, passwords and tokens, over the SQL store."""

    def __init__(self, db: Database, signer: TokenSigner) -> None:
        self._db = db
        self.signer = signer

    def create_user(self, username: str, password: str, role: str = "user", email: str | None = None) -> User:
        """Create an account; 409 `username_taken` when the name exists."""
        if role not in ROLES:
            raise ApiError(f"role must be one of {', '.join(ROLES)}", code="invalid_role")
        user = User(username=username, password_hash=hash_password(password), role=role, email=email)
        try:
            with self._db.session() as session:
                session.add(user)
        except Exception as exc:
            if isinstance(exc.__cause__, IntegrityError) or isinstance(exc, IntegrityError):
                raise Conflict("That username is taken.", code="username_taken") from exc
            raise
        return user

    def authenticate(self, username: str, password: str) -> User:
        """The user for these credentials, else 401 `invalid_credentials`."""
        with self._db.session() as session:
            user = session.scalar(select(User).where(User.username == username))
        if not verify_password(user.password_hash if user else None, password) or user is None:
            raise Unauthorized("Wrong username or password.", code="invalid_credentials")
        return user

    def token_for(self, user: User) -> dict:
        """The contract's `{user, token, expires_in}`."""
        return {"user": user.public(), "token": self.signer.issue(user.id, user.role),
                "expires_in": self.signer.ttl_seconds}

    def user_for_token(self, token: str | None) -> User:
        """Resolve a bearer token to a live user; 401 `invalid_token` for anything else."""
        if not token:
            raise Unauthorized("A valid bearer token is required.")
        try:
            claims: Claims = self.signer.verify(token)
        except TokenError as exc:
            raise Unauthorized("The token is invalid or expired.") from exc
        user = self.get_user(claims.user_id)
        if user is None:
            raise Unauthorized("The token's user does not exist.")
        return user

    def get_user(self, user_id: int) -> User | None:
        """A user by id, or None."""
        with self._db.session() as session:
            return session.get(User, user_id)
