"""The admins' SQL console: what it runs, everything it refuses, its bounds, roles and audit trail."""
from __future__ import annotations

from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from tests.integration.test_analytics_query import Seeded, seeded_app, staff_headers
from tests.support.api import Account, Api
from tests.support.server import ServerProcess


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path) -> Iterator[Seeded]:
    yield from seeded_app(tmp_path_factory, chdb_dir)


@pytest.fixture(scope="module")
def tight(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path) -> Iterator[Seeded]:
    """The same data under small bounds: 1 s, 50 rows, 50 MB."""
    yield from seeded_app(tmp_path_factory, chdb_dir, analytics_max_execution_seconds=1, analytics_max_rows=50,
                          analytics_max_memory_bytes=50_000_000)


def run(seeded: Seeded, sql: str, headers: dict[str, str] | None = None) -> Any:
    return seeded.client.post("/api/v1/analytics/sql", json={"sql": sql}, headers=headers or seeded.headers["admin"])


def test_runs_a_select_and_answers_columns_rows_and_stats(seeded: Seeded) -> None:
    resp = run(seeded, "SELECT source, count() AS events, sum(occurrences) AS occurrences "
                       "FROM error_events GROUP BY source ORDER BY source")
    body = resp.get_json()
    assert resp.status_code == 200, body
    assert body["columns"] == ["source", "events", "occurrences"]
    assert body["rows"] == [["Audio", 6, 9], ["Network", 4, 9], ["UI", 3, 6]]
    assert body["stats"]["rows"] == 3 and body["stats"]["elapsed_ms"] >= 0


@pytest.mark.parametrize("sql, rows", [
    ("WITH crashes AS (SELECT * FROM error_events WHERE severity = 'Critical') SELECT count() FROM crashes", [[3]]),
    ("SELECT * FROM (SELECT 'events', count() FROM error_events UNION ALL "
     "SELECT 'hourly', sum(events) FROM error_group_hourly) ORDER BY 1", [["events", 13], ["hourly", 13]]),
    ("SELECT JSONExtractString(context, 'endpoint') AS endpoint, count() FROM error_events "
     "WHERE JSONExtractInt(context, 'http_status') = 429 GROUP BY endpoint", [["/api/upload", 2]]),
    ("SELECT count() FROM error_events WHERE source IN (SELECT source FROM error_events WHERE severity = 'Info')",
     [[3]]),
    ("SELECT 1 AS one -- a trailing comment", [[1]]),
    ("SELECT 'FROM system.tables; DROP' AS s, 'table_name: x.y' AS t",
     [["FROM system.tables; DROP", "table_name: x.y"]]),
    ("SELECT\nseverity AS format,\ncount() AS settings\nFROM error_events\nGROUP BY format\nORDER BY format\nLIMIT 1",
     [["Critical", 3]]),
    ("select count() from error_events;", [[13]]),
])
def test_runs_with_union_subqueries_and_json_context(seeded: Seeded, sql: str, rows: list) -> None:
    resp = run(seeded, sql)
    assert resp.status_code == 200, resp.get_json()
    assert resp.get_json()["rows"] == rows


def test_times_come_back_as_iso_strings(seeded: Seeded) -> None:
    assert run(seeded, "SELECT max(ts) FROM error_events").get_json()["rows"][0][0].endswith("Z")


@pytest.mark.parametrize("sql, code", [
    ("CREATE TABLE scratch (a UInt8) ENGINE = Memory", "statement_not_allowed"),
    ("DROP TABLE error_events", "statement_not_allowed"),
    ("ALTER TABLE error_events DELETE WHERE 1", "statement_not_allowed"),
    ("TRUNCATE TABLE error_events", "statement_not_allowed"),
    ("INSERT INTO error_events (source) VALUES ('x')", "statement_not_allowed"),
    ("INSERT INTO error_events SELECT * FROM error_events", "statement_not_allowed"),
    ("SET readonly = 0", "statement_not_allowed"),
    ("SYSTEM DROP MARK CACHE", "statement_not_allowed"),
    ("EXPLAIN SELECT 1", "statement_not_allowed"),
    ("SHOW TABLES", "statement_not_allowed"),
    ("DESCRIBE TABLE error_events", "statement_not_allowed"),
    ("SELECT 1; SELECT 2", "multiple_statements"),
    ("SELECT 1; DROP TABLE error_events", "multiple_statements"),
    ("SELECT * FROM system.tables", "table_not_allowed"),
    ("SELECT name FROM system.users", "table_not_allowed"),
    ("SELECT * FROM information_schema.tables", "table_not_allowed"),
    ("SELECT * FROM INFORMATION_SCHEMA.TABLES", "table_not_allowed"),
    ("SELECT count() FROM default.error_events", "table_not_allowed"),
    ("SELECT count() FROM schema_migrations", "table_not_allowed"),
    ("WITH q AS (SELECT 1) SELECT * FROM q, schema_migrations", "table_not_allowed"),
    ("SELECT 1 FROM error_events WHERE source IN schema_migrations", "table_not_allowed"),
    ("SELECT 1 FROM error_events WHERE source IN system.tables", "table_not_allowed"),
    ("SELECT * FROM numbers(10)", "table_function_not_allowed"),
    ("SELECT * FROM url('http://127.0.0.1:9/x.csv', CSV, 'a String')", "table_function_not_allowed"),
    ("SELECT * FROM file('/etc/passwd', LineAsString)", "table_function_not_allowed"),
    ("SELECT * FROM remote('127.0.0.1', system.one)", "table_function_not_allowed"),
    ("SELECT * FROM merge(currentDatabase(), '.*')", "table_function_not_allowed"),
    ("SELECT 1 FROM error_events AS e JOIN numbers(3) AS n ON 1 = 1", "table_function_not_allowed"),
    ("SELECT 1 FROM error_events WHERE 1 IN numbers(3)", "table_function_not_allowed"),
    ("SELECT 1 SETTINGS max_execution_time = 3600", "settings_not_allowed"),
    ("SELECT * FROM (SELECT 1 SETTINGS readonly = 0)", "settings_not_allowed"),
    ("SELECT 1 UNION ALL SELECT 2 SETTINGS max_result_rows = 0", "settings_not_allowed"),
    ("SELECT 1 FORMAT JSON", "format_not_allowed"),
    ("SELECT 1 INTO OUTFILE '/tmp/console-out.csv'", "outfile_not_allowed"),
    ("SELECT file('/etc/passwd')", "function_not_allowed"),
    ("SELECT dictGet('dict', 'attr', toUInt64(1))", "function_not_allowed"),
    ("SELECT joinGet('joined', 'attr', 1)", "function_not_allowed"),
    ("SELEC 1", "sql_syntax_error"),
    ("-- only a comment", "sql_syntax_error"),
    ("SELECT nosuchcolumn FROM error_events", "sql_error"),
    ("SELECT {param:String}", "sql_error"),
])
def test_refuses_with_a_clear_code(seeded: Seeded, sql: str, code: str) -> None:
    resp = run(seeded, sql)
    assert resp.status_code == 400, resp.get_json()
    error = resp.get_json()["error"]
    assert error["code"] == code and error["message"]


def test_refusals_changed_nothing(seeded: Seeded) -> None:
    for sql in ("DROP TABLE error_events", "SELECT 1; DROP TABLE error_events", "TRUNCATE TABLE error_events",
                "INSERT INTO error_events SELECT * FROM error_events"):
        assert run(seeded, sql).status_code == 400
    assert run(seeded, "SELECT count() FROM error_events").get_json()["rows"] == [[13]]
    assert not Path("/tmp/console-out.csv").exists()


def test_bounds_are_400s_naming_the_bound(tight: Seeded) -> None:
    cross = ", ".join(f"error_events AS t{i}" for i in range(8))
    resp = run(tight, f"SELECT count() FROM {cross} WHERE cityHash64(t0.event_id, t7.event_id) % 7 = 1")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "query_timeout"
    assert resp.get_json()["error"]["details"] == {"bound": "ANALYTICS_MAX_EXECUTION_SECONDS", "limit": 1}
    resp = run(tight, "SELECT x FROM error_events ARRAY JOIN range(10) AS x")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "too_many_rows"
    assert resp.get_json()["error"]["details"] == {"bound": "ANALYTICS_MAX_ROWS", "limit": 50}
    store = tight.app.extensions["services"].analytics  # chDB keeps a failed query's partial output on its
    for _ in range(6):  # connection: the console's runs on its own, so the shared clients stay clean
        assert store.query("SELECT formatQuery({q:String})", {"q": "select 1"}) == [("SELECT 1",)]
    resp = run(tight, "SELECT length(groupArray(x)) FROM error_events ARRAY JOIN range(2000000) AS x")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "memory_limit_exceeded"
    assert run(tight, "SELECT x FROM error_events ARRAY JOIN range(3) AS x").get_json()["stats"]["rows"] == 39
    resp = tight.query({"limit": 51})
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "too_many_rows"
    audit = tight.client.get("/api/v1/analytics/audit?kind=sql&limit=4", headers=tight.headers["admin"]).get_json()
    assert [e["outcome"] for e in audit["entries"]] == ["ok", "memory_limit_exceeded", "too_many_rows", "query_timeout"]


def test_roles(seeded: Seeded) -> None:
    assert run(seeded, "SELECT 1", seeded.headers["support"]).status_code == 403
    assert run(seeded, "SELECT 1", seeded.headers["ana"]).status_code == 403
    assert seeded.client.post("/api/v1/analytics/sql", json={"sql": "SELECT 1"}).status_code == 401
    for role in ("support", "ana"):
        assert seeded.client.get("/api/v1/analytics/audit", headers=seeded.headers[role]).status_code == 403
    assert run(seeded, "SELECT 1").status_code == 200


def test_every_query_is_audited_who_when_text_rows_time_outcome(seeded: Seeded) -> None:
    admin_id, admin = staff_headers(seeded.app, "admin")
    texts = ["SELECT source FROM error_events ORDER BY source LIMIT 4", "SELECT * FROM system.tables",
             "SELECT 1; SELECT 2"]
    for text in texts:
        run(seeded, text, admin)
    seeded.client.post("/api/v1/analytics/query", json={"metrics": ["events"]}, headers=admin)
    page = seeded.client.get(f"/api/v1/analytics/audit?user_id={admin_id}", headers=admin).get_json()
    entries = page["entries"]
    assert [(e["kind"], e["outcome"], e["rows"]) for e in entries] == [
        ("query", "ok", 1), ("sql", "multiple_statements", 0), ("sql", "table_not_allowed", 0), ("sql", "ok", 4)]
    assert [e["query_text"] for e in entries[1:]] == texts[::-1]
    assert {e["username"] for e in entries} == {entries[0]["username"]} and entries[0]["username"].startswith("admin")
    assert all(e["elapsed_ms"] >= 0 and e["created_at_ms"] > 1.6e12 for e in entries)
    assert entries == sorted(entries, key=lambda e: -e["id"])
    first = seeded.client.get(f"/api/v1/analytics/audit?user_id={admin_id}&limit=3", headers=admin).get_json()
    rest = seeded.client.get(f"/api/v1/analytics/audit?user_id={admin_id}&limit=3&cursor={first['next_cursor']}",
                             headers=admin).get_json()
    assert [e["id"] for e in first["entries"] + rest["entries"]] == [e["id"] for e in entries]
    assert rest["next_cursor"] is None
    only_sql = seeded.client.get(f"/api/v1/analytics/audit?user_id={admin_id}&kind=sql", headers=admin).get_json()
    assert len(only_sql["entries"]) == 3
    resp = seeded.client.get("/api/v1/analytics/audit?cursor=abc", headers=admin)
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "invalid_cursor"


def test_a_failing_query_on_the_real_server_is_a_400_and_no_traceback_in_the_log(
        server: ServerProcess, api: Api, staff: Callable[[str], Account]) -> None:
    """chDB runs in gevent's thread pool; its errors are the caller's to handle, not log noise."""
    admin = staff("admin")
    logged_before = server.log_path.stat().st_size
    resp = api.post("/api/v1/analytics/sql", admin, json={"sql": "SELECT no_such_column FROM error_events"})
    assert resp.status_code == 400, resp.text
    assert api.post("/api/v1/analytics/sql", admin, json={"sql": "SELECT 1 AS one"}).status_code == 200
    with open(server.log_path, "rb") as log:
        log.seek(logged_before)
        written = log.read().decode(errors="replace")
    assert "Traceback" not in written, written
