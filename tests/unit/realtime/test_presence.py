"""Presence aggregation: one announcement per change of a user's status, in order."""
import time
import uuid
from typing import Iterator

import pytest
import redis

from app.realtime.presence import LocalPresenceStore, PresenceTracker, aggregate
from app.realtime.redis_presence import RedisPresenceStore
from app.realtime.relay import Envelope
from tests.support.services import REDIS_URL, redis_prefix


def test_aggregate_takes_the_highest_status() -> None:
    assert aggregate([]) == "offline"
    assert aggregate(["offline", "online"]) == "online"
    assert aggregate(["online", "in_studio", "offline"]) == "in_studio"


def test_tracker_announces_only_changes() -> None:
    statuses: dict[int, list[str]] = {}
    said: list[tuple[int, str]] = []
    tracker = PresenceTracker(LocalPresenceStore(), lambda u: statuses.get(u, []), lambda u, s: said.append((u, s)))
    for conns in (["online"], ["online", "online"], ["online", "in_studio"], ["online"], [], []):
        statuses[7] = conns
        tracker.refresh(7)
    assert said == [(7, "online"), (7, "in_studio"), (7, "online"), (7, "offline")]
    assert tracker.online_users() == 0


def test_a_failing_announcement_does_not_break_the_tracker() -> None:
    def boom(user_id: int, status: str) -> None:
        raise RuntimeError("peers lookup failed")

    tracker = PresenceTracker(LocalPresenceStore(), lambda u: ["online"], boom)
    tracker.refresh(1)
    assert tracker.status(1) == "online"


def test_envelopes_survive_the_relay_encoding() -> None:
    envelope = Envelope("users", (1, 2), '{"type":"x"}', "x", "abc-1")
    assert Envelope.from_json(envelope.to_json("inst")) == ("inst", envelope)


@pytest.fixture
def client() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(REDIS_URL)
    yield conn
    conn.close()


@pytest.mark.redis
def test_redis_presence_is_the_highest_of_live_instances(client: redis.Redis) -> None:
    with redis_prefix() as prefix:
        one = RedisPresenceStore(client, prefix, "one", heartbeat_seconds=60)
        two = RedisPresenceStore(client, prefix, "two", heartbeat_seconds=60)
        assert one.set_local(5, "online") == ("offline", "online")
        assert two.set_local(5, "in_studio") == ("online", "in_studio")
        assert one.set_local(5, "offline") == ("in_studio", "in_studio")
        assert two.set_local(5, "online") == ("in_studio", "online")
        two.forget_instance()
        assert one.set_local(5, "online") == ("offline", "online")


@pytest.mark.redis
def test_a_dead_instance_is_reaped_once(client: redis.Redis) -> None:
    with redis_prefix() as prefix:
        dead_id = f"dead-{uuid.uuid4().hex[:6]}"
        dead = RedisPresenceStore(client, prefix, dead_id, heartbeat_seconds=0.05)
        live = RedisPresenceStore(client, prefix, "live", heartbeat_seconds=0.05)
        other = RedisPresenceStore(client, prefix, "other", heartbeat_seconds=0.05)
        dead.set_local(8, "in_studio")
        dead.set_local(9, "online")
        live.set_local(9, "online")
        time.sleep(0.5)  # the dead one misses its heartbeats; this is not a timing assertion
        assert sorted(live.heartbeat()) == [(8, "offline")]  # user 9 stays online through `live`
        assert other.heartbeat() == []
        assert client.hget(f"{prefix}:ws:presence:9", dead_id) is None
        assert client.hget(f"{prefix}:ws:presence:9", "live") is not None
