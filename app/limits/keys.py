"""Who a request counts against: the client IP, or the signed-in user when there is one."""
from __future__ import annotations

import logging

from flask import g, request

from app.auth.guard import bearer_token
from app.errors import ApiError
from app.services import services
from app.storage import StorageError

log = logging.getLogger(__name__)

IP, USER = "ip", "user"


def client_ip_key() -> str:
    """`ip:<address>`: the peer, or the client a trusted proxy named (see app.limits.proxies)."""
    return f"{IP}:{request.remote_addr or 'unknown'}"


def user_or_ip_key() -> str:
    """`user:<id>` for a valid bearer token, else the client IP (the route answers 401 anyway)."""
    user_id = _bearer_user_id()
    return f"{USER}:{user_id}" if user_id is not None else client_ip_key()


def split_key(key: str) -> tuple[str, str]:
    """(`ip` | `user`, value) from a key made here."""
    kind, _, value = key.partition(":")
    return kind, value


def _bearer_user_id() -> int | None:
    """Resolve the token once per request; the guard's `current_user()` reuses `g.user`."""
    if "user" in g:
        return int(g.user.id)
    token = bearer_token()
    if not token:
        return None
    try:
        g.user = services().auth.user_for_token(token)
    except ApiError:
        return None
    except StorageError as exc:
        # flask-limiter reads any error raised here as a limiter-storage outage: fall back to
        # the IP and let the route itself answer 503 when it needs the user.
        log.warning("cannot resolve the bearer token for rate limiting: %s", exc)
        return None
    return int(g.user.id)
