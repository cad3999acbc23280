"""The few answers gunicorn writes itself (a request it cannot parse), in the contract's JSON.

gunicorn answers a request line over its limit (414), oversized headers (431) or an unparsable
request (400) before the app sees it, with an HTML page and no security headers. Its worker
sends those through `gunicorn.util.write_error`; `install()` replaces that one function so
even these answers are `{"error": {code, message}}` with the API's headers.
"""
from __future__ import annotations

import json
from typing import Any

from gunicorn import util

from app.security_headers import API_POLICY, BASE_HEADERS

# status -> (code, message): fixed sentences, never an echo of what the client sent
ANSWERS = {
    400: ("bad_request", "The request could not be parsed as HTTP."),
    403: ("forbidden", "The request is not allowed."),
    414: ("uri_too_long", "The request line is too long."),
    417: ("expectation_failed", "The Expect header is not supported."),
    431: ("headers_too_large", "The request headers are too large."),
    500: ("internal_error", "The server failed to handle this request."),
    501: ("not_implemented", "This transfer coding is not supported."),
}


def error_response(status: int, reason: str) -> bytes:
    """A complete HTTP/1.1 response that closes the connection."""
    code, message = ANSWERS.get(status, ("bad_request", "The request could not be handled."))
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    headers = {"Connection": "close", "Content-Type": "application/json", "Content-Length": str(len(body)),
               "Cache-Control": "no-store", "Content-Security-Policy": API_POLICY, **BASE_HEADERS}
    head = f"HTTP/1.1 {status} {reason}\r\n" + "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return head.encode("latin-1") + body


def write_json_error(sock: Any, status_int: int, reason: str, _mesg: str) -> None:
    """gunicorn's `write_error`, answering JSON (its message may echo client input: not sent)."""
    util.write_nonblock(sock, error_response(int(status_int), reason))


def install() -> None:
    """Make the worker's own error answers JSON (idempotent)."""
    util.write_error = write_json_error
