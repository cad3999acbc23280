"""The hot-path JSON encoder reads back exactly like the standard library's, fast path or not."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.json_codec import dumps_bytes, dumps_text, loads

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text()
    | st.floats(allow_nan=False, allow_infinity=False),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


@settings(max_examples=300, deadline=None, database=None)
@given(value=json_values)
def test_round_trips_like_the_standard_library(value: object) -> None:
    """Integers of any size included: beyond 64 bits the encoder falls back to `json`."""
    try:
        expected = json.loads(json.dumps(value, ensure_ascii=False).encode("utf-8"))
    except UnicodeEncodeError:  # a lone surrogate: not UTF-8, refused alike
        with pytest.raises(UnicodeEncodeError):
            dumps_bytes(value)
        return
    assert json.loads(dumps_bytes(value)) == expected
    assert json.loads(dumps_text(value)) == expected


def test_the_wire_form_is_compact_utf8() -> None:
    frame = {"type": "operation", "payload": {"content": "héllo 👍🏽", "n": 2**70, "k": [1, 2]}}
    assert dumps_bytes(frame) == json.dumps(frame, separators=(",", ":"), ensure_ascii=False).encode()
    assert dumps_text({"a": "👍"}) == '{"a":"👍"}'


@settings(max_examples=300, deadline=None, database=None)
@given(value=json_values)
def test_loads_reads_what_the_standard_library_reads(value: object) -> None:
    """Same value and same types (a big integer stays an exact int), for text and UTF-8 bytes."""
    text = json.dumps(value)
    assert _typed(loads(text)) == _typed(json.loads(text))
    assert _typed(loads(text.encode("utf-8"))) == _typed(json.loads(text.encode("utf-8")))


@pytest.mark.parametrize("text", [
    '{"n": 123456789012345678901234567890}', '[-9223372036854775809, 18446744073709551616]',
    '{"s": "\\ud800"}', '[NaN, Infinity, -Infinity]', '{"a": 1, "a": 2}', '[1e400]',
    '"1234567890123456789 digits in a string"',
])
def test_loads_agrees_where_orjson_would_not(text: str) -> None:
    assert repr(_typed(loads(text))) == repr(_typed(json.loads(text)))
    data = text.encode("utf-8", "surrogatepass")
    assert repr(_typed(loads(data))) == repr(_typed(json.loads(data)))


@pytest.mark.parametrize("text", ["", "{", "[1,]", "{'a': 1}", "nul", "[" * 5000 + "]" * 5000])
def test_loads_refuses_what_the_standard_library_refuses(text: str) -> None:
    with pytest.raises((ValueError, RecursionError)) as expected:
        json.loads(text)
    with pytest.raises(expected.type):
        loads(text)


def _typed(value: object) -> object:
    """The value with the type of every leaf, so that 1 and 1.0 differ."""
    if isinstance(value, dict):
        return {key: _typed(item) for key, item in value.items()}
    if isinstance(value, list):
        return [_typed(item) for item in value]
    return (type(value).__name__, value)
