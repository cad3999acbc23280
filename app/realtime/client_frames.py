"""Frames from a WebSocket client (RFC 6455 section 5), read in the connection's own greenlet.

simple-websocket reads every connection through wsproto in a reader thread of its own and hands
each message to the handler through an event: measured here, ~27 us of parsing and two greenlet
switches per message, on the editing hot path (README, Performance). The hub reads the same
frames inline instead. A server accepts only masked frames and, with no extension negotiated,
no reserved bits; anything else is a `ProtocolViolation` carrying the close code to send.
"""
from __future__ import annotations

from typing import Any, Callable

OP_CONTINUATION, OP_TEXT, OP_BINARY = 0x0, 0x1, 0x2
OP_CLOSE, OP_PING, OP_PONG = 0x8, 0x9, 0xA

CLOSE_PROTOCOL_ERROR = 1002
CLOSE_INVALID_DATA = 1007
CLOSE_TOO_BIG = 1009
# Codes a peer may send (RFC 6455 7.4 and the IANA registry); 1004-1006 and 1015 never travel.
SENDABLE_CLOSE_CODES = frozenset((1000, 1001, 1002, 1003, 1007, 1008, 1009, 1010, 1011, 1012, 1013, 1014))
RECV_BYTES = 64 * 1024

Frame = tuple[int, Any]  # (opcode, str for text, bytes otherwise)


class ProtocolViolation(Exception):
    """The client broke the protocol; the connection closes with `code`."""

    def __init__(self, code: int, reason: str) -> None:
        super().__init__(reason)
        self.code = code
        self.reason = reason


def unmask(data: bytes | bytearray, mask: bytes | bytearray) -> bytes:
    """XOR the payload with its 4-byte key, as one big-integer operation (a loop per byte is 10x slower)."""
    size = len(data)
    if not size:
        return b""
    key = (bytes(mask) * (size // 4 + 1))[:size]
    return (int.from_bytes(data, "little") ^ int.from_bytes(key, "little")).to_bytes(size, "little")


def close_payload(payload: bytes) -> tuple[int | None, str]:
    """The code and reason of a received close frame (no code when the payload is empty)."""
    if not payload:
        return None, ""
    if len(payload) == 1:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "a close frame's code takes two bytes")
    code = int.from_bytes(payload[:2], "big")
    if code not in SENDABLE_CLOSE_CODES and not 3000 <= code <= 4999:
        raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, f"close code {code} may not be sent")
    try:
        return code, payload[2:].decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolViolation(CLOSE_INVALID_DATA, "a close reason must be valid UTF-8") from None


class ClientFrameReader:
    """Whole messages and control frames from one client socket, in arrival order."""

    def __init__(self, recv: Callable[[int], bytes], max_message_bytes: int) -> None:
        self._recv = recv
        self._max = max_message_bytes
        self._buf = bytearray()
        self._pos = 0
        self._parts: list[bytes] | None = None  # the fragments of a message in progress
        self._parts_opcode = OP_TEXT
        self._parts_size = 0

    def next(self) -> Frame | None:
        """The next text/binary message or control frame (payload as sent); None once the stream ends.

        Raises ProtocolViolation for a frame no client may send, OSError when the socket fails.
        """
        while True:
            frame = self._frame()
            if frame is None:
                data = self._recv(RECV_BYTES)
                if not data:
                    return None
                if self._pos:
                    del self._buf[:self._pos]
                    self._pos = 0
                self._buf += data
                continue
            final, opcode, payload = frame
            if opcode >= OP_CLOSE:
                return opcode, payload
            message = self._assemble(final, opcode, payload)
            if message is not None:
                return message

    def _frame(self) -> tuple[bool, int, bytes] | None:
        """Parse the frame at the read position, or None when it has not fully arrived yet."""
        buf, pos = self._buf, self._pos
        available = len(buf) - pos
        if available < 2:
            return None
        first, second = buf[pos], buf[pos + 1]
        if first & 0x70:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "reserved bits are set, but no extension was agreed")
        if not second & 0x80:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "a client's frames must be masked")
        opcode, final, size, head = first & 0x0F, bool(first & 0x80), second & 0x7F, 2
        if size == 126:
            if available < 4:
                return None
            size, head = int.from_bytes(buf[pos + 2:pos + 4], "big"), 4
        elif size == 127:
            if available < 10:
                return None
            size, head = int.from_bytes(buf[pos + 2:pos + 10], "big"), 10
        self._check(opcode, final, size)
        end = pos + head + 4 + size
        if len(buf) < end:
            return None
        mask_at = pos + head
        self._pos = end
        return final, opcode, unmask(buf[mask_at + 4:end], buf[mask_at:mask_at + 4])

    def _check(self, opcode: int, final: bool, size: int) -> None:
        """Refuse a frame by its header alone, before its payload is buffered."""
        if opcode >= OP_CLOSE:
            if opcode > OP_PONG:
                raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
            if not final or size > 125:
                raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "a control frame must be whole and at most 125 bytes")
            return
        if opcode > OP_BINARY:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, f"unknown opcode {opcode:#x}")
        if self._parts_size + size > self._max:
            raise ProtocolViolation(CLOSE_TOO_BIG, f"a message may be at most {self._max} bytes")

    def _assemble(self, final: bool, opcode: int, payload: bytes) -> Frame | None:
        """A whole message from its frames (most messages are one frame)."""
        if opcode == OP_CONTINUATION:
            if self._parts is None:
                raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "a continuation frame with no message to continue")
        elif self._parts is not None:
            raise ProtocolViolation(CLOSE_PROTOCOL_ERROR, "a new message began before the last one ended")
        elif final:
            return _message(opcode, payload)
        else:
            self._parts, self._parts_opcode, self._parts_size = [], opcode, 0
        self._parts.append(payload)
        self._parts_size += len(payload)
        if not final:
            return None
        data, opcode = b"".join(self._parts), self._parts_opcode
        self._parts, self._parts_size = None, 0
        return _message(opcode, data)


def _message(opcode: int, data: bytes) -> Frame:
    if opcode == OP_BINARY:
        return opcode, data
    try:
        return opcode, data.decode("utf-8")
    except UnicodeDecodeError:
        raise ProtocolViolation(CLOSE_INVALID_DATA, "a text message must be valid UTF-8") from None


class InlineReader:
    """The `thread_class` given to simple-websocket: its reader thread is never started.

    simple-websocket still does the upgrade handshake and sends the close frame; the messages
    are read by the connection's own greenlet (`Connection.receive`).
    """

    def __init__(self, target: Callable[[], None] | None = None, **_: Any) -> None:
        self.name = "ws-inline-reader"

    def start(self) -> None:
        """Nothing to start: the connection reads for itself."""
