"""The authority with storage in-process, two of them on one SQLite file as two processes would be.

Covers what is hard to provoke over the wire: a commit that loses the revision check and
retries under the row lock, a resend whose original another process stored, collection of
a document that is in use, and a channel deleted under a live document.
"""
from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, Callable

import pytest
from flask import Flask

from app.documents.authority import DocumentAuthority
from app.documents.collector import OperationCollector, cutoff_ms
from app.documents.planning import Submission
from app.documents.service import DocumentService
from ot import Delete, Insert, Op
from tests.support.hub import eventually
from tests.support.ot_client import replayed


@pytest.fixture
def two(make_app: Callable[..., Flask], tmp_path: Path) -> tuple[Any, Any, Any]:
    """Two apps on one SQLite file, an owner and the id of a document in the owner's channel."""
    url = f"sqlite:///{tmp_path / 'shared.db'}"
    first, second = make_app(database_url=url), make_app(database_url=url)
    services = first.extensions["services"]
    owner = services.auth.create_user("svc-owner", "good-pass-123", "user")
    channel = services.channels.create(owner, "shared")
    return first.extensions["services"], second.extensions["services"], (owner, f"channel:{channel['id']}:notes")


class Inbox:
    """A connection's receiving end: keeps the frames the authority sends it."""

    def __init__(self, conn_id: str) -> None:
        self.conn_id = conn_id
        self.frames: list[tuple[str, dict[str, Any]]] = []

    def send(self, frame_type: str, payload: dict[str, Any]) -> bool:
        self.frames.append((frame_type, payload))
        return True

    def revisions(self) -> list[int]:
        return [p["revision"] for t, p in self.frames if t in ("operation", "operation_ack", "snapshot")]


def _submit(service: DocumentService, user_id: int, document_id: str, base: int, op: Op, op_id: str) -> Any:
    sub = Submission(None, user_id, op, op_id, base, time.perf_counter())
    service.authority.submit(service.document_id(document_id), sub)
    assert sub.outcome is not None
    return sub.outcome


def test_a_writer_that_lost_the_revision_check_adopts_and_retries(two: tuple[Any, Any, Any]) -> None:
    first, second, (owner, document_id) = two
    one, other = first.documents, second.documents
    watcher = Inbox("w")
    other.subscribe(watcher, owner.id, document_id, None)  # keeps the document in the other's memory
    assert _submit(other, owner.id, document_id, 0, Insert(0, "b", 2), "b0").kind == "accepted"
    for index in range(3):
        assert _submit(one, owner.id, document_id, 1 + index, Insert(0, str(index), 1), f"a{index}").kind == "accepted"
    late = _submit(other, owner.id, document_id, 1, Insert(1, "Z", 2), "b1")  # made on "b", four revisions ago
    assert late.kind == "accepted" and late.stored.revision == 5 and late.transformed_over == 3
    head = one.read(owner.id, document_id)
    assert head == {"document_id": document_id, "content": "210bZ", "revision": 5}
    history = one.history(owner.id, document_id, 0, 100)["operations"]
    assert replayed(history) == head["content"] == other.authority.documents.find(document_id).content
    assert watcher.revisions() == [0, 1, 2, 3, 4, 5]  # what it missed was delivered, in order


def test_a_resend_stored_by_the_other_process_is_acknowledged_not_applied(two: tuple[Any, Any, Any]) -> None:
    first, second, (owner, document_id) = two
    original = _submit(first.documents, owner.id, document_id, 0, Insert(0, "once", 1), "same-op")
    again = _submit(second.documents, owner.id, document_id, 0, Insert(0, "once", 1), "same-op")
    assert again.kind == "duplicate" and again.stored == original.stored
    assert first.documents.read(owner.id, document_id)["content"] == "once"


def test_collection_of_a_live_document_moves_its_snapshot(two: tuple[Any, Any, Any]) -> None:
    first, _second, (owner, document_id) = two
    service = first.documents
    service.subscribe(Inbox("w"), owner.id, document_id, None)  # in use while it is collected
    for index, text in enumerate(("ab", "cd", "ef")):
        _submit(service, owner.id, document_id, index, Insert(2 * index, text, 1), f"op{index}")
    forget = lambda doc_id, upto: service.authority.documents.find(doc_id).forget_before(upto)  # noqa: E731
    collected = OperationCollector(first.db).collect(cutoff_ms(-1), forget)
    assert (collected.documents, collected.operations) == (1, 3)
    assert service.read(owner.id, document_id)["content"] == "abcdef"
    stale = _submit(service, owner.id, document_id, 1, Delete(0, "ab", 1), "late")
    assert stale.kind == "rejected" and stale.error.code == "stale_revision"
    fresh = _submit(service, owner.id, document_id, 3, Delete(0, "ab", 1), "fresh")
    assert fresh.kind == "accepted" and service.read(owner.id, document_id)["content"] == "cdef"
    assert [op["revision"] for op in service.history(owner.id, document_id, 3, 10)["operations"]] == [4]


def test_an_invalid_operation_is_refused_and_changes_nothing(two: tuple[Any, Any, Any]) -> None:
    first, _second, (owner, document_id) = two
    service = first.documents
    _submit(service, owner.id, document_id, 0, Insert(0, "abc", 1), "ok")
    for op in (Insert(9, "x", 1), Delete(0, "zz", 1)):
        refused = _submit(service, owner.id, document_id, 1, op, f"bad{op.position}")
        assert refused.kind == "rejected" and refused.error.code == "invalid_operation"
    assert service.read(owner.id, document_id) == {"document_id": document_id, "content": "abc", "revision": 1}


def test_a_channel_deleted_under_a_live_document_refuses_its_operations(two: tuple[Any, Any, Any]) -> None:
    first, second, (owner, document_id) = two
    watcher = Inbox("w")
    second.documents.subscribe(watcher, owner.id, document_id, None)
    _submit(second.documents, owner.id, document_id, 0, Insert(0, "abc", 1), "before")
    first.channels.delete(document_id.split(":")[1], owner)  # the other process keeps it in memory
    gone = _submit(second.documents, owner.id, document_id, 1, Insert(0, "x", 1), "after")
    assert gone.kind == "rejected" and gone.error.code == "document_not_found"
    assert second.documents.authority.documents.find(document_id) is None


def test_an_op_id_of_another_client_is_refused_not_taken_for_a_resend(two: tuple[Any, Any, Any]) -> None:
    first, _second, (owner, document_id) = two
    service = first.documents
    _submit(service, owner.id, document_id, 0, Insert(0, "mine", 1), "c1-1")
    clash = _submit(service, owner.id, document_id, 1, Insert(0, "other", 2), "c1-1")
    assert clash.kind == "rejected" and clash.error.code == "invalid_operation"
    assert service.read(owner.id, document_id)["content"] == "mine"


def test_an_operation_arriving_while_the_leader_waits_shares_its_commit(two: tuple[Any, Any, Any]) -> None:
    """The leader waits for an editor who was just active; that editor's next operation is
    planned as it arrives (gathering.py) and committed with the leader's, in arrival order."""
    first, _second, (owner, document_id) = two
    authority = DocumentAuthority(first.documents.store, batch_wait=5.0, batch_gap=5.0)
    commits: list[list[int]] = []
    authority.on_committed.append(lambda _doc, stored: commits.append([op.revision for op in stored]))
    doc_id = first.documents.document_id(document_id)

    def submit(conn_id: str, base: int, op: Op) -> Any:
        sub = Submission(Inbox(conn_id), owner.id, op, f"{conn_id}{base}", base, time.perf_counter())
        authority.submit(doc_id, sub)
        return sub.outcome

    authority.subscribe(doc_id, Inbox("watcher"), owner.id, None)  # keeps the document in memory
    assert submit("a", 0, Insert(0, "a", 1)).stored.revision == 1  # alone: committed at once
    with ThreadPoolExecutor(1) as pool:
        leader = pool.submit(submit, "b", 1, Insert(1, "b", 2))  # waits for "a", active a moment ago
        eventually(lambda: authority.documents.find(document_id).gathering is not None)
        joined = submit("a", 1, Insert(0, "c", 1))
        assert leader.result(timeout=5).stored.revision == 2
    assert joined.kind == "accepted" and joined.stored.revision == 3 and joined.transformed_over == 1
    assert commits == [[1], [2, 3]]
    assert first.documents.read(owner.id, document_id)["content"] == "cab"
