"""Load generators for the fault tests and the soak: WebSocket editors doing OT edits, ingest clients.

Each keeps client-side count of what the server acknowledged, so a test can check afterwards
that nothing acknowledged was lost (and nothing applied twice).
"""
from __future__ import annotations

import random
import threading
import time
from dataclasses import dataclass, field
from typing import Any

import requests
import websocket

from ot import Delete, Op, apply_all, components_from_wire
from tests.support.ot_client import Editor

DISCONNECTED = (OSError, websocket.WebSocketException, AssertionError)


class RecordingEditor(Editor):
    """An Editor that remembers the op ids the server acknowledged."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.acked: set[str] = set()
        self.keep_frames = False

    def _handle(self, frame: dict[str, Any]) -> None:
        if frame["type"] == "operation_ack":
            self.acked.add(frame["payload"]["op_id"])
        if not self.keep_frames:
            self.frames.clear()  # a long run must not keep every frame it saw
        super()._handle(frame)


class EditorLoop(threading.Thread):
    """One editor: edit, wait for the ack, think, again, until stopped or disconnected."""

    def __init__(self, editor: RecordingEditor, seed: int, think: float = 0.0, ack_timeout: float = 60.0) -> None:
        super().__init__(daemon=True, name=f"editor-{editor.client.client_id}")
        self.editor = editor
        self.rng = random.Random(seed)
        self.think = think
        self.ack_timeout = ack_timeout
        self.stop = threading.Event()
        self.failure: BaseException | None = None

    def run(self) -> None:
        """Edit until told to stop; a dropped connection ends the loop (kept in `failure`)."""
        try:
            while not self.stop.is_set():
                self.editor.edit(self.editor.client.random_edit(self.rng))
                self.editor.settle(self.ack_timeout)
                if self.think:
                    self.stop.wait(self.rng.uniform(0.5, 1.5) * self.think)
                if len(self.editor.client.content) > 2000:  # keep documents small: delete a chunk
                    self.editor.edit(_trim(self.editor.client.content, self.editor.client.client_id))
                    self.editor.settle(self.ack_timeout)
        except DISCONNECTED as exc:
            self.failure = exc


def _trim(content: str, client_id: int) -> Op:
    return Delete(0, content[:500], client_id)


@dataclass
class IngestTally:
    """What an ingest client sent and what the server acknowledged (occurrences and items)."""

    sent_occurrences: int = 0
    acked_occurrences: int = 0
    acked_items: int = 0
    refused: dict[int, int] = field(default_factory=dict)
    errors: int = 0


class IngestLoop(threading.Thread):
    """One ingest client: POST /api/v1/errors/batch in a loop, counting what was acknowledged."""

    def __init__(self, base_url: str, token: str, seed: int, batch: int = 20, think: float = 0.0) -> None:
        super().__init__(daemon=True, name=f"ingest-{seed}")
        self.url = f"{base_url}/api/v1/errors/batch"
        self.headers = {"Authorization": f"Bearer {token}"}
        self.rng = random.Random(seed)
        self.batch = batch
        self.think = think
        self.tally = IngestTally()
        self.stop = threading.Event()
        self.stop_on_error = True
        self.http = requests.Session()

    def _items(self) -> list[dict[str, Any]]:
        return [{"source": self.rng.choice(("Audio", "Network", "UI")), "severity": "Error",
                 "message": f"Load failure {self.rng.randint(1, 5)} after {self.rng.randint(1, 999)} ms",
                 "context": {"n": self.rng.randint(0, 99)}, "occurrences": self.rng.randint(1, 3)}
                for _ in range(self.batch)]

    def run(self) -> None:
        """Send until stopped; a connection error ends the loop unless `stop_on_error` is False."""
        while not self.stop.is_set():
            items = self._items()
            occurrences = sum(item["occurrences"] for item in items)
            self.tally.sent_occurrences += occurrences
            try:
                resp = self.http.post(self.url, json={"errors": items}, headers=self.headers, timeout=30)
            except requests.RequestException:
                self.tally.errors += 1
                if self.stop_on_error:
                    return
                self.stop.wait(0.5)
                continue
            if resp.status_code == 200 and resp.json()["accepted"] == len(items):
                self.tally.acked_occurrences += occurrences
                self.tally.acked_items += len(items)
            else:
                self.tally.refused[resp.status_code] = self.tally.refused.get(resp.status_code, 0) + 1
            if self.think:
                self.stop.wait(self.think)


def replay(history: list[dict[str, Any]]) -> str:
    """The text a document's stored history produces from empty, checking revisions are 1..N in order."""
    text = ""
    for expected, item in enumerate(history, start=1):
        assert item["revision"] == expected, (expected, item["revision"])
        text = apply_all(text, components_from_wire(item["operation"]))
    return text


def full_history(base_url: str, token: str, document_id: str) -> list[dict[str, Any]]:
    """Every stored revision of a document, paging through `/operations`."""
    out: list[dict[str, Any]] = []
    while True:
        resp = requests.get(f"{base_url}/api/v1/documents/{document_id}/operations",
                            params={"from_revision": len(out)}, headers={"Authorization": f"Bearer {token}"},
                            timeout=30)
        assert resp.status_code == 200, resp.text
        body = resp.json()
        out += body["operations"]
        if not body.get("has_more"):
            return out


def wait_all(threads: list[threading.Thread], timeout: float) -> None:
    """Join threads within a shared deadline."""
    deadline = time.monotonic() + timeout
    for thread in threads:
        thread.join(max(0.0, deadline - time.monotonic()))
