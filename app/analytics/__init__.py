"""Error analytics for engineers: structured queries, streamed exports and an audited SQL console."""
from __future__ import annotations

from flask import Flask

from app.analytics.audit import AuditLog
from app.analytics.bounds import AnalyticsLimits
from app.analytics.service import AnalyticsService
from app.analytics.sql_guard import SqlGuard
from app.services import Services


def init_analytics(app: Flask, services: Services) -> None:
    """Build the analytics service (`services.error_analytics`) and mount /api/v1/analytics."""
    from app.analytics.routes import bp

    services.extra["error_analytics"] = AnalyticsService(
        services.analytics, AuditLog(services.db), AnalyticsLimits.from_settings(services.settings),
        SqlGuard(services.analytics))
    app.register_blueprint(bp)
