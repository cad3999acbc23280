"""Sentry grouping: the SDK's fingerprint, else exception types plus stack frames, else the message.

Frames count by module (or file name) and function, never by line number, so an edit above the
crash does not split a group. Only in-app frames count when the SDK marked any; otherwise all.
Groups never span projects: the project id is part of every group key.
"""
from __future__ import annotations

import re
from typing import Any

from app.tracking.fingerprint import group_key, normalise_message

_VARIABLE = re.compile(r"^\{\{\s*([\w.]+)\s*\}\}$")


def exceptions(event: dict[str, Any]) -> list[dict[str, Any]]:
    """The exception chain, innermost (the cause) first and the raised one last, as Sentry orders it."""
    raw = event.get("exception")
    values = raw.get("values") if isinstance(raw, dict) else raw
    if not isinstance(values, list):
        return []
    return [v for v in values if isinstance(v, dict)]


def frames(exception: dict[str, Any]) -> list[dict[str, Any]]:
    """The stack frames of one exception, oldest call first."""
    stacktrace = exception.get("stacktrace")
    found = stacktrace.get("frames") if isinstance(stacktrace, dict) else None
    return [f for f in found if isinstance(f, dict)] if isinstance(found, list) else []


def grouping_frames(all_frames: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The in-app frames, or every frame when the SDK marked none in-app."""
    in_app = [f for f in all_frames if f.get("in_app") is True]
    return in_app or all_frames


def _frame_part(frame: dict[str, Any]) -> str:
    where = frame.get("module") or str(frame.get("filename") or frame.get("abs_path") or "?")
    if not frame.get("module"):
        where = re.split(r"[\\/]", where.split("?", 1)[0])[-1]  # a file name, not its host or folder
    return f"{where}:{frame.get('function') or '?'}"


def event_message(event: dict[str, Any]) -> str:
    """The message template (`logentry.message`) or the plain message, for grouping."""
    for field in ("logentry", "message"):
        value = event.get(field)
        if isinstance(value, dict):
            value = value.get("message") or value.get("formatted")
        if isinstance(value, str) and value.strip():
            return value
    return ""


def default_components(event: dict[str, Any]) -> list[str]:
    """What groups an event without a fingerprint: exception types and frames, else the message."""
    chain = exceptions(event)
    if chain:
        parts = ["exception"]
        for exception in chain:
            parts.append(str(exception.get("type") or "Error"))
            stack = grouping_frames(frames(exception))
            if stack:
                parts.extend(_frame_part(f) for f in stack)
            else:
                parts.append(normalise_message(str(exception.get("value") or "")))
        return parts
    message = event_message(event)
    if message:
        return ["message", normalise_message(message)]
    return ["empty", str(event.get("logger") or ""), str(event.get("culprit") or "")]


def _variable(name: str, event: dict[str, Any], default: list[str]) -> list[str] | None:
    chain = exceptions(event)
    last = chain[-1] if chain else {}
    values: dict[str, Any] = {
        "default": default,
        "type": last.get("type"), "error.type": last.get("type"),
        "value": last.get("value"), "error.value": last.get("value"),
        "message": event_message(event), "transaction": event.get("transaction"),
        "level": event.get("level"), "logger": event.get("logger"),
    }
    if name not in values:
        return None
    value = values[name]
    return value if isinstance(value, list) else [str(value or "")]


def expand_fingerprint(fingerprint: list[Any], event: dict[str, Any],
                       default: list[str] | None = None) -> list[str]:
    """The fingerprint with `{{ default }}` (and a few of Sentry's other variables) filled in."""
    default = default_components(event) if default is None else default
    parts: list[str] = []
    for entry in fingerprint:
        text = str(entry)
        match = _VARIABLE.match(text.strip())
        expanded = _variable(match.group(1).lower(), event, default) if match else None
        parts.extend(expanded if expanded is not None else [text])
    return parts


def group_id(project_id: int, event: dict[str, Any]) -> str:
    """The 16-hex-digit group of a Sentry event within its project."""
    default = default_components(event)
    fingerprint = event.get("fingerprint")
    if isinstance(fingerprint, list) and fingerprint:
        parts = expand_fingerprint(fingerprint, event, default)
        if parts != default:  # `["{{ default }}"]` alone is the default grouping, as in Sentry
            return group_key("sentry", str(project_id), "fingerprint", *parts)
    return group_key("sentry", str(project_id), *default)
