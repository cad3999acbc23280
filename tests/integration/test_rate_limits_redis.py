"""Shared limits: two real servers on one Redis spend one budget; a dead Redis fails open."""
from __future__ import annotations

import threading
import time
from pathlib import Path
from typing import Iterator

import pytest
import redis
import requests

from tests.support.server import ServerProcess, free_port
from tests.support.services import REDIS_URL, redis_prefix

SECRET = "redis-secret-" + "s" * 40
UPGRADE = {"Upgrade": "websocket", "Connection": "Upgrade", "Sec-WebSocket-Version": "13",
           "Sec-WebSocket-Key": "dGhlIHNhbXBsZSBub25jZQ=="}


def side_by_side(action: str, *servers: ServerProcess) -> None:
    """Start (or stop) servers concurrently; the first failure is raised here."""
    errors: list[BaseException] = []

    def run(server: ServerProcess) -> None:
        try:
            getattr(server, action)()
        except BaseException as exc:  # reported below, in the test's thread
            errors.append(exc)

    threads = [threading.Thread(target=run, args=(server,)) for server in servers]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    if errors:
        raise errors[0]


@pytest.fixture(scope="module")
def shared_space() -> Iterator[str]:
    with redis_prefix() as prefix:
        yield prefix


@pytest.fixture(scope="module")
def pair(tmp_path_factory: pytest.TempPathFactory, shared_space: str) -> Iterator[tuple[ServerProcess, ServerProcess]]:
    env = {"SECRET_KEY": SECRET, "REDIS_URL": REDIS_URL, "REDIS_PREFIX": shared_space,
           "RATE_LIMIT_DEFAULT": "4/minute", "RATE_LIMIT_WS_UPGRADE": "2/3seconds"}
    servers = (ServerProcess(tmp_path_factory.mktemp("one"), env=env),
               ServerProcess(tmp_path_factory.mktemp("two"), env=env))
    try:
        side_by_side("start", *servers)
        yield servers
    finally:
        side_by_side("stop", *servers)


@pytest.mark.redis
def test_two_servers_share_one_budget(pair: tuple[ServerProcess, ServerProcess], shared_space: str) -> None:
    one, two = pair
    path = "/api/v1/openapi.json"
    with requests.Session() as http:
        remaining = [http.get(server.url + path).headers["X-RateLimit-Remaining"] for server in (one, two, one, two)]
        assert remaining == ["3", "2", "1", "0"]
        refused = http.get(one.url + path)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limited"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    client = redis.Redis.from_url(REDIS_URL)
    try:
        assert any(key.startswith(f"{shared_space}:limits:".encode()) for key in client.scan_iter(f"{shared_space}:*"))
    finally:
        client.close()


@pytest.mark.redis
def test_the_reset_announced_by_one_server_holds_on_the_other(pair: tuple[ServerProcess, ServerProcess]) -> None:
    one, two = pair
    with requests.Session() as http:
        for _ in range(10):  # 2 upgrades per 3 seconds, counted in Redis: loop until refused, however slow
            refused = http.get(one.url + "/ws", headers=UPGRADE)
            if refused.status_code == 429:
                break
        assert refused.status_code == 429 and refused.json()["error"]["details"]["limit"] == "ws_upgrade"
        retry = int(refused.headers["Retry-After"])
        assert 1 <= retry <= 3  # read with PTTL and rounded up, never 0
        time.sleep(retry)
        after = http.get(two.url + "/ws", headers=UPGRADE)
    assert after.status_code == 401 and "Retry-After" not in after.headers  # refused for its token, not its rate


def test_a_dead_redis_fails_open_with_limits_kept_per_process(tmp_path: Path) -> None:
    server = ServerProcess(tmp_path / "dead", env={
        "SECRET_KEY": SECRET, "REDIS_URL": f"redis://127.0.0.1:{free_port()}/0",
        "RATE_LIMIT_STORAGE_FAILURE": "open", "RATE_LIMIT_DEFAULT": "3/minute"})
    server.start()
    try:
        with requests.Session() as http:
            responses = [http.get(server.url + "/api/v1/openapi.json") for _ in range(4)]
    finally:
        server.stop()
    assert [r.status_code for r in responses] == [200, 200, 200, 429]
    assert responses[0].headers["X-RateLimit-Remaining"] == "2"
    assert "falling back to in-memory storage" in server.log_path.read_text()
