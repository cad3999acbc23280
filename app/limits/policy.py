"""The limit table: each named limit, what it counts, by which key, from which setting.

A limit's name is its storage scope, its IETF policy name in `RateLimit-Policy`, and the
`limit_name` of its rows in ClickHouse `rate_limit_hits`.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from flask import request
from limits import parse_many

from app.config import ConfigError, Settings
from app.limits.keys import client_ip_key, user_or_ip_key

API, HEALTH, DASHBOARD, WS_UPGRADE = "default", "health", "dashboard", "ws_upgrade"
_HEALTH_PATHS = frozenset({"/healthz", "/readyz"})
_API_PREFIX = "/api/v1"


def path_class(path: str) -> str | None:
    """Which application-wide budget a path spends: the API, health, dashboard, WebSocket, or none."""
    if path in _HEALTH_PATHS:
        return HEALTH
    if path == "/ws":
        return WS_UPGRADE
    if path == "/dashboard" or path.startswith(("/dashboard/", "/_dash-")):
        return DASHBOARD
    if path == _API_PREFIX or path.startswith(_API_PREFIX + "/"):
        return API
    return None


@dataclass(frozen=True)
class PathLimit:
    """One budget per client IP shared by every route of a path class."""

    name: str
    setting: str

    def exempt(self) -> bool:
        """True when this request is outside the limit's path class."""
        return path_class(request.path) != self.name


@dataclass(frozen=True)
class RouteLimit:
    """A budget on the routes of one blueprint (optionally one endpoint), on top of the path budget."""

    name: str
    setting: str
    blueprint: str
    key: Callable[[], str]
    methods: tuple[str, ...] | None = None
    endpoint: str | None = None

    def exempt(self) -> bool:
        """True when the limit names an endpoint and this request is for another one."""
        return self.endpoint is not None and request.endpoint != self.endpoint


# Counted in the shared store (Redis when configured): what clients spend across processes.
SHARED_PATH_LIMITS = (PathLimit(API, "rate_limit_default"), PathLimit(DASHBOARD, "rate_limit_dashboard"),
                      PathLimit(WS_UPGRADE, "rate_limit_ws_upgrade"))
# Counted per process: a load balancer probes each instance, and probes must not need Redis.
LOCAL_PATH_LIMITS = (PathLimit(HEALTH, "rate_limit_health"),)
ROUTE_LIMITS = (
    RouteLimit("auth", "rate_limit_auth", blueprint="auth", key=client_ip_key),
    RouteLimit("uploads", "rate_limit_uploads", blueprint="uploads", key=user_or_ip_key, methods=("POST",)),
    RouteLimit("errors_batch", "rate_limit_errors_batch", blueprint="errors", key=user_or_ip_key,
               methods=("POST",), endpoint="errors.batch"),
    # The dashboard's password form is a login like /auth/login: the same 10/min per IP, its own budget.
    RouteLimit("dashboard_login", "rate_limit_auth", blueprint="dashboard_auth", key=client_ip_key,
               methods=("POST",), endpoint="dashboard_auth.login_submit"),
)


def limit_value(settings: Settings, setting: str) -> str:
    """The configured limit string, checked at start-up (`100/minute`, `3/2seconds`, `10/minute;1/second`)."""
    value = str(getattr(settings, setting)).strip()
    try:
        if not parse_many(value):
            raise ValueError("empty")
    except ValueError as exc:
        raise ConfigError(f"{setting.upper()} must be a rate like '100/minute', got {value!r}") from exc
    return value
