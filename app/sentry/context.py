"""The `context` kept with a Sentry event: what helps to fix it, trimmed, without personal data.

Kept: the exception chain with its frames (no local variables), tags, the request without cookies
or credentials, the os/runtime/device/browser/app contexts, the SDK, the last 20 breadcrumbs, and
the Sentry user's id and username (never its IP address or email).
"""
from __future__ import annotations

from typing import Any

from app.sentry.grouping import exceptions, frames

MAX_FRAMES = 50
MAX_BREADCRUMBS = 20
_CONTEXTS = ("os", "runtime", "device", "browser", "app")
_FRAME_FIELDS = ("filename", "abs_path", "module", "function", "lineno", "colno", "in_app")
_SECRET_HEADERS = {"cookie", "set-cookie", "authorization", "proxy-authorization", "x-sentry-auth",
                   "x-api-key", "x-csrftoken", "x-xsrf-token"}


def trim(value: Any, depth: int = 4, max_text: int = 1024, max_items: int = 50) -> Any:
    """A JSON-safe copy of `value` with strings, lists, mappings and nesting cut to size."""
    if isinstance(value, str):
        return value if len(value) <= max_text else value[:max_text] + "…"
    if value is None or isinstance(value, (bool, int, float)):
        return value
    if depth <= 0:
        return "…"
    if isinstance(value, dict):
        return {str(k)[:128]: trim(v, depth - 1, max_text, max_items)
                for k, v in list(value.items())[:max_items]}
    if isinstance(value, (list, tuple)):
        return [trim(v, depth - 1, max_text, max_items) for v in value[:max_items]]
    return trim(str(value), depth, max_text, max_items)


def _frame(frame: dict[str, Any]) -> dict[str, Any]:
    kept = {name: trim(frame[name], 1, 512) for name in _FRAME_FIELDS if frame.get(name) is not None}
    if isinstance(frame.get("context_line"), str):
        kept["context_line"] = trim(frame["context_line"].strip(), max_text=256)
    return kept


def exception_chain(event: dict[str, Any]) -> list[dict[str, Any]]:
    """Each exception with its type, value, mechanism and most recent frames (oldest call first)."""
    chain = []
    for exception in exceptions(event)[-10:]:
        stack = frames(exception)
        entry: dict[str, Any] = {"type": trim(exception.get("type") or "Error", max_text=256),
                                 "value": trim(exception.get("value") or "", max_text=4096)}
        if exception.get("module"):
            entry["module"] = trim(exception["module"], max_text=256)
        mechanism = exception.get("mechanism")
        if isinstance(mechanism, dict):
            entry["mechanism"] = {k: trim(mechanism[k], 1, 128) for k in ("type", "handled") if k in mechanism}
        entry["frames"] = [_frame(f) for f in stack[-MAX_FRAMES:]]
        if len(stack) > MAX_FRAMES:
            entry["frames_omitted"] = len(stack) - MAX_FRAMES
        chain.append(entry)
    return chain


def request_info(event: dict[str, Any]) -> dict[str, Any] | None:
    """URL, method, query and headers, minus cookies and credentials; the body is not kept."""
    request = event.get("request")
    if not isinstance(request, dict):
        return None
    kept = {k: trim(request[k], 2, 2048) for k in ("url", "method", "query_string") if request.get(k)}
    headers = request.get("headers")
    if isinstance(headers, list):  # Sentry also allows [[name, value], ...]
        headers = {str(p[0]): p[1] for p in headers if isinstance(p, (list, tuple)) and len(p) == 2}
    if isinstance(headers, dict):
        kept["headers"] = trim({k: v for k, v in headers.items() if str(k).lower() not in _SECRET_HEADERS},
                               2, 512)
    return kept or None


def breadcrumbs(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The last 20 breadcrumbs, each with a short message and small data."""
    raw = event.get("breadcrumbs")
    values = raw.get("values") if isinstance(raw, dict) else raw
    if not isinstance(values, list):
        return []
    kept = []
    for crumb in [c for c in values if isinstance(c, dict)][-MAX_BREADCRUMBS:]:
        entry = {k: trim(crumb[k], 1, 256) for k in ("timestamp", "type", "category", "level") if k in crumb}
        if crumb.get("message") is not None:
            entry["message"] = trim(crumb["message"], max_text=512)
        if isinstance(crumb.get("data"), dict):
            entry["data"] = trim(crumb["data"], 2, 256, 20)
        kept.append(entry)
    return kept


def sentry_user(event: dict[str, Any]) -> dict[str, Any] | None:
    """The reporting app's user: id and username only (its users are not ours; no IP, no email)."""
    user = event.get("user")
    if not isinstance(user, dict):
        return None
    kept = {k: trim(user[k], 1, 128) for k in ("id", "username") if user.get(k) not in (None, "")}
    return kept or None


def sdk_info(event: dict[str, Any]) -> dict[str, Any] | None:
    """The SDK's name and version."""
    sdk = event.get("sdk")
    if not isinstance(sdk, dict):
        return None
    return {k: trim(sdk[k], 1, 128) for k in ("name", "version") if sdk.get(k)} or None


def build_context(event: dict[str, Any], tags: dict[str, str], extra: dict[str, Any]) -> dict[str, Any]:
    """The context object stored with the event (`extra` holds the ingest's own facts)."""
    contexts = event.get("contexts") if isinstance(event.get("contexts"), dict) else {}
    context: dict[str, Any] = {"sentry": {**extra, "sdk": sdk_info(event)}}
    parts: dict[str, Any] = {
        "exception": exception_chain(event),
        "tags": tags,
        "request": request_info(event),
        "contexts": {k: trim(contexts[k], 2, 512) for k in _CONTEXTS if isinstance(contexts.get(k), dict)},
        "user": sentry_user(event),
        "breadcrumbs": breadcrumbs(event),
    }
    context.update({k: v for k, v in parts.items() if v})
    context["sentry"] = {k: v for k, v in context["sentry"].items() if v not in (None, "", [])}
    return context
