"""Apply numbered `.sql` files to ClickHouse once each, recording what was applied."""
from __future__ import annotations

import logging
import re
from pathlib import Path

from app.storage.clickhouse import ClickHouseStore

log = logging.getLogger(__name__)
CLICKHOUSE_DIR = Path(__file__).resolve().parents[2] / "migrations" / "clickhouse"
_FILE = re.compile(r"^(\d{4})_[a-z0-9_]+\.sql$")


def migration_files(directory: Path = CLICKHOUSE_DIR) -> list[tuple[str, Path]]:
    """The migrations in order, as (version, path)."""
    found = [(m.group(1), p) for p in directory.iterdir() if (m := _FILE.match(p.name))]
    return sorted(found)


def statements(sql: str) -> list[str]:
    """Split a file into statements on `;` at line ends; `--` comment lines are dropped."""
    lines = [line for line in sql.splitlines() if not line.strip().startswith("--")]
    parts = re.split(r";\s*(?:\n|$)", "\n".join(lines))
    return [part.strip() for part in parts if part.strip()]


def upgrade_clickhouse_schema(store: ClickHouseStore, event_ttl_days: int,
                              directory: Path = CLICKHOUSE_DIR) -> list[str]:
    """Apply pending files in order; returns the versions applied now."""
    store.command(
        "CREATE TABLE IF NOT EXISTS schema_migrations (version String, name String, "
        "applied_at DateTime DEFAULT now()) ENGINE = MergeTree ORDER BY version")
    done = {row[0] for row in store.query("SELECT version FROM schema_migrations")}
    applied = []
    for version, path in migration_files(directory):
        if version in done:
            continue
        sql = path.read_text().replace("{event_ttl_days}", str(int(event_ttl_days)))
        for statement in statements(sql):
            store.command(statement)
        store.insert("schema_migrations", [[version, path.name]], ["version", "name"])
        log.info("clickhouse migration %s applied", path.name)
        applied.append(version)
    ensure_event_ttl(store, event_ttl_days)
    return applied


def ensure_event_ttl(store: ClickHouseStore, days: int) -> None:
    """Change the events' TTL when the configured retention differs from the table's."""
    rows = store.query("SELECT engine_full FROM system.tables WHERE database = currentDatabase() "
                       "AND name = 'error_events'")
    if rows and f"toIntervalDay({int(days)})" not in rows[0][0]:
        store.command(f"ALTER TABLE error_events MODIFY TTL toDateTime(ts) + INTERVAL {int(days)} DAY "
                      "SETTINGS materialize_ttl_after_modify = 0")
