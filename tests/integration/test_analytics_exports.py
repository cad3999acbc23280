"""Exports of a structured query (CSV, JSON lines, Parquet), streamed, read back with the usual readers."""
from __future__ import annotations

import csv
import io
import json
import uuid
from datetime import datetime
from pathlib import Path
from typing import Any, Callable, Iterator

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from tests.integration.test_analytics_query import BASE, Seeded, seeded_app
from tests.support.api import Api

QUESTION = {"bucket": "day", "groupBy": ["source", "context.os"], "metrics": ["events", "occurrences", "last_seen"],
            "orderBy": ["bucket", "source", "context.os"]}


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path) -> Iterator[Seeded]:
    yield from seeded_app(tmp_path_factory, chdb_dir)


def when(value: Any) -> Any:
    """ISO strings and datetimes alike as aware datetimes; anything else unchanged."""
    if isinstance(value, datetime):
        return value
    if isinstance(value, str) and len(value) >= 20 and value[10] == "T":
        return datetime.fromisoformat(value)
    return value


def normalised(rows: list[list[Any]]) -> list[list[Any]]:
    return [[when(value) for value in row] for row in rows]


def test_each_format_reads_back_as_the_json_answer(seeded: Seeded) -> None:
    answer = seeded.query(QUESTION).get_json()
    expected = normalised(answer["rows"])
    assert len(expected) >= 4

    resp = seeded.query(QUESTION, fmt="csv")
    assert resp.status_code == 200 and resp.mimetype == "text/csv"
    assert resp.headers["Content-Disposition"].startswith('attachment; filename="errors-')
    assert resp.headers["Content-Disposition"].endswith('.csv"')
    table = list(csv.reader(io.StringIO(resp.get_data(as_text=True))))
    assert table[0] == answer["columns"]
    typed = [[when(bucket), source, None if os == "\\N" else os, int(events), int(occurrences), when(last)]
             for bucket, source, os, events, occurrences, last in table[1:]]
    assert typed == expected

    resp = seeded.query(QUESTION, fmt="jsonl")
    assert resp.status_code == 200 and resp.mimetype == "application/x-ndjson"
    lines = [json.loads(line) for line in resp.get_data(as_text=True).splitlines()]
    assert [list(line) for line in lines] == [answer["columns"]] * len(lines)
    assert normalised([list(line.values()) for line in lines]) == expected

    resp = seeded.query(QUESTION, fmt="parquet")
    assert resp.status_code == 200 and resp.mimetype == "application/vnd.apache.parquet"
    parquet = pq.read_table(pa.BufferReader(resp.get_data()))
    assert parquet.column_names == answer["columns"]
    assert pa.types.is_timestamp(parquet.schema.field("last_seen").type)
    assert [[row[c] for c in parquet.column_names] for row in parquet.to_pylist()] == expected


def test_an_empty_export_still_has_its_header_or_schema(seeded: Seeded) -> None:
    nothing = {**QUESTION, "filters": [{"field": "source", "value": "Nope"}]}
    assert seeded.query(nothing, fmt="csv").get_data(as_text=True).splitlines() == [
        '"bucket","source","context.os","events","occurrences","last_seen"']
    assert seeded.query(nothing, fmt="jsonl").get_data() == b""
    parquet = pq.read_table(pa.BufferReader(seeded.query(nothing, fmt="parquet").get_data()))
    assert parquet.num_rows == 0 and parquet.column_names[:3] == ["bucket", "source", "context.os"]


def test_export_refusals_are_json_400s_before_any_byte_is_streamed(seeded: Seeded) -> None:
    resp = seeded.query({"since": BASE - 200 * 86400, "until": BASE}, fmt="parquet")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "range_too_large"
    resp = seeded.query({"limit": 1_000_001}, fmt="csv")
    assert resp.status_code == 400 and resp.get_json()["error"]["details"]["bound"] == "ANALYTICS_MAX_EXPORT_ROWS"
    assert seeded.query({}, role="ana", fmt="csv").status_code == 403
    resp = seeded.query({}, fmt="xlsx")
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "validation_error"


def test_exports_are_audited_when_the_stream_ends(seeded: Seeded) -> None:
    _, headers = _admin(seeded)
    seeded.client.post("/api/v1/analytics/query?format=jsonl", json={"limit": 3}, headers=headers).get_data()
    entries = seeded.client.get("/api/v1/analytics/audit?kind=export&limit=1", headers=headers).get_json()["entries"]
    assert entries[0]["outcome"] == "ok" and entries[0]["rows"] == -1
    assert json.loads(entries[0]["query_text"])["format"] == "jsonl"


def _admin(seeded: Seeded) -> tuple[int, dict[str, str]]:
    from tests.integration.test_analytics_query import staff_headers

    return staff_headers(seeded.app, "admin")


MANY = ("SELECT x, concat('row \"', toString(x), '\",\\nnext') AS label, source FROM error_events "
        "ARRAY JOIN range(600) AS x ORDER BY x, source")


@pytest.mark.parametrize("fmt, read", [
    ("CSVWithNames", lambda data: list(csv.reader(io.StringIO(data.decode())))[1:]),
    ("JSONEachRow", lambda data: [list(json.loads(line).values()) for line in data.decode().splitlines()]),
    ("Parquet", lambda data: [list(row.values()) for row in pq.read_table(pa.BufferReader(data)).to_pylist()]),
])
def test_store_stream_joins_many_blocks_into_one_document(seeded: Seeded, fmt: str, read: Callable) -> None:
    store = seeded.app.extensions["services"].analytics
    settings = {"readonly": 2, "max_block_size": 1000, "max_result_rows": 100_000, "result_overflow_mode": "throw"}
    chunks = list(store.stream(MANY, {}, fmt, settings))
    assert len(chunks) > 3  # really streamed block by block
    data = b"".join(chunks)
    if fmt == "CSVWithNames":
        assert data.count(b'"x","label","source"') == 1
    if fmt == "Parquet":
        assert pq.ParquetFile(pa.BufferReader(data)).metadata.num_row_groups == len(chunks) - 1
    rows = read(data)
    assert len(rows) == 600 * 13
    assert [str(cell) for cell in rows[0][:2]] == ["0", 'row "0",\nnext']
    # the shared connection is neither blocked nor left read-only by the stream's settings
    store.command("CREATE TABLE IF NOT EXISTS stream_probe (a UInt8) ENGINE = Memory")
    store.command("DROP TABLE stream_probe")
    assert store.query("SELECT count() FROM error_events")[0][0] == 13


def test_a_stream_does_not_hold_up_other_queries(seeded: Seeded) -> None:
    store = seeded.app.extensions["services"].analytics
    stream = store.stream(MANY, {}, "JSONEachRow", {"max_block_size": 500})
    first = next(stream)
    assert first.startswith(b'{"x":0')
    assert store.query("SELECT count() FROM error_events")[0][0] == 13  # while the stream is open
    stream.close()
    assert store.query("SELECT 1")[0][0] == 1


def test_read_only_bound_refuses_writes_even_past_the_parser(seeded: Seeded) -> None:
    """The second line of defence: ClickHouse's readonly setting, as the console passes it."""
    service = seeded.app.extensions["services"].error_analytics
    settings = service.limits.clickhouse_settings(100)
    from app.storage import StorageError

    with pytest.raises(StorageError, match="READONLY|readonly"):
        list(seeded.app.extensions["services"].analytics.stream(
            "INSERT INTO error_events SELECT * FROM error_events", {}, "JSON", settings))  # JSON: not streamed
    assert seeded.app.extensions["services"].analytics.query("SELECT count() FROM error_events")[0][0] == 13


def test_export_over_a_real_server_streams_parquet_and_csv(api: Api, staff: Callable) -> None:
    tag = uuid.uuid4().hex[:10]
    reporter, admin = api.register("exporter"), staff("admin")
    batch = [{"source": "Audio", "severity": "Critical", "message": f"Engine crash {tag} #{i % 3}",
              "context": {"plugin_version": f"1.{i % 2}", "os": ["macOS", "Windows"][i % 2]}} for i in range(12)]
    assert api.post("/api/v1/errors/batch", reporter, json={"errors": batch}).status_code == 200
    body = {"filters": [{"field": "message", "op": "contains", "value": tag}],
            "groupBy": ["context.plugin_version", "context.os"], "metrics": ["events", "users"]}
    resp = api.post("/api/v1/analytics/query?format=parquet", admin, json=body, stream=True)
    assert resp.status_code == 200, resp.text
    assert resp.headers.get("Transfer-Encoding") == "chunked"
    data = b"".join(resp.iter_content(4096))
    assert sorted(tuple(r.values()) for r in pq.read_table(pa.BufferReader(data)).to_pylist()) == [
        ("1.0", "macOS", 6, 1), ("1.1", "Windows", 6, 1)]
    resp = api.post("/api/v1/analytics/query?format=csv", admin, json=body)
    assert resp.text.splitlines()[0] == '"context.plugin_version","context.os","events","users"'
    assert api.post("/api/v1/analytics/sql", admin, json={"sql": "SELECT 1 AS one"}).json()["rows"] == [[1]]
