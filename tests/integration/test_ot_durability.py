"""kill -9 during editing: every acknowledged operation survives and the text is the replay of its history.

Then the editors come back to the restarted server, resend what was in flight, and converge;
the conflict metrics of the accepted and refused operations reach ClickHouse.
"""
from __future__ import annotations

import json
import random
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from tests.support.api import Api
from tests.support.ot_client import Editor, replayed, shared_document, stored_history
from tests.support.server import GENEROUS_LIMITS, ROOT, ServerProcess
from tests.support.tokens import SERVER_SECRET

ENV = {"SECRET_KEY": SERVER_SECRET, **GENEROUS_LIMITS}


def _edit_until_cut(editor: Editor, rng: random.Random, stop: threading.Event) -> None:
    """Edit and wait for each ack until the server dies under us."""
    try:
        while not stop.is_set():
            editor.edit(editor.client.random_edit(rng))
            editor.settle(timeout=10)
    except Exception:  # the connection was cut by the kill: expected
        pass


def _acked(editor: Editor) -> dict[str, int]:
    return {f["payload"]["op_id"]: f["payload"]["revision"] for f in editor.frames if f["type"] == "operation_ack"}


def _operation_metrics(data_dir: Path) -> list[tuple]:
    """Rows of operation_metrics, read in a separate process (chDB: one process per folder)."""
    script = ("import json, sys; from app.storage.clickhouse import ClickHouseStore; "
              "store = ClickHouseStore(f'chdb:///{sys.argv[1]}/analytics'); "
              "print(json.dumps(store.query('SELECT document_id, user_id, client_id, revision, "
              "transformed_over, rejected, reason, apply_ms FROM operation_metrics')))")
    out = subprocess.run([sys.executable, "-c", script, str(data_dir)], cwd=ROOT, capture_output=True,
                         text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    return [tuple(row) for row in json.loads(out.stdout.strip().splitlines()[-1])]


@pytest.mark.slow
def test_acknowledged_operations_survive_kill_9(tmp_path: Path) -> None:
    first = ServerProcess(tmp_path, env=ENV).start()
    api = Api(first.url)
    accounts = [api.register("dur") for _ in range(2)]
    document_id = shared_document(api, accounts[0], accounts[1:])
    editors = [Editor(first.ws_url, accounts[i % 2].token, document_id, client_id=i + 1).connect()
               for i in range(4)]
    stop = threading.Event()
    threads = [threading.Thread(target=_edit_until_cut, args=(e, random.Random(i), stop))
               for i, e in enumerate(editors)]
    for thread in threads:
        thread.start()
    time.sleep(2.0)
    first.kill()
    stop.set()
    for thread in threads:
        thread.join(30)
    acked = {op_id: revision for editor in editors for op_id, revision in _acked(editor).items()}
    assert len(acked) > 10, "the editors should have made progress before the kill"

    second = ServerProcess(tmp_path, env=ENV).start()
    try:
        api = Api(second.url)
        history = stored_history(api, accounts[0], document_id)
        head = api.get(f"/api/v1/documents/{document_id}", accounts[0]).json()
        assert [op["revision"] for op in history] == list(range(1, head["revision"] + 1))
        assert replayed(history) == head["content"]
        stored = {op["op_id"]: op["revision"] for op in history}
        assert {op_id: stored.get(op_id) for op_id in acked} == acked

        for editor in editors:  # back on the new server: replay what was missed, resend what was in flight
            editor.url = f"{second.ws_url}?token={accounts[(editor.client.client_id - 1) % 2].token}"
            editor.reconnect()
        for editor in editors:
            editor.edit(editor.client.random_edit(random.Random(editor.client.client_id)))
            editor.settle()
        editors[0].send("operation", {"documentId": document_id, "revision": 0,
                                      "operation": {"type": "Insert", "clientId": 1, "position": 10**6,
                                                    "content": "x"}})
        assert editors[0].wait_for(lambda f: f["type"] == "error")["payload"]["code"] == "invalid_operation"
        final = api.get(f"/api/v1/documents/{document_id}", accounts[0]).json()
        for editor in editors:
            while editor.client.revision < final["revision"]:
                assert editor.receive(10) is not None
            editor.close()
        history = stored_history(api, accounts[0], document_id)
        assert {editor.client.content for editor in editors} == {final["content"]} == {replayed(history)}
        assert len({op["op_id"] for op in history}) == len(history)
    finally:
        second.stop()

    rows = _operation_metrics(tmp_path)
    assert all(row[0] == document_id for row in rows)
    assert sum(1 for row in rows if not row[5]) >= len(editors)  # the accepted ones after the restart
    assert any(row[5] == 1 and row[6] == "invalid_operation" for row in rows)
    assert {row[2] for row in rows} <= {1, 2, 3, 4}
    assert all(row[7] >= 0 for row in rows)
