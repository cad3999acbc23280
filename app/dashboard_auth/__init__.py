"""Sign-in for the support dashboard: login form, session cookie and the gate on its URLs."""
from __future__ import annotations

import os

from flask import Flask

from app.dashboard_auth.gate import DashboardGate, dashboard_user
from app.dashboard_auth.routes import register_routes
from app.dashboard_auth.session import DashboardSessionInterface
from app.services import Services

__all__ = ["init_dashboard_auth", "dashboard_user", "DashboardGate"]


def _cookie_secure(raw: object) -> bool | None:
    """`auto` (None: Secure when the request is HTTPS), or a forced true/false."""
    text = str(raw).strip().lower() if raw is not None else "auto"
    return None if text in ("", "auto", "none") else text in ("1", "true", "yes", "on")


def init_dashboard_auth(app: Flask, services: Services, prefix: str = "/dashboard") -> DashboardGate:
    """Install the session cookie, the login/logout views and the gate in front of `prefix`."""
    extra = services.settings.extra
    max_age = int(float(extra.get("dashboard_session_hours", 12)) * 3600)
    secure = _cookie_secure(extra.get("dashboard_cookie_secure", os.environ.get("DASHBOARD_COOKIE_SECURE")))
    trusted = extra.get("dashboard_trusted_origins") or os.environ.get("DASHBOARD_TRUSTED_ORIGINS", "")
    origins = [o.strip() for o in (trusted.split(",") if isinstance(trusted, str) else trusted) if o.strip()]
    gate = DashboardGate(prefix, (f"{prefix}/login", f"{prefix}/logout"), max_age, origins)
    app.extensions["dashboard_gate"] = gate
    app.session_interface = DashboardSessionInterface(prefix, secure, max_age)
    app.register_blueprint(register_routes(prefix))
    app.before_request(gate)
    return gate
