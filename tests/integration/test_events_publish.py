"""POST /api/v1/events over a real server: each audience, nobody else, refusals, roles and metrics."""
from typing import Callable

import pytest

from tests.support.events import (connect, counter, hub_metrics, publish, published,
                                                   settled)
from tests.support.hub import shared_channel
from tests.support.api import Account, Api
from tests.support.server import ServerProcess

NEW_POST = {"post_id": "p-1", "author_id": 1, "title": "Night drive"}


def test_listed_users_get_the_event_on_every_connection_and_a_stranger_nothing(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    alice, bob, stranger = api.register(), api.register(), api.register()
    a1, a2, b, s = (connect(server.ws_url, u) for u in (alice, alice, bob, stranger))
    payload = {"postId": 42, "userId": bob.id, "likeCount": 7}  # camelCase in, an integer post id
    answer = published(api, staff("service"), "post_liked", {"user_ids": [alice.id, bob.id, alice.id]}, payload)
    assert answer == {"type": "post_liked", "delivered": 3, "relayed": False, "recipients": 2, "stored": 0,
                      "unknown_user_ids": []}
    for client in (a1, a2, b):
        frame = client.wait_for("post_liked")
        assert frame["payload"] == {"post_id": "42", "user_id": bob.id, "like_count": 7}
        assert isinstance(frame["timestamp"], int)
    settled(s, a1)
    assert s.of_type("post_liked") == [] and len(a1.of_type("post_liked")) == 1
    for client in (a1, a2, b, s):
        client.close()


def test_a_channel_audience_reaches_its_members_only(server: ServerProcess, api: Api,
                                                     staff: Callable[[str], Account]) -> None:
    owner, member, stranger = api.register(), api.register(), api.register()
    channel_id = shared_channel(api, owner, member)
    shared_channel(api, stranger)
    o, m, s = (connect(server.ws_url, u) for u in (owner, member, stranger))
    answer = published(api, staff("admin"), "new_post", {"channelId": channel_id}, {**NEW_POST, "author_id": owner.id})
    assert answer["delivered"] == 2 and answer["recipients"] == 2
    for client in (o, m):
        assert client.wait_for("new_post")["payload"] == {**NEW_POST, "author_id": owner.id}
    settled(s)
    assert s.of_type("new_post") == []
    missing = publish(api, staff("admin"), "new_post", {"channel_id": "nosuchchannel"}, NEW_POST)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "channel_not_found"
    for client in (o, m, s):
        client.close()


def test_everyone_connected_gets_a_broadcast(server: ServerProcess, api: Api,
                                             staff: Callable[[str], Account]) -> None:
    loner, other = api.register(), api.register()  # in no channel at all
    clients = [connect(server.ws_url, u) for u in (loner, other)]
    payload = {"post_id": "p-9", "count": 12}
    answer = published(api, staff("service"), "like_count_update", {"all": True}, payload)
    assert answer["delivered"] >= 2 and answer["recipients"] is None
    for client in clients:
        assert client.wait_for("like_count_update")["payload"] == payload
        client.close()


def test_an_offline_recipient_costs_nothing_and_misses_a_non_stored_event(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    offline = api.register()
    answer = published(api, staff("service"), "new_follower", {"user_ids": [offline.id]},
                       {"follower_id": 1, "followed_id": offline.id})
    assert answer["delivered"] == 0 and answer["stored"] == 0
    client = connect(server.ws_url, offline)
    settled(client)
    assert client.of_type("new_follower") == []
    client.close()


@pytest.mark.parametrize("frame_type,payload,code", [
    ("no_such_type", {}, "unknown_event_type"),
    ("NEW_POST", NEW_POST, "unknown_event_type"),
    ("new_post", {"post_id": "p-1"}, "validation_error"),  # author_id missing
    ("new_post", {**NEW_POST, "extra": 1}, "validation_error"),  # unknown field
    ("new_post", {**NEW_POST, "author_id": "1"}, "validation_error"),  # a user id is an integer
    ("new_post", {**NEW_POST, "post_id": "a b"}, "validation_error"),
    ("new_post", {**NEW_POST, "post_id": True}, "validation_error"),
    ("like_count_update", {"post_id": "p", "count": -1}, "validation_error"),
    ("new_reaction", {"post_id": "p", "user_id": 1, "reaction": ""}, "validation_error"),
    ("notification", {"kind": "system"}, "validation_error"),  # title missing
    ("notification", {"kind": "system", "title": "t", "data": {"x": "y" * 5000}}, "validation_error"),
    ("notification", {"kind": "system", "title": "t", "id": 5}, "validation_error"),  # ids are the server's
    ("notification_count", {"unread": 3}, "not_publishable"),
    ("notification_read", {"id": 3}, "not_publishable"),
])
def test_unknown_types_and_bad_payloads_are_refused_and_nothing_is_sent(
        server: ServerProcess, api: Api, staff: Callable[[str], Account], frame_type: str,
        payload: dict, code: str) -> None:
    watcher = api.register()
    client = connect(server.ws_url, watcher)
    resp = publish(api, staff("service"), frame_type, {"user_ids": [watcher.id]}, payload)
    assert resp.status_code == 400, resp.text
    assert resp.json()["error"]["code"] == code
    settled(client)
    assert [f["type"] for f in client.frames] == ["system", "notification_count", "pong"]
    client.close()


@pytest.mark.parametrize("to", [{}, {"user_ids": []}, {"user_ids": [1], "all": True}, {"all": False},
                                {"user_ids": [0]}, {"user_ids": list(range(1, 1002))}, {"channel": "x"}])
def test_a_malformed_audience_is_refused(api: Api, staff: Callable[[str], Account], to: dict) -> None:
    resp = publish(api, staff("admin"), "new_post", to, NEW_POST)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "validation_error", resp.text


def test_a_stored_notification_cannot_go_to_everyone(api: Api, staff: Callable[[str], Account]) -> None:
    resp = publish(api, staff("admin"), "notification", {"all": True}, {"kind": "system", "title": "Hi all"})
    assert resp.status_code == 400 and resp.json()["error"]["code"] == "audience_not_allowed"


def test_malformed_bodies_are_refused(api: Api, staff: Callable[[str], Account]) -> None:
    admin = staff("admin")
    for body in (b"not json", b"[1]", b'{"to": {"all": true}, "payload": {}}', b'{"type": 5}'):
        resp = api.post("/api/v1/events", admin, data=body, headers={"Content-Type": "application/json"})
        assert resp.status_code == 400 and "error" in resp.json(), body


def test_only_admin_and_service_accounts_may_publish(api: Api, staff: Callable[[str], Account]) -> None:
    target = api.register()
    to, payload = {"user_ids": [target.id]}, {"post_id": "p", "count": 1}
    assert publish(api, None, "like_count_update", to, payload).status_code == 401
    bad_token = Account(0, "x", "x", "admin", "not.a.token")
    assert publish(api, bad_token, "like_count_update", to, payload).status_code == 401
    for account in (api.register(), staff("support")):
        resp = publish(api, account, "like_count_update", to, payload)
        assert resp.status_code == 403 and resp.json()["error"]["code"] == "forbidden"
    for role in ("admin", "service"):
        assert publish(api, staff(role), "like_count_update", to, payload).status_code == 200


def test_published_and_delivered_events_are_counted_by_type(server: ServerProcess, api: Api,
                                                             staff: Callable[[str], Account]) -> None:
    admin = staff("admin")
    reader = api.register()
    clients = [connect(server.ws_url, reader) for _ in range(2)]
    before = hub_metrics(api, admin)
    published(api, staff("service"), "follower_count_update", {"user_ids": [reader.id]},
              {"user_id": reader.id, "count": 3})
    assert publish(api, staff("service"), "no_such_type", {"all": True}, {}).status_code == 400
    after = hub_metrics(api, admin)
    assert counter(after, "events_published", "follower_count_update") == \
        counter(before, "events_published", "follower_count_update") + 1
    assert counter(after, "events_delivered", "follower_count_update") == \
        counter(before, "events_delivered", "follower_count_update") + 2
    assert counter(after, "events_rejected", "unknown_event_type") == \
        counter(before, "events_rejected", "unknown_event_type") + 1
    assert counter(after, "frames_out", "follower_count_update") >= 2
    for client in clients:
        client.close()
