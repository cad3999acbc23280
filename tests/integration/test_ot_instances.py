"""Two server processes on one PostgreSQL and one Redis: editors on both converge.

Ordering comes from the database (each commit checks the head's revision, the loser
re-reads and retries), fan-out between the processes from the Redis relay.
"""
from __future__ import annotations

import random
import threading

import pytest

from tests.support.api import Api
from tests.support.ot_client import Editor, replayed, shared_document, stored_history
from tests.support.server import ServerProcess

pytestmark = [pytest.mark.pg, pytest.mark.redis, pytest.mark.slow]


def _edit(editor: Editor, rng: random.Random, edits: int, failures: list[BaseException]) -> None:
    try:
        for _ in range(edits):
            editor.edit(editor.client.random_edit(rng))
            if rng.random() < 0.5:
                while editor.receive(0.005) is not None:
                    pass
        editor.settle(timeout=60)
    except BaseException as exc:
        failures.append(exc)


def test_editors_on_two_instances_converge(pair: list[ServerProcess]) -> None:
    one, two = pair
    api_one, api_two = Api(one.url), Api(two.url)
    accounts = [api_one.register("inst") for _ in range(2)]
    document_id = shared_document(api_one, accounts[0], accounts[1:])
    editors = [Editor((one, two)[i % 2].ws_url, accounts[i // 3].token, document_id, client_id=i + 1).connect()
               for i in range(6)]
    failures: list[BaseException] = []
    threads = [threading.Thread(target=_edit, args=(editor, random.Random(i), 25, failures))
               for i, editor in enumerate(editors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(120)
    assert not failures, failures

    head = api_two.get(f"/api/v1/documents/{document_id}", accounts[1]).json()
    assert head == api_one.get(f"/api/v1/documents/{document_id}", accounts[0]).json()
    for editor in editors:
        while editor.client.revision < head["revision"]:
            assert editor.receive(10) is not None, "an editor stopped receiving revisions"
        assert editor.errors == []
    history = stored_history(api_one, accounts[0], document_id)
    assert [op["revision"] for op in history] == list(range(1, head["revision"] + 1))
    assert len({op["op_id"] for op in history}) == len(history)
    assert {editor.client.content for editor in editors} == {head["content"]} == {replayed(history)}
    on_two = [f for f in editors[1].frames if f["type"] == "operation" and f["payload"]["client_id"] % 2 == 1]
    assert on_two, "an editor on instance two saw operations committed on instance one"

    # The member is removed through instance one: its subscription on instance two ends too.
    removed, owner_on_two = editors[3], editors[1]
    channel_id = document_id.split(":")[1]
    assert api_one.delete(f"/api/v1/channels/{channel_id}/members/{accounts[1].id}", accounts[0]).status_code == 204
    assert removed.wait_for(lambda frame: frame["type"] == "error")["payload"]["code"] == "not_a_member"
    editors[0].edit(editors[0].client.random_edit(random.Random(99)))
    editors[0].settle()
    owner_on_two.wait_for(lambda f: f["type"] == "operation" and f["payload"]["revision"] == head["revision"] + 1)
    removed.drain(0.3)
    assert removed.client.revision == head["revision"]
