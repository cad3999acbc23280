"""The export formats of a structured query."""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timezone
from typing import Any

from app.analytics.bounds import Window


@dataclass(frozen=True)
class ExportFormat:
    """How one `?format=` is produced: ClickHouse's output format, media type, file extension."""

    name: str
    clickhouse: str
    media_type: str
    settings: dict[str, Any] = field(default_factory=dict)

    def filename(self, window: Window) -> str:
        """`errors-<since>-<until>.<ext>`, UTC, for Content-Disposition."""
        return f"errors-{_stamp(window.since_ms)}-{_stamp(window.until_ms)}.{self.name}"


# CSV and JSON lines carry times as ISO-8601 UTC strings; Parquet keeps typed timestamps.
EXPORT_FORMATS = {fmt.name: fmt for fmt in (
    ExportFormat("csv", "CSVWithNames", "text/csv", {"date_time_output_format": "iso"}),
    ExportFormat("jsonl", "JSONEachRow", "application/x-ndjson",
                 {"date_time_output_format": "iso", "output_format_json_quote_64bit_integers": 0}),
    ExportFormat("parquet", "Parquet", "application/vnd.apache.parquet"),
)}


def _stamp(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, timezone.utc).strftime("%Y%m%dT%H%M%SZ")


def iso(value: datetime) -> str:
    """ISO-8601 UTC with milliseconds and a Z."""
    if value.tzinfo is None:
        value = value.replace(tzinfo=timezone.utc)
    return value.astimezone(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")
