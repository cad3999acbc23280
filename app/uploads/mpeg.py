"""MPEG audio Layer III (MP3) frame headers: recognising a stream and estimating its length."""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

_BITRATES_V1 = (0, 32, 40, 48, 56, 64, 80, 96, 112, 128, 160, 192, 224, 256, 320)
_BITRATES_V2 = (0, 8, 16, 24, 32, 40, 48, 56, 64, 80, 96, 112, 128, 144, 160)
_RATES = {3: (44100, 48000, 32000), 2: (22050, 24000, 16000), 0: (11025, 12000, 8000)}


@dataclass(frozen=True)
class Frame:
    """One Layer III frame header."""

    offset: int
    mpeg1: bool
    bitrate_kbps: int
    sample_rate: int
    length: int
    mono: bool

    @property
    def samples(self) -> int:
        """PCM samples per channel the frame decodes to."""
        return 1152 if self.mpeg1 else 576


def parse_header(offset: int, header: bytes) -> Frame | None:
    """Decode a 4-byte header; None unless it is a valid MPEG 1/2/2.5 Layer III header."""
    if len(header) < 4 or header[0] != 0xFF or header[1] & 0xE0 != 0xE0:
        return None
    version, layer = (header[1] >> 3) & 3, (header[1] >> 1) & 3
    bitrate_index, rate_index = header[2] >> 4, (header[2] >> 2) & 3
    if version == 1 or layer != 1 or bitrate_index in (0, 15) or rate_index == 3:
        return None
    mpeg1 = version == 3
    bitrate = (_BITRATES_V1 if mpeg1 else _BITRATES_V2)[bitrate_index]
    rate = _RATES[version][rate_index]
    length = (144 if mpeg1 else 72) * bitrate * 1000 // rate + ((header[2] >> 1) & 1)
    return Frame(offset, mpeg1, bitrate, rate, length, mono=(header[3] >> 6) == 3)


def frame_at(file: BinaryIO, offset: int, confirm: bool = False) -> Frame | None:
    """The frame at `offset`; with `confirm`, the next header must follow it (when the file goes on)."""
    file.seek(offset)
    frame = parse_header(offset, file.read(4))
    if frame is None or not confirm:
        return frame
    file.seek(offset + frame.length)
    following = file.read(4)
    if following and parse_header(offset + frame.length, following) is None:
        return None
    return frame


def mp3_duration_ms(file: BinaryIO, audio_start: int, size: int) -> int | None:
    """From the Xing/Info frame count when present (VBR), else from the bitrate (CBR estimate)."""
    frame = frame_at(file, audio_start)
    if frame is None:
        return None
    side_info = (32 if not frame.mono else 17) if frame.mpeg1 else (17 if not frame.mono else 9)
    file.seek(audio_start + 4 + side_info)
    tag = file.read(12)
    if tag[:4] in (b"Xing", b"Info") and int.from_bytes(tag[4:8], "big") & 1:
        frames = int.from_bytes(tag[8:12], "big")
        return round(frames * frame.samples * 1000 / frame.sample_rate)
    file.seek(max(0, size - 128))
    tail = 128 if file.read(3) == b"TAG" else 0
    return round((size - audio_start - tail) * 8 / frame.bitrate_kbps)
