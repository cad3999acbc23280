"""The gate in front of every dashboard URL: staff only, by session cookie or bearer token.

Page GETs from a browser without a session are sent to the login page; Dash's API routes
(`_dash-layout`, `_dash-update-component`, `_dash-dependencies`, component suites, assets)
answer 401/403 JSON. Cookie-authenticated writes must come from the dashboard's own origin:
a browser always sends `Origin` on a fetch POST, and another site cannot forge it (SameSite=Lax
already keeps the cookie off cross-site POSTs; this check does not rely on that alone). Bearer
requests carry no ambient credential, so they need no CSRF check.
"""
from __future__ import annotations

from typing import Iterable
from urllib.parse import quote, urlsplit

from flask import g, redirect, request
from flask.typing import ResponseReturnValue

from app.auth.guard import STAFF, bearer_token
from app.dashboard_auth.session import session_user_id, sign_out
from app.errors import json_error
from app.models import User
from app.services import services

SAFE_METHODS = ("GET", "HEAD", "OPTIONS")


def dashboard_user() -> User:
    """The staff member the gate let through for this request."""
    return g.dashboard_user


def origin_of(url: str | None) -> str | None:
    """`scheme://host[:port]` of a URL, or None when it has none."""
    if not url or url == "null":
        return None
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}".lower() if parts.scheme and parts.netloc else None


class DashboardGate:
    """A before_request hook guarding every URL under the dashboard's prefix."""

    def __init__(self, prefix: str, open_paths: Iterable[str], max_age_seconds: int,
                 trusted_origins: Iterable[str] = ()) -> None:
        self.prefix = prefix.rstrip("/")
        self.open_paths = frozenset(open_paths)
        self.max_age_seconds = max_age_seconds
        self.trusted_origins = frozenset(o.rstrip("/").lower() for o in trusted_origins)

    def guards(self, path: str) -> bool:
        """True for the dashboard's URLs, except its login and logout."""
        inside = path == self.prefix or path.startswith(self.prefix + "/")
        return inside and path not in self.open_paths

    def is_api(self, path: str) -> bool:
        """Dash's machinery (JSON and scripts) rather than a page a person opens."""
        rest = path[len(self.prefix):].lstrip("/")
        return request.method not in ("GET", "HEAD") or rest.startswith("_") or rest.startswith("assets/")

    def __call__(self) -> ResponseReturnValue | None:
        """Let staff through; refuse everyone else before any dashboard code runs."""
        if not self.guards(request.path):
            return None
        token = bearer_token()
        by_cookie = token is None
        user = self._session_user() if by_cookie else services().auth.user_for_token(token)
        if user is None:
            return self._refuse(401)
        if user.role not in STAFF:
            if by_cookie:
                sign_out()
            return self._refuse(403)
        if by_cookie and request.method not in SAFE_METHODS and not self.same_origin():
            return json_error(403, "csrf_failed", "This request did not come from the dashboard's own pages.")
        g.dashboard_user = user
        return None

    def _session_user(self) -> User | None:
        user_id = session_user_id(self.max_age_seconds)
        return services().auth.get_user(user_id) if user_id is not None else None

    def same_origin(self) -> bool:
        """True when Origin (or, lacking it, Referer) names this host or a trusted origin."""
        origin = origin_of(request.headers.get("Origin")) or origin_of(request.headers.get("Referer"))
        if origin is None:
            return False
        return urlsplit(origin).netloc == request.host.lower() or origin in self.trusted_origins

    def _refuse(self, status: int) -> ResponseReturnValue:
        if status == 401 and not self.is_api(request.path):
            return redirect(f"{self.prefix}/login?next={quote(request.full_path.rstrip('?'), safe='/')}", 302)
        if status == 401:
            return json_error(401, "login_required", "Sign in at the dashboard's login page or send a bearer token.")
        return json_error(403, "forbidden", "The dashboard is for support and admin accounts only.")
