"""Helpers for the hub tests (no tests here): a WebSocket client that keeps reading, and accounts."""
from __future__ import annotations

import json
import socket
import threading
import time
from typing import Any, Callable
from urllib.parse import quote

import websocket

from tests.support.api import Account, Api

WAIT = 15.0  # generous: the machine is shared and slow; nothing here measures time


class WsClient:
    """A connection whose background reader answers pings and records every frame and the close code."""

    def __init__(self, ws_url: str, token: str, **options: Any) -> None:
        self.ws = websocket.create_connection(f"{ws_url}?token={quote(token)}", timeout=WAIT, **options)
        self.frames: list[dict[str, Any]] = []
        self.close_code: int | None = None
        self.closed = threading.Event()
        self._cond = threading.Condition()
        self._taken: set[int] = set()
        threading.Thread(target=self._read, daemon=True).start()
        self.hello = self.wait_for("system")

    def send(self, frame_type: str, payload: dict[str, Any] | None = None) -> None:
        """Send one `{type, payload}` frame."""
        self.ws.send(json.dumps({"type": frame_type, "payload": payload or {}}))

    def send_raw(self, text: str) -> None:
        """Send any text as one message."""
        self.ws.send(text)

    def wait_for(self, frame_type: str, timeout: float = WAIT, **match: Any) -> dict[str, Any]:
        """The next not-yet-taken frame of this type whose payload contains `match`."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while True:
                for index, frame in enumerate(self.frames):
                    if index not in self._taken and _matches(frame, frame_type, match):
                        self._taken.add(index)
                        return frame
                left = deadline - time.monotonic()
                if left <= 0 or self.closed.is_set():
                    raise AssertionError(f"no {frame_type} {match} frame; got {self.frames[-8:]}, "
                                         f"close code {self.close_code}")
                self._cond.wait(min(left, 0.2))

    def of_type(self, frame_type: str, **match: Any) -> list[dict[str, Any]]:
        """Every frame of a type received so far (taken or not)."""
        with self._cond:
            return [f for f in self.frames if _matches(f, frame_type, match)]

    def roundtrip(self) -> None:
        """Send a ping and wait for its pong: everything sent before it has been handled."""
        nonce = f"n{time.monotonic_ns()}"
        self.send("ping", {"nonce": nonce})
        self.wait_for("pong", nonce=nonce)

    def wait_closed(self, timeout: float = WAIT) -> int | None:
        """Wait for the server to close the connection; its close code."""
        assert self.closed.wait(timeout), "the server did not close the connection"
        return self.close_code

    def close(self) -> None:
        """Close from the client side."""
        try:
            self.ws.close(timeout=2)
        except Exception:
            pass

    def _read(self) -> None:
        while True:
            try:
                opcode, frame = self.ws.recv_data_frame(True)
            except websocket.WebSocketTimeoutException:
                continue
            except Exception:
                break
            if opcode == websocket.ABNF.OPCODE_CLOSE:
                data = frame.data or b""
                self.close_code = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
                break
            if opcode == websocket.ABNF.OPCODE_TEXT:
                with self._cond:
                    self.frames.append(json.loads(frame.data))
                    self._cond.notify_all()
        self.closed.set()
        with self._cond:
            self._cond.notify_all()


def _matches(frame: dict[str, Any], frame_type: str, match: dict[str, Any]) -> bool:
    payload = frame.get("payload", {})
    return frame.get("type") == frame_type and all(payload.get(k) == v for k, v in match.items())


def refusal(ws_url: str, **options: Any) -> tuple[int, dict[str, Any]]:
    """Try to upgrade and expect a refusal: (HTTP status, JSON body)."""
    try:
        ws = websocket.create_connection(ws_url, timeout=WAIT, **options)
    except websocket.WebSocketBadStatusException as exc:
        return exc.status_code, json.loads(exc.resp_body or b"{}")
    ws.close()
    raise AssertionError("the upgrade was accepted")


def silent_socket(ws_url: str, token: str, **options: Any) -> websocket.WebSocket:
    """A connection nobody reads from (so pings go unanswered and the server's frames pile up)."""
    return websocket.create_connection(f"{ws_url}?token={quote(token)}", timeout=WAIT,
                                       sockopt=[(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)], **options)


def read_close_code(ws: websocket.WebSocket, timeout: float = WAIT) -> int | None:
    """Read (discarding frames) until the close frame; its code, or None if the socket just ended."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            opcode, frame = ws.recv_data_frame(True)
        except websocket.WebSocketTimeoutException:
            continue
        except Exception:
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            return int.from_bytes(frame.data[:2], "big") if len(frame.data) >= 2 else 1005
    raise AssertionError("no close frame")


def shared_channel(api: Api, owner: Account, *members: Account) -> str:
    """A channel owned by `owner` with `members` added; its id."""
    resp = api.post("/api/v1/channels", owner, json={"name": "studio"})
    assert resp.status_code == 201, resp.text
    channel_id = resp.json()["id"]
    for member in members:
        added = api.post(f"/api/v1/channels/{channel_id}/members", owner, json={"user_id": member.id})
        assert added.status_code == 201, added.text
    return channel_id


def eventually(check: Callable[[], bool], timeout: float = WAIT, what: str = "condition") -> None:
    """Poll `check` until it holds (no timing is asserted, only the outcome)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if check():
            return
        time.sleep(0.1)
    raise AssertionError(f"{what} never held")

