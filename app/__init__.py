"""The Flask app factory: configuration, services, blueprints, error handling."""
from __future__ import annotations

import logging
from typing import Any, Mapping

from flask import Flask

from app.config import settings_from_env, settings_with


def create_app(test_config: Mapping[str, Any] | None = None) -> Flask:
    """Build the app from the environment, with `test_config` overriding settings by name."""
    from app.bootstrap import build_services
    from app.cli import register_cli
    from app.errors import register_error_handlers
    from app.features import register_features
    from app.security_headers import init_security_headers

    settings = settings_with(settings_from_env(), test_config or {}).resolved()
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    app = Flask(__name__)
    services = build_services(settings)
    app.config.update(SECRET_KEY=services.secret, MAX_CONTENT_LENGTH=settings.max_body_bytes,
                      JSON_SORT_KEYS=False)
    app.json.sort_keys = False  # type: ignore[attr-defined]
    app.extensions["services"] = services
    register_error_handlers(app)
    init_security_headers(app)
    register_features(app, services)
    register_cli(app)
    return app
