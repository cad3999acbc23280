"""Notifications that wait: stored per recipient, counted on connect, listed, read, expired."""
import subprocess
import sys
from typing import Callable

from tests.support.events import connect, published, settled
from tests.support.hub import shared_channel
from tests.support.api import Account, Api
from tests.support.server import ROOT, ServerProcess
from tests.support.services import data_dir_env


def _notify(api: Api, service: Account, user_ids: list[int], title: str, **extra: object) -> dict:
    return published(api, service, "notification", {"user_ids": user_ids}, {"kind": "system", "title": title, **extra})


def _list(api: Api, account: Account, query: str = "") -> dict:
    resp = api.get(f"/api/v1/notifications{query}", account)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_an_offline_user_finds_the_notification_and_its_count_on_connect(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    user = api.register()
    data = {"post_id": "p-3", "nested": {"ok": None}}
    answer = _notify(api, staff("service"), [user.id, 987654321], "Your track was featured", body="Congrats",
                     data=data)
    assert (answer["stored"], answer["delivered"], answer["unknown_user_ids"]) == (1, 0, [987654321])
    client = connect(server.ws_url, user)  # its greeting is the count
    greeting = client.of_type("notification_count")
    assert [f["payload"] for f in greeting] == [{"unread": 1}]
    listed = _list(api, user, "?unread=true")
    assert listed["unread"] == 1 and listed["next_cursor"] is None
    [item] = listed["notifications"]
    assert item["kind"] == "system" and item["title"] == "Your track was featured" and item["body"] == "Congrats"
    assert item["data"] == data and item["read_at_ms"] is None and isinstance(item["created_at_ms"], int)
    settled(client)
    assert client.of_type("notification") == []  # stored ones are listed, not replayed
    client.close()


def test_a_connected_user_gets_it_live_and_reading_it_updates_every_connection(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    user, other = api.register(), api.register()
    first, second = connect(server.ws_url, user), connect(server.ws_url, user)
    answer = _notify(api, staff("admin"), [user.id], "New comment")
    assert answer["stored"] == 1 and answer["delivered"] == 2
    notification_id = None
    for client in (first, second):
        frame = client.wait_for("notification")["payload"]
        assert frame["title"] == "New comment" and frame["kind"] == "system" and "body" not in frame
        notification_id = frame["id"]
        client.wait_for("notification_count", unread=1)
    assert notification_id == _list(api, user)["notifications"][0]["id"]

    assert api.post(f"/api/v1/notifications/{notification_id}/read", other).status_code == 404
    for missing in ("999999999", "abc", "0", "99999999999999999999"):
        resp = api.post(f"/api/v1/notifications/{missing}/read", user)
        assert resp.status_code == 404 and resp.json()["error"]["code"] == "not_found"
    resp = api.post(f"/api/v1/notifications/{notification_id}/read", user)
    assert resp.status_code == 200, resp.text
    body = resp.json()
    assert body["unread"] == 0 and body["changed"] is True and body["notification"]["read_at_ms"] is not None
    for client in (first, second):
        assert client.wait_for("notification_read")["payload"] == {"id": notification_id}
        client.wait_for("notification_count", unread=0)
    again = api.post(f"/api/v1/notifications/{notification_id}/read", user).json()
    assert again["changed"] is False and again["notification"] == body["notification"]
    settled(first)
    assert len(first.of_type("notification_read")) == 1  # nothing changed, nothing sent
    assert _list(api, user, "?unread=true")["notifications"] == []
    for client in (first, second):
        client.close()


def test_a_channel_notification_is_stored_for_each_member(server: ServerProcess, api: Api,
                                                          staff: Callable[[str], Account]) -> None:
    owner, member, stranger = api.register(), api.register(), api.register()
    channel_id = shared_channel(api, owner, member)
    watcher = connect(server.ws_url, stranger)
    answer = published(api, staff("service"), "notification", {"channel_id": channel_id},
                       {"kind": "channel", "title": "Session at 8"})
    assert answer["stored"] == 2 and answer["recipients"] == 2
    for account in (owner, member):
        assert [n["title"] for n in _list(api, account)["notifications"]] == ["Session at 8"]
    assert _list(api, stranger)["notifications"] == []
    settled(watcher)
    assert watcher.of_type("notification") == []
    watcher.close()


def test_pages_newest_first_with_a_cursor_and_only_ones_own(api: Api, staff: Callable[[str], Account]) -> None:
    user, other = api.register(), api.register()
    for n in range(3):
        _notify(api, staff("service"), [user.id], f"n{n}")
    _notify(api, staff("service"), [other.id], "not yours")
    first = _list(api, user, "?limit=2")
    assert [n["title"] for n in first["notifications"]] == ["n2", "n1"] and first["unread"] == 3
    rest = _list(api, user, f"?limit=2&cursor={first['next_cursor']}")
    assert [n["title"] for n in rest["notifications"]] == ["n0"] and rest["next_cursor"] is None
    read_id = first["notifications"][1]["id"]
    assert api.post(f"/api/v1/notifications/{read_id}/read", user).status_code == 200
    unread = _list(api, user, "?unread=true")
    assert [n["title"] for n in unread["notifications"]] == ["n2", "n0"] and unread["unread"] == 2
    for bad in ("?limit=0", "?limit=500", "?cursor=xyz", "?unread=maybe", "?other=1"):
        resp = api.get(f"/api/v1/notifications{bad}", user)
        assert resp.status_code == 400 and "error" in resp.json(), bad
    assert api.get("/api/v1/notifications").status_code == 401


def test_the_cli_expires_read_notifications_and_keeps_unread_ones(server: ServerProcess, api: Api,
                                                                  staff: Callable[[str], Account]) -> None:
    user = api.register()
    _notify(api, staff("service"), [user.id], "keep me")
    _notify(api, staff("service"), [user.id], "read me")
    read_id = _list(api, user)["notifications"][0]["id"]
    assert api.post(f"/api/v1/notifications/{read_id}/read", user).status_code == 200
    kept = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "notifications", "expire"],
                          cwd=ROOT, env=data_dir_env(server.data_dir), capture_output=True, text=True, timeout=120)
    assert kept.returncode == 0, kept.stderr
    assert len(_list(api, user)["notifications"]) == 2  # read just now: younger than 30 days
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "notifications", "expire",
                             "--older-than-days", "0"],
                            cwd=ROOT, env=data_dir_env(server.data_dir), capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.startswith("expired ") and "read notifications" in result.stdout
    assert [n["title"] for n in _list(api, user)["notifications"]] == ["keep me"]
