"""How long an audio file plays, where its format says so in a header (no decoding)."""
from __future__ import annotations

import struct
from typing import BinaryIO, Callable

from app.uploads import media
from app.uploads.mpeg import mp3_duration_ms

MAX_CHUNKS = 256
OGG_TAIL_BYTES = 128 * 1024
OPUS_RATE = 48_000


def duration_ms(file: BinaryIO, fmt: media.MediaFormat, size: int) -> int | None:
    """Milliseconds of audio, or None when the header does not tell (or is damaged)."""
    reader = _READERS.get(fmt.name)
    if reader is None:
        return None
    try:
        value = reader(file, size)
    except (struct.error, ValueError, IndexError, ZeroDivisionError, OverflowError):
        return None
    return value if value is not None and value >= 0 else None


def _chunks(file: BinaryIO, start: int, size: int, order: str) -> dict[bytes, tuple[int, int]]:
    """RIFF/IFF chunk ids mapped to (data offset, declared length), walking from `start`."""
    found: dict[bytes, tuple[int, int]] = {}
    offset = start
    for _ in range(MAX_CHUNKS):
        file.seek(offset)
        header = file.read(8)
        if len(header) < 8:
            break
        chunk_id, length = header[:4], struct.unpack(order + "I", header[4:])[0]
        found.setdefault(chunk_id, (offset + 8, length))
        offset += 8 + length + (length & 1)
        if offset >= size:
            break
    return found


def _wav(file: BinaryIO, size: int) -> int | None:
    chunks = _chunks(file, 12, size, "<")
    if b"fmt " not in chunks or b"data" not in chunks:
        return None
    file.seek(chunks[b"fmt "][0])
    byte_rate = struct.unpack("<HHII", file.read(12))[3]
    data_offset, data_length = chunks[b"data"]
    data_length = min(data_length, size - data_offset)  # streamed WAVs declare 0 or 0xFFFFFFFF
    if data_length <= 0:
        data_length = size - data_offset
    return round(data_length * 1000 / byte_rate)


def _aiff(file: BinaryIO, size: int) -> int | None:
    chunks = _chunks(file, 12, size, ">")
    if b"COMM" not in chunks:
        return None
    file.seek(chunks[b"COMM"][0])
    comm = file.read(18)
    frames = struct.unpack(">I", comm[2:6])[0]
    return round(frames * 1000 / _extended(comm[8:18]))


def _extended(raw: bytes) -> float:
    """An IEEE 754 80-bit extended float (AIFF's sample rate)."""
    exponent = ((raw[0] & 0x7F) << 8) | raw[1]
    mantissa = int.from_bytes(raw[2:10], "big")
    value = mantissa * 2.0 ** (exponent - 16383 - 63)
    return -value if raw[0] & 0x80 else value


def _flac(file: BinaryIO, size: int) -> int | None:
    file.seek(0)
    file.seek(media.id3_end(file.read(10)))
    if file.read(4) != b"fLaC":
        return None
    block = file.read(4 + 34)
    if block[0] & 0x7F != 0:  # STREAMINFO must come first
        return None
    packed = int.from_bytes(block[4 + 10:4 + 18], "big")
    rate, total = packed >> 44, packed & ((1 << 36) - 1)
    return round(total * 1000 / rate) if total else None


def _ogg(file: BinaryIO, size: int) -> int | None:
    file.seek(0)
    first = file.read(512)
    segments = first[26]
    packet = first[27 + segments:]
    serial = first[14:18]
    if packet[:8] == b"OpusHead":
        rate, pre_skip = OPUS_RATE, struct.unpack("<H", packet[10:12])[0]
    elif packet[:7] == b"\x01vorbis":
        rate, pre_skip = struct.unpack("<I", packet[12:16])[0], 0
    else:
        return None
    granule = _last_granule(file, size, serial)
    return None if granule is None else round(max(0, granule - pre_skip) * 1000 / rate)


def _last_granule(file: BinaryIO, size: int, serial: bytes) -> int | None:
    start = max(0, size - OGG_TAIL_BYTES)
    file.seek(start)
    tail = file.read()
    at = tail.rfind(b"OggS")
    while at >= 0:
        page = tail[at:at + 27]
        if len(page) == 27 and page[14:18] == serial:
            granule = struct.unpack("<q", page[6:14])[0]
            if granule >= 0:
                return granule
        at = tail.rfind(b"OggS", 0, at)
    return None


def _mp3(file: BinaryIO, size: int) -> int | None:
    file.seek(0)
    return mp3_duration_ms(file, media.id3_end(file.read(10)), size)


_READERS: dict[str, Callable[[BinaryIO, int], int | None]] = {
    "wav": _wav, "aiff": _aiff, "flac": _flac, "ogg": _ogg, "mp3": _mp3}
