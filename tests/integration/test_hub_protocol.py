"""RFC 6455 at the socket level: control frames, fragments, a client's close, protocol violations."""
from __future__ import annotations

import json
from urllib.parse import quote

import pytest
import websocket
from websocket import ABNF

from tests.support.api import Api
from tests.support.hub import WAIT, read_close_code
from tests.support.server import ServerProcess


@pytest.fixture()
def raw(server: ServerProcess, api: Api) -> websocket.WebSocket:
    """A connected socket past its `system` frame."""
    ws = websocket.create_connection(f"{server.ws_url}?token={quote(api.register().token)}", timeout=WAIT)
    assert json.loads(ws.recv())["type"] == "system"
    yield ws
    ws.close()


def protocol_pong(ws: websocket.WebSocket) -> bytes:
    """The payload of the next pong control frame (skipping the hub's own frames)."""
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == ABNF.OPCODE_PONG:
            return frame.data


def hub_frame(ws: websocket.WebSocket, frame_type: str) -> dict:
    """The next hub frame of a type (skipping others, such as the unread count after connecting)."""
    while True:
        opcode, frame = ws.recv_data_frame(True)
        if opcode == ABNF.OPCODE_TEXT and (parsed := json.loads(frame.data))["type"] == frame_type:
            return parsed


def test_a_protocol_ping_is_answered_with_its_payload(raw: websocket.WebSocket) -> None:
    raw.ping(b"are you there")
    assert protocol_pong(raw) == b"are you there"


def test_a_fragmented_message_with_a_ping_between_its_fragments(raw: websocket.WebSocket) -> None:
    text = json.dumps({"type": "ping", "payload": {"nonce": "in pieces", "text": "é😀" * 50}}, ensure_ascii=False).encode()
    cut = text.index("😀".encode()) + 2  # inside a four-byte character
    raw.send_frame(ABNF.create_frame(text[:cut], ABNF.OPCODE_TEXT, fin=0))
    raw.ping(b"meanwhile")
    raw.send_frame(ABNF.create_frame(text[cut:], ABNF.OPCODE_CONT, fin=1))
    assert protocol_pong(raw) == b"meanwhile"  # answered before the message it interrupted
    assert hub_frame(raw, "pong")["payload"] == json.loads(text)["payload"]


def test_the_clients_close_code_is_echoed(raw: websocket.WebSocket) -> None:
    raw.send_close(4000, b"done here")
    assert read_close_code(raw) == 4000


@pytest.mark.parametrize("wire,code", [
    (b"\x81\x02{}", 1002),                                   # not masked
    (b"\xc1\x82\x00\x00\x00\x00{}", 1002),                   # a reserved bit, no extension agreed
    (b"\x81\x82\x00\x00\x00\x00\xff\xfe", 1007),             # text that is not UTF-8
    (b"\x89\xfe\x00\x80\x00\x00\x00\x00" + b"x" * 128, 1002),  # a ping longer than 125 bytes
], ids=["unmasked", "reserved-bit", "not-utf8", "long-ping"])
def test_a_protocol_violation_closes_with_its_code(raw: websocket.WebSocket, wire: bytes, code: int) -> None:
    raw.sock.sendall(wire)
    assert read_close_code(raw) == code


def test_the_server_stays_open_for_others_after_a_violation(server: ServerProcess, api: Api,
                                                            raw: websocket.WebSocket) -> None:
    raw.sock.sendall(b"\x81\x02{}")
    assert read_close_code(raw) == 1002
    other = websocket.create_connection(f"{server.ws_url}?token={quote(api.register().token)}", timeout=WAIT)
    assert json.loads(other.recv())["type"] == "system"
    other.send(json.dumps({"type": "ping", "payload": {"nonce": "still"}}))
    assert hub_frame(other, "pong")["payload"] == {"nonce": "still"}
    other.close()
