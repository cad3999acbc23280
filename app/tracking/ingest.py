"""Ingest: validate a batch item by item, store the valid ones, acknowledge only what was stored."""
from __future__ import annotations

import json
import uuid
from datetime import datetime, timezone
from typing import Any, Sequence

from pydantic import ValidationError

from app.api.validation import summary
from app.errors import BadRequest, PayloadTooLarge, ServiceUnavailable
from app.storage import StorageError
from app.storage.batch_writer import BatchWriter
from app.storage.clickhouse import ClickHouseStore
from app.tracking.fingerprint import fingerprint
from app.tracking.group_state import GroupStateStore, groups_from_rows
from app.tracking.schemas import ErrorItem

EVENT_COLUMNS = ("event_id", "project_id", "group_id", "ts", "received_at", "user_id", "source",
                 "severity", "message", "context", "occurrences", "platform", "release",
                 "environment", "tags", "exception_type", "exception_value")


def event_row(*, group_id: str, ts: datetime, received_at: datetime, user_id: int, source: str,
              severity: str, message: str, context: dict[str, Any] | None, occurrences: int = 1,
              project_id: int = 0, platform: str = "", release: str = "", environment: str = "",
              tags: dict[str, str] | None = None, exception_type: str = "",
              exception_value: str = "") -> tuple:
    """One row of `error_events`, in EVENT_COLUMNS order."""
    return (uuid.uuid4(), project_id, group_id, ts, received_at, user_id, source, severity, message,
            json.dumps(context or {}, separators=(",", ":"), ensure_ascii=False), occurrences,
            platform, release, environment, tags or {}, exception_type, exception_value)


class EventSink:
    """Stores event rows through a group-commit writer: ClickHouse first, then group state in SQL."""

    def __init__(self, analytics: ClickHouseStore, groups: GroupStateStore, linger_ms: int) -> None:
        self._analytics = analytics
        self._groups = groups
        # Two flushers: one inserts into ClickHouse (GIL released) while the next batch gathers.
        self.writer = BatchWriter(self._flush, name="error-events", linger_ms=linger_ms, flushers=2)

    def _flush(self, rows: list[tuple]) -> None:
        self._analytics.insert("error_events", rows, EVENT_COLUMNS)
        self._groups.record_seen(groups_from_rows(rows, EVENT_COLUMNS))

    def store(self, rows: Sequence[tuple]) -> None:
        """Block until the rows are stored; 503 with Retry-After when the store cannot take them."""
        try:
            self.writer.write(rows)
        except StorageError as exc:
            raise ServiceUnavailable("The analytics store cannot take writes right now; retry later.",
                                     retry_after=5) from exc


class IngestService:
    """Turns a plugin's batch into stored events."""

    def __init__(self, sink: EventSink, max_items: int) -> None:
        self._sink = sink
        self._max_items = max_items

    @property
    def sink(self) -> EventSink:
        """The group-commit sink, for other ingest paths (Sentry envelopes) that store the same rows."""
        return self._sink

    def ingest(self, envelope: Any, user_id: int) -> dict[str, Any]:
        """Validate each item, keep the valid ones, report the rest by index."""
        items = self._items(envelope)
        received = datetime.now(timezone.utc)
        rows, rejected = [], []
        for index, raw in enumerate(items):
            try:
                item = ErrorItem.model_validate(raw)
            except ValidationError as exc:
                rejected.append({"index": index, "error": summary(exc)})
                continue
            ts = (datetime.fromtimestamp(item.timestamp, timezone.utc) if item.timestamp is not None
                  else received)
            rows.append(event_row(group_id=fingerprint(item.source, item.message), ts=ts,
                                  received_at=received, user_id=user_id, source=item.source,
                                  severity=item.severity, message=item.message, context=item.context,
                                  occurrences=item.occurrences))
        if not rows:
            raise BadRequest("No item in the batch is valid.", code="validation_error",
                             details={"rejected": rejected})
        self._sink.store(rows)
        return {"status": "recorded", "accepted": len(rows), "rejected": rejected}

    def _items(self, envelope: Any) -> list[Any]:
        if not isinstance(envelope, dict) or set(envelope) != {"errors"}:
            raise BadRequest('The body must be {"errors": [...]} and nothing else.', code="malformed_envelope")
        items = envelope["errors"]
        if not isinstance(items, list) or not items:
            raise BadRequest('"errors" must be a non-empty list.', code="malformed_envelope")
        if len(items) > self._max_items:
            raise PayloadTooLarge(f"A batch holds at most {self._max_items} items.", code="too_many_items")
        return items
