"""Another user's resources, over HTTP and WebSocket: uploads, error events and groups, notifications,
and the documents of a channel one has left. Each is refused (or invisible) and left unchanged."""
from __future__ import annotations

import uuid
from typing import Callable

from tests.integration.test_uploads_formats import png_bytes, wav_bytes
from tests.reliability.frames import WsClient, insert
from tests.support.api import Account, Api
from tests.support.server import ServerProcess

AccountOf = Callable[[str], Account]


def test_another_users_uploads_are_not_found(own_api: Api) -> None:
    owner, other = own_api.register("upowner"), own_api.register("upother")
    for path, data in (("/api/v1/audio/upload", wav_bytes()), ("/api/v1/users/upload-profile-picture", png_bytes())):
        resp = own_api.post(path, owner, files={"file": ("f.bin", data, "application/octet-stream")})
        assert resp.status_code == 201, resp.text
        url = resp.json()["upload"]["url"]
        assert own_api.get(url, owner).content == data
        refused = own_api.get(url, other)
        assert refused.status_code == 404 and refused.json()["error"]["code"] == "not_found"
        assert data not in refused.content


def test_another_users_error_groups_are_invisible(own_api: Api, own_staff: AccountOf) -> None:
    owner, other = own_api.register("errowner"), own_api.register("errother")
    message = f"Secret failure {uuid.uuid4().hex}"
    batch = {"errors": [{"source": "UI", "severity": "Error", "message": message, "occurrences": 3}]}
    assert own_api.post("/api/v1/errors/batch", owner, json=batch).json()["accepted"] == 1
    [group] = [g for g in own_api.get("/api/v1/errors?limit=200", owner).json()["groups"] if g["message"] == message]
    listed = own_api.get("/api/v1/errors?limit=200", other).json()["groups"]
    assert all(g["id"] != group["id"] for g in listed)
    assert own_api.get(f"/api/v1/errors/{group['id']}", other).status_code == 404
    assert own_api.get("/api/v1/errors/stats", other).json()["total"] == 0
    patched = own_api.patch(f"/api/v1/errors/{group['id']}", other, json={"status": "resolved"})
    assert patched.status_code == 403
    detail = own_api.get(f"/api/v1/errors/{group['id']}", owner).json()
    assert detail["status"] == "unresolved" and detail["occurrences"] == 3
    assert own_api.get(f"/api/v1/errors/{group['id']}", own_staff("support")).status_code == 200


def test_another_users_notifications_cannot_be_read_or_marked(own_api: Api, own_staff: AccountOf) -> None:
    owner, other = own_api.register("notowner"), own_api.register("notother")
    body = {"type": "notification", "to": {"user_ids": [owner.id]},
            "payload": {"kind": "system", "title": "Only for the owner"}}
    assert own_api.post("/api/v1/events", own_staff("admin"), json=body).status_code == 200
    [item] = own_api.get("/api/v1/notifications", owner).json()["notifications"]
    assert own_api.get("/api/v1/notifications", other).json()["notifications"] == []
    refused = own_api.post(f"/api/v1/notifications/{item['id']}/read", other)
    assert refused.status_code == 404
    assert own_api.get("/api/v1/notifications?unread=true", owner).json()["notifications"] == [item]


def test_a_channel_you_left_keeps_its_documents_from_you(own_server: ServerProcess, own_api: Api) -> None:
    owner, leaver = own_api.register("chowner"), own_api.register("chleaver")
    channel = own_api.post("/api/v1/channels", owner, json={"name": "private"}).json()
    added = own_api.post(f"/api/v1/channels/{channel['id']}/members", owner, json={"user_id": leaver.id})
    assert added.status_code == 201
    doc = f"channel:{channel['id']}:notes"
    left, stays = WsClient(own_server.ws_url, leaver.token), WsClient(own_server.ws_url, owner.token)
    try:
        for client in (left, stays):
            client.send("subscribe", {"documentId": doc})
            client.of_type("snapshot")
        left.send("operation", insert(doc, 0, 0, "hello", 7, "leaver-1"))
        left.of_type("operation_ack")
        assert own_api.delete(f"/api/v1/channels/{channel['id']}/members/{leaver.id}", leaver).status_code == 204
        left.of_type("channel_member_removed")
        stays.of_type("operation")
        stays.send("operation", insert(doc, 1, 5, " world", 1, "owner-1"))
        stays.of_type("operation_ack")
        assert [f for f in left.quiet(0.5) if f["type"] == "operation"] == []  # no more live edits
        for path in (f"/api/v1/documents/{doc}", f"/api/v1/documents/{doc}/operations?from_revision=0"):
            resp = own_api.get(path, leaver)
            assert resp.status_code == 403 and resp.json()["error"]["code"] == "not_a_member"
        assert own_api.get(f"/api/v1/channels/{channel['id']}", leaver).status_code in (403, 404)
        left.send("subscribe", {"documentId": doc})
        assert left.of_type("error")["payload"]["code"] == "not_a_member"
        left.send("operation", insert(doc, 2, 0, "sneaky ", 7, "leaver-2"))
        assert left.of_type("error")["payload"]["code"] == "not_a_member"
        left.send("subscribe", {"documentId": doc, "fromRevision": 0})
        assert left.of_type("error")["payload"]["code"] == "not_a_member"
        seen = [f for f in left.frames
                if f["type"] in ("operation", "snapshot") and f["payload"].get("revision", 0) > 1]
        assert seen == []
        head = own_api.get(f"/api/v1/documents/{doc}", owner).json()
        assert (head["content"], head["revision"]) == ("hello world", 2)
        left.ping("still-served")
    finally:
        left.close()
        stays.close()
