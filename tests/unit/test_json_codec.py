"""The hot-path JSON encoder reads back exactly like the standard library's, fast path or not."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.json_codec import dumps_bytes, dumps_text

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
