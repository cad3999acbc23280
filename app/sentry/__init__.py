"""Accept reports from any Sentry SDK into the same error groups, and report this server's own errors."""
from __future__ import annotations

from flask import Flask

from app.services import Services


def init_sentry(app: Flask, services: Services) -> None:
    """Build the ingest service (`services.sentry`), mount its routes and the `projects` CLI group."""
    from app.sentry.cli import projects_cli
    from app.sentry.dedupe import RecentEventIds
    from app.sentry.options import SentryOptions
    from app.sentry.projects import ProjectRegistry
    from app.sentry.quota import KeyQuota, make_storage
    from app.sentry.reporting import start_self_reporting
    from app.sentry.routes import bp
    from app.sentry.service import SentryIngestService

    settings = services.settings
    options = SentryOptions.from_settings(settings)
    quota = KeyQuota(make_storage(settings.redis_url, settings.redis_prefix), options.events_per_minute)
    recent = RecentEventIds(make_storage(settings.redis_url, settings.redis_prefix, "sentry-seen"))
    services.extra["sentry"] = SentryIngestService(ProjectRegistry(services.db), services.tracking.ingest.sink,
                                                   quota, options, settings.event_ttl_days, recent)
    app.register_blueprint(bp)
    app.cli.add_command(projects_cli)
    if settings.sentry_dsn:
        start_self_reporting(settings.sentry_dsn)
