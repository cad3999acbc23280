"""Seed a data folder with synthetic rate-limit and collaboration rows, in a process of its own.

chDB allows one process per folder (and one folder per process), so a test or script runs
`python -m tests.e2e.seed DATA_DIR` before starting the server on that folder. The rows follow
the tables' documented columns; error events are not seeded here (they go through the API).
"""
from __future__ import annotations

import hashlib
import random
import sys
from datetime import datetime, timedelta, timezone
from pathlib import Path

LIMITS = (("default", "/api/v1/channels", "GET", "ip"), ("auth", "/api/v1/auth/login", "POST", "ip"),
          ("errors_batch", "/api/v1/errors/batch", "POST", "user"), ("uploads", "/api/v1/audio/upload", "POST", "user"))
REASONS = ("invalid_operation", "stale_revision", "rate_limited")


def rate_limit_rows(now: datetime, rng: random.Random, count: int = 1500) -> list[tuple]:
    """Hits over the last day, a few noisy keys making most of them."""
    keys = [hashlib.sha256(f"key-{i}".encode()).hexdigest() for i in range(40)]
    rows = []
    for _ in range(count):
        limit, route, method, kind = LIMITS[min(int(rng.expovariate(1.1)), len(LIMITS) - 1)]
        key = keys[min(int(rng.expovariate(0.35)), len(keys) - 1)]
        rows.append((now - timedelta(seconds=rng.uniform(0, 86400)), limit, route, method, kind, key))
    return rows


def operation_rows(now: datetime, rng: random.Random, count: int = 20000) -> list[tuple]:
    """Operations over the last day on a few documents; busier in the last hours."""
    rows = []
    for _ in range(count):
        ago = min(rng.expovariate(1 / 20000), 86399)
        rejected = rng.random() < 0.02
        rows.append((now - timedelta(seconds=ago), f"channel:{rng.randint(1, 12)}:lyrics", rng.randint(1, 30),
                     rng.randint(1, 60), rng.randint(1, 5000), int(rng.expovariate(2.5)), int(rejected),
                     rng.choice(REASONS) if rejected else "", rng.lognormvariate(0.3, 0.6)))
    return rows


def seed(data_dir: Path) -> None:
    """Insert the synthetic rows into the folder's analytics store."""
    from app import create_app

    app = create_app({"data_dir": data_dir})
    services = app.extensions["services"]
    now, rng = datetime.now(timezone.utc), random.Random(7)
    services.analytics.insert("rate_limit_hits", rate_limit_rows(now, rng),
                              ["ts", "limit_name", "route", "method", "key_kind", "key_hash"])
    services.analytics.insert("operation_metrics", operation_rows(now, rng),
                              ["ts", "document_id", "user_id", "client_id", "revision", "transformed_over",
                               "rejected", "reason", "apply_ms"])
    services.close()


if __name__ == "__main__":
    seed(Path(sys.argv[1]))
