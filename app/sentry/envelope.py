"""Sentry's wire formats without the web: body decompression with a cap, envelope framing, JSON items.

An envelope (develop.sentry.dev/sdk/envelopes) is a header line of JSON, then items: each a
header line of JSON and a payload of `length` bytes, or up to the next newline without `length`.
"""
from __future__ import annotations

import json
import zlib
from dataclasses import dataclass, field
from typing import Any, Callable

from app.errors import ApiError, BadRequest, PayloadTooLarge

try:  # optional: the SDKs prefer brotli when the client has it installed
    import brotli
except ImportError:  # pragma: no cover - brotli is in requirements.txt
    brotli = None

_CHUNK = 64 * 1024


class UnsupportedEncoding(ApiError):
    """A Content-Encoding the server cannot decode."""

    status, code = 415, "unsupported_media_type"


@dataclass
class Item:
    """One envelope item: its type, its header and its raw payload."""

    type: str
    headers: dict[str, Any]
    payload: bytes


@dataclass
class Envelope:
    """An envelope's header and items, in order."""

    headers: dict[str, Any]
    items: list[Item] = field(default_factory=list)


def _too_large(limit: int) -> PayloadTooLarge:
    return PayloadTooLarge(f"The decompressed body is larger than {limit} bytes.", code="envelope_too_large")


def _inflate(body: bytes, wbits: int, limit: int) -> bytes:
    """zlib/gzip/raw deflate, stopping as soon as the output passes `limit` (a gzip bomb stays small)."""
    out, size, data = [], 0, body
    while True:
        engine = zlib.decompressobj(wbits)
        while True:
            chunk = engine.decompress(data, _CHUNK)
            out.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            data = engine.unconsumed_tail
            if engine.eof or (not data and not chunk):
                break
        if not engine.eof:
            raise BadRequest("The compressed body is truncated.", code="malformed_body")
        data = engine.unused_data
        if not data or wbits < 16:  # only gzip allows concatenated members
            return b"".join(out)


def _unbrotli(body: bytes, limit: int) -> bytes:
    if brotli is None:
        raise UnsupportedEncoding("Brotli bodies are not supported by this server; use gzip.")
    engine, out, size = brotli.Decompressor(), [], 0
    try:
        chunk = engine.process(body, output_buffer_limit=_CHUNK)
        while True:
            out.append(chunk)
            size += len(chunk)
            if size > limit:
                raise _too_large(limit)
            if engine.is_finished():
                break
            chunk = engine.process(b"", output_buffer_limit=_CHUNK)
            if not chunk and engine.can_accept_more_data():
                break  # every input byte used and no output left: the stream is truncated
    except brotli.error as exc:
        raise BadRequest("The body is not valid brotli.", code="malformed_body") from exc
    if not engine.is_finished():
        raise BadRequest("The compressed body is truncated.", code="malformed_body")
    return b"".join(out)


def _deflate(body: bytes, limit: int) -> bytes:
    """HTTP `deflate` is zlib-wrapped by the standard, raw deflate by some clients: accept both."""
    try:
        return _inflate(body, zlib.MAX_WBITS, limit)
    except zlib.error:
        return _inflate(body, -zlib.MAX_WBITS, limit)


_DECODERS: dict[str, Callable[[bytes, int], bytes]] = {
    "gzip": lambda body, limit: _inflate(body, 16 + zlib.MAX_WBITS, limit),
    "x-gzip": lambda body, limit: _inflate(body, 16 + zlib.MAX_WBITS, limit),
    "deflate": _deflate,
    "br": _unbrotli,
}


def decode_body(body: bytes, content_encoding: str, limit: int) -> bytes:
    """Undo each Content-Encoding (last applied first); 413 past `limit`, 415 for unknown codings."""
    codings = [c.strip().lower() for c in content_encoding.split(",") if c.strip()]
    for coding in reversed(codings):
        if coding == "identity":
            continue
        decoder = _DECODERS.get(coding)
        if decoder is None:
            raise UnsupportedEncoding(f"Content-Encoding {coding!r} is not supported; use gzip.")
        try:
            body = decoder(body, limit)
        except zlib.error as exc:
            raise BadRequest(f"The body is not valid {coding}.", code="malformed_body") from exc
    if len(body) > limit:
        raise _too_large(limit)
    return body


def parse_json_object(raw: bytes, what: str) -> dict[str, Any]:
    """A JSON object from bytes; 400 `malformed_envelope` naming `what` otherwise."""
    try:
        value = json.loads(raw)
    except (ValueError, UnicodeDecodeError, RecursionError) as exc:
        raise BadRequest(f"The {what} is not valid JSON.", code="malformed_envelope") from exc
    if not isinstance(value, dict):
        raise BadRequest(f"The {what} must be a JSON object.", code="malformed_envelope")
    return value


def _line(data: bytes, start: int) -> tuple[bytes, int]:
    """The bytes up to the next newline (or the end) and the offset after that newline."""
    end = data.find(b"\n", start)
    if end < 0:
        return data[start:], len(data)
    return data[start:end], end + 1


def parse_envelope(data: bytes, max_items: int) -> Envelope:
    """Split an envelope into its header and items; 400 on bad framing, 413 past `max_items`."""
    header_line, offset = _line(data, 0)
    envelope = Envelope(parse_json_object(header_line or b"{}", "envelope header"))
    while offset < len(data):
        raw_header, offset = _line(data, offset)
        if not raw_header.strip():
            continue  # blank lines between items and at the end are tolerated
        headers = parse_json_object(raw_header, "item header")
        payload, offset = _payload(data, offset, headers.get("length"))
        if len(envelope.items) >= max_items:
            raise PayloadTooLarge(f"An envelope holds at most {max_items} items.", code="too_many_items")
        envelope.items.append(Item(str(headers.get("type", "")), headers, payload))
    return envelope


def _payload(data: bytes, offset: int, length: Any) -> tuple[bytes, int]:
    if length is None:
        return _line(data, offset)
    if not isinstance(length, int) or isinstance(length, bool) or length < 0:
        raise BadRequest("An item's length must be a non-negative integer.", code="malformed_envelope")
    end = offset + length
    if end > len(data):
        raise BadRequest("An item is shorter than its declared length.", code="malformed_envelope")
    if data[end:end + 1] == b"\n":
        return data[offset:end], end + 1
    return data[offset:end], end
