"""This server's own errors, reported through sentry-sdk when SENTRY_DSN is set (to itself or elsewhere).

The app's catch-all error handler logs unhandled exceptions with `log.exception`; the SDK's
logging integration turns that record (with its traceback) into an event, and the Flask
integration adds the request. Errors of the Sentry ingest itself are never reported: with a
DSN pointing at this server, each report of a failing ingest would fail and report again.
"""
from __future__ import annotations

import logging
import re
from typing import Any
from urllib.parse import urlsplit

from flask import has_request_context, request

log = logging.getLogger(__name__)

_INGEST_PATH = re.compile(r"/api/\d+/(?:envelope|store)/?$")
_OWN_CODE = ["app", "ot", "dashboards"]


def is_ingest_event(event: dict[str, Any]) -> bool:
    """True for events raised while handling a Sentry ingest request, or logged by the ingest."""
    if has_request_context() and request.blueprint == "sentry":
        return True
    url = event.get("request", {}).get("url") if isinstance(event.get("request"), dict) else None
    if isinstance(url, str) and _INGEST_PATH.search(urlsplit(url).path):
        return True
    return str(event.get("logger") or "").startswith("app.sentry")


def drop_ingest_events(event: dict[str, Any], _hint: dict[str, Any]) -> dict[str, Any] | None:
    """The SDK's `before_send`: keep every event except the ingest's own (see is_ingest_event)."""
    return None if is_ingest_event(event) else event


def start_self_reporting(dsn: str) -> bool:
    """Initialise sentry-sdk for this process; False (logged) when the DSN is malformed."""
    import sentry_sdk
    from sentry_sdk.integrations.flask import FlaskIntegration

    try:
        sentry_sdk.init(dsn=dsn, integrations=[FlaskIntegration()], before_send=drop_ingest_events,
                        in_app_include=_OWN_CODE, send_default_pii=False)
    except Exception as exc:  # sentry-sdk raises its own BadDsn; do not keep the server from starting
        log.error("SENTRY_DSN is not usable, errors are not reported: %s", exc)
        return False
    return True
