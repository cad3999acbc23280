"""The OT authority over real WebSockets: subscribe, operations, acks, refusals, resends, order, access."""
from __future__ import annotations

import subprocess
import sys
import threading
from typing import Any

import pytest

from ot import Insert
from tests.support.api import Account, Api
from tests.support.ot_client import Editor, replayed, shared_document, stored_history
from tests.support.server import ROOT, ServerProcess
from tests.support.services import data_dir_env


@pytest.fixture(scope="module")
def people(api: Api) -> dict[str, Account]:
    """Accounts shared by this module's tests (hashing passwords is slow); channels are per test."""
    return {"owner": api.register("otown"), "member": api.register("otmem"), "stranger": api.register("otstr")}


@pytest.fixture
def room(api: Api, people: dict[str, Account]) -> dict[str, Any]:
    """An owner and a member of a fresh channel, and one of its documents."""
    return {**people, "doc": shared_document(api, people["owner"], [people["member"]])}


def _editor(server: ServerProcess, account: Account, document_id: str, client_id: int) -> Editor:
    return Editor(server.ws_url, account.token, document_id, client_id).connect()


def _head(api: Api, account: Account, document_id: str) -> dict[str, Any]:
    return api.get(f"/api/v1/documents/{document_id}", account).json()


def _of_type(editor: Editor, frame_type: str) -> list[dict[str, Any]]:
    return [frame["payload"] for frame in editor.frames if frame["type"] == frame_type]


def test_an_operation_is_acknowledged_to_its_sender_and_sent_to_the_others(server: ServerProcess, api: Api,
                                                                          room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    b = _editor(server, room["member"], room["doc"], 2)
    assert _of_type(a, "snapshot") == [{"document_id": room["doc"], "content": "", "revision": 0}]
    a.edit(Insert(0, "héllo 😀", 1))
    a.settle()
    b.wait_for(lambda frame: frame["type"] == "operation")
    ack, op = _of_type(a, "operation_ack")[0], _of_type(b, "operation")[0]
    assert set(ack) == {"document_id", "client_id", "op_id", "revision", "server_timestamp", "transformed_operation"}
    assert set(op) == {"document_id", "revision", "user_id", "client_id", "op_id", "server_timestamp", "operation"}
    assert (ack["revision"], op["revision"], op["user_id"], op["op_id"]) == (1, 1, room["owner"].id, ack["op_id"])
    assert op["operation"] == ack["transformed_operation"]
    assert op["operation"] | {"op_id": None} == {"type": "Insert", "client_id": 1, "position": 0,
                                                 "content": "héllo 😀", "op_id": None}
    assert all("timestamp" in frame for frame in a.frames + b.frames)
    assert _of_type(a, "operation") == []  # the sender gets its ack instead
    assert b.client.content == a.client.content == _head(api, room["owner"], room["doc"])["content"]


def test_subscribing_from_a_revision_replays_the_missed_operations(server: ServerProcess, api: Api,
                                                                  room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    for index in range(5):
        a.edit(Insert(index, str(index), 1))
        a.settle()
    late = Editor(server.ws_url, room["member"].token, room["doc"], 2)
    late.client.reset("01", 2)
    late.connect(from_revision=2)
    late.wait_for(lambda frame: frame["type"] == "operation" and frame["payload"]["revision"] == 5)
    assert [op["revision"] for op in _of_type(late, "operation")] == [3, 4, 5]
    assert _of_type(late, "snapshot") == []
    a.edit(Insert(0, "live", 1))
    late.wait_for(lambda frame: frame["type"] == "operation" and frame["payload"]["revision"] == 6)
    assert late.client.content == a.client.content == "live01234"


@pytest.mark.parametrize(("payload", "code"), [
    ({"revision": 1, "operation": {"type": "Insert", "clientId": 1, "position": 99, "content": "x"}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Delete", "clientId": 1, "position": 0, "content": "zz"}},
     "invalid_operation"),
    ({"revision": 5, "operation": {"type": "Insert", "clientId": 1, "position": 0, "content": "x"}},
     "invalid_operation"),
    ({"revision": -1, "operation": {"type": "Insert", "clientId": 1, "position": 0, "content": "x"}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Move", "clientId": 1, "position": 0, "content": "x"}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Insert", "clientId": 1, "position": True, "content": "x"}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Insert", "clientId": 1, "position": 0, "content": ""}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Insert", "clientId": 1, "position": 0, "content": "\ud800"}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Insert", "clientId": 2**70, "position": 0, "content": "x"}},
     "invalid_operation"),
    ({"revision": 1, "operation": {"type": "Insert", "clientId": 1, "position": 0, "content": "x", "z": 1}},
     "invalid_operation"),
    ({"revision": "1", "operation": {"type": "Insert", "clientId": 1, "position": 0, "content": "x"}},
     "invalid_operation"),
    ({"revision": 1, "operation": "Insert x"}, "invalid_operation"),
    ({"revision": 1}, "invalid_payload"),
    ({"revision": 1, "operation": {}, "extra": True}, "invalid_payload"),
])
def test_an_invalid_operation_changes_nothing(server: ServerProcess, api: Api, room: dict[str, Any],
                                              payload: dict[str, Any], code: str) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    a.edit(Insert(0, "ab", 1))
    a.settle()
    a.send("operation", {"documentId": room["doc"], **payload})
    error = a.wait_for(lambda frame: frame["type"] == "error")["payload"]
    assert error["code"] == code and error["message"]
    assert error["details"]["document_id"] == room["doc"]
    assert _head(api, room["owner"], room["doc"]) == {"document_id": room["doc"], "content": "ab", "revision": 1}
    a.edit(Insert(2, "c", 1))  # the connection and the document still work
    a.settle()
    assert _head(api, room["owner"], room["doc"])["content"] == "abc"


def test_non_members_can_neither_subscribe_nor_edit(server: ServerProcess, api: Api, room: dict[str, Any]) -> None:
    stranger = Editor(server.ws_url, room["stranger"].token, room["doc"], 9).open()
    stranger.send("subscribe", {"documentId": room["doc"]})
    stranger.send("operation", {"documentId": room["doc"], "revision": 0,
                                "operation": {"type": "Insert", "clientId": 9, "position": 0, "content": "x"}})
    stranger.send("subscribe", {"document_id": "channel:nope"})
    errors = [stranger.wait_for(lambda frame: frame["type"] == "error")["payload"] for _ in range(3)]
    assert [e["code"] for e in errors] == ["not_a_member", "not_a_member", "document_not_found"]
    assert [e["details"]["document_id"] for e in errors] == [room["doc"], room["doc"], "channel:nope"]
    assert _head(api, room["owner"], room["doc"])["revision"] == 0
    assert not any(frame["type"] in ("snapshot", "operation") for frame in stranger.frames)


def test_a_resend_is_acknowledged_again_and_never_applied_twice(server: ServerProcess, api: Api,
                                                                room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    frame = a.client.edit(Insert(0, "once", 1))
    assert frame is not None
    a.send("operation", frame)
    first = a.wait_for(lambda f: f["type"] == "operation_ack")["payload"]
    a.close()  # gone before reading anything more: the resend comes from a new connection
    again = Editor(server.ws_url, room["owner"].token, room["doc"], 1).open()
    again.send("operation", frame)
    again.send("operation", frame)
    acks = [again.wait_for(lambda f: f["type"] == "operation_ack")["payload"] for _ in range(2)]
    assert acks == [first, first]
    history = stored_history(api, room["owner"], room["doc"])
    assert [op["op_id"] for op in history] == [frame["operation"]["op_id"]]
    assert _head(api, room["owner"], room["doc"])["content"] == "once"


def test_reconnecting_editors_resend_their_op_in_flight(server: ServerProcess, api: Api,
                                                        room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    b = _editor(server, room["member"], room["doc"], 2)
    a.edit(Insert(0, "AAA", 1))
    a.reconnect()  # maybe applied, maybe not: either way exactly once
    b.edit(Insert(0, "BBB", 2))
    b.reconnect()
    for editor in (a, b):
        editor.settle()
    for editor in (a, b):
        editor.drain()
    head = _head(api, room["owner"], room["doc"])
    assert head["revision"] == 2 and a.client.content == b.client.content == head["content"]
    assert sorted(head["content"]) == sorted("AAABBB")


def test_ties_and_emptied_deletes_still_get_revisions(server: ServerProcess, api: Api,
                                                      room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 5)
    b = _editor(server, room["member"], room["doc"], 3)
    a.edit(Insert(0, "abc", 5))
    a.settle()
    b.drain()
    a.tracking = b.tracking = False  # hand-made operations from here on
    for editor, client_id in ((a, 5), (b, 3)):  # both at revision 1, same position, same text
        editor.send("operation", {"documentId": room["doc"], "revision": 1,
                                  "operation": {"type": "Insert", "clientId": client_id, "position": 1,
                                                "content": str(client_id), "opId": f"tie-{client_id}"}})
    for editor, client_id in ((a, 5), (b, 3)):
        editor.send("operation", {"documentId": room["doc"], "revision": 1,
                                  "operation": {"type": "Delete", "clientId": client_id, "position": 2,
                                                "content": "c", "opId": f"del-{client_id}"}})
    for editor in (a, b):
        editor.wait_for(lambda f: f["type"] in ("operation", "operation_ack") and f["payload"]["revision"] == 5)
    head = _head(api, room["owner"], room["doc"])
    assert head == {"document_id": room["doc"], "content": "a35b", "revision": 5}
    history = stored_history(api, room["owner"], room["doc"])
    emptied = [op for op in history if op["op_id"].startswith("del-") and op["operation"]["content"] == ""]
    assert len(emptied) == 1 and emptied[0]["operation"]["type"] == "Delete"
    assert replayed(history) == head["content"]


def test_every_connection_receives_revisions_in_order(server: ServerProcess, api: Api,
                                                      room: dict[str, Any]) -> None:
    editors = [_editor(server, room["owner"] if i % 2 else room["member"], room["doc"], 10 + i) for i in range(4)]

    def burst(editor: Editor) -> None:
        for index in range(25):  # buffered edits: one in flight, the rest sent as acks come back
            editor.edit(Insert(index % 3, "xyz"[index % 3], editor.client.client_id))
        editor.settle()

    threads = [threading.Thread(target=burst, args=(editor,)) for editor in editors]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for editor in editors:
        while editor.client.revision < 100:
            assert editor.receive(10) is not None, "revisions stopped arriving"
        seen = [f["payload"]["revision"] for f in editor.frames if f["type"] in ("operation", "operation_ack")]
        assert seen == list(range(1, 101)), "OTClient checks this too: gaps or reordering raise OrderError"
    head = _head(api, room["owner"], room["doc"])
    assert {editor.client.content for editor in editors} == {head["content"]}


def test_unsubscribe_and_member_removal_stop_the_operations(server: ServerProcess, api: Api,
                                                            room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    b = _editor(server, room["member"], room["doc"], 2)
    b.send("unsubscribe", {"documentId": room["doc"]})
    b.drain(0.2)
    a.edit(Insert(0, "x", 1))
    a.settle()
    b.drain(0.3)
    assert _of_type(b, "operation") == []
    b.send("subscribe", {"documentId": room["doc"]})
    b.wait_for(lambda frame: frame["type"] == "snapshot" and frame["payload"]["revision"] == 1)
    channel_id = room["doc"].split(":")[1]
    assert api.delete(f"/api/v1/channels/{channel_id}/members/{room['member'].id}", room["owner"]).status_code == 204
    removed = b.wait_for(lambda frame: frame["type"] == "error")["payload"]
    assert removed["code"] == "not_a_member" and removed["details"]["document_id"] == room["doc"]
    a.edit(Insert(0, "y", 1))
    a.settle()
    b.drain(0.3)
    assert _of_type(b, "operation") == []
    b.send("operation", {"documentId": room["doc"], "revision": 2,
                         "operation": {"type": "Insert", "clientId": 2, "position": 0, "content": "z"}})
    assert b.wait_for(lambda frame: frame["type"] == "error")["payload"]["code"] == "not_a_member"
    assert _head(api, room["owner"], room["doc"])["content"] == "yx"


def test_a_client_behind_the_collected_history_gets_stale_revision(server: ServerProcess, api: Api,
                                                                   room: dict[str, Any]) -> None:
    a = _editor(server, room["owner"], room["doc"], 1)
    for index in range(3):
        a.edit(Insert(index, "abc"[index], 1))
        a.settle()
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "documents", "gc",
                             "--older-than-days", "0"], cwd=ROOT, env=data_dir_env(server.data_dir),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    behind = Editor(server.ws_url, room["member"].token, room["doc"], 2).open()
    behind.send("subscribe", {"documentId": room["doc"], "fromRevision": 1})
    behind.send("operation", {"documentId": room["doc"], "revision": 1,
                              "operation": {"type": "Insert", "clientId": 2, "position": 0, "content": "q"}})
    errors = [behind.wait_for(lambda frame: frame["type"] == "error")["payload"] for _ in range(2)]
    assert [e["code"] for e in errors] == ["stale_revision", "stale_revision"]
    assert _head(api, room["owner"], room["doc"])["content"] == "abc"
    behind.send("subscribe", {"documentId": room["doc"]})  # resubscribe: a snapshot, then edit from it
    behind.wait_for(lambda frame: frame["type"] == "snapshot")
    behind.edit(Insert(3, "d", 2))
    behind.settle()
    assert _head(api, room["owner"], room["doc"]) == {"document_id": room["doc"], "content": "abcd",
                                                      "revision": 4}
