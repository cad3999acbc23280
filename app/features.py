"""The list of features mounted on the app; a feature adds one line here."""
from __future__ import annotations

from flask import Flask

from app.analytics import init_analytics
from app.documents import init_documents
from app.events import init_events
from app.limits import init_limits
from app.realtime import init_realtime
from app.sentry import init_sentry
from app.services import Services
from app.uploads import init_uploads
from dashboards import init_dashboards


def register_features(app: Flask, services: Services) -> None:
    """Register every feature's blueprints, handlers and background parts."""
    from app.auth.routes import bp as auth_bp
    from app.ops.routes import bp as ops_bp
    from app.tracking.routes import bp as errors_bp

    for blueprint in (ops_bp, auth_bp, errors_bp):
        app.register_blueprint(blueprint)
    init_sentry(app, services)
    init_realtime(app, services)
    init_events(app, services)  # after init_realtime: the event catalogue, notifications, playback relay
    init_uploads(app, services)
    init_documents(app, services)  # after init_realtime: needs the hub and channels
    init_dashboards(app, services)  # the support dashboard at /dashboard/ and the request metrics it reads
    init_analytics(app, services)  # /api/v1/analytics: structured queries, exports, SQL console
    init_limits(app, services)  # last: limits the blueprints registered above by name
