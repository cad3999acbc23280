"""A plain WebSocket client for the reliability tests: send any bytes, read frames, wait for one."""
from __future__ import annotations

import json
import time
from typing import Any, Callable

import websocket

Frame = dict[str, Any]
RESET = 1006  # closed without a close frame (the socket was cut)


def insert(document_id: str, revision: int, position: int, text: str, client_id: int, op_id: str) -> Frame:
    """An `operation` payload inserting `text` at `position` of `revision`."""
    return {"documentId": document_id, "revision": revision,
            "operation": {"type": "Insert", "clientId": client_id, "position": position, "content": text,
                          "opId": op_id}}


class WsClient:
    """One connection to `/ws`; every frame received is kept in `frames`."""

    def __init__(self, ws_url: str, token: str, timeout: float = 15.0) -> None:
        self.ws = websocket.create_connection(f"{ws_url}?token={token}", timeout=timeout)
        self.frames: list[Frame] = []
        self.closed_with: int | None = None
        self.system = self.wait_for(lambda f: f["type"] == "system")

    def send(self, frame_type: str, payload: Any = None) -> None:
        """Send a well-formed frame."""
        self.ws.send(json.dumps({"type": frame_type, "payload": {} if payload is None else payload}))

    def send_raw(self, data: str | bytes) -> None:
        """Send exactly these bytes: a text frame for str, a binary frame for bytes."""
        if isinstance(data, bytes):
            self.ws.send_binary(data)
        else:
            self.ws.send(data)

    def receive(self, timeout: float) -> Frame | None:
        """The next frame, or None when none came in time (or the server closed the socket)."""
        self.ws.settimeout(timeout)
        try:
            opcode, data = self.ws.recv_data(control_frame=False)
        except websocket.WebSocketTimeoutException:
            return None
        except (websocket.WebSocketConnectionClosedException, ConnectionError):
            self.closed_with = self.closed_with or RESET
            return None
        if opcode == websocket.ABNF.OPCODE_CLOSE:
            self.closed_with = int.from_bytes(data[:2], "big") if len(data) >= 2 else 1005
            return None
        frame = json.loads(data)
        self.frames.append(frame)
        return frame

    def wait_for(self, predicate: Callable[[Frame], bool], timeout: float = 15.0) -> Frame:
        """Read until a frame matches; AssertionError on timeout or close."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            frame = self.receive(max(0.05, deadline - time.monotonic()))
            if frame is not None and predicate(frame):
                return frame
            if self.closed_with is not None:
                raise AssertionError(f"closed with {self.closed_with}; frames: {self.frames[-5:]}")
        raise AssertionError(f"no matching frame within {timeout}s; last frames: {self.frames[-5:]}")

    def of_type(self, frame_type: str, timeout: float = 15.0) -> Frame:
        """The next frame of a type (frames of other types are kept but skipped)."""
        return self.wait_for(lambda f: f["type"] == frame_type, timeout)

    def ping(self, marker: str, timeout: float = 15.0) -> Frame:
        """Prove the connection is served: ping with a marker and wait for its pong."""
        self.send("ping", {"marker": marker})
        return self.wait_for(lambda f: f["type"] == "pong" and f["payload"].get("marker") == marker, timeout)

    def quiet(self, seconds: float = 0.5) -> list[Frame]:
        """Frames that arrive within `seconds` (to show that nothing, or only something, arrives)."""
        got: list[Frame] = []
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            frame = self.receive(max(0.05, deadline - time.monotonic()))
            if frame is not None:
                got.append(frame)
        return got

    def close(self) -> None:
        """Close politely; a socket the server already closed is fine."""
        try:
            self.ws.close()
        except (OSError, websocket.WebSocketException):
            pass
