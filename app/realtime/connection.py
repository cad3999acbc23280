"""One live WebSocket: a bounded send queue drained by its single writer, keepalive and closing."""
from __future__ import annotations

import logging
import socket
import threading
import time
from collections import deque
from typing import TYPE_CHECKING, Any

from simple_websocket import ConnectionClosed
from wsproto.utilities import LocalProtocolError

from app.locks import take_if_free
from app.realtime.client_frames import (
    OP_BINARY,
    OP_CLOSE,
    OP_PING,
    OP_PONG,
    ClientFrameReader,
    ProtocolViolation,
    close_payload,
)
from app.realtime.frames import encode_frame, wire_frame
from app.realtime.serialized_socket import SerializedSocket

if TYPE_CHECKING:
    from app.models import User
    from app.realtime.counters import Counters

log = logging.getLogger(__name__)

CLOSE_NORMAL = 1000
CLOSE_GOING_AWAY = 1001       # the server is shutting down
CLOSE_POLICY = 1008           # keepalive unanswered, or over the per-user connection cap
CLOSE_TRY_AGAIN = 1013        # the client reads too slowly: its send queue overflowed
CLOSE_TOKEN_EXPIRED = 4401    # the token ran out; reconnect (or send `auth`) with a fresh one

CLOSE_GRACE_SECONDS = 3.0     # how long a closing handshake may take before the socket is cut
WRITE_BATCH = 64  # frames joined into one write
KEEPALIVE_MISSES = 2  # pings in a row without a pong (or any frame) before the peer is dead

_CLOSE = object()
_PING = object()
_PING_FRAME = wire_frame(b"", OP_PING)


class _Remainder(bytes):
    """The unsent tail of a frame written in part: it must go out before anything else."""


class Connection:
    """A signed-in client socket; `send` never blocks, a full queue closes the connection (1013)."""

    def __init__(self, ws: Any, user: "User", conn_id: str, counters: "Counters", *, queue_size: int,
                 token_expires_at: int, max_message_bytes: int) -> None:
        self.ws = ws
        self._frames = ClientFrameReader(ws.sock.recv, max_message_bytes)
        self._stream_ended = False  # the client's close frame (or the end of the stream) was read
        self.user = user
        self.user_id: int = user.id
        self.conn_id = conn_id
        self.state: dict[str, Any] = {}
        self.status = "online"
        self.token_expires_at = token_expires_at
        self.opened_at = time.monotonic()
        self._counters = counters
        self._pending: deque[Any] = deque()  # framed bytes and markers; appends are thread-safe
        self._limit = max(1, queue_size)
        self._wake = threading.Event()
        self._write_lock = threading.Lock()  # held by whoever writes frames: the writer or an inline send
        self._lock = threading.Lock()
        self._close: tuple[int, str, str] | None = None
        self._close_deadline: float | None = None
        self._busy_since: float | None = None
        self._ping_sent_at = self.opened_at
        self._heard_since_ping = True
        self._missed_pings = 0
        self._finished = threading.Event()
        self._writer = threading.Thread(target=self._write_loop, name=f"ws-writer-{conn_id}", daemon=True)

    @property
    def closing(self) -> bool:
        """True once a close was requested by either side."""
        return self._close is not None

    @property
    def close_label(self) -> str:
        """Why the connection ended, for the metrics (`client` when the peer closed it)."""
        return self._close[2] if self._close else "client"

    def start(self) -> None:
        """Start the writer; call once, after the upgrade."""
        self._writer.start()

    def send(self, frame_type: str, payload: dict[str, Any]) -> bool:
        """Queue a frame for this connection; False when it was dropped."""
        return self.enqueue(encode_frame(frame_type, payload), frame_type)

    def enqueue(self, frame: str | bytes, frame_type: str, count: bool = True) -> bool:
        """Queue an encoded frame (text, or bytes from `wire_frame`) without blocking.

        A full queue means the client reads too slowly: the frame is dropped and the connection
        closed (1013). `count=False` lets a fan-out count its frames once for all connections.
        """
        if self._close is not None:
            self._counters.add("frames_dropped")
            return False
        if len(self._pending) >= self._limit:
            self._counters.add("frames_dropped")
            self.close(CLOSE_TRY_AGAIN, "send queue full: the client reads too slowly", "slow_consumer")
            return False
        data = frame if isinstance(frame, bytes) else wire_frame(frame)
        if not self._write_now(data):
            self._pending.append(data)
            self._wake.set()
        if count:
            self._counters.add("frames_out", by=frame_type)
        return True

    def _write_now(self, data: bytes) -> bool:
        """Write inline when nothing is queued and the socket takes it now: no writer wake-up.

        A fan-out to a thousand idle connections then costs a thousand non-blocking sends, not
        a thousand greenlet switches. Anything the kernel does not take goes to the writer, and
        so does a write to a peer that is gone: the writer meets the same error and ends the
        connection, while the fan-out that called us goes on to the other connections.
        """
        if self._pending or not take_if_free(self._write_lock):
            return False
        try:
            if self._pending or not self.ws.connected or not isinstance(self.ws.sock, SerializedSocket):
                return False
            try:
                sent = self.ws.sock.send_nowait(data)
            except OSError:  # EPIPE, ECONNRESET: the peer vanished before its reader noticed
                return False
            if sent <= 0:
                return False
            if sent < len(data):
                self._pending.appendleft(_Remainder(data[sent:]))
                self._wake.set()
            return True
        finally:
            self._write_lock.release()

    def receive(self) -> str | bytes | None:
        """The client's next message, answering its pings and its close; None once closing or ended.

        Called by the connection's own greenlet only. A message is proof of life, like a pong.
        A protocol violation closes the connection with the code RFC 6455 gives it.
        """
        while self._close is None:
            try:
                frame = self._frames.next()
            except ProtocolViolation as exc:
                self.close(exc.code, exc.reason, "protocol_error")
                return None
            except OSError:  # the socket failed, or `close` interrupted the wait
                return None
            if frame is None:
                self._stream_ended = True
                return None
            opcode, data = frame
            if opcode <= OP_BINARY:
                self._heard_since_ping = True
                return data  # type: ignore[no-any-return]
            if opcode == OP_PING:
                self.enqueue(wire_frame(data, OP_PONG), "pong", count=False)
            elif opcode == OP_PONG:
                self.ws.pong_received = True
            elif opcode == OP_CLOSE:
                self._closed_by_client(data)
        return None

    def _closed_by_client(self, payload: bytes) -> None:
        """Echo the client's close code (RFC 6455 5.5.1); nothing more is read."""
        self._stream_ended = True
        try:
            code, reason = close_payload(payload)
        except ProtocolViolation as exc:
            self.close(exc.code, exc.reason, "protocol_error")
            return
        self.ws.close_reason, self.ws.close_message = code, reason
        self.close(code or CLOSE_NORMAL, "", "client")

    def _drain(self, deadline: float) -> None:
        """After our close: read (and drop) what the client still sends, up to its close frame.

        Closing a socket with unread data sends a reset, which can destroy our close frame in
        the client's buffers before it reads it.
        """
        try:
            while (remaining := deadline - time.monotonic()) > 0:
                self.ws.sock.settimeout(remaining)
                frame = self._frames.next()
                if frame is None or frame[0] == OP_CLOSE:
                    return
        except (OSError, ProtocolViolation):
            return

    def close(self, code: int = CLOSE_NORMAL, reason: str = "", label: str = "server") -> None:
        """Ask the writer to send a close frame after what is queued (a slow client's queue is dropped)."""
        with self._lock:
            if self._close is not None:
                return
            self._close = (code, reason, label)
            self._close_deadline = time.monotonic() + CLOSE_GRACE_SECONDS
        self._pending.append(_CLOSE)
        self._wake.set()
        if isinstance(self.ws.sock, SerializedSocket):
            self.ws.sock.interrupt_reader()  # the hub lets go now; `finish` reads the client's answer

    def sweep(self, now: float, ping_interval: float, stall_limit: float) -> None:
        """Periodic care (from the hub's sweeper): keepalive, token expiry, stuck writes, slow closes."""
        if self._finished.is_set():
            return
        if self._close_deadline is not None:
            if now > self._close_deadline:
                self._abort()
            return
        if self._busy_since is not None and now - self._busy_since > stall_limit:
            self.close(CLOSE_TRY_AGAIN, "the client stopped reading", "slow_consumer")
        elif self.token_expires_at and time.time() >= self.token_expires_at:
            self.close(CLOSE_TOKEN_EXPIRED, "the token expired; reconnect with a fresh one", "token_expired")
        elif now - self._ping_sent_at >= ping_interval:
            self._keepalive(now)

    def finish(self) -> None:
        """After the reader stopped: send the close frame (if not yet), or cut the socket after a grace."""
        self.close(CLOSE_NORMAL, "", "client")
        deadline = time.monotonic() + CLOSE_GRACE_SECONDS
        self._writer.join(CLOSE_GRACE_SECONDS)
        if self._writer.is_alive():
            self._abort()
            self._writer.join(1.0)
        elif not self._stream_ended:
            self._drain(deadline)
        self._finished.set()

    def _abort(self) -> None:
        sock = self.ws.sock
        if isinstance(sock, SerializedSocket):
            sock.abort()
        else:
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def _keepalive(self, now: float) -> None:
        answered = self.ws.pong_received or self._heard_since_ping
        self._missed_pings = 0 if answered else self._missed_pings + 1
        if self._missed_pings >= KEEPALIVE_MISSES:
            self.close(CLOSE_POLICY, "keepalive pings unanswered", "keepalive_timeout")
            return
        self.ws.pong_received = False
        self._heard_since_ping = False
        self._ping_sent_at = now
        self._pending.append(_PING)
        self._wake.set()

    def _write_loop(self) -> None:
        """The only writer of frames: sends what is queued in batches until the close marker."""
        try:
            while True:
                self._wake.wait()
                self._wake.clear()
                if not self._flush():
                    return
        except (ConnectionClosed, OSError, LocalProtocolError):
            self._close = self._close or (CLOSE_NORMAL, "", "connection_lost")
            self._close_deadline = self._close_deadline or time.monotonic()
            self._abort()  # the reader may be waiting on this socket: it reads the end now
        finally:
            self._busy_since = None
            self.ws.connected = False

    def _flush(self) -> bool:
        """Send everything queued, up to WRITE_BATCH frames per write; False once the close is sent.

        A slow client's queued frames are dropped once it is being closed (it would not read them).
        """
        with self._write_lock:
            dropping = self._close is not None and self._close[2] == "slow_consumer"
            batch: list[bytes] = []
            while self._pending:
                item = self._pending.popleft()
                if item is _CLOSE:
                    self._write(batch)
                    self._send_close()
                    return False
                if dropping and not isinstance(item, _Remainder) and item is not _PING:
                    self._counters.add("frames_dropped")
                    continue
                batch.append(_PING_FRAME if item is _PING else item)
                if len(batch) >= WRITE_BATCH:
                    self._write(batch)
                    batch = []
            self._write(batch)
            return True

    def _write(self, batch: list[bytes]) -> None:
        if not batch:
            return
        if not self.ws.connected:
            raise ConnectionClosed(self.ws.close_reason, self.ws.close_message)
        self._busy_since = time.monotonic()
        self.ws.sock.sendall(b"".join(batch))
        self._busy_since = None

    def _send_close(self) -> None:
        assert self._close is not None
        code, reason, _label = self._close
        try:
            self.ws.close(reason=code, message=reason)
        except (ConnectionClosed, LocalProtocolError):
            pass
