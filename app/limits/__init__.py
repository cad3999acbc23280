"""Rate limits: flask-limiter configured from Settings, correct 429s, and every hit recorded.

Call `init_limits(app, services)` after the blueprints it limits are registered. Per-route
limits on blueprints this package does not own (auth, errors) are attached by blueprint name
(`limiter.shared_limit(...)(app.blueprints[name])`): flask-limiter resolves blueprint limits
by name on each request, so nothing in those blueprints changes.
"""
from __future__ import annotations

from flask import Flask, current_app, request
from flask_limiter import Limiter, RequestLimit

from app.limits.keys import split_key
from app.limits.limiters import RateLimiters, build_limiters, run_limits_first
from app.limits.proxies import trusted_proxy_middleware
from app.limits.recorder import RateLimitRecorder
from app.limits.responses import register_responses
from app.services import Services

__all__ = ["init_limits", "rate_limiter", "RateLimitRecorder"]
EXTENSION = "rate_limits"


def init_limits(app: Flask, services: Services) -> None:
    """Bind the limiters, the response fields, the trusted-proxy rule and the hit recorder."""
    recorder = RateLimitRecorder(services.analytics, services.secret)
    services.extra["rate_limit_recorder"] = recorder
    services.on_close(recorder.writer.close)

    def on_breach(limit: RequestLimit) -> None:
        record_breach(recorder, limit)

    limiters = build_limiters(app, services.settings, on_breach)
    app.extensions[EXTENSION] = limiters
    metrics = services.extra.get("request_metrics")
    run_limits_first(app, limiters, observers=[metrics.start] if metrics is not None else [])
    register_responses(app, limiters)
    app.wsgi_app = trusted_proxy_middleware(app.wsgi_app, services.settings.trusted_proxies)  # type: ignore[method-assign]


def rate_limiter(app: Flask | None = None) -> Limiter:
    """The app's shared limiter, for features adding their own `limiter.limit(...)`."""
    limiters: RateLimiters = (app or current_app).extensions[EXTENSION]
    return limiters.shared


def record_breach(recorder: RateLimitRecorder, limit: RequestLimit) -> None:
    """One `rate_limit_hits` row for a refused request: limit name, route template, hashed key."""
    key, name = limit.request_args[-2:]
    kind, value = split_key(str(key))
    route = request.url_rule.rule if request.url_rule is not None else request.path
    recorder.record(str(name), route, request.method, kind, value)
