"""Grouping: what varies between occurrences of one error is normalised away, the rest is kept."""
import pytest

from app.tracking.fingerprint import fingerprint, normalise_message


@pytest.mark.parametrize("first, second", [
    ("Buffer underrun after 512 samples", "Buffer underrun after 1024 samples"),
    ("Plugin 550e8400-e29b-41d4-a716-446655440000 crashed", "Plugin 123e4567-e89b-12d3-a456-426614174000 crashed"),
    ("Cannot reach bob@example.com", "Cannot reach alice@studio.io"),
    ("Failed to open /home/bob/a.wav", "Failed to open /Users/alice/Music/b.wav"),
    ("Pointer 0x7ffd1234 invalid", "Pointer 0xDEADBEEF invalid"),
    ("Preset 'Warm Pad' failed to load", "Preset 'Bright Lead 2' failed to load"),
    ('Key "gain" missing', 'Key "pan" missing'),
    ("Latency 3.5 ms over budget", "Latency 12.25 ms over budget"),
    ("object deadbeef12 leaked", "object 0a1b2c3d4e leaked"),
])
def test_variable_parts_share_a_group(first: str, second: str) -> None:
    assert fingerprint("Audio", first) == fingerprint("Audio", second)


@pytest.mark.parametrize("first, second", [
    ("Buffer underrun after 512 samples", "Buffer overrun after 512 samples"),
    ("Upload rate limit exceeded", "Download rate limit exceeded"),
    ("File /a/b missing", "File /a/b locked"),
])
def test_different_errors_stay_apart(first: str, second: str) -> None:
    assert fingerprint("Audio", first) != fingerprint("Audio", second)


def test_source_is_part_of_the_group_but_not_its_case() -> None:
    assert fingerprint("Audio", "boom") != fingerprint("Network", "boom")
    assert fingerprint("Audio", "boom") == fingerprint("audio", "boom")


def test_normalised_text_keeps_the_words() -> None:
    assert normalise_message("Buffer underrun after 512 samples") == "Buffer underrun after <num> samples"
    assert normalise_message("File /home/bob/x.wav missing") == "File <path> missing"
    assert normalise_message("  many   spaces\tand\ttabs ") == "many spaces and tabs"


def test_group_id_is_sixteen_hex_digits() -> None:
    group = fingerprint("UI", "Button 3 not found")
    assert len(group) == 16 and int(group, 16) >= 0
