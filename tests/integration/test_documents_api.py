"""Documents over HTTP on a real server: heads, history, membership, channel deletion and the GC command."""
from __future__ import annotations

import subprocess
import sys

import pytest

from ot import Delete, Insert
from tests.support.api import Account, Api
from tests.support.ot_client import Editor, replayed, shared_document, stored_history
from tests.support.server import ROOT, ServerProcess
from tests.support.services import data_dir_env


def _edited(server: ServerProcess, api: Api, edits: int = 5) -> tuple[Account, str, Editor]:
    owner = api.register("docown")
    document_id = shared_document(api, owner)
    editor = Editor(server.ws_url, owner.token, document_id, client_id=7).connect()
    for index in range(edits):
        editor.edit(Insert(index, "ab😀"[index % 3], 7))
        editor.settle()
    return owner, document_id, editor


def test_a_never_edited_document_is_empty_at_revision_0(api: Api) -> None:
    owner = api.register("docown")
    document_id = shared_document(api, owner, field="never-edited_1")
    resp = api.get(f"/api/v1/documents/{document_id}", owner)
    assert resp.status_code == 200
    assert resp.json() == {"document_id": document_id, "content": "", "revision": 0}
    history = api.get(f"/api/v1/documents/{document_id}/operations", owner)
    assert history.json() == {"operations": [], "has_more": False}


@pytest.mark.parametrize("document_id", ["nope", "channel::notes", "channel:abc:", "channel:abc:bad%20field",
                                         "channel:abc:" + "x" * 65, "room:abc:notes", "channel:a:b:c"])
def test_malformed_document_ids_are_404(api: Api, document_id: str) -> None:
    owner = api.register("docown")
    resp = api.get(f"/api/v1/documents/{document_id}", owner)
    assert resp.status_code == 404
    assert resp.json()["error"]["code"] == "document_not_found"


def test_only_members_read_documents(api: Api) -> None:
    owner, stranger = api.register("docown"), api.register("stranger")
    document_id = shared_document(api, owner)
    for path in (f"/api/v1/documents/{document_id}", f"/api/v1/documents/{document_id}/operations"):
        refused = api.get(path, stranger)
        assert refused.status_code == 403
        assert refused.json()["error"]["code"] == "not_a_member"
        assert api.get(path).status_code == 401
    missing = api.get("/api/v1/documents/channel:000000000000:notes", owner)
    assert missing.status_code == 404 and missing.json()["error"]["code"] == "document_not_found"


def test_history_pages_and_replays_to_the_head(server: ServerProcess, api: Api) -> None:
    owner, document_id, editor = _edited(server, api, edits=6)
    editor.edit(Delete(0, editor.client.content[:2], 7))
    editor.settle()
    head = api.get(f"/api/v1/documents/{document_id}", owner).json()
    assert head == {"document_id": document_id, "content": editor.client.content, "revision": 7}
    operations = stored_history(api, owner, document_id)
    assert [op["revision"] for op in operations] == list(range(1, 8))
    assert set(operations[0]) == {"document_id", "revision", "user_id", "client_id", "op_id",
                                  "server_timestamp", "operation"}
    assert operations[0]["user_id"] == owner.id and operations[0]["client_id"] == 7
    assert replayed(operations) == head["content"]
    page = api.get(f"/api/v1/documents/{document_id}/operations", owner,
                   params={"from_revision": 2, "limit": 3}).json()
    assert [op["revision"] for op in page["operations"]] == [3, 4, 5] and page["has_more"] is True
    assert replayed(stored_history(api, owner, document_id, 4), replayed(operations[:4])) == head["content"]
    editor.close()


@pytest.mark.parametrize(("params", "code"), [({"from_revision": 99}, "invalid_revision"),
                                              ({"from_revision": -1}, "validation_error"),
                                              ({"from_revision": "x"}, "validation_error"),
                                              ({"limit": 0}, "validation_error")])
def test_bad_history_queries_are_400(server: ServerProcess, api: Api, params: dict, code: str) -> None:
    owner = api.register("docown")
    document_id = shared_document(api, owner)
    resp = api.get(f"/api/v1/documents/{document_id}/operations", owner, params=params)
    assert resp.status_code == 400 and resp.json()["error"]["code"] == code


def test_deleting_the_channel_removes_its_documents_and_history(server: ServerProcess, api: Api) -> None:
    owner, document_id, editor = _edited(server, api)
    channel_id = document_id.split(":")[1]
    assert api.delete(f"/api/v1/channels/{channel_id}", owner).status_code == 204
    for path in (f"/api/v1/documents/{document_id}", f"/api/v1/documents/{document_id}/operations"):
        assert api.get(path, owner).status_code == 404
    editor.edit(Insert(0, "late", 7))  # the live subscription is gone with the channel
    error = editor.wait_for(lambda frame: frame["type"] == "error")["payload"]
    assert error["code"] in ("document_not_found", "not_a_member")
    assert error["details"]["document_id"] == document_id
    editor.close()


def test_gc_command_collects_old_history_behind_a_snapshot(server: ServerProcess, api: Api) -> None:
    owner, document_id, editor = _edited(server, api, edits=4)
    editor.close()
    before = api.get(f"/api/v1/documents/{document_id}", owner).json()
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "documents", "gc",
                             "--older-than-days", "0"], cwd=ROOT, env=data_dir_env(server.data_dir),
                            capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert "collected" in result.stdout
    assert api.get(f"/api/v1/documents/{document_id}", owner).json() == before
    stale = api.get(f"/api/v1/documents/{document_id}/operations", owner, params={"from_revision": 1})
    assert stale.status_code == 410 and stale.json()["error"]["code"] == "stale_revision"
    assert stale.json()["error"]["details"]["oldest_revision"] == before["revision"]
    assert stored_history(api, owner, document_id, before["revision"]) == []
