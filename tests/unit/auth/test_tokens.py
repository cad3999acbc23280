"""Tokens: HS256 with sub, role, iat and exp; nothing else is accepted."""
import base64
import json
import time

import jwt
import pytest

from app.auth.tokens import TokenError, TokenSigner

SECRET = "k" * 48


def test_round_trip() -> None:
    signer = TokenSigner(SECRET, 60)
    claims = signer.verify(signer.issue(7, "support"))
    assert (claims.user_id, claims.role) == (7, "support")
    assert claims.expires_at - claims.issued_at == 60


def test_expired_token_is_refused() -> None:
    signer = TokenSigner(SECRET, 60)
    with pytest.raises(TokenError):
        signer.verify(signer.issue(7, "user", now=int(time.time()) - 3600))


def test_forged_signature_is_refused() -> None:
    forged = TokenSigner("another-secret-" + "z" * 40, 60).issue(7, "admin")
    with pytest.raises(TokenError):
        TokenSigner(SECRET, 60).verify(forged)


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def test_alg_none_is_refused() -> None:
    now = int(time.time())
    token = _b64({"alg": "none", "typ": "JWT"}) + "." + _b64({"sub": "7", "role": "admin", "iat": now, "exp": now + 60}) + "."
    with pytest.raises(TokenError):
        TokenSigner(SECRET, 60).verify(token)


def test_other_algorithm_with_same_secret_is_refused() -> None:
    now = int(time.time())
    long_secret = SECRET * 2  # HS512 wants 64 bytes; same secret, other algorithm
    token = jwt.encode({"sub": "7", "role": "admin", "iat": now, "exp": now + 60}, long_secret, algorithm="HS512")
    with pytest.raises(TokenError):
        TokenSigner(long_secret, 60).verify(token)


def test_missing_claims_are_refused() -> None:
    token = jwt.encode({"sub": "7", "exp": int(time.time()) + 60}, SECRET, algorithm="HS256")
    with pytest.raises(TokenError):
        TokenSigner(SECRET, 60).verify(token)
