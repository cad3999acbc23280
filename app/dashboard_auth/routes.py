"""The dashboard's login and logout: a plain HTML form, CSRF-protected, for staff accounts only."""
from __future__ import annotations

from flask import Blueprint, current_app, redirect, render_template, request
from flask.typing import ResponseReturnValue

from app.auth.guard import STAFF
from app.dashboard_auth.session import (
    csrf_token,
    csrf_valid,
    session_user_id,
    sign_in,
    sign_out,
)
from app.errors import Unauthorized
from app.services import services


def _home() -> str:
    return current_app.extensions["dashboard_gate"].prefix + "/"


def safe_next(target: str | None) -> str:
    """Where to go after signing in: a dashboard path only, never another site."""
    home = _home()
    if not target or not target.startswith(home) or "//" in target or "\\" in target:
        return home
    return home if target.startswith(home + "login") else target


def _form(status: int = 200, error: str | None = None, notice: str | None = None) -> tuple[str, int]:
    page = render_template("dashboard_auth/login.html", csrf_token=csrf_token(), error=error, notice=notice,
                           next=safe_next(request.values.get("next")), action=_home() + "login",
                           username=request.form.get("username", ""))
    return page, status


def login_page() -> ResponseReturnValue:
    """Show the form, or go straight in when already signed in."""
    if session_user_id(current_app.extensions["dashboard_gate"].max_age_seconds) is not None:
        return redirect(safe_next(request.args.get("next")), 302)
    notice = "You are signed out." if request.args.get("signed_out") else None
    return _form(notice=notice)


def login_submit() -> ResponseReturnValue:
    """Check the CSRF token and the credentials; staff get a session, others the form again."""
    if not csrf_valid(request.form.get("csrf_token")):
        return _form(400, "The form expired. Please sign in again.")
    username, password = request.form.get("username", ""), request.form.get("password", "")
    if not username or not password or len(username) > 64 or len(password) > 1024:
        return _form(400, "Enter your username and password.")
    try:
        user = services().auth.authenticate(username, password)
    except Unauthorized:
        return _form(401, "Wrong username or password.")
    if user.role not in STAFF:
        return _form(403, "The dashboard is for support and admin accounts only.")
    sign_in(user)
    return redirect(safe_next(request.form.get("next")), 303)


def logout() -> ResponseReturnValue:
    """End the session; the form's CSRF token keeps other sites from signing people out."""
    if not csrf_valid(request.form.get("csrf_token")):
        return _form(400, "The sign-out form expired; you are still signed in.")
    sign_out()
    return redirect(_home() + "login?signed_out=1", 303)


def register_routes(prefix: str) -> Blueprint:
    """A blueprint with the views under the dashboard's prefix (Dash owns the rest of it)."""
    bp = Blueprint("dashboard_auth", __name__, template_folder="templates")
    bp.add_url_rule(f"{prefix}/login", "login_page", login_page, methods=["GET"])
    bp.add_url_rule(f"{prefix}/login", "login_submit", login_submit, methods=["POST"])
    bp.add_url_rule(f"{prefix}/logout", "logout", logout, methods=["POST"])
    return bp
