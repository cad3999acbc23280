"""Conflict metrics: one ClickHouse row per submitted operation, written off the hot path."""
from __future__ import annotations

import time
from datetime import datetime, timezone
from typing import Callable

from app.documents.live import LiveDocument
from app.documents.planning import Submission
from app.storage.batch_writer import BatchWriter
from app.storage.clickhouse import ClickHouseStore

METRIC_COLUMNS = ("ts", "document_id", "user_id", "client_id", "revision", "transformed_over", "rejected",
                  "reason", "apply_ms")
LINGER_MS = 2000  # one part every two seconds at most, whatever the editing rate

Count = Callable[[str, int], None]


class OperationMetrics:
    """Turns each batch's outcomes into `operation_metrics` rows and hub counters."""

    def __init__(self, analytics: ClickHouseStore, count: Count | None = None) -> None:
        self._analytics = analytics
        self._count = count
        self.writer = BatchWriter(self._flush, name="operation-metrics", linger_ms=LINGER_MS)

    def _flush(self, rows: list[tuple]) -> None:
        self._analytics.insert("operation_metrics", rows, METRIC_COLUMNS)

    def record(self, doc: LiveDocument, batch: list[Submission]) -> None:
        """Queue one row per decided submission; never blocks, never raises into the caller."""
        now = time.perf_counter()
        ts = datetime.now(timezone.utc)
        rows, applied, transformed, rejected = [], 0, 0, 0
        for sub in batch:
            outcome = sub.outcome
            if outcome is None:
                continue
            is_rejected = outcome.kind == "rejected"
            revision = outcome.stored.revision if outcome.stored else max(0, sub.base_revision)
            reason = outcome.error.code if outcome.error else ("duplicate" if outcome.kind == "duplicate" else "")
            rows.append((ts, doc.id, sub.user_id, sub.op.client_id, min(revision, 2**32 - 1),
                         outcome.transformed_over, int(is_rejected), reason,
                         round((now - sub.received_at) * 1000.0, 3)))
            applied += outcome.kind == "accepted"
            transformed += outcome.kind == "accepted" and outcome.transformed_over > 0
            rejected += is_rejected
        self.writer.write_later(rows)
        if self._count is not None:
            for name, value in (("operations_applied", applied), ("operations_transformed", transformed),
                                ("operations_rejected", rejected)):
                if value:
                    self._count(name, value)
