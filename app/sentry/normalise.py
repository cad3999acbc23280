"""A Sentry event payload as one row of `error_events`: severity, source, message, tags, context.

Choices: `source` is the event's `logger` (the most specific area an SDK names, as `Network` or
`UI` are for the plugin), else its `platform`, squeezed into the contract's `[A-Za-z0-9_-]{1,32}`
(dots become `_`; a long name keeps its most specific tail). `user_id` is 0: the reporting app's
users are not accounts here, so per-user views never show them.
"""
from __future__ import annotations

import re
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

from app.sentry.context import build_context, trim
from app.sentry.grouping import exceptions, group_id
from app.tracking.ingest import EVENT_COLUMNS, event_row

SEVERITY_BY_LEVEL = {"debug": "Info", "info": "Info", "log": "Info", "sample": "Info",
                     "warning": "Warning", "warn": "Warning", "error": "Error",
                     "fatal": "Critical", "critical": "Critical"}
MAX_MESSAGE = 4096
MAX_TAGS = 50
_NOT_SOURCE = re.compile(r"[^A-Za-z0-9_-]+")
_FUTURE_SLACK = timedelta(minutes=1)


@dataclass(frozen=True)
class Origin:
    """Which project and key an event came through, and when it arrived."""

    project_id: int
    project_name: str
    received: datetime
    retention_days: int


def severity(level: Any) -> str:
    """Sentry's level as the contract's severity; a missing or unknown level is an Error, as in Sentry."""
    return SEVERITY_BY_LEVEL.get(str(level or "error").lower(), "Error")


def source(event: dict[str, Any]) -> str:
    """The logger, else the platform, as a contract source name."""
    for candidate in (event.get("logger"), event.get("platform")):
        cleaned = _NOT_SOURCE.sub("_", str(candidate or "")).strip("_")
        if cleaned:
            return cleaned[-32:].lstrip("_") or "sentry"
    return "sentry"


def message(event: dict[str, Any]) -> str:
    """`Type: value` of the raised exception, else the formatted log entry or message."""
    chain = exceptions(event)
    if chain:
        raised = chain[-1]
        kind, value = str(raised.get("type") or "Error"), str(raised.get("value") or "")
        return (f"{kind}: {value}" if value else kind)[:MAX_MESSAGE]
    for name in ("logentry", "message"):
        text = _formatted(event.get(name))
        if text:
            return text[:MAX_MESSAGE]
    return "(no message)"


def _formatted(entry: Any) -> str:
    if isinstance(entry, str):
        return entry.strip()
    if not isinstance(entry, dict):
        return ""
    if isinstance(entry.get("formatted"), str) and entry["formatted"].strip():
        return entry["formatted"].strip()
    template, params = entry.get("message"), entry.get("params")
    if not isinstance(template, str):
        return ""
    if isinstance(params, (list, dict)) and params:
        try:  # %-formatting reads no attributes: safe on untrusted templates
            return (template % (tuple(params) if isinstance(params, list) else params)).strip()
        except (TypeError, ValueError, KeyError):
            pass
    return template.strip()


def timestamp(value: Any, origin: Origin) -> datetime:
    """The event's time (RFC 3339 or unix seconds); arrival time when missing, invalid, future or expired."""
    parsed: datetime | None = None
    try:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            parsed = datetime.fromtimestamp(float(value), timezone.utc)
        elif isinstance(value, str) and value:
            parsed = datetime.fromisoformat(value.replace("Z", "+00:00"))
            parsed = parsed if parsed.tzinfo else parsed.replace(tzinfo=timezone.utc)
    except (ValueError, OverflowError, OSError):
        parsed = None
    oldest = origin.received - timedelta(days=origin.retention_days)
    if parsed is None or parsed > origin.received + _FUTURE_SLACK or parsed < oldest:
        return origin.received
    return parsed.astimezone(timezone.utc)


def tags(event: dict[str, Any]) -> dict[str, str]:
    """Tags as strings (key <= 200, value <= 200 characters, at most 50), from a mapping or pairs."""
    raw = event.get("tags")
    pairs = raw.items() if isinstance(raw, dict) else raw if isinstance(raw, list) else []
    out: dict[str, str] = {}
    for pair in pairs:
        if not isinstance(pair, (list, tuple)) or len(pair) != 2 or pair[1] is None:
            continue
        out[str(pair[0])[:200]] = str(pair[1])[:200]
        if len(out) >= MAX_TAGS:
            break
    return out


def _text(event: dict[str, Any], name: str, limit: int) -> str:
    value = event.get(name)
    return value.strip()[:limit] if isinstance(value, str) else ""


def event_id(event: dict[str, Any], fallback: str | None = None) -> uuid.UUID:
    """The SDK's event id (32 hex digits), else the envelope's, else a new one."""
    for candidate in (event.get("event_id"), fallback):
        try:
            return uuid.UUID(str(candidate))
        except (ValueError, TypeError):
            continue
    return uuid.uuid4()


def to_row(event: dict[str, Any], origin: Origin, fallback_id: str | None = None) -> tuple[str, tuple]:
    """The event's id (hex) and its `error_events` row."""
    eid = event_id(event, fallback_id)
    chain = exceptions(event)
    raised = chain[-1] if chain else {}
    event_tags = tags(event)
    facts = {"event_id": eid.hex, "project_id": origin.project_id, "project": origin.project_name,
             "logger": _text(event, "logger", 128), "level": _text(event, "level", 16),
             "server_name": _text(event, "server_name", 128), "transaction": _text(event, "transaction", 256),
             "fingerprint": trim(event.get("fingerprint"), 1, 128, 20)}
    row = event_row(
        group_id=group_id(origin.project_id, event), ts=timestamp(event.get("timestamp"), origin),
        received_at=origin.received, user_id=0, source=source(event), severity=severity(event.get("level")),
        message=message(event), context=build_context(event, event_tags, facts), project_id=origin.project_id,
        platform=_text(event, "platform", 32).lower() or "other", release=_text(event, "release", 200),
        environment=_text(event, "environment", 64), tags=event_tags,
        exception_type=str(raised.get("type") or "")[:256], exception_value=str(raised.get("value") or "")[:4096])
    at = EVENT_COLUMNS.index("event_id")  # keep the SDK's id so `last_event_id()` finds the stored row
    return eid.hex, row[:at] + (eid,) + row[at + 1:]
