"""Guard rails: slow readers are dropped, frame rates and connections per user are capped, dead peers time out."""
import json
import os
import signal
import time
from typing import Callable, Iterator

import jwt
import pytest

from tests.support.hub import (WsClient, eventually, read_close_code, refusal, shared_channel,
                                                silent_socket)
from tests.support.api import Account, Api
from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.tokens import SERVER_SECRET

TIGHT = {"WS_PING_INTERVAL_SECONDS": "1", "WS_FRAMES_PER_SECOND": "5", "WS_FRAME_BURST": "10",
         "WS_MAX_CONNECTIONS_PER_USER": "3", "SECRET_KEY": SERVER_SECRET, **GENEROUS_LIMITS}


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server with a 1 s keepalive, 5 frames/s (burst 10) and 3 connections per user."""
    proc = ServerProcess(tmp_path_factory.mktemp("tight"), env=TIGHT)
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def tight_api(tight: ServerProcess) -> Iterator[Api]:
    api = Api(tight.url)
    yield api
    api.http.close()  # an idle keep-alive connection would hold up the server's graceful exit


def _metrics(api: Api, admin: Account) -> dict:
    resp = api.get("/api/v1/websocket/metrics", admin)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_a_client_that_does_not_read_is_dropped_without_stalling_others(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    slow_user, other = api.register(), api.register()
    shared_channel(api, other, slow_user)
    before = _metrics(api, staff("admin"))
    slow = silent_socket(server.ws_url, slow_user.token)
    fine = WsClient(server.ws_url, other.token)
    frame = json.dumps({"type": "ping", "payload": {"pad": "x" * 200}})
    for sent in range(20000):  # each answered by a pong or a rate_limited error it never reads
        try:
            slow.send(frame)
        except Exception:
            break
        if sent % 500 == 0:
            fine.send("presence", {"status": "in_studio" if sent % 1000 else "online"})  # fan-out to slow too
            fine.roundtrip()  # the other client is served meanwhile
    assert read_close_code(slow) in (1013, None)  # 1013, or cut if it could not even take the close frame
    fine.roundtrip()
    eventually(lambda: _metrics(api, staff("admin"))["connections_closed"].get("slow_consumer", 0)
               > before["connections_closed"].get("slow_consumer", 0), what="slow_consumer counted")
    after = _metrics(api, staff("admin"))
    assert after["frames_dropped"] > before["frames_dropped"]
    assert after["frames_rejected"].get("rate_limited", 0) > before["frames_rejected"].get("rate_limited", 0)
    assert not fine.closed.is_set()
    fine.close()


def test_frames_over_the_rate_get_rate_limited_errors(tight: ServerProcess, tight_api: Api) -> None:
    client = WsClient(tight.ws_url, tight_api.register().token)
    for n in range(30):
        client.send("ping", {"n": n})
    client.send("ping", {"n": "last"})
    eventually(lambda: len(client.of_type("pong")) + len(client.of_type("error")) >= 31, what="31 answers")
    limited = client.of_type("error", code="rate_limited")
    assert len(limited) >= 1 and len(client.of_type("pong")) >= 10
    assert len(limited) + len(client.of_type("pong")) == 31
    eventually(lambda: _accepted(client), what="a ping accepted once the bucket refilled")
    assert not client.closed.is_set()
    client.close()


def _accepted(client: WsClient) -> bool:
    nonce = f"again-{time.monotonic_ns()}"
    client.send("ping", {"nonce": nonce})
    try:
        client.wait_for("pong", timeout=1.0, nonce=nonce)
        return True
    except AssertionError:
        return False


def test_connections_per_user_are_capped(tight: ServerProcess, tight_api: Api) -> None:
    user = tight_api.register()
    clients = [WsClient(tight.ws_url, user.token) for _ in range(3)]
    status, body = refusal(f"{tight.ws_url}?token={user.token}")
    assert status == 429 and body["error"]["code"] == "rate_limited"
    other = WsClient(tight.ws_url, tight_api.register().token)  # the cap is per user
    clients[0].close()

    def accepted() -> bool:
        try:
            clients.append(WsClient(tight.ws_url, user.token))
            return True
        except Exception:
            return False

    eventually(accepted, what="a new connection after one closed")
    for client in clients[1:] + [other]:
        client.close()


def test_unanswered_keepalive_pings_end_the_connection_and_presence(tight: ServerProcess,
                                                                    tight_api: Api) -> None:
    watcher_user, silent_user = tight_api.register(), tight_api.register()
    shared_channel(tight_api, watcher_user, silent_user)
    watcher = WsClient(tight.ws_url, watcher_user.token)  # reads, so it answers pings
    silent = silent_socket(tight.ws_url, silent_user.token)
    watcher.wait_for("user_online", user_id=silent_user.id)
    watcher.wait_for("user_offline", user_id=silent_user.id, timeout=30)
    assert read_close_code(silent) == 1008
    assert not watcher.closed.is_set()
    watcher.close()


def _short_token(user_id: int, seconds: int) -> str:
    now = int(time.time())
    return jwt.encode({"sub": str(user_id), "role": "user", "iat": now, "exp": now + seconds},
                      SERVER_SECRET, algorithm="HS256")


def test_an_expired_token_closes_the_connection_unless_refreshed(tight: ServerProcess, tight_api: Api) -> None:
    user = tight_api.register()
    expiring = WsClient(tight.ws_url, _short_token(user.id, 3))
    refreshed = WsClient(tight.ws_url, _short_token(user.id, 3))
    refreshed.send("auth", {"token": user.token})
    refreshed.wait_for("system", message="authenticated")
    assert expiring.wait_closed(timeout=30) == 4401
    refreshed.roundtrip()  # the same age, but refreshed: still open
    assert not refreshed.closed.is_set()
    refreshed.close()


def test_sigterm_closes_connections_with_1001(tight: ServerProcess, tight_api: Api) -> None:
    """Last in this module: it stops the module's server (a fresh one would cost seconds)."""
    watcher_user, peer_user = tight_api.register(), tight_api.register()
    shared_channel(tight_api, watcher_user, peer_user)
    clients = [WsClient(tight.ws_url, u.token) for u in (watcher_user, peer_user)]
    for client in clients:
        client.roundtrip()
    tight_api.http.close()
    os.killpg(tight.proc.pid, signal.SIGTERM)
    assert [client.wait_closed() for client in clients] == [1001, 1001]
    assert tight.proc.wait(30) == 0, tight.log_tail()
