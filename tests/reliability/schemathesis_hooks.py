"""Schemathesis hooks (loaded by `st` through SCHEMATHESIS_HOOKS): how to send a Sentry envelope.

Schemathesis cannot serialise `application/x-sentry-envelope` by itself. A generated object goes
out as a well-framed envelope whose event item is that object, so the fuzzer reaches the event
normaliser; a list becomes one item per element with generated item types; anything else goes
out as raw text, so the envelope parser meets garbage too.
"""
from __future__ import annotations

import json
from typing import Any

import schemathesis

_ITEM_TYPES = ("event", "transaction", "attachment", "session", "client_report", "")


def _line(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False).encode("utf-8", "surrogatepass")


def envelope_bytes(value: Any) -> bytes:
    """The bytes an SDK could send for a generated body value."""
    if isinstance(value, (bytes, bytearray)):
        return bytes(value)
    if isinstance(value, dict):
        return b"\n".join((b"{}", _line({"type": "event"}), _line(value)))
    if isinstance(value, list):
        lines = [b"{}"]
        for index, element in enumerate(value):
            lines += [_line({"type": _ITEM_TYPES[index % len(_ITEM_TYPES)]}), _line(element)]
        return b"\n".join(lines)
    return (value if isinstance(value, str) else json.dumps(value)).encode("utf-8", "surrogatepass")


@schemathesis.serializer("application/x-sentry-envelope")
def _envelope(ctx: Any, value: Any) -> dict[str, Any]:
    """Frame the generated value as an envelope."""
    return {"data": envelope_bytes(value)}
