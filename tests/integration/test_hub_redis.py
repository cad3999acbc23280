"""Several instances on one Redis and one PostgreSQL: presence and frames cross processes."""
import os
import signal
import threading
from pathlib import Path
from typing import Iterator

import pytest

from tests.support.hub import WsClient, shared_channel
from tests.support.api import Api
from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.services import REDIS_URL
from tests.support.tokens import SERVER_SECRET

pytestmark = [pytest.mark.redis, pytest.mark.pg, pytest.mark.slow]


@pytest.fixture
def cluster(tmp_path: Path, pg_url: str, redis_space: str) -> Iterator[list[ServerProcess]]:
    """Three instances, each with its own DATA_DIR, sharing PostgreSQL, Redis, the prefix and the secret."""
    env = {"DATABASE_URL": pg_url, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": redis_space,
           "SECRET_KEY": SERVER_SECRET, "WS_PING_INTERVAL_SECONDS": "1", **GENEROUS_LIMITS}
    servers = [ServerProcess(tmp_path / name, env=env) for name in ("one", "two", "three")]
    servers[0].start()  # migrates the shared database first
    errors: list[Exception] = []

    def start(server: ServerProcess) -> None:
        try:
            server.start()
        except Exception as exc:
            errors.append(exc)

    threads = [threading.Thread(target=start, args=(s,)) for s in servers[1:]]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    try:
        assert not errors, errors
        yield servers
    finally:
        for server in servers:
            server.stop()


def test_presence_and_frames_cross_instances(cluster: list[ServerProcess]) -> None:
    one, two, three = cluster
    api = Api(one.url)
    alice, bob, carol, stranger = (api.register() for _ in range(4))
    channel_id = shared_channel(api, alice, bob)
    watcher = WsClient(one.ws_url, alice.token)
    outsider = WsClient(two.ws_url, stranger.token)
    bob_there = WsClient(two.ws_url, bob.token)
    watcher.wait_for("presence", user_id=bob.id, status="online")
    bob_there.send("presence", {"status": "in_studio"})
    watcher.wait_for("user_in_studio", user_id=bob.id)
    bob_here = WsClient(one.ws_url, bob.token)  # still in the studio on two: no change to announce
    carol_far = WsClient(three.ws_url, carol.token)
    assert api.post(f"/api/v1/channels/{channel_id}/members", alice, json={"user_id": carol.id}).status_code == 201
    carol_far.wait_for("channel_member_added", channel_id=channel_id, user_id=carol.id)
    bob_there.wait_for("channel_member_added", channel_id=channel_id, user_id=carol.id)
    watcher.roundtrip()
    assert [f["payload"]["status"] for f in watcher.of_type("presence", user_id=bob.id)] == ["online", "in_studio"]

    os.killpg(two.proc.pid, signal.SIGTERM)  # graceful: 1001, and two's presence leaves Redis
    assert bob_there.wait_closed() == 1001 and outsider.wait_closed() == 1001
    watcher.wait_for("presence", user_id=bob.id, status="online")  # bob is still here on one
    bob_here.close()
    watcher.wait_for("user_offline", user_id=bob.id)

    os.killpg(three.proc.pid, signal.SIGKILL)  # a crash: its entries are reaped after missed heartbeats
    watcher.wait_for("user_offline", user_id=carol.id, timeout=30)
    watcher.roundtrip()
    for kind in ("presence", "user_online", "user_offline", "user_in_studio"):
        assert watcher.of_type(kind, user_id=stranger.id) == []
    assert outsider.of_type("presence") == []
    api.http.close()
    watcher.close()
