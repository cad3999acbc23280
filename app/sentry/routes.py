"""Sentry's ingest endpoints, as every SDK calls them: thin handlers over the Sentry ingest service."""
from flask import Blueprint, Response, jsonify, request

from app.api.openapi import documented
from app.sentry.auth import key_from_request
from app.sentry.schemas import SentryAnswer
from app.sentry.service import SentryIngestService, Upload
from app.services import services

bp = Blueprint("sentry", __name__, url_prefix="/api")

# Browser SDKs post cross-origin (the key is public by design, as in Sentry) and read these back.
_CORS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type, Content-Encoding, X-Sentry-Auth, Authorization",
    "Access-Control-Expose-Headers": "X-Sentry-Rate-Limits, Retry-After, X-Sentry-Error",
    "Access-Control-Max-Age": "3600",
}


def _ingest() -> SentryIngestService:
    return services().sentry


@bp.before_request
def _allow_sentry_sized_bodies() -> None:
    """Sentry's request limit (20 MiB compressed by default) instead of the API's 1 MiB."""
    request.max_content_length = _ingest().options.max_body_bytes


@bp.after_request
def _cors(response: Response) -> Response:
    response.headers.update(_CORS)
    return response


def _upload() -> Upload:
    key = key_from_request(dict(request.headers), request.args.to_dict())
    return Upload(request.get_data(cache=False), request.headers.get("Content-Encoding", ""), key)


@bp.post("/<int:project_id>/envelope/", strict_slashes=False)
@documented("Accept a Sentry SDK envelope; event items are stored, other items skipped",
            tags=("sentry",), auth=False, errors=(401, 403, 413, 415, 503), response=SentryAnswer,
            content_type="application/x-sentry-envelope")
def envelope(project_id: int):  # type: ignore[no-untyped-def]
    return jsonify(_ingest().envelope(project_id, _upload()))


@bp.post("/<int:project_id>/store/", strict_slashes=False)
@documented("Accept one Sentry event (the endpoint older SDKs use)", tags=("sentry",), auth=False,
            errors=(401, 403, 413, 415, 503), response=SentryAnswer,
            extra={"requestBody": {"required": True, "content": {"application/json": {"schema": {"type": "object"}}}}})
def store(project_id: int):  # type: ignore[no-untyped-def]
    return jsonify(_ingest().store(project_id, _upload()))
