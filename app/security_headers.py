"""Security headers on every response: no sniffing, no framing, a strict CSP, no referrer leaks.

The API answers JSON only, so its policy forbids everything. Pages (the dashboard) register a
policy of their own for their path prefix.
"""
from __future__ import annotations

from flask import Flask, Response, request

API_POLICY = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"
BASE_HEADERS = {
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "no-referrer",
    "Cross-Origin-Opener-Policy": "same-origin",
    "Cross-Origin-Resource-Policy": "same-origin",
    "Permissions-Policy": "camera=(), microphone=(), geolocation=(), payment=()",
}


def register_page_policy(app: Flask, prefix: str, policy: str) -> None:
    """Use `policy` as the Content-Security-Policy for paths under `prefix`."""
    app.extensions.setdefault("csp_policies", {})[prefix] = policy


def _policy_for(app: Flask, path: str) -> str:
    for prefix, policy in sorted(app.extensions.get("csp_policies", {}).items(), key=lambda kv: -len(kv[0])):
        if path.startswith(prefix):
            return policy
    return API_POLICY


def init_security_headers(app: Flask) -> None:
    """Add the headers to every response. CORS stays closed: only the Sentry ingest routes, whose keys
    are public by design, answer cross-origin requests."""

    @app.after_request
    def _headers(response: Response) -> Response:
        for name, value in BASE_HEADERS.items():
            response.headers.setdefault(name, value)
        response.headers.setdefault("Content-Security-Policy", _policy_for(app, request.path))
        if request.is_secure:
            response.headers.setdefault("Strict-Transport-Security", "max-age=31536000; includeSubDomains")
        if request.path.startswith("/api/") and "Cache-Control" not in response.headers:
            response.headers["Cache-Control"] = "no-store"
        return response
