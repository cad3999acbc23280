"""Liveness, readiness and the OpenAPI document."""
from flask import Blueprint, current_app, jsonify

from app.api.openapi import build_openapi, documented
from app.services import services

bp = Blueprint("ops", __name__)
API_VERSION = "1.0.0"


@bp.get("/healthz")
@documented("The process is up", tags=("ops",), auth=False)
def healthz():  # type: ignore[no-untyped-def]
    return jsonify({"status": "ok"})


@bp.get("/readyz")
@documented("SQL and the analytics store are reachable", tags=("ops",), auth=False, errors=(503,))
def readyz():  # type: ignore[no-untyped-def]
    checks = {"sql": services().db.ping(), "analytics": services().analytics.ping()}
    ready = all(checks.values())
    return jsonify({"status": "ready" if ready else "unavailable", "checks": checks}), 200 if ready else 503


@bp.get("/api/v1/openapi.json")
def openapi():  # type: ignore[no-untyped-def]
    return jsonify(build_openapi(current_app, "Plugin platform API", API_VERSION))
