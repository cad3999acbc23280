"""Eight editors over real WebSockets: random edits (emoji included), random reconnects with resends.

At the end every client, the stored document and the replayed history must be the same text,
and every operation a client sent must be in the history exactly once.
"""
from __future__ import annotations

import random
import threading

from tests.support.api import Api
from tests.support.ot_client import Editor, replayed, shared_document, stored_history
from tests.support.server import ServerProcess

EDITORS = 8
EDITS_EACH = 30


def _edit_randomly(editor: Editor, rng: random.Random, failures: list[BaseException]) -> None:
    """Edit, sometimes several times before reading (a buffer), sometimes dropping the connection."""
    try:
        for _ in range(EDITS_EACH):
            editor.edit(editor.client.random_edit(rng))
            roll = rng.random()
            if roll < 0.12:
                editor.reconnect()  # the op in flight may or may not have landed: it is resent
            elif roll < 0.6:
                while editor.receive(rng.choice((0.001, 0.01))) is not None:
                    pass
        editor.settle(timeout=60)
    except BaseException as exc:  # reported by the test thread
        failures.append(exc)


def test_eight_editors_converge_with_reconnects_and_resends(server: ServerProcess, api: Api) -> None:
    accounts = [api.register("ed") for _ in range(3)]
    document_id = shared_document(api, accounts[0], accounts[1:])
    editors = [Editor(server.ws_url, accounts[i % 3].token, document_id, client_id=i + 1).connect()
               for i in range(EDITORS)]
    failures: list[BaseException] = []
    threads = [threading.Thread(target=_edit_randomly, args=(editor, random.Random(1000 + i), failures))
               for i, editor in enumerate(editors)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(180)
    assert not failures, failures

    head = api.get(f"/api/v1/documents/{document_id}", accounts[0]).json()
    for editor in editors:
        while editor.client.revision < head["revision"]:
            assert editor.receive(10) is not None, "an editor stopped receiving revisions"
        assert not [e for e in editor.errors if e["code"] != "rate_limited"], editor.errors
    history = stored_history(api, accounts[0], document_id)
    assert [op["revision"] for op in history] == list(range(1, head["revision"] + 1))
    assert replayed(history) == head["content"]
    assert {editor.client.content for editor in editors} == {head["content"]}
    sent = {f"c{editor.client.client_id}-{n}" for editor in editors for n in range(1, editor.client._seq + 1)}
    stored = [op["op_id"] for op in history]
    assert len(stored) == len(set(stored)) and set(stored) == sent
    assert any(ord(ch) > 0xFFFF for ch in head["content"]) or len(head["content"]) < 20
