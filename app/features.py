"""The list of features mounted on the app; a feature adds one line here."""
from __future__ import annotations

from flask import Flask

from app.services import Services


def register_features(app: Flask, services: Services) -> None:
    """Register every feature's blueprints, handlers and background parts."""
    from app.auth.routes import bp as auth_bp
    from app.ops.routes import bp as ops_bp
    from app.tracking.routes import bp as errors_bp

    for blueprint in (ops_bp, auth_bp, errors_bp):
        app.register_blueprint(blueprint)
