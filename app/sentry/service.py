"""Sentry ingest: authenticate the key, decode and frame the body, spend the quota, store the events.

Events go through the plugin batch API's group-commit sink into the same `error_events` table,
so a 200 here means stored, never merely queued. Item types other than `event` (sessions,
client reports, attachments, transactions, ...) are accepted and skipped. An event id the
project stored recently is answered again but not stored twice (`app/sentry/dedupe.py`).
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timezone
from typing import Any

from app.errors import PayloadTooLarge
from app.sentry.auth import key_from_dsn
from app.sentry.dedupe import RecentEventIds
from app.sentry.envelope import Item, decode_body, parse_envelope, parse_json_object
from app.sentry.normalise import Origin, to_row
from app.sentry.options import SentryOptions
from app.sentry.projects import KeyInfo, ProjectRegistry
from app.sentry.quota import KeyQuota
from app.tracking.ingest import EventSink


@dataclass(frozen=True)
class Upload:
    """What a route hands over: the raw body, its Content-Encoding and the key from headers or query."""

    body: bytes
    content_encoding: str
    public_key: str | None


class SentryIngestService:
    """Turns envelopes and store requests of any Sentry SDK into stored events."""

    def __init__(self, projects: ProjectRegistry, sink: EventSink, quota: KeyQuota,
                 options: SentryOptions, retention_days: int, recent: RecentEventIds) -> None:
        self.projects = projects
        self.options = options
        self._sink = sink
        self._quota = quota
        self._retention_days = retention_days
        self._recent = recent

    def envelope(self, project_id: int, upload: Upload) -> dict[str, Any]:
        """`POST /api/<project>/envelope/`: store the event items, skip the rest; `{"id"}` like Sentry."""
        # A key in the headers is checked before any decompression work; a DSN in the envelope after.
        key = self.projects.authenticate(project_id, upload.public_key) if upload.public_key else None
        envelope = parse_envelope(decode_body(upload.body, upload.content_encoding,
                                              self.options.max_envelope_bytes), self.options.max_items)
        if key is None:
            key = self.projects.authenticate(project_id, key_from_dsn(envelope.headers.get("dsn")))
        events = [event for event in map(self._event_payload, envelope.items) if event is not None]
        header_id = envelope.headers.get("event_id")
        ids = self._store(key, events, header_id if isinstance(header_id, str) else None)
        answer_id = ids[0] if ids else header_id
        return {"id": answer_id} if isinstance(answer_id, str) and answer_id else {}

    def store(self, project_id: int, upload: Upload) -> dict[str, Any]:
        """`POST /api/<project>/store/`, the older endpoint: the body is one event."""
        key = self.projects.authenticate(project_id, upload.public_key)
        event = parse_json_object(self._bounded(decode_body(upload.body, upload.content_encoding,
                                                            self.options.max_event_bytes)), "event")
        if event.get("type") == "transaction":
            return {"id": event["event_id"]} if isinstance(event.get("event_id"), str) else {}
        return {"id": self._store(key, [event], None)[0]}

    def _bounded(self, payload: bytes) -> bytes:
        if len(payload) > self.options.max_event_bytes:
            raise PayloadTooLarge(f"An event is at most {self.options.max_event_bytes} bytes.",
                                  code="event_too_large")
        return payload

    def _event_payload(self, item: Item) -> dict[str, Any] | None:
        if item.type != "event":
            return None
        event = parse_json_object(self._bounded(item.payload), "event item")
        return None if event.get("type") == "transaction" else event

    def _store(self, key: KeyInfo, events: list[dict[str, Any]], fallback_id: str | None) -> list[str]:
        if not events:
            return []
        origin = Origin(key.project_id, key.project_name, datetime.now(timezone.utc), self._retention_days)
        fallback = fallback_id if len(events) == 1 else None
        rows = [to_row(event, origin, fallback) for event in events]
        fresh = [(event_id, row) for event_id, row in rows if not self._recent.seen(key.project_id, event_id)]
        if fresh:  # a resend spends no quota and stores nothing
            self._quota.spend(key.public_key, len(fresh))
            self._sink.store([row for _, row in fresh])
            self._recent.remember(key.project_id, [event_id for event_id, _ in fresh])
        return [event_id for event_id, _ in rows]
