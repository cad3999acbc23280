"""The ClickHouse migration runner: ordered, recorded, idempotent; retention follows configuration."""
from pathlib import Path

from app.storage.clickhouse import ClickHouseStore
from app.storage.clickhouse_migrations import migration_files, statements, upgrade_clickhouse_schema


def test_statements_split_on_semicolons_at_line_ends() -> None:
    sql = "-- comment\nCREATE TABLE a (x String DEFAULT ';');\nCREATE TABLE b (y UInt8);\n"
    assert statements(sql) == ["CREATE TABLE a (x String DEFAULT ';')", "CREATE TABLE b (y UInt8)"]


def test_files_are_numbered_and_ordered() -> None:
    versions = [v for v, _ in migration_files()]
    assert versions == sorted(versions) and versions[0] == "0001" and len(set(versions)) == len(versions)


def test_applies_once_records_and_changes_ttl(chdb_dir: Path, tmp_path: Path) -> None:
    store = ClickHouseStore(f"chdb:///{chdb_dir}?database=mig_test")
    applied = upgrade_clickhouse_schema(store, event_ttl_days=90)
    assert applied == [v for v, _ in migration_files()]
    assert upgrade_clickhouse_schema(store, event_ttl_days=90) == []
    recorded = [r[0] for r in store.query("SELECT version FROM schema_migrations ORDER BY version")]
    assert recorded == applied
    engine = store.query("SELECT engine_full FROM system.tables WHERE database = 'mig_test' AND name = 'error_events'")[0][0]
    assert "toIntervalDay(90)" in engine and "PARTITION BY toYYYYMM(ts)" in engine and "ORDER BY (group_id, ts)" in engine
    upgrade_clickhouse_schema(store, event_ttl_days=14)
    engine = store.query("SELECT engine_full FROM system.tables WHERE database = 'mig_test' AND name = 'error_events'")[0][0]
    assert "toIntervalDay(14)" in engine
    extra = tmp_path / "more"
    extra.mkdir()
    (extra / "0001_first.sql").write_text("CREATE TABLE IF NOT EXISTS mig_extra (a UInt8) ENGINE = Memory;\n")
    (extra / "0002_second.sql").write_text("INSERT INTO mig_extra VALUES (7);\n")
    other = ClickHouseStore(f"chdb:///{chdb_dir}?database=mig_test2")
    assert upgrade_clickhouse_schema(other, 90, directory=extra) == ["0001", "0002"]
    assert upgrade_clickhouse_schema(other, 90, directory=extra) == []
    assert other.query("SELECT a FROM mig_extra") == [(7,)]
