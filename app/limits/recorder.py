"""Every limited request (and WebSocket frame) becomes a row of ClickHouse `rate_limit_hits`."""
from __future__ import annotations

import hashlib
import hmac
from datetime import datetime, timezone

from app.storage.batch_writer import BatchWriter
from app.storage.clickhouse import ClickHouseStore

COLUMNS = ("ts", "limit_name", "route", "method", "key_kind", "key_hash")
KEY_HASH_CHARS = 16


class RateLimitRecorder:
    """Queues hit rows off the request path; a group-commit writer inserts them in batches."""

    def __init__(self, analytics: ClickHouseStore, secret: str, linger_ms: int = 200) -> None:
        self._analytics = analytics
        self._secret = secret.encode()
        self.writer = BatchWriter(self._flush, name="rate-limit-hits", linger_ms=linger_ms,
                                  max_queued=100_000)

    def record(self, limit_name: str, route: str, method: str, key_kind: str, key: str) -> None:
        """Queue one hit; never blocks and never raises (rows are dropped, and counted, when full)."""
        row = (datetime.now(timezone.utc), limit_name, route, method, key_kind, self.key_hash(key))
        self.writer.write_later([row])

    def key_hash(self, key: str) -> str:
        """HMAC-SHA256 of the key under the app secret, truncated: joinable, never reversible."""
        return hmac.new(self._secret, key.encode(), hashlib.sha256).hexdigest()[:KEY_HASH_CHARS]

    def _flush(self, rows: list[tuple]) -> None:
        self._analytics.insert("rate_limit_hits", rows, COLUMNS)
