"""Parsing client frames and encoding server frames."""
import json

import pytest
from pydantic import BaseModel, ConfigDict

from app.realtime.frames import FrameError, decode_frame, encode_frame, frame_size
from app.realtime.registry import HandlerRegistry


def test_encode_adds_a_millisecond_timestamp() -> None:
    frame = json.loads(encode_frame("pong", {"é": "✓"}))
    assert frame["type"] == "pong" and frame["payload"] == {"é": "✓"}
    assert frame["timestamp"] > 1_600_000_000_000


@pytest.mark.parametrize("text,code", [
    ("{", "malformed_frame"), ("null", "malformed_frame"), ('"ping"', "malformed_frame"),
    ('{"type": ""}', "malformed_frame"), ('{"type": ["ping"]}', "malformed_frame"),
    ('{"type": "ping", "payload": [1]}', "invalid_payload"), ('{"type": "ping", "payload": 3}', "invalid_payload"),
    (b"\xff\xfe", "malformed_frame"),
])
def test_bad_frames_name_their_problem(text: str | bytes, code: str) -> None:
    with pytest.raises(FrameError) as info:
        decode_frame(text, 1024)
    assert info.value.code == code and info.value.message


def test_size_is_counted_in_utf8_bytes() -> None:
    emoji = '{"type": "ping", "payload": {"t": "' + "🎵" * 10 + '"}}'
    assert frame_size(emoji) == len(emoji.encode())
    with pytest.raises(FrameError) as info:
        decode_frame(emoji, len(emoji))  # fits in characters, not in bytes
    assert info.value.code == "frame_too_large"
    assert decode_frame(emoji, len(emoji.encode())).payload == {"t": "🎵" * 10}


def test_a_missing_or_null_payload_is_an_empty_object() -> None:
    assert decode_frame('{"type": "ping"}', 100).payload == {}
    assert decode_frame('{"type": "ping", "payload": null}', 100).payload == {}


class Echo(BaseModel):
    model_config = ConfigDict(extra="forbid")
    text: str


def test_registry_routes_validates_and_refuses_duplicates() -> None:
    registry = HandlerRegistry()
    seen: list[object] = []
    registry.register("echo", lambda conn, payload: seen.append(payload), Echo)
    registry.register("raw", lambda conn, payload: seen.append(payload))
    registry.dispatch(None, decode_frame('{"type": "echo", "payload": {"text": "hi"}}', 100))  # type: ignore[arg-type]
    registry.dispatch(None, decode_frame('{"type": "raw", "payload": {"any": 1}}', 100))  # type: ignore[arg-type]
    assert seen == [Echo(text="hi"), {"any": 1}]
    with pytest.raises(FrameError) as info:
        registry.dispatch(None, decode_frame('{"type": "echo", "payload": {"text": 1}}', 100))  # type: ignore[arg-type]
    assert info.value.code == "invalid_payload"
    with pytest.raises(FrameError) as info:
        registry.dispatch(None, decode_frame('{"type": "nope"}', 100))  # type: ignore[arg-type]
    assert info.value.code == "unknown_type"
    with pytest.raises(ValueError):
        registry.register("echo", lambda conn, payload: None)
    with pytest.raises(ValueError):
        registry.register("Bad Type", lambda conn, payload: None)
    assert registry.types() == ["echo", "raw"] and len(seen) == 2


@pytest.mark.parametrize("size", [0, 1, 125, 126, 127, 65535, 65536, 200_001])
def test_wire_frames_match_wsproto_byte_for_byte(size: int) -> None:
    from wsproto.frame_protocol import FrameProtocol

    from app.realtime.frames import wire_frame

    text = "é" * (size // 2) + "a" * (size % 2)
    assert wire_frame(text) == FrameProtocol(client=False, extensions=[]).send_data(text, fin=True)
