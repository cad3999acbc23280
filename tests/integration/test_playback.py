"""Playback relay over real WebSockets: channel peers see who plays what, nobody else does."""
from typing import Callable

from tests.support.events import connect, counter, hub_metrics, settled
from tests.support.hub import shared_channel
from tests.support.api import Account, Api
from tests.support.server import ServerProcess


def test_playback_reaches_channel_peers_with_the_senders_id_and_nobody_else(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    alice, bob, stranger = api.register(), api.register(), api.register()
    shared_channel(api, alice, bob)
    shared_channel(api, stranger)
    before = hub_metrics(api, staff("admin"))
    a1, a2 = connect(server.ws_url, alice), connect(server.ws_url, alice)
    b_player, b_other, s = connect(server.ws_url, bob), connect(server.ws_url, bob), connect(server.ws_url, stranger)
    b_player.send("playback_started", {"postId": "track-7"})
    for client in (a1, a2):
        assert client.wait_for("playback_started")["payload"] == {"post_id": "track-7", "user_id": bob.id}
    b_player.send("playback_stopped", {"post_id": "track-7", "user_id": bob.id})
    for client in (a1, a2):
        assert client.wait_for("playback_stopped")["payload"] == {"post_id": "track-7", "user_id": bob.id}
    settled(s, b_other, b_player)
    for kind in ("playback_started", "playback_stopped"):
        assert s.of_type(kind) == [] and b_other.of_type(kind) == [] and b_player.of_type(kind) == []
    after = hub_metrics(api, staff("admin"))
    assert counter(after, "events_published", "playback_started") >= counter(before, "events_published",
                                                                              "playback_started") + 1
    assert counter(after, "events_delivered", "playback_stopped") >= counter(before, "events_delivered",
                                                                             "playback_stopped") + 2
    for client in (a1, a2, b_player, b_other, s):
        client.close()


def test_a_disconnect_stops_what_that_connection_was_playing(server: ServerProcess, api: Api) -> None:
    alice, bob = api.register(), api.register()
    shared_channel(api, alice, bob)
    watcher = connect(server.ws_url, alice)
    player = connect(server.ws_url, bob)
    player.send("playback_started", {"post_id": 15})  # an integer post id travels as a string
    watcher.wait_for("playback_started", post_id="15", user_id=bob.id)
    player.close()
    watcher.wait_for("playback_stopped", post_id="15", user_id=bob.id)
    watcher.wait_for("user_offline", user_id=bob.id)
    watcher.close()


def test_a_post_stays_playing_while_another_connection_of_the_user_plays_it(server: ServerProcess,
                                                                             api: Api) -> None:
    alice, bob = api.register(), api.register()
    shared_channel(api, alice, bob)
    watcher = connect(server.ws_url, alice)
    first, second = connect(server.ws_url, bob), connect(server.ws_url, bob)
    watcher.wait_for("presence", user_id=bob.id, status="online")
    first.send("presence", {"status": "in_studio"})  # so that first's departure is announced
    watcher.wait_for("presence", user_id=bob.id, status="in_studio")
    for client in (first, second):
        client.send("playback_started", {"post_id": "shared"})
        watcher.wait_for("playback_started", post_id="shared")
    first.close()
    watcher.wait_for("presence", user_id=bob.id, status="online")  # the server has seen first go
    second.send("playback_started", {"post_id": "other"})
    watcher.wait_for("playback_started", post_id="other")
    assert watcher.of_type("playback_stopped") == []
    second.close()
    stopped = {watcher.wait_for("playback_stopped")["payload"]["post_id"] for _ in range(2)}
    assert stopped == {"shared", "other"}
    watcher.close()


def test_bad_playback_frames_get_errors_and_reach_nobody(server: ServerProcess, api: Api) -> None:
    alice, bob = api.register(), api.register()
    shared_channel(api, alice, bob)
    watcher, sender = connect(server.ws_url, alice), connect(server.ws_url, bob)
    cases = [({"post_id": "x", "user_id": alice.id}, "forbidden"),  # someone else's id
             ({}, "invalid_payload"), ({"post_id": "x", "volume": 3}, "invalid_payload"),
             ({"post_id": ""}, "invalid_payload"), ({"post_id": ["x"]}, "invalid_payload")]
    for payload, code in cases:
        sender.send("playback_started", payload)
        assert sender.wait_for("error")["payload"]["code"] == code, payload
    settled(sender, watcher)
    assert watcher.of_type("playback_started") == [] and not sender.closed.is_set()
    sender.close()
    watcher.close()
