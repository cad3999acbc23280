"""kill -9 under load, then restart on the same data: no acknowledged edit or error event is lost.

Editors type into shared documents over WebSocket while ingest clients post error batches. The
server and its worker are killed with SIGKILL mid-stream, then started again on the same folder:
every acknowledged op id is in the document's history exactly once, the history replays to the
stored text, the editors reconnect, resend what was in flight (never applied twice) and converge;
the error groups hold at least every acknowledged occurrence and no more than were sent.
"""
from __future__ import annotations

import collections
import time
from pathlib import Path

import requests

from tests.reliability.load import EditorLoop, IngestLoop, RecordingEditor, full_history, replay, wait_all
from tests.reliability.servers import LiveServer
from tests.support.api import Api
from tests.support.server import GENEROUS_LIMITS
from tests.support.tokens import SERVER_SECRET

EDITORS_PER_DOCUMENT, DOCUMENTS, INGEST_CLIENTS, LOAD_SECONDS = 4, 2, 3, 4.0


def _stored_occurrences(api: Api, account) -> int:  # type: ignore[no-untyped-def]
    resp = api.get("/api/v1/errors?limit=200", account)
    assert resp.status_code == 200, resp.text
    return sum(group["occurrences"] for group in resp.json()["groups"])


def test_kill_9_under_load_loses_nothing_acknowledged(tmp_path: Path) -> None:
    env = {"SECRET_KEY": SERVER_SECRET, **GENEROUS_LIMITS}
    server = LiveServer(tmp_path / "server", env=env).start_until()
    api = Api(server.url)
    owner, reporter = api.register("killowner"), api.register("killreporter")
    channel = api.post("/api/v1/channels", owner, json={"name": "crash"}).json()
    documents = [f"channel:{channel['id']}:doc{n}" for n in range(DOCUMENTS)]
    editors = [RecordingEditor(server.ws_url, owner.token, documents[n % DOCUMENTS], 100 + n).connect()
               for n in range(EDITORS_PER_DOCUMENT * DOCUMENTS)]
    loops = [EditorLoop(editor, seed=n, ack_timeout=20) for n, editor in enumerate(editors)]
    ingest = [IngestLoop(server.url, reporter.token, seed=n) for n in range(INGEST_CLIENTS)]
    try:
        for thread in [*loops, *ingest]:
            thread.start()
        time.sleep(LOAD_SECONDS)
        server.kill()
        wait_all([*loops, *ingest], timeout=60)
        assert all(not t.is_alive() for t in [*loops, *ingest]), "a client did not notice the crash"
        acked_ops = sum(len(e.acked) for e in editors)
        acked = sum(c.tally.acked_occurrences for c in ingest)
        sent = sum(c.tally.sent_occurrences for c in ingest)
        assert acked_ops > 0 and acked > 0, "no load was acknowledged before the kill"

        server = LiveServer(server.data_dir, env=env, port=server.port).start_until()
        for document in documents:
            history = full_history(server.url, owner.token, document)
            counts = collections.Counter(item["op_id"] for item in history)
            assert max(counts.values()) == 1, "an op was applied twice"
            for editor in editors:
                if editor.client.document_id == document:
                    assert editor.acked <= set(counts), "an acknowledged op is missing after the restart"
            head = api.get(f"/api/v1/documents/{document}", owner).json()
            assert head["revision"] == len(history) and head["content"] == replay(history)
        stored = _stored_occurrences(api, reporter)
        assert acked <= stored <= sent, (acked, stored, sent)

        for editor in editors:
            editor.reconnect()
        for editor in editors:
            editor.settle(30)
        for editor in editors:
            editor.drain(0.3)
        for document in documents:
            head = api.get(f"/api/v1/documents/{document}", owner).json()
            history = full_history(server.url, owner.token, document)
            assert max(collections.Counter(item["op_id"] for item in history).values()) == 1
            for editor in editors:
                if editor.client.document_id == document:
                    assert editor.client.content == head["content"], "an editor did not converge"
        assert requests.get(f"{server.url}/readyz", timeout=10).status_code == 200
    finally:
        for thread in [*loops, *ingest]:
            thread.stop.set()
        for editor in editors:
            editor.close()
        server.stop()
