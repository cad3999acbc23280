"""The client frame reader against RFC 6455 byte streams, however the network cuts them."""
from __future__ import annotations

import os
from typing import Iterable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.realtime.client_frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_CONTINUATION,
    OP_PING,
    OP_PONG,
    OP_TEXT,
    ClientFrameReader,
    ProtocolViolation,
    close_payload,
    unmask,
)

LIMIT = 1024


def frame(opcode: int, payload: bytes, *, final: bool = True, masked: bool = True, rsv: int = 0) -> bytes:
    """A frame as a client puts it on the wire (masked with a random key unless told otherwise)."""
    first = (0x80 if final else 0) | rsv | opcode
    size = len(payload)
    mask_bit = 0x80 if masked else 0
    if size < 126:
        head = bytes((first, mask_bit | size))
    elif size < 65536:
        head = bytes((first, mask_bit | 126)) + size.to_bytes(2, "big")
    else:
        head = bytes((first, mask_bit | 127)) + size.to_bytes(8, "big")
    if not masked:
        return head + payload
    key = os.urandom(4)
    return head + key + bytes(b ^ key[i % 4] for i, b in enumerate(payload))


class Stream:
    """The socket side: hands out the given chunks one `recv` at a time, then the end of the stream."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self.chunks = list(chunks)
        self.calls = 0

    def recv(self, _size: int) -> bytes:
        self.calls += 1
        return self.chunks.pop(0) if self.chunks else b""


def read_all(data: bytes | list[bytes], limit: int = LIMIT) -> list[tuple[int, object]]:
    reader = ClientFrameReader(Stream(data if isinstance(data, list) else [data]).recv, limit)
    out = []
    while (item := reader.next()) is not None:
        out.append(item)
    return out


def violation(data: bytes, limit: int = LIMIT) -> ProtocolViolation:
    with pytest.raises(ProtocolViolation) as caught:
        read_all(data, limit)
    return caught.value


def test_unmask_is_the_xor_with_the_repeated_key() -> None:
    data, key = os.urandom(1001), os.urandom(4)
    assert unmask(data, key) == bytes(b ^ key[i % 4] for i, b in enumerate(data))
    assert unmask(b"", key) == b""


def test_text_binary_and_control_frames_in_one_chunk() -> None:
    wire = (frame(OP_TEXT, "héllo 😀".encode()) + frame(OP_PING, b"p") + frame(OP_BINARY, b"\x00\xff")
            + frame(OP_PONG, b"") + frame(OP_CLOSE, (1000).to_bytes(2, "big") + b"bye"))
    assert read_all(wire) == [(OP_TEXT, "héllo 😀"), (OP_PING, b"p"), (OP_BINARY, b"\x00\xff"),
                              (OP_PONG, b""), (OP_CLOSE, b"\x03\xe8bye")]


@pytest.mark.parametrize("size", [0, 125, 126, 65535, 65536, 70000])
def test_each_length_encoding(size: int) -> None:
    payload = os.urandom(size)
    assert read_all(frame(OP_BINARY, payload), limit=size + 1) == [(OP_BINARY, payload)]


@settings(max_examples=150, deadline=None)
@given(messages=st.lists(st.text(max_size=300), min_size=1, max_size=6),
       cuts=st.lists(st.integers(min_value=1, max_value=40), max_size=60),
       pieces=st.integers(min_value=1, max_value=4))
def test_any_cut_of_any_fragmentation_reads_the_same_messages(messages: list[str], cuts: list[int],
                                                              pieces: int) -> None:
    wire = b""
    for text in messages:
        data = text.encode("utf-8")
        step = max(1, len(data) // pieces)
        parts = [data[i:i + step] for i in range(0, len(data), step)] or [b""]
        for index, part in enumerate(parts):  # a multi-byte character may straddle two fragments
            wire += frame(OP_TEXT if index == 0 else OP_CONTINUATION, part, final=index == len(parts) - 1)
            if index == 0 and len(parts) > 1:
                wire += frame(OP_PING, b"between")  # control frames may come between fragments
    chunks, at = [], 0
    for cut in cuts:
        chunks.append(wire[at:at + cut])
        at += cut
    chunks.append(wire[at:])
    got = [item for item in read_all([c for c in chunks if c]) if item[0] != OP_PING]
    assert got == [(OP_TEXT, text) for text in messages]


@pytest.mark.parametrize("wire,code", [
    (frame(OP_TEXT, b"x", masked=False), 1002),
    (frame(OP_TEXT, b"x", rsv=0x40), 1002),
    (frame(0x3, b"x"), 1002),
    (frame(0xB, b"x"), 1002),
    (frame(OP_PING, b"x", final=False), 1002),
    (frame(OP_PING, b"x" * 126), 1002),
    (frame(OP_CONTINUATION, b"x"), 1002),
    (frame(OP_TEXT, b"a", final=False) + frame(OP_TEXT, b"b"), 1002),
    (frame(OP_TEXT, b"\xff\xfe"), 1007),
    (frame(OP_TEXT, "é".encode()[:1]), 1007),
], ids=["unmasked", "reserved-bit", "opcode-3", "opcode-b", "fragmented-ping", "long-ping",
        "lone-continuation", "message-inside-message", "not-utf8", "cut-character"])
def test_frames_no_client_may_send(wire: bytes, code: int) -> None:
    assert violation(wire).code == code


def test_a_message_over_the_cap_is_refused_by_its_header_before_its_payload_arrives() -> None:
    header_only = frame(OP_TEXT, b"x" * (LIMIT + 1))[:8]
    stream = Stream([header_only, b"never read"])
    with pytest.raises(ProtocolViolation) as caught:
        ClientFrameReader(stream.recv, LIMIT).next()
    assert caught.value.code == 1009 and stream.calls == 1


def test_fragments_adding_up_to_more_than_the_cap_are_refused() -> None:
    half = b"x" * (LIMIT // 2 + 1)
    assert violation(frame(OP_TEXT, half, final=False) + frame(OP_CONTINUATION, half)).code == 1009


def test_the_end_of_the_stream_mid_frame_is_the_end() -> None:
    assert read_all(frame(OP_TEXT, b"hello")[:-2]) == []


@pytest.mark.parametrize("payload,expected", [
    (b"", (None, "")),
    ((1000).to_bytes(2, "big"), (1000, "")),
    ((4000).to_bytes(2, "big") + "fin 😀".encode(), (4000, "fin 😀")),
    ((3000).to_bytes(2, "big"), (3000, "")),
])
def test_close_payloads(payload: bytes, expected: tuple[int | None, str]) -> None:
    assert close_payload(payload) == expected


@pytest.mark.parametrize("payload,code", [
    (b"\x03", 1002),
    ((1005).to_bytes(2, "big"), 1002),
    ((1006).to_bytes(2, "big"), 1002),
    ((999).to_bytes(2, "big"), 1002),
    ((2999).to_bytes(2, "big"), 1002),
    ((5000).to_bytes(2, "big"), 1002),
    ((1000).to_bytes(2, "big") + b"\xff", 1007),
])
def test_close_payloads_no_client_may_send(payload: bytes, code: int) -> None:
    with pytest.raises(ProtocolViolation) as caught:
        close_payload(payload)
    assert caught.value.code == code
