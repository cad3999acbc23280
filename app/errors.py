"""The error hierarchy and the one JSON error body, for HTTP and WebSocket alike."""
from __future__ import annotations

import logging
from typing import Any

from flask import Flask, Response, jsonify
from werkzeug.exceptions import HTTPException

from app.storage import StorageError

log = logging.getLogger(__name__)


class ApiError(Exception):
    """An error a client may see: an HTTP status, a snake_case code and a sentence."""

    status = 400
    code = "invalid_request"

    def __init__(self, message: str, *, code: str | None = None, status: int | None = None,
                 details: Any = None, headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.code = code or self.code
        self.status = status or self.status
        self.details = details
        self.headers = headers or {}

    def body(self) -> dict[str, Any]:
        """The contract's error body."""
        return error_body(self.code, self.message, self.details)


class BadRequest(ApiError):
    """The request is malformed or fails validation."""


class Unauthorized(ApiError):
    """No valid credentials."""

    status, code = 401, "invalid_token"


class Forbidden(ApiError):
    """Valid credentials without the needed role or ownership."""

    status, code = 403, "forbidden"


class NotFound(ApiError):
    """The resource does not exist (or the caller may not know it does)."""

    status, code = 404, "not_found"


class Conflict(ApiError):
    """The request conflicts with the current state."""

    status, code = 409, "conflict"


class PayloadTooLarge(ApiError):
    """The body or one of its item limits is too large."""

    status, code = 413, "payload_too_large"


class ServiceUnavailable(ApiError):
    """A backing store cannot take the request now; the client should retry later."""

    status, code = 503, "service_unavailable"

    def __init__(self, message: str, *, retry_after: int = 5, **kwargs: Any) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, int(retry_after)))}, **kwargs)


def error_body(code: str, message: str, details: Any = None) -> dict[str, Any]:
    """Build `{"error": {code, message[, details]}}`."""
    err: dict[str, Any] = {"code": code, "message": message}
    if details is not None:
        err["details"] = details
    return {"error": err}


_HTTP_CODES = {
    400: "invalid_request", 401: "invalid_token", 403: "forbidden", 404: "not_found",
    405: "method_not_allowed", 409: "conflict", 413: "payload_too_large",
    415: "unsupported_media_type", 429: "rate_limited", 500: "internal_error",
    503: "service_unavailable",
}


def json_error(status: int, code: str, message: str, details: Any = None,
               headers: dict[str, str] | None = None) -> Response:
    """A JSON error response with the contract's body."""
    response = jsonify(error_body(code, message, details))
    response.status_code = status
    for key, value in (headers or {}).items():
        response.headers[key] = value
    return response


def register_error_handlers(app: Flask) -> None:
    """Make every error leave as the contract's JSON body, never HTML or a trace."""

    @app.errorhandler(ApiError)
    def _api_error(exc: ApiError) -> Response:
        return json_error(exc.status, exc.code, exc.message, exc.details, exc.headers)

    @app.errorhandler(HTTPException)
    def _http_error(exc: HTTPException) -> Response:
        status = exc.code or 500
        code = _HTTP_CODES.get(status, "http_error")
        message = (exc.description or exc.name or "").strip() or code.replace("_", " ")
        headers = {k: v for k, v in exc.get_headers() if k.lower() in ("allow", "retry-after")}
        return json_error(status, code, message, headers=headers)

    @app.errorhandler(StorageError)
    def _storage_error(exc: StorageError) -> Response:
        log.warning("storage unavailable: %s", exc)
        return json_error(503, "service_unavailable", "A backing store is unavailable; retry later.",
                          headers={"Retry-After": "5"})

    @app.errorhandler(Exception)
    def _unexpected(exc: Exception) -> Response:
        log.exception("unhandled error")
        return json_error(500, "internal_error", "The server failed to handle this request.")
