"""Frame errors are answered with an `error` frame and the connection stays usable."""
import json
import time

import pytest

from tests.support.hub import WsClient
from tests.support.api import Api
from tests.support.server import ServerProcess

BAD_FRAMES = [
    ("not json at all", "malformed_frame"),
    ("[1, 2, 3]", "malformed_frame"),
    ('{"payload": {}}', "malformed_frame"),
    ('{"type": 7, "payload": {}}', "malformed_frame"),
    ('{"type": "no_such_type", "payload": {}}', "unknown_type"),
    ('{"type": "ping", "payload": "not an object"}', "invalid_payload"),
    ('{"type": "presence", "payload": {"status": "dancing"}}', "invalid_payload"),
    ('{"type": "presence", "payload": {"status": "online", "extra": 1}}', "invalid_payload"),
    ('{"type": "presence"}', "invalid_payload"),
    (json.dumps({"type": "ping", "payload": {"blob": "x" * (64 * 1024)}}), "frame_too_large"),
]


@pytest.fixture(scope="module")
def client(server: ServerProcess, api: Api) -> WsClient:
    ws = WsClient(server.ws_url, api.register().token)
    yield ws
    ws.close()


@pytest.mark.parametrize("text,code", BAD_FRAMES)
def test_a_bad_frame_gets_an_error_frame_and_the_connection_stays_open(client: WsClient, text: str,
                                                                       code: str) -> None:
    client.send_raw(text)
    error = client.wait_for("error")
    assert error["payload"]["code"] == code
    assert error["payload"]["message"]
    client.roundtrip()
    assert not client.closed.is_set()


def test_ping_echoes_its_payload_with_a_server_timestamp(client: WsClient) -> None:
    before = int(time.time() * 1000)
    client.send("ping", {"nonce": "abc", "n": 3})
    pong = client.wait_for("pong", nonce="abc")
    assert pong["payload"] == {"nonce": "abc", "n": 3}
    assert before - 60_000 <= pong["timestamp"] <= int(time.time() * 1000) + 60_000


def test_a_frame_just_under_the_limit_is_handled(client: WsClient) -> None:
    frame = {"type": "ping", "payload": {"nonce": "big", "blob": ""}}
    frame["payload"]["blob"] = "y" * (64 * 1024 - len(json.dumps(frame)) - 10)
    client.send_raw(json.dumps(frame))
    assert client.wait_for("pong", nonce="big")["payload"]["blob"] == frame["payload"]["blob"]


def test_binary_json_frames_are_read_like_text(client: WsClient) -> None:
    client.ws.send_binary(json.dumps({"type": "ping", "payload": {"nonce": "bin"}}).encode())
    assert client.wait_for("pong", nonce="bin")
