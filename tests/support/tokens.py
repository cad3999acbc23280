"""Tokens a client could forge, for tests of the refusal paths."""
from __future__ import annotations

import base64
import json
import time

import jwt

SERVER_SECRET = "srv-secret-" + "y" * 40  # the session server's SECRET_KEY (tests/conftest.py)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def bad_tokens(user_id: int) -> dict[str, str | None]:
    """Every way a token must be refused: missing, forged, alg none, expired, unknown user, garbage."""
    now = int(time.time())
    claims = {"sub": str(user_id), "role": "admin", "iat": now, "exp": now + 600}
    return {
        "missing": None,
        "forged": jwt.encode(claims, "not-the-server-secret-" + "q" * 30, algorithm="HS256"),
        "alg_none": _b64({"alg": "none", "typ": "JWT"}) + "." + _b64(claims) + ".",
        "expired": jwt.encode({**claims, "iat": now - 7200, "exp": now - 3600}, SERVER_SECRET, algorithm="HS256"),
        "unknown_user": jwt.encode({**claims, "sub": "987654321"}, SERVER_SECRET, algorithm="HS256"),
        "garbage": "not.a.token",
    }
