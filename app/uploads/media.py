"""What a file is, from its first bytes (never its name): the audio and image formats accepted."""
from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO

from app.uploads.mpeg import frame_at

AUDIO, IMAGE = "audio", "image"
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


@dataclass(frozen=True)
class MediaFormat:
    """A recognised format: short name, the Content-Type it is served with, and its family."""

    name: str
    media_type: str
    family: str


WAV = MediaFormat("wav", "audio/wav", AUDIO)
AIFF = MediaFormat("aiff", "audio/aiff", AUDIO)
FLAC = MediaFormat("flac", "audio/flac", AUDIO)
MP3 = MediaFormat("mp3", "audio/mpeg", AUDIO)
OGG = MediaFormat("ogg", "audio/ogg", AUDIO)
PNG = MediaFormat("png", "image/png", IMAGE)
JPEG = MediaFormat("jpeg", "image/jpeg", IMAGE)
WEBP = MediaFormat("webp", "image/webp", IMAGE)


def id3_end(head: bytes) -> int:
    """Where the audio starts after an ID3v2 tag (0 without one)."""
    if len(head) < 10 or head[:3] != b"ID3" or head[3] == 0xFF or any(b & 0x80 for b in head[6:10]):
        return 0
    size = (head[6] << 21) | (head[7] << 14) | (head[8] << 7) | head[9]
    footer = 10 if head[5] & 0x10 else 0
    return 10 + size + footer


def sniff(file: BinaryIO) -> MediaFormat | None:
    """The format the bytes declare, or None; an ID3v2 tag is skipped to the audio behind it."""
    file.seek(0)
    head = file.read(16)
    found = _by_magic(head)
    if found is not None:
        return found
    offset = id3_end(head)
    if offset:
        file.seek(offset)
        behind = file.read(16)
        if behind[:4] == b"fLaC":
            return FLAC
        if frame_at(file, offset) is not None:
            return MP3
        return None
    return MP3 if frame_at(file, 0, confirm=True) is not None else None


def _by_magic(head: bytes) -> MediaFormat | None:
    riff_kind = head[8:12] if head[:4] == b"RIFF" else b""
    if riff_kind == b"WAVE":
        return WAV
    if riff_kind == b"WEBP":
        return WEBP
    if head[:4] == b"FORM" and head[8:12] in (b"AIFF", b"AIFC"):
        return AIFF
    if head[:4] == b"fLaC":
        return FLAC
    if head[:4] == b"OggS":
        return OGG
    if head[:8] == PNG_SIGNATURE:
        return PNG
    if head[:3] == b"\xff\xd8\xff":
        return JPEG
    return None
