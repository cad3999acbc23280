"""Fill a server's DATA_DIR with synthetic error events, generated inside ClickHouse itself.

Usage: python -m bench.seed DATA_DIR TOTAL_EVENTS [--groups N] [--users N] [--days N]
Run it while no server has the folder open (chDB allows one process per folder).
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

from app.config import settings_from_env, settings_with
from app.storage.clickhouse import ClickHouseStore
from app.storage.clickhouse_migrations import upgrade_clickhouse_schema
from app.storage.sql import Database
from app.storage.sql_migrations import upgrade_sql_schema
from app.tracking.group_state import GroupStateStore
from app.tracking.fingerprint import fingerprint

SOURCES = ("Audio", "Network", "UI", "Storage", "Licensing")
SEVERITIES = ("Info", "Warning", "Error", "Critical")
CHUNK = 1_000_000


WORDS = ("buffer", "driver", "socket", "preset", "license", "sample", "render", "midi", "cache", "codec",
         "thread", "window", "knob", "meter", "bus", "clock", "stream", "patch", "voice", "filter",
         "reverb", "delay", "tuner", "mixer", "track", "scene", "macro", "skin", "font", "token",
         "upload", "login", "session", "quota", "proxy", "route", "queue", "timer", "disk", "folder",
         "engine", "graph", "node", "port", "device", "host", "worker", "lock", "pool", "heap")


def group_message(g: int) -> str:
    """A distinct message per group (words, not numbers: numbers are normalised away)."""
    return (f"Synthetic {WORDS[g % 50]} {WORDS[(g // 50) % 50]} {WORDS[(g // 2500) % 50]} failure")


def group_rows(groups: int, days: int) -> list[dict]:
    """One SQL group row per synthetic group, matching the ids ClickHouse will carry."""
    now_ms = int(time.time() * 1000)
    rows = []
    for g in range(groups):
        source = SOURCES[g % len(SOURCES)]
        message = group_message(g)
        rows.append({"id": fingerprint(source, message), "project_id": 0, "source": source,
                     "severity": SEVERITIES[g % 4], "message": message, "status": "unresolved",
                     "first_seen_ms": now_ms - days * 86_400_000, "last_seen_ms": now_ms,
                     "status_changed_at_ms": now_ms})
    return rows


def seed(data_dir: Path, total: int, groups: int = 2000, users: int = 5000, days: int = 30) -> None:
    """Add `total` events spread over the last `days` across `groups` groups and `users` users."""
    settings = settings_with(settings_from_env({}), {"data_dir": data_dir}).resolved()
    db = Database(settings.database_url)
    upgrade_sql_schema(db.engine)
    rows = group_rows(groups, days)
    GroupStateStore(db).record_seen(rows)
    ids = [r["id"] for r in rows]
    store = ClickHouseStore(settings.clickhouse_url,
                            on_open=lambda s: upgrade_clickhouse_schema(s, settings.event_ttl_days))
    span_ms = days * 86_400_000
    done, started = 0, time.monotonic()
    while done < total:
        n = min(CHUNK, total - done)
        # Skewed towards few groups (x^3), like real error traffic; times uniform over the window.
        store.command(
            "INSERT INTO error_events (event_id, project_id, group_id, ts, received_at, user_id, source, "
            "severity, message, context, occurrences) "
            "SELECT generateUUIDv4(), 0, gid, t, t, 1 + (rand(2) % {users:UInt32}), "
            "['Audio','Network','UI','Storage','Licensing'][1 + (g % 5)], "
            "['Info','Warning','Error','Critical'][1 + if(rand(3) % 10 = 0, rand(8) % 4, g % 4)], "
            "{messages:Array(String)}[g + 1], "
            "concat('{\"endpoint\":\"/api/e', toString(rand(4) % 20), '\",\"retries\":', toString(rand(5) % 5), "
            "'}'), 1 + (rand(6) % 3) "
            "FROM (SELECT toUInt32(pow(rand(1) / 4294967295, 3) * {groups:UInt32}) AS g, "
            "{ids:Array(String)}[g + 1] AS gid, "
            "fromUnixTimestamp64Milli(toInt64({now:Int64} - rand(7) % {span:UInt64}), 'UTC') AS t "
            "FROM numbers({n:UInt64}))",
            parameters={"users": users, "groups": groups, "ids": ids, "messages": [r["message"] for r in rows], "now": int(time.time() * 1000),
                        "span": span_ms, "n": n})
        done += n
        rate = done / max(time.monotonic() - started, 1e-6)
        print(f"seed: {done:,}/{total:,} events ({rate:,.0f}/s)", file=sys.stderr, flush=True)
    merge_all(store)
    db.dispose()


def merge_all(store: ClickHouseStore) -> None:
    """Merge every table's parts: the steady state a live server reaches by merging in the background.

    A bulk load leaves many overlapping parts, and the server would spend its first minutes
    merging them while a benchmark measures its reads.
    """
    tables = [row[0] for row in store.query(
        "SELECT name FROM system.tables WHERE database = currentDatabase() AND engine LIKE '%MergeTree' "
        "ORDER BY total_rows DESC")]
    started = time.monotonic()
    for i, table in enumerate(tables, 1):
        store.command(f"OPTIMIZE TABLE {table} FINAL")
        print(f"seed: merged {i}/{len(tables)} tables ({table}, {time.monotonic() - started:.0f} s)",
              file=sys.stderr, flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("data_dir", type=Path)
    parser.add_argument("total", type=int)
    parser.add_argument("--groups", type=int, default=2000)
    parser.add_argument("--users", type=int, default=5000)
    parser.add_argument("--days", type=int, default=30)
    args = parser.parse_args()
    seed(args.data_dir, args.total, args.groups, args.users, args.days)


if __name__ == "__main__":
    main()
