"""Operations that arrive while a leader gathers its batch are planned by their submitters.

The leader sleeps until the batch is complete; each arrival joins the plan at once, in
arrival order, with its frames encoded ahead. What cannot be planned without the store, or
would overtake an operation already waiting, is left to the leader.
"""
from __future__ import annotations

import time
from types import SimpleNamespace
from typing import Any

import pytest

from app.documents.gathering import Gathering
from app.documents.ids import DocumentId
from app.documents.live import LiveDocument
from app.documents.planning import BatchPlanner, Submission
from ot import Insert


def _doc(*editors: str) -> LiveDocument:
    """A loaded, empty document whose `editors` all submitted just now."""
    doc = LiveDocument(DocumentId("c1", "notes"))
    doc.reset(None)
    now = time.monotonic()
    doc.editors = {name: now for name in editors}
    return doc


def _sub(conn_id: str, client_id: int, text: str, base: int = 0) -> Submission:
    return Submission(SimpleNamespace(conn_id=conn_id), client_id, Insert(0, text, client_id),
                      f"{conn_id}-{text}", base, time.perf_counter())


def _gathering(doc: LiveDocument, first: Submission) -> Gathering:
    """The state a leader is in while it waits: its own operation planned, the batch open."""
    planner = BatchPlanner(doc, 1_700_000_000_000, lambda base: [], {})
    planner.add(first)
    return Gathering(doc, [first], planner, max_batch=256)


def test_an_arrival_joins_the_plan_with_its_frames_and_completes_the_batch() -> None:
    doc = _doc("a", "b")
    gathering = _gathering(doc, _sub("a", 1, "x"))
    second = _sub("b", 2, "yy")

    assert gathering.offer(second, time.monotonic())

    plan = gathering.planner.plan
    assert gathering.batch[-1] is second
    assert [r.stored.revision for r in plan.revisions] == [1, 2]
    assert plan.outcome(second).kind == "accepted" and plan.outcome(second).transformed_over == 1
    assert plan.content == "xyy"  # both inserted at 0: the smaller client id goes first
    assert {(2, "operation"), (2, "operation_ack")} <= set(plan.wire)
    assert doc.arrived.is_set()  # nobody else is expected: the leader may commit
    assert not doc.pending


def test_the_leader_sleeps_on_while_an_active_editor_has_not_sent_yet() -> None:
    doc = _doc("a", "b", "c")
    gathering = _gathering(doc, _sub("a", 1, "x"))

    assert gathering.offer(_sub("b", 2, "y"), time.monotonic())
    assert not doc.arrived.is_set()
    assert gathering.offer(_sub("c", 3, "z"), time.monotonic())
    assert doc.arrived.is_set()
    assert len(gathering.planner.plan.revisions) == 3


@pytest.mark.parametrize("why", ["closed", "pending", "history_in_store", "full"])
def test_what_the_leader_must_plan_itself_is_left_to_it(why: str) -> None:
    doc = _doc("a", "b")
    gathering = _gathering(doc, _sub("a", 1, "x"))
    late = _sub("b", 2, "y")
    if why == "closed":
        gathering.open = False
    elif why == "pending":
        doc.pending.append(_sub("c", 3, "z"))  # arrived first: it must be planned first
    elif why == "history_in_store":
        doc.revision = 10  # revisions 1-10 are not in memory: planning would read them
        late = _sub("b", 2, "y", base=5)
    else:
        gathering.max_batch = 1

    assert not gathering.offer(late, time.monotonic())
    assert len(gathering.batch) == 1
    assert len(gathering.planner.plan.revisions) == 1


def test_a_planning_failure_is_kept_for_the_leader_with_the_operation_in_its_batch(
        monkeypatch: pytest.MonkeyPatch) -> None:
    doc = _doc("a", "b", "c")
    gathering = _gathering(doc, _sub("a", 1, "x"))
    broken = _sub("b", 2, "y")

    def fail(_sub: Any) -> None:
        raise RuntimeError("a bug in planning")

    monkeypatch.setattr(gathering.planner, "add", fail)
    assert gathering.offer(broken, time.monotonic())
    assert isinstance(gathering.error, RuntimeError)
    assert broken in gathering.batch  # refused with the batch, not left waiting
    assert doc.arrived.is_set()  # the leader wakes to refuse it now
    assert not gathering.offer(_sub("c", 3, "z"), time.monotonic())  # later ones wait for the next batch
