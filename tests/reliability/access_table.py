"""Who may call each route: the table the access test walks. A route missing here fails that test.

Kinds: `public` (no credential), `user` (any signed-in user), a tuple of roles, `sentry_key`
(a project's DSN key, not a bearer token), `dashboard` (staff by session cookie or bearer token).
"""
from __future__ import annotations

import base64
import hashlib
import hmac
import json
import time
from dataclasses import dataclass

import jwt

from tests.support.tokens import SERVER_SECRET, bad_tokens

PUBLIC, USER, SENTRY_KEY, DASHBOARD = "public", "user", "sentry_key", "dashboard"
STAFF, ADMIN, PUBLISHERS = ("support", "admin"), ("admin",), ("admin", "service")
ROLES = ("user", "support", "admin", "service")


@dataclass(frozen=True)
class Access:
    """Who may call a route, and whether it is a page (a browser is redirected to sign in)."""

    who: str | tuple[str, ...]
    page: bool = False


ROUTES: dict[tuple[str, str], Access] = {
    ("/healthz", "GET"): Access(PUBLIC),
    ("/readyz", "GET"): Access(PUBLIC),
    ("/static/<path:filename>", "GET"): Access(PUBLIC),
    ("/api/v1/openapi.json", "GET"): Access(PUBLIC),
    ("/api/v1/auth/register", "POST"): Access(PUBLIC),
    ("/api/v1/auth/login", "POST"): Access(PUBLIC),
    ("/api/v1/auth/me", "GET"): Access(USER),
    ("/api/<int:project_id>/envelope/", "POST"): Access(SENTRY_KEY),
    ("/api/<int:project_id>/store/", "POST"): Access(SENTRY_KEY),
    ("/api/v1/errors", "GET"): Access(USER),
    ("/api/v1/errors/", "GET"): Access(USER),
    ("/api/v1/errors/batch", "POST"): Access(USER),
    ("/api/v1/errors/stats", "GET"): Access(USER),
    ("/api/v1/errors/<group_id>", "GET"): Access(USER),
    ("/api/v1/errors/<group_id>", "PATCH"): Access(STAFF),
    ("/api/v1/analytics/audit", "GET"): Access(ADMIN),
    ("/api/v1/analytics/query", "POST"): Access(STAFF),
    ("/api/v1/analytics/sql", "POST"): Access(ADMIN),
    ("/api/v1/audio/upload", "POST"): Access(USER),
    ("/api/v1/audio/<upload_id>", "GET"): Access(USER),
    ("/api/v1/users/upload-profile-picture", "POST"): Access(USER),
    ("/api/v1/users/profile-picture/<upload_id>", "GET"): Access(USER),
    ("/api/v1/channels", "GET"): Access(USER),
    ("/api/v1/channels", "POST"): Access(USER),
    ("/api/v1/channels/<channel_id>", "GET"): Access(USER),
    ("/api/v1/channels/<channel_id>", "DELETE"): Access(USER),
    ("/api/v1/channels/<channel_id>/members", "POST"): Access(USER),
    ("/api/v1/channels/<channel_id>/members/<int:user_id>", "DELETE"): Access(USER),
    ("/api/v1/documents/<document_id>", "GET"): Access(USER),
    ("/api/v1/documents/<document_id>/operations", "GET"): Access(USER),
    ("/api/v1/events", "POST"): Access(PUBLISHERS),
    ("/api/v1/events/types", "GET"): Access(USER),
    ("/api/v1/notifications", "GET"): Access(USER),
    ("/api/v1/notifications/<notification_id>/read", "POST"): Access(USER),
    ("/api/v1/websocket/metrics", "GET"): Access(STAFF),
    ("/ws", "GET"): Access(USER),
    ("/dashboard/login", "GET"): Access(PUBLIC),
    ("/dashboard/login", "POST"): Access(PUBLIC),
    ("/dashboard/logout", "POST"): Access(PUBLIC),
    ("/dashboard/", "GET"): Access(DASHBOARD, page=True),
    ("/dashboard/<path:path>", "GET"): Access(DASHBOARD, page=True),
    ("/dashboard/_dash-layout", "GET"): Access(DASHBOARD),
    ("/dashboard/_dash-dependencies", "GET"): Access(DASHBOARD),
    ("/dashboard/_dash-update-component", "POST"): Access(DASHBOARD),
    ("/dashboard/_reload-hash", "GET"): Access(DASHBOARD),
    ("/dashboard/_favicon.ico", "GET"): Access(DASHBOARD),
    ("/dashboard/assets/<path:filename>", "GET"): Access(DASHBOARD),
    ("/dashboard/_dash-component-suites/<string:package_name>/<path:fingerprinted_path>", "GET"): Access(DASHBOARD),
}

# Values for path parameters: well-formed, so a refusal is about credentials and not the URL.
SAMPLE_ARGS = {"project_id": "1", "group_id": "0123456789abcdef", "upload_id": "u0123456789abcdef",
               "channel_id": "abcdef123456", "user_id": "2", "document_id": "channel:abcdef123456:notes",
               "notification_id": "1", "path": "errors", "filename": "style.css", "package_name": "dash",
               "fingerprinted_path": "dash-renderer/build/dash_renderer.v3_0_0m1.min.js"}


def concrete_path(rule: str) -> str:
    """The rule with every `<converter:name>` replaced by its sample value."""
    out, rest = "", rule
    while "<" in rest:
        head, _, tail = rest.partition("<")
        spec, _, rest = tail.partition(">")
        out += head + SAMPLE_ARGS[spec.rsplit(":", 1)[-1]]
    return out + rest


def _b64(data: dict) -> str:
    return base64.urlsafe_b64encode(json.dumps(data).encode()).decode().rstrip("=")


def _hs512(claims: dict) -> str:
    """A token signed with the server's own secret but HS512 (built by hand: PyJWT warns on the key size)."""
    signing_input = _b64({"alg": "HS512", "typ": "JWT"}) + "." + _b64(claims)
    digest = hmac.new(SERVER_SECRET.encode(), signing_input.encode(), hashlib.sha512).digest()
    return signing_input + "." + base64.urlsafe_b64encode(digest).decode().rstrip("=")


def refused_tokens(user_id: int) -> dict[str, str | None]:
    """Every token a route must refuse with 401: the shared list plus a few more forgeries."""
    now = int(time.time())
    claims = {"sub": str(user_id), "role": "admin", "iat": now, "exp": now + 600}
    return {
        **bad_tokens(user_id),
        "alg_none_capitalised": _b64({"alg": "None", "typ": "JWT"}) + "." + _b64(claims) + ".",
        "hs512_with_the_secret": _hs512(claims),
        "signature_stripped": jwt.encode(claims, SERVER_SECRET, algorithm="HS256").rsplit(".", 1)[0] + ".",
        "no_exp": jwt.encode({k: v for k, v in claims.items() if k != "exp"}, SERVER_SECRET, algorithm="HS256"),
        "sub_not_a_number": jwt.encode({**claims, "sub": "admin"}, SERVER_SECRET, algorithm="HS256"),
        "empty": "",
    }


def role_claim_escalation(user_id: int) -> str:
    """A correctly signed token for a plain user whose `role` claim says admin: the role must come
    from the account, so this grants nothing more than the user's own token."""
    now = int(time.time())
    return jwt.encode({"sub": str(user_id), "role": "admin", "iat": now, "exp": now + 600}, SERVER_SECRET,
                      algorithm="HS256")


def denied_roles(who: str | tuple[str, ...]) -> tuple[str, ...]:
    """The roles a route must answer 403 for."""
    if who == DASHBOARD:
        return ("user", "service")
    if isinstance(who, tuple):
        return tuple(role for role in ROLES if role not in who)
    return ()
