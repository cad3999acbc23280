"""The server socket of a WebSocket, written by one party at a time, in whole frames."""
from __future__ import annotations

import socket
import threading
from typing import Any

from app.locks import take_if_free

SOCKET_SEND_BUFFER_BYTES = 64 * 1024  # bounds kernel memory per slow client next to its queue


class SerializedSocket:
    """Wraps a server socket so each write is whole and exclusive.

    simple-websocket writes its close frame with `sock.send()`, which under gevent may send part
    of a frame when the buffer is full: that would interleave bytes with our writer. Everything
    else is delegated to the real socket.
    """

    def __init__(self, sock: Any) -> None:
        self._sock = sock
        self._lock = threading.Lock()
        self._cooperative = type(sock).__module__.startswith("gevent")
        # A bounded kernel buffer per slow client; no Nagle, since each write is whole frames
        # (a batch of them) and Nagle could only hold one back. Sockets without them keep defaults.
        for level, option, value in ((socket.SOL_SOCKET, socket.SO_SNDBUF, SOCKET_SEND_BUFFER_BYTES),
                                     (socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)):
            try:
                sock.setsockopt(level, option, value)
            except (OSError, AttributeError):
                pass

    def send(self, data: bytes, flags: int = 0) -> int:
        """Write all of `data` (waiting for buffer space) before any other writer may start."""
        with self._lock:
            sent = self._sock.send(data, flags)
            if sent < len(data):  # rare: `sendall` alone would ask the kernel its buffer size each time
                self._sock.sendall(memoryview(data)[sent:], flags)
        return len(data)

    sendall = send

    def send_nowait(self, data: bytes) -> int:
        """Write what the kernel takes right now without waiting: bytes sent, or -1 when busy."""
        if not take_if_free(self._lock):
            return -1
        try:
            if self._cooperative:  # gevent: timeout 0 raises instead of waiting for space
                return self._sock.send(data, socket.MSG_DONTWAIT, 0.0)
            return self._sock.send(data, socket.MSG_DONTWAIT)
        except BlockingIOError:
            return 0
        finally:
            self._lock.release()

    def interrupt_reader(self) -> None:
        """Wake a greenlet waiting in `recv` on this socket with an OSError; the socket stays open.

        Only gevent sockets can be woken like this; elsewhere the reader waits for the peer.
        """
        watcher = getattr(self._sock, "_read_event", None) if self._cooperative else None
        if watcher is not None:
            from gevent.socket import cancel_wait

            cancel_wait(watcher)

    def abort(self) -> None:
        """Cut the connection: wakes a writer stuck on a full buffer and the reader alike."""
        try:
            self._sock.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass

    def __getattr__(self, name: str) -> Any:
        return getattr(self._sock, name)
