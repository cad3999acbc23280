"""The WebSocket frame format: `{type, payload}` in, `{type, payload, timestamp}` out."""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from app.errors import ApiError
from app.json_codec import dumps_bytes, dumps_text, loads
from app.models.base import now_ms

FRAME_TYPE = re.compile(r"^[a-z][a-z0-9_]{0,63}$")


class FrameError(ApiError):
    """A frame the hub refuses; it becomes an `error {code, message}` frame, never a disconnect."""

    code = "malformed_frame"


@dataclass(frozen=True)
class InboundFrame:
    """A parsed client frame: its type and its payload object."""

    type: str
    payload: dict[str, Any]


def encode_frame(frame_type: str, payload: dict[str, Any]) -> str:
    """Serialise a frame once (fan-out reuses the text), stamped with the server time in ms."""
    return dumps_text({"type": frame_type, "payload": payload, "timestamp": now_ms()})


def encode_frame_bytes(frame_type: str, payload: dict[str, Any]) -> bytes:
    """`encode_frame` as UTF-8, for a frame that goes straight to `wire_frame`."""
    return dumps_bytes({"type": frame_type, "payload": payload, "timestamp": now_ms()})


def error_payload(code: str, message: str) -> dict[str, str]:
    """The payload of an `error` frame: the same code and sentence an HTTP error body carries."""
    return {"code": code, "message": message}


def frame_size(data: str | bytes) -> int:
    """The size of a received message in bytes (UTF-8 for text)."""
    if isinstance(data, bytes):
        return len(data)
    # A character is at most 4 bytes: skip encoding when even that cannot exceed limits.
    return len(data) if data.isascii() else len(data.encode("utf-8", "surrogatepass"))


def decode_frame(data: str | bytes, max_bytes: int) -> InboundFrame:
    """Parse one client message; FrameError names what is wrong with it."""
    size = frame_size(data)
    if size > max_bytes:
        raise FrameError(f"The frame is {size} bytes; the limit is {max_bytes}.", code="frame_too_large")
    try:
        obj = loads(data)
    except (ValueError, UnicodeDecodeError) as exc:
        raise FrameError("The frame is not valid JSON.") from exc
    if not isinstance(obj, dict):
        raise FrameError("A frame must be a JSON object {type, payload}.")
    frame_type = obj.get("type")
    if not isinstance(frame_type, str) or not frame_type:
        raise FrameError("A frame needs a string `type`.")
    payload = obj.get("payload", {})
    if payload is None:
        payload = {}
    if not isinstance(payload, dict):
        raise FrameError("`payload` must be a JSON object.", code="invalid_payload")
    return InboundFrame(frame_type, payload)


def wire_frame(text: str | bytes, opcode: int = 0x1) -> bytes:
    """The bytes of one unmasked, final frame (RFC 6455 5.2): the same for every connection,
    so a fan-out frames its message once (connections never negotiate compression).
    `text` is the frame's JSON, as text or already UTF-8; with a control `opcode` (ping, pong,
    close) it is that frame's payload, at most 125 bytes."""
    data = text if isinstance(text, bytes) else text.encode("utf-8")
    size, first = len(data), 0x80 | opcode
    if size < 126:
        header = bytes((first, size))
    elif size < 65536:
        header = bytes((first, 126)) + size.to_bytes(2, "big")
    else:
        header = bytes((first, 127)) + size.to_bytes(8, "big")
    return header + data
