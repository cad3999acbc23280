"""Who is calling: the bearer token resolved once per request, and role checks."""
from __future__ import annotations

from functools import wraps
from typing import Any, Callable

from flask import g, request

from app.errors import Forbidden
from app.models import User
from app.services import services

STAFF = ("support", "admin")


def bearer_token() -> str | None:
    """The token from `Authorization: Bearer ...`, or None."""
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    return token.strip() if scheme.lower() == "bearer" and token.strip() else None


def current_user() -> User:
    """The signed-in user of this request (401 when there is none)."""
    if "user" not in g:
        g.user = services().auth.user_for_token(bearer_token())
    return g.user


def require_user(*roles: str) -> Callable:
    """Decorate a view: a valid token is required, and one of `roles` when given (403 otherwise)."""

    def decorate(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(*args: Any, **kwargs: Any) -> Any:
            user = current_user()
            if roles and user.role not in roles:
                raise Forbidden("Your role may not do this.")
            return view(*args, **kwargs)

        wrapper.required_roles = roles or ("any",)  # type: ignore[attr-defined]
        return wrapper

    return decorate
