"""Record every HTTP request (method, url rule, status, duration) to ClickHouse off the request path.

Rows go through a BatchWriter's `write_later`: the request never waits on ClickHouse, and a full
queue drops rows (counted) rather than slowing requests. After each insert the writer pauses
(`pause_ms`), so rows from many requests share one insert (one part on disk) at most a few times
a second; the pause ends at once on shutdown, so closing never waits for it.
WebSocket sessions are not recorded: their "duration" is the connection's lifetime and would
swamp the latency figures.
"""
from __future__ import annotations

import threading
import time
from datetime import datetime, timezone

from flask import Flask, Response, g, request

from app.services import Services
from app.storage.batch_writer import BatchWriter
from app.storage.clickhouse import ClickHouseStore

COLUMNS = ("ts", "route", "method", "status", "duration_ms")
UNMATCHED_ROUTE = "(unmatched)"
DEFAULT_PAUSE_MS = 250


class RequestMetricsRecorder:
    """Times requests and queues one `request_metrics` row per request."""

    def __init__(self, analytics: ClickHouseStore, pause_ms: int = DEFAULT_PAUSE_MS) -> None:
        self._analytics = analytics
        self._pause = pause_ms / 1000.0
        self._closing = threading.Event()
        self.writer = BatchWriter(self._flush, name="request-metrics", linger_ms=0, max_queued=200_000)

    def _flush(self, rows: list[tuple]) -> None:
        try:
            self._analytics.insert("request_metrics", rows, COLUMNS)
        finally:
            self._closing.wait(self._pause)  # rows gather meanwhile; shutdown cuts it short

    def close(self) -> None:
        """Flush what is queued now and stop the writer."""
        self._closing.set()
        self.writer.close()

    def start(self) -> None:
        """Note when the request began (runs before every other before_request hook)."""
        g.request_metrics_started = (time.perf_counter(), datetime.now(timezone.utc))

    def finish(self, response: Response) -> Response:
        """Queue the request's row; the response is returned unchanged."""
        started = g.pop("request_metrics_started", None)
        if started is None or request.environ.get("HTTP_UPGRADE", "").lower() == "websocket":
            return response
        began, at = started
        rule = request.url_rule.rule if request.url_rule is not None else UNMATCHED_ROUTE
        duration_ms = (time.perf_counter() - began) * 1000.0
        self.writer.write_later([(at, rule, request.method, response.status_code, duration_ms)])
        return response


def init_request_metrics(app: Flask, services: Services) -> RequestMetricsRecorder:
    """Install the recorder on `app`; its writer is flushed at shutdown before the store closes."""
    pause = int(services.settings.extra.get("request_metrics_pause_ms", DEFAULT_PAUSE_MS))
    recorder = RequestMetricsRecorder(services.analytics, pause)
    # First in line, so requests refused by another before_request hook (a 429) are timed too.
    app.before_request_funcs.setdefault(None, []).insert(0, recorder.start)
    app.after_request(recorder.finish)
    services.extra["request_metrics"] = recorder
    services.on_close(recorder.close)
    return recorder
