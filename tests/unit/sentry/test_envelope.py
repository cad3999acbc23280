"""Envelope framing and body decoding: what any SDK sends parses; bombs, junk and unknown codings do not."""
import gzip
import json
import zlib

import brotli
import pytest

from app.errors import ApiError
from app.sentry.envelope import decode_body, parse_envelope


def _line(obj: dict) -> bytes:
    return json.dumps(obj).encode() + b"\n"


def test_items_with_and_without_length_blank_lines_and_no_final_newline() -> None:
    event = json.dumps({"message": "a\nb"}).encode()  # a newline inside a length-framed payload
    data = (_line({"event_id": "e" * 32}) + _line({"type": "event", "length": len(event)}) + event + b"\n\n"
            + _line({"type": "session"}) + b'{"sid":"x"}\n'
            + _line({"type": "attachment", "length": 3}) + b"\x00\x01\x02"
            + _line({"type": "client_report"}) + b'{"discarded_events":[]}')
    envelope = parse_envelope(data, max_items=10)
    assert envelope.headers == {"event_id": "e" * 32}
    assert [i.type for i in envelope.items] == ["event", "session", "attachment", "client_report"]
    assert json.loads(envelope.items[0].payload) == {"message": "a\nb"}
    assert envelope.items[2].payload == b"\x00\x01\x02"
    assert envelope.items[3].payload == b'{"discarded_events":[]}'


def test_empty_envelope_header_and_zero_length_item() -> None:
    envelope = parse_envelope(b"{}\n" + _line({"type": "attachment", "length": 0}) + b"\n", max_items=5)
    assert [(i.type, i.payload) for i in envelope.items] == [("attachment", b"")]


@pytest.mark.parametrize("data, code", [
    (b"not json\n", "malformed_envelope"),
    (b"[]\n", "malformed_envelope"),
    (b"{}\n{\"type\": \"event\", \"length\": 50}\n{}\n", "malformed_envelope"),
    (b"{}\n{\"type\": \"event\", \"length\": -1}\n{}\n", "malformed_envelope"),
    (b"{}\n{\"type\": \"event\", \"length\": \"3\"}\n{}\n", "malformed_envelope"),
    (b"{}\nnot a header\n{}\n", "malformed_envelope"),
])
def test_bad_framing_is_400(data: bytes, code: str) -> None:
    with pytest.raises(ApiError) as info:
        parse_envelope(data, max_items=5)
    assert (info.value.status, info.value.code) == (400, code)


def test_too_many_items_is_413() -> None:
    data = b"{}\n" + b"".join(_line({"type": "session"}) + b"{}\n" for _ in range(4))
    assert len(parse_envelope(data, max_items=4).items) == 4
    with pytest.raises(ApiError) as info:
        parse_envelope(data, max_items=3)
    assert (info.value.status, info.value.code) == (413, "too_many_items")


@pytest.mark.parametrize("encoding, encode", [
    ("gzip", gzip.compress),
    ("x-gzip", gzip.compress),
    ("deflate", zlib.compress),
    ("deflate", lambda b: zlib.compress(b)[2:-4]),  # raw deflate, as some clients send it
    ("br", brotli.compress),
    ("", lambda b: b),
    ("identity", lambda b: b),
    ("gzip, br", lambda b: brotli.compress(gzip.compress(b))),
])
def test_each_content_encoding_decodes(encoding: str, encode) -> None:  # type: ignore[no-untyped-def]
    body = b"{}\n" + b"x" * 100_000
    assert decode_body(encode(body), encoding, limit=200_000) == body


def test_concatenated_gzip_members_decode() -> None:
    assert decode_body(gzip.compress(b"ab") + gzip.compress(b"cd"), "gzip", limit=10) == b"abcd"


@pytest.mark.parametrize("encoding, encode", [("gzip", gzip.compress), ("deflate", zlib.compress),
                                              ("br", brotli.compress), ("", lambda b: b)])
def test_bodies_past_the_decompressed_limit_are_413(encoding: str, encode) -> None:  # type: ignore[no-untyped-def]
    bomb = encode(b"\0" * 5_000_000)
    with pytest.raises(ApiError) as info:
        decode_body(bomb, encoding, limit=1_000_000)
    assert (info.value.status, info.value.code) == (413, "envelope_too_large")


def test_a_gzip_bomb_is_stopped_without_inflating_it() -> None:
    import tracemalloc

    bomb = gzip.compress(b"\0" * 200_000_000, compresslevel=9)  # ~200 KB on the wire
    tracemalloc.start()
    with pytest.raises(ApiError):
        decode_body(bomb, "gzip", limit=1_000_000)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    assert peak < 20_000_000


@pytest.mark.parametrize("body, encoding, status", [
    (b"plain", "gzip", 400),
    (gzip.compress(b"x" * 1000)[:-30], "gzip", 400),
    (b"plain", "br", 400),
    (b"plain", "zstd", 415),
    (b"plain", "compress", 415),
])
def test_bad_or_unknown_encodings(body: bytes, encoding: str, status: int) -> None:
    with pytest.raises(ApiError) as info:
        decode_body(body, encoding, limit=1_000_000)
    assert info.value.status == status
