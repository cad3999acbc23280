"""Real small media files built here, and what the upload code reads from their bytes.

The builders are imported by the upload API tests too.
"""
from __future__ import annotations

import io
import struct
import wave
import zlib

import pytest

from app.uploads import media
from app.uploads.durations import duration_ms


def wav_bytes(seconds: float = 0.5, rate: int = 8000) -> bytes:
    """A mono 16-bit PCM WAV written by the stdlib `wave` module."""
    out = io.BytesIO()
    with wave.open(out, "wb") as wav:
        wav.setnchannels(1)
        wav.setsampwidth(2)
        wav.setframerate(rate)
        wav.writeframes(b"\x01\x00" * int(rate * seconds))
    return out.getvalue()


def aiff_bytes(frames: int = 22050, rate: int = 44100) -> bytes:
    """A mono 16-bit AIFF: COMM (rate as an 80-bit extended float) and SSND chunks."""
    exponent = rate.bit_length() - 1
    rate80 = struct.pack(">HQ", 16383 + exponent, rate << (63 - exponent))
    comm = struct.pack(">hIh", 1, frames, 16) + rate80
    ssnd = struct.pack(">II", 0, 0) + b"\x00\x01" * frames
    body = b"AIFF" + b"COMM" + struct.pack(">I", len(comm)) + comm + b"SSND" + struct.pack(">I", len(ssnd)) + ssnd
    return b"FORM" + struct.pack(">I", len(body)) + body


def flac_bytes(total_samples: int = 88200, rate: int = 44100) -> bytes:
    """`fLaC` and a last-block STREAMINFO: 2 channels, 16 bits, `total_samples` samples."""
    packed = (rate << 44) | (1 << 41) | (15 << 36) | total_samples
    info = struct.pack(">HH", 4096, 4096) + b"\x00" * 6 + packed.to_bytes(8, "big") + b"\x00" * 16
    return b"fLaC" + bytes([0x80, 0, 0, len(info)]) + info


def _ogg_crc(data: bytes) -> int:
    crc = 0
    for byte in data:
        crc ^= byte << 24
        for _ in range(8):
            crc = ((crc << 1) ^ 0x04C11DB7) if crc & 0x80000000 else crc << 1
            crc &= 0xFFFFFFFF
    return crc


def _ogg_page(packet: bytes, granule: int, sequence: int, header_type: int, serial: int = 0x5EED) -> bytes:
    segments = [255] * (len(packet) // 255) + [len(packet) % 255]
    header = (b"OggS" + bytes([0, header_type]) + struct.pack("<qII", granule, serial, sequence)
              + b"\x00\x00\x00\x00" + bytes([len(segments)]) + bytes(segments))
    page = header + packet
    return page[:22] + struct.pack("<I", _ogg_crc(page)) + page[26:]


def ogg_vorbis_bytes(seconds: float = 2.0, rate: int = 48000) -> bytes:
    """A Vorbis identification page and a last page whose granule is the sample count."""
    ident = b"\x01vorbis" + struct.pack("<IBIiii", 0, 2, rate, 0, 128000, 0) + bytes([0xB8, 1])
    return (_ogg_page(ident, 0, 0, 0x02) + _ogg_page(b"\x00" * 40, 0, 1, 0x00)
            + _ogg_page(b"\x00" * 40, int(seconds * rate), 2, 0x04))


def ogg_opus_bytes(seconds: float = 1.5, pre_skip: int = 312) -> bytes:
    """An OpusHead page and a last page at 48 kHz granule `seconds` + pre-skip."""
    head = b"OpusHead" + struct.pack("<BBHIhB", 1, 2, pre_skip, 44100, 0, 0)
    return _ogg_page(head, 0, 0, 0x02) + _ogg_page(b"\x00" * 30, int(seconds * 48000) + pre_skip, 1, 0x04)


MP3_HEADER = b"\xff\xfb\x90\x64"  # MPEG-1 Layer III, 128 kbit/s, 44.1 kHz, joint stereo
MP3_FRAME = 417


def mp3_bytes(frames: int = 40, id3: bool = False, xing_frames: int | None = None) -> bytes:
    """Constant-bitrate Layer III frames; optionally an ID3v2 tag before and a Xing frame count."""
    first = bytearray(MP3_HEADER + b"\x00" * (MP3_FRAME - 4))
    if xing_frames is not None:
        first[4 + 32:4 + 44] = b"Xing" + struct.pack(">II", 1, xing_frames)
    body = bytes(first) + (MP3_HEADER + b"\x00" * (MP3_FRAME - 4)) * (frames - 1)
    if not id3:
        return body
    tag = b"TIT2" + struct.pack(">I", 6) + b"\x00\x00\x03song" + b"\x00" * 300
    size = len(tag)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x04\x00\x00" + syncsafe + tag + body


def png_bytes(width: int = 4, height: int = 3, padding: int = 0) -> bytes:
    """A real RGB PNG (IHDR, zlib IDAT, IEND); `padding` adds an ancillary chunk of zeros."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    raw = b"".join(b"\x00" + bytes([200, 30, 30]) * width for _ in range(height))
    extra = chunk(b"teXt", b"pad\x00" + b"0" * padding) if padding else b""
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
            + extra + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def jpeg_bytes() -> bytes:
    """SOI, a JFIF APP0 segment, EOI: the shortest well-formed JPEG framing."""
    app0 = b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
    return b"\xff\xd8" + b"\xff\xe0" + struct.pack(">H", len(app0) + 2) + app0 + b"\xff\xd9"


def webp_bytes() -> bytes:
    """A RIFF/WEBP container with a 1x1 lossless (VP8L) bitstream header."""
    vp8l = b"\x2f\x00\x00\x00\x00\x88\x88\x08\x00"
    chunk = b"VP8L" + struct.pack("<I", len(vp8l)) + vp8l + b"\x00"
    return b"RIFF" + struct.pack("<I", 4 + len(chunk)) + b"WEBP" + chunk


AUDIO_SAMPLES = {  # name: (bytes, media type, duration in ms)
    "wav": (wav_bytes(), "audio/wav", 500),
    "aiff": (aiff_bytes(), "audio/aiff", 500),
    "flac": (flac_bytes(), "audio/flac", 2000),
    "ogg-vorbis": (ogg_vorbis_bytes(), "audio/ogg", 2000),
    "ogg-opus": (ogg_opus_bytes(), "audio/ogg", 1500),
    "mp3-xing": (mp3_bytes(xing_frames=100), "audio/mpeg", round(100 * 1152 * 1000 / 44100)),
}
IMAGE_SAMPLES = {"png": (png_bytes(), "image/png"), "jpeg": (jpeg_bytes(), "image/jpeg"),
                 "webp": (webp_bytes(), "image/webp")}


@pytest.mark.parametrize("name", sorted(AUDIO_SAMPLES))
def test_audio_is_recognised_with_its_duration(name: str) -> None:
    data, media_type, expected_ms = AUDIO_SAMPLES[name]
    fmt = media.sniff(io.BytesIO(data))
    assert fmt is not None and fmt.media_type == media_type and fmt.family == media.AUDIO
    assert duration_ms(io.BytesIO(data), fmt, len(data)) == expected_ms


@pytest.mark.parametrize("id3", [False, True])
def test_cbr_mp3_duration_is_estimated_from_the_bitrate(id3: bool) -> None:
    data = mp3_bytes(frames=40, id3=id3)
    assert media.sniff(io.BytesIO(data)) == media.MP3
    exact = 40 * 1152 * 1000 / 44100
    estimate = duration_ms(io.BytesIO(data), media.MP3, len(data))
    assert estimate is not None and abs(estimate - exact) / exact < 0.02


@pytest.mark.parametrize("name", sorted(IMAGE_SAMPLES))
def test_images_are_recognised(name: str) -> None:
    data, media_type = IMAGE_SAMPLES[name]
    fmt = media.sniff(io.BytesIO(data))
    assert fmt is not None and (fmt.media_type, fmt.family) == (media_type, media.IMAGE)


@pytest.mark.parametrize("data", [
    b"", b"hello, this is text", b"RIFF\x10\x00\x00\x00AVI LIST", b"%PDF-1.7\n",
    b"\xff\xfb\x90\x64" + b"\x00" * 413 + b"not another frame",  # one sync word is not an MP3
    b"\xff\xf1\x50\x80" + b"\x00" * 100,  # AAC ADTS, not Layer III
    b"ID3\x04\x00\x00\x00\x00\x00\x05" + b"\x00" * 5 + b"plain text after a tag",
])
def test_other_bytes_are_not_recognised(data: bytes) -> None:
    assert media.sniff(io.BytesIO(data)) is None


def test_damaged_headers_give_no_duration_instead_of_failing() -> None:
    broken_wav = wav_bytes()[:20]
    assert duration_ms(io.BytesIO(broken_wav), media.WAV, len(broken_wav)) is None
    no_total = flac_bytes(total_samples=0)
    assert duration_ms(io.BytesIO(no_total), media.FLAC, len(no_total)) is None
    truncated_ogg = ogg_vorbis_bytes()[:20]
    assert duration_ms(io.BytesIO(truncated_ogg), media.OGG, len(truncated_ogg)) is None
