"""The dashboard's browser session: a Flask session cookie scoped to the dashboard, plus CSRF tokens.

The cookie is Flask's signed session (the app's SECRET_KEY), HttpOnly, SameSite=Lax, limited to
the dashboard's path, and Secure when the request came over HTTPS (or as configured).
"""
from __future__ import annotations

import hmac
import secrets
import time
from datetime import datetime, timedelta, timezone
from typing import Any

from flask import Flask, request, session
from flask.sessions import SecureCookieSessionInterface

from app.models import User

COOKIE_NAME = "dashboard_session"
_USER_KEY, _SINCE_KEY, _CSRF_KEY = "uid", "since", "csrf"


class DashboardSessionInterface(SecureCookieSessionInterface):
    """Flask's signed-cookie sessions with the dashboard's cookie attributes."""

    def __init__(self, path: str, secure: bool | None, max_age_seconds: int) -> None:
        self._path = path
        self._secure = secure
        self.max_age_seconds = max_age_seconds

    def get_cookie_name(self, app: Flask) -> str:
        """A name of its own, so it never collides with another app on the host."""
        return COOKIE_NAME

    def get_cookie_path(self, app: Flask) -> str:
        """Only the dashboard's requests carry the cookie; the API never sees it."""
        return self._path

    def get_cookie_httponly(self, app: Flask) -> bool:
        """Scripts on the page cannot read the cookie."""
        return True

    def get_cookie_samesite(self, app: Flask) -> str:
        """Cross-site POSTs (forms on other sites) do not carry the cookie."""
        return "Lax"

    def get_cookie_secure(self, app: Flask) -> bool:
        """Secure over HTTPS (or when configured so); plain HTTP on localhost still works."""
        return request.is_secure if self._secure is None else self._secure

    def get_expiration_time(self, app: Flask, session: Any) -> datetime | None:
        """The cookie lasts as long as a sign-in may (the server checks the age too)."""
        if not session.permanent:
            return None
        return datetime.now(timezone.utc) + timedelta(seconds=self.max_age_seconds)


def csrf_token() -> str:
    """This session's CSRF token, made on first use."""
    token = session.get(_CSRF_KEY)
    if not token:
        token = session[_CSRF_KEY] = secrets.token_urlsafe(32)
    return token


def csrf_valid(submitted: Any) -> bool:
    """True when a submitted form token matches the session's, compared in constant time."""
    expected = session.get(_CSRF_KEY)
    if not isinstance(expected, str) or not expected or not isinstance(submitted, str):
        return False
    return hmac.compare_digest(expected.encode(), submitted.encode())


def sign_in(user: User) -> None:
    """Start a fresh session for `user` (a new CSRF token; nothing from before survives)."""
    session.clear()
    session.permanent = True
    session[_USER_KEY] = user.id
    session[_SINCE_KEY] = int(time.time())
    session[_CSRF_KEY] = secrets.token_urlsafe(32)


def sign_out() -> None:
    """Forget the session (the browser gets an expired cookie)."""
    session.clear()


def session_user_id(max_age_seconds: int) -> int | None:
    """The signed-in user id, or None when there is none or the session is too old."""
    user_id, since = session.get(_USER_KEY), session.get(_SINCE_KEY)
    if not isinstance(user_id, int) or not isinstance(since, int):
        return None
    if time.time() - since > max_age_seconds:
        session.pop(_USER_KEY, None)
        return None
    return user_id
