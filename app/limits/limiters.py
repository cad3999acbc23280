"""The flask-limiter instances of one app: a shared one (Redis when configured) and a local one."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Callable, Iterable, Iterator

from flask import Flask, Response
from flask_limiter import ApplicationLimit, Limiter, RequestLimit

from app.config import ConfigError, Settings
from app.limits.keys import client_ip_key
from app.limits.policy import (LOCAL_PATH_LIMITS, ROUTE_LIMITS, SHARED_PATH_LIMITS, PathLimit,
                               limit_value)

OnBreach = Callable[[RequestLimit], "Response | None"]
FAILURE_MODES = ("open", "closed")
STRATEGY = "fixed-window"  # the window's reset is what Retry-After and RateLimit's `t` announce


@dataclass
class RateLimiters:
    """Both limiters; `shared` takes further limits from features (`rate_limiter(app).limit(...)`)."""

    shared: Limiter
    local: Limiter

    def __iter__(self) -> Iterator[Limiter]:
        return iter((self.shared, self.local))

    def current_limits(self) -> list[RequestLimit]:
        """Every limit evaluated for this request, by either limiter."""
        return [limit for limiter in self for limit in limiter.current_limits]


def build_limiters(app: Flask, settings: Settings, on_breach: OnBreach) -> RateLimiters:
    """Create, configure and bind both limiters, then attach the per-route limits."""
    failure = settings.rate_limit_storage_failure.strip().lower()
    if failure not in FAILURE_MODES:
        raise ConfigError(f"RATE_LIMIT_STORAGE_FAILURE must be open or closed, got {failure!r}")
    uri = settings.redis_url or "memory://"
    shared = Limiter(client_ip_key, application_limits=_path_limits(settings, SHARED_PATH_LIMITS),
                     storage_uri=uri, storage_options=_storage_options(uri, settings.redis_prefix),
                     in_memory_fallback_enabled=failure == "open" and uri != "memory://",
                     **_common(settings, on_breach))
    local = Limiter(client_ip_key, application_limits=_path_limits(settings, LOCAL_PATH_LIMITS),
                    storage_uri="memory://", **_common(settings, on_breach))
    shared.init_app(app)
    local.init_app(app)
    _attach_route_limits(app, shared, settings)
    return RateLimiters(shared=shared, local=local)


def run_limits_first(app: Flask, limiters: RateLimiters, observers: Iterable[Callable[..., Any]] = ()) -> None:
    """Move the limit checks ahead of other features' before_request hooks, behind `observers` only.

    A hook that answers by itself (the dashboard's login gate) would otherwise answer floods
    without their being counted. Observers (the request-metrics timer) stay first so that 429s
    are observed too.
    """
    hooks = app.before_request_funcs.setdefault(None, [])
    mine = [hook for hook in hooks if any(getattr(hook, "__self__", None) is limiter for limiter in limiters)]
    others = [hook for hook in hooks if hook not in mine]
    watching = [hook for hook in others if hook in list(observers)]
    hooks[:] = watching + mine + [hook for hook in others if hook not in watching]


def _common(settings: Settings, on_breach: OnBreach) -> dict:
    # Headers are written by app.limits.responses: flask-limiter's own send Retry-After on
    # every response, truncated to 0 near a reset, and describe one limit only.
    return {"strategy": STRATEGY, "headers_enabled": False, "swallow_errors": False,
            "on_breach": on_breach, "enabled": settings.rate_limit_enabled}


def _path_limits(settings: Settings, table: tuple[PathLimit, ...]) -> list[ApplicationLimit]:
    return [ApplicationLimit(limit_value(settings, rule.setting), key_function=client_ip_key,
                             scope=rule.name, exempt_when=rule.exempt) for rule in table]


def _storage_options(uri: str, prefix: str) -> dict:
    if not uri.startswith(("redis", "rediss")):
        return {}
    # Short socket timeouts: a dead Redis must trip the failure mode, not hang the request.
    return {"key_prefix": f"{prefix}:limits", "wrap_exceptions": True,
            "socket_connect_timeout": 1, "socket_timeout": 1}


def _attach_route_limits(app: Flask, limiter: Limiter, settings: Settings) -> None:
    """Blueprint limits are looked up by name per request, so registered blueprints can take them."""
    for rule in ROUTE_LIMITS:
        blueprint = app.blueprints.get(rule.blueprint)
        if blueprint is None:
            raise RuntimeError(f"rate limit {rule.name!r}: blueprint {rule.blueprint!r} is not registered; "
                               "register features before init_limits")
        limiter.shared_limit(limit_value(settings, rule.setting), scope=rule.name, key_func=rule.key,
                             methods=list(rule.methods) if rule.methods else None,
                             exempt_when=rule.exempt)(blueprint)
