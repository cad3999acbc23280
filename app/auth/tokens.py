"""HS256 JWTs with sub, role, iat and exp; anything else is refused."""
from __future__ import annotations

import time
from dataclasses import dataclass

import jwt

ALGORITHM = "HS256"


class TokenError(Exception):
    """The token is missing, malformed, forged, of another algorithm or expired."""


@dataclass(frozen=True)
class Claims:
    """The verified claims of a token."""

    user_id: int
    role: str
    issued_at: int
    expires_at: int


class TokenSigner:
    """Issues and verifies tokens with one secret."""

    def __init__(self, secret: str, ttl_seconds: int) -> None:
        self._secret = secret
        self.ttl_seconds = ttl_seconds

    def issue(self, user_id: int, role: str, now: int | None = None) -> str:
        """A token for this user and role, valid for the configured lifetime."""
        issued = int(time.time()) if now is None else now
        payload = {"sub": str(user_id), "role": role, "iat": issued, "exp": issued + self.ttl_seconds}
        return jwt.encode(payload, self._secret, algorithm=ALGORITHM)

    def verify(self, token: str) -> Claims:
        """Verify the signature, the algorithm (HS256 only) and the expiry."""
        try:
            payload = jwt.decode(token, self._secret, algorithms=[ALGORITHM],
                                 options={"require": ["sub", "role", "iat", "exp"]})
            return Claims(int(payload["sub"]), str(payload["role"]), int(payload["iat"]), int(payload["exp"]))
        except (jwt.PyJWTError, ValueError, TypeError) as exc:
            raise TokenError(str(exc)) from exc
