"""Presence reaches the users sharing a channel, and nobody else, across several connections."""
from tests.support.hub import WsClient, shared_channel
from tests.support.api import Api
from tests.support.server import ServerProcess


def _quiet(*clients: WsClient) -> None:
    for client in clients:
        client.roundtrip()


def test_presence_goes_to_channel_peers_only(server: ServerProcess, api: Api) -> None:
    alice, bob, stranger = api.register(), api.register(), api.register()
    shared_channel(api, alice, bob)
    shared_channel(api, stranger)  # the stranger has channels, just none with bob
    a, s = WsClient(server.ws_url, alice.token), WsClient(server.ws_url, stranger.token)
    b = WsClient(server.ws_url, bob.token)
    assert a.wait_for("presence", user_id=bob.id)["payload"]["status"] == "online"
    a.wait_for("user_online", user_id=bob.id)
    b.send("presence", {"status": "in_studio"})
    a.wait_for("presence", user_id=bob.id, status="in_studio")
    a.wait_for("user_in_studio", user_id=bob.id)
    b.close()
    a.wait_for("presence", user_id=bob.id, status="offline")
    a.wait_for("user_offline", user_id=bob.id)
    _quiet(a, s)
    for kind in ("presence", "user_online", "user_offline", "user_in_studio"):
        assert s.of_type(kind) == [], f"the stranger got {kind}"
    assert b.of_type("presence", user_id=alice.id) == []  # alice joined before bob and never changed
    a.close()
    s.close()


def test_a_user_is_offline_only_when_the_last_connection_closes(server: ServerProcess, api: Api) -> None:
    alice, bob = api.register(), api.register()
    shared_channel(api, alice, bob)
    watcher = WsClient(server.ws_url, alice.token)
    first = WsClient(server.ws_url, bob.token)
    watcher.wait_for("user_online", user_id=bob.id)
    second = WsClient(server.ws_url, bob.token)
    second.send("presence", {"status": "in_studio"})
    watcher.wait_for("presence", user_id=bob.id, status="in_studio")
    first.close()
    _quiet(second)
    second.close()
    offline = watcher.wait_for("presence", user_id=bob.id, status="offline")
    _quiet(watcher)
    statuses = [f["payload"]["status"] for f in watcher.of_type("presence", user_id=bob.id)]
    assert statuses == ["online", "in_studio", "offline"], statuses
    assert offline["timestamp"] >= watcher.of_type("presence", user_id=bob.id)[1]["timestamp"]
    watcher.close()


def test_leaving_the_studio_on_one_connection_keeps_the_highest_status(server: ServerProcess,
                                                                        api: Api) -> None:
    alice, bob = api.register(), api.register()
    shared_channel(api, alice, bob)
    watcher = WsClient(server.ws_url, alice.token)
    studio, plain = WsClient(server.ws_url, bob.token), WsClient(server.ws_url, bob.token)
    studio.send("presence", {"status": "in_studio"})
    watcher.wait_for("user_in_studio", user_id=bob.id)
    studio.close()
    watcher.wait_for("presence", user_id=bob.id, status="online")
    plain.send("presence", {"status": "offline"})  # appearing offline counts as offline
    watcher.wait_for("user_offline", user_id=bob.id)
    plain.send("presence", {"status": "online"})
    watcher.wait_for("user_online", user_id=bob.id)
    plain.close()
    watcher.wait_for("user_offline", user_id=bob.id)
    watcher.close()


def test_channel_changes_reach_the_members_connections(server: ServerProcess, api: Api) -> None:
    owner, member, newcomer = api.register(), api.register(), api.register()
    channel_id = shared_channel(api, owner, member)
    o, m, n = (WsClient(server.ws_url, u.token) for u in (owner, member, newcomer))
    assert api.post(f"/api/v1/channels/{channel_id}/members", owner, json={"userId": newcomer.id}).status_code == 201
    for client in (o, m, n):
        client.wait_for("channel_member_added", channel_id=channel_id, user_id=newcomer.id)
    assert api.delete(f"/api/v1/channels/{channel_id}/members/{newcomer.id}", owner).status_code == 204
    n.wait_for("channel_member_removed", channel_id=channel_id, user_id=newcomer.id)
    m.wait_for("channel_member_removed", channel_id=channel_id, user_id=newcomer.id)
    assert api.delete(f"/api/v1/channels/{channel_id}", owner).status_code == 204
    o.wait_for("channel_deleted", channel_id=channel_id)
    m.wait_for("channel_deleted", channel_id=channel_id)
    _quiet(n)
    assert n.of_type("channel_deleted") == []
    for client in (o, m, n):
        client.close()
