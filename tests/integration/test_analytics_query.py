"""The structured query API on real chDB data: every filter, dimension, metric, order, window and role.

Events go in through the real ingest API (plain users' batches) plus a few rows written straight to
the store for the columns the ingest API leaves empty (release, environment, platform, project).
"""
from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

from app.tracking.ingest import EVENT_COLUMNS, event_row

HOUR = 3600
DAY = 86400
# Midnight three days ago: events lie in BASE + [0, 31 h), all older than a day, on two calendar days.
BASE = (int(time.time()) // DAY) * DAY - 3 * DAY
SINCE, UNTIL = BASE - HOUR, BASE + 40 * HOUR

# (reporter, source, severity, message, context, minutes after BASE, occurrences)
EVENTS: list[tuple[str, str, str, str, dict, int, int]] = [
    ("ana", "Audio", "Critical", "Audio engine crashed",
     {"plugin_version": "2.1.0", "os": "macOS", "audio": {"driver": "CoreAudio", "buffer": 256}}, 10, 3),
    ("ana", "Audio", "Critical", "Audio engine crashed",
     {"plugin_version": "2.1.0", "os": "Windows", "audio": {"driver": "ASIO", "buffer": 512}}, 70, 1),
    ("ana", "Network", "Error", "Upload rate limit exceeded",
     {"endpoint": "/api/upload", "http_status": 429, "retries": 3}, 20, 5),
    ("ana", "Network", "Error", "Upload rate limit exceeded",
     {"endpoint": "/api/upload", "http_status": 429, "retries": 1}, 25, 2),
    ("ben", "Audio", "Critical", "Audio engine crashed",
     {"plugin_version": "2.2.0", "os": "macOS", "audio": {"driver": "CoreAudio", "buffer": 128}}, 130, 2),
    ("ben", "Network", "Warning", "Request timed out at 50% of budget_used",
     {"endpoint": "/api/feed", "http_status": 504, "retries": 0, "flaky": True}, 15, 1),
    ("ben", "UI", "Info", "Button 100%_clicked twice", {"screen": "mixer"}, 40, 1),
    ("ben", "UI", "Info", "Button 1000 clicked twice", {"screen": "mixer"}, 41, 1),
    ("ben", "Network", "Error", "Server error",
     {"endpoint": "/api/feed", "http_status": "500", "retries": 2}, 200, 1),
    ("cay", "UI", "Warning", "Layout overflow", {}, 26 * 60, 4),
    ("cay", "Audio", "Error", "Buffer underrun", {"plugin_version": "2.1.0", "os": "Linux", "latency_ms": 12.5},
     30 * 60, 1),
]
# Written straight to the store: the columns the ingest API does not fill.
STORED = [dict(source="Audio", severity="Error", message="DSP overload", minutes=5 * 60, release="3.0.1",
               environment="beta", platform="macos", project_id=7, exception_type="DspOverload"),
          dict(source="Audio", severity="Error", message="DSP overload", minutes=6 * 60, release="3.0.2",
               environment="production", platform="windows", project_id=7, exception_type="DspOverload")]


@dataclass
class Seeded:
    """One app with the events above, and a signed-in account per role."""

    app: Flask
    client: FlaskClient
    headers: dict[str, dict[str, str]]
    user_ids: dict[str, int] = field(default_factory=dict)

    def query(self, body: dict[str, Any], role: str = "support", fmt: str | None = None) -> Any:
        """POST /api/v1/analytics/query over the seeded window, unless the body says otherwise."""
        url = "/api/v1/analytics/query" + (f"?format={fmt}" if fmt else "")
        return self.client.post(url, json={"since": SINCE, "until": UNTIL, **body}, headers=self.headers[role])

    def rows(self, body: dict[str, Any]) -> list[list[Any]]:
        """The rows of a query that must succeed."""
        resp = self.query(body)
        assert resp.status_code == 200, resp.get_json()
        return resp.get_json()["rows"]


def build_app(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path, **overrides: Any) -> Flask:
    """An in-process app on its own SQLite file and ClickHouse database, rate limits off."""
    from app import create_app

    app = create_app({"data_dir": tmp_path_factory.mktemp("analytics"),
                      "clickhouse_url": f"chdb:///{chdb_dir}?database=a_{uuid.uuid4().hex[:12]}",
                      "secret_key": "analytics-secret-" + "z" * 40, "rate_limit_enabled": False, **overrides})
    app.testing = True
    return app


def staff_headers(app: Flask, role: str) -> tuple[int, dict[str, str]]:
    """An account of `role` made by the same service the CLI uses, and its bearer header."""
    auth = app.extensions["services"].auth
    user = auth.create_user(f"{role}-{uuid.uuid4().hex[:8]}", "staff-pass-123", role)
    return user.id, {"Authorization": f"Bearer {auth.token_for(user)['token']}"}


def seeded_app(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path, **overrides: Any) -> Iterator[Seeded]:
    """A module's seeded app (settings overridden as given), shut down after its tests."""
    app = build_app(tmp_path_factory, chdb_dir, **overrides)
    yield seed(app)
    app.extensions["services"].begin_shutdown()
    app.extensions["services"].close()


def seed(app: Flask) -> Seeded:
    """Register the reporters, send their batches through the API, store the extra rows."""
    client = app.test_client()
    seeded = Seeded(app, client, {})
    for name in sorted({event[0] for event in EVENTS}):
        resp = client.post("/api/v1/auth/register", json={"username": f"{name}-{uuid.uuid4().hex[:6]}",
                                                         "password": "good-pass-1"})
        assert resp.status_code == 201, resp.get_json()
        seeded.user_ids[name] = resp.get_json()["user"]["id"]
        seeded.headers[name] = {"Authorization": f"Bearer {resp.get_json()['token']}"}
        batch = [{"source": e[1], "severity": e[2], "message": e[3], "context": e[4],
                  "timestamp": BASE + e[5] * 60, "occurrences": e[6]} for e in EVENTS if e[0] == name]
        resp = client.post("/api/v1/errors/batch", json={"errors": batch}, headers=seeded.headers[name])
        assert resp.status_code == 200 and resp.get_json()["accepted"] == len(batch), resp.get_json()
    rows = [event_row(group_id="dsp0000000000000", user_id=seeded.user_ids["cay"], context={"dsp": i},
                      ts=datetime.fromtimestamp(BASE + r.pop("minutes") * 60, timezone.utc),
                      received_at=datetime.now(timezone.utc), **r) for i, r in enumerate(dict(s) for s in STORED)]
    app.extensions["services"].analytics.insert("error_events", rows, EVENT_COLUMNS)
    for role in ("support", "admin"):
        seeded.user_ids[role], seeded.headers[role] = staff_headers(app, role)
    return seeded


@pytest.fixture(scope="module")
def seeded(tmp_path_factory: pytest.TempPathFactory, chdb_dir: Path) -> Iterator[Seeded]:
    yield from seeded_app(tmp_path_factory, chdb_dir)


def by_first(rows: list[list[Any]]) -> dict[Any, list[Any]]:
    """Rows keyed by their first column."""
    return {row[0]: row[1:] for row in rows}


def test_totals_without_group_by_sum_occurrences_and_count_events(seeded: Seeded) -> None:
    body = seeded.query({"metrics": ["events", "occurrences", "users", "first_seen", "last_seen"]}).get_json()
    assert body["columns"] == ["events", "occurrences", "users", "first_seen", "last_seen"]
    assert body["rows"] == [[13, 24, 3, iso(BASE + 10 * 60), iso(BASE + 30 * 3600)]]
    assert body["stats"] == {"rows": 1, "elapsed_ms": body["stats"]["elapsed_ms"], "truncated": False}
    assert body["window"] == {"since": iso(SINCE), "until": iso(UNTIL)}


def iso(seconds: int) -> str:
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


@pytest.mark.parametrize("condition, events", [
    ({"field": "source", "value": "Network"}, 4),
    ({"field": "source", "op": "!=", "value": "Network"}, 9),
    ({"field": "source", "op": "in", "value": ["UI", "Audio"]}, 9),
    ({"field": "severity", "value": "critical"}, 3),  # any letter case, like ingest
    ({"field": "severity", "op": "in", "value": ["warning", "Info"]}, 4),
    ({"field": "message", "op": "contains", "value": "ENGINE"}, 3),  # case-insensitive
    ({"field": "message", "op": "contains", "value": "100%_"}, 1),  # % and _ are literal
    ({"field": "message", "op": "contains", "value": "50% of budget_used"}, 1),
    ({"field": "message", "value": "Server error"}, 1),
    ({"field": "release", "value": "3.0.1"}, 1),
    ({"field": "environment", "op": "in", "value": ["beta", "production"]}, 2),
    ({"field": "platform", "value": "windows"}, 1),
    ({"field": "exception_type", "value": "DspOverload"}, 2),
    ({"field": "project_id", "value": 7}, 2),
    ({"field": "project_id", "op": "<", "value": 7}, 11),
    ({"field": "group_id", "value": "dsp0000000000000"}, 2),
])
def test_each_column_filter(seeded: Seeded, condition: dict, events: int) -> None:
    assert seeded.rows({"filters": [condition], "metrics": ["events"]}) == [[events]]


@pytest.mark.parametrize("condition, events", [
    ({"field": "context.http_status", "value": 429}, 2),
    ({"field": "context.http_status", "value": 500}, 1),  # stored as the string "500"
    ({"field": "context.http_status", "value": "500"}, 1),
    ({"field": "context.http_status", "op": "!=", "value": 429}, 2),  # events without the key never match
    ({"field": "context.http_status", "op": ">=", "value": 500}, 2),
    ({"field": "context.http_status", "op": ">", "value": 500}, 1),
    ({"field": "context.retries", "op": "<", "value": 2}, 2),
    ({"field": "context.retries", "op": "<=", "value": 2}, 3),
    ({"field": "context.retries", "op": "in", "value": [0, 3]}, 2),
    ({"field": "context.latency_ms", "op": ">", "value": 12.25}, 1),
    ({"field": "context.flaky", "value": True}, 1),
    ({"field": "context.endpoint", "op": "contains", "value": "UPLOAD"}, 2),
    ({"field": "context.os", "op": "in", "value": ["macOS", "Linux"]}, 3),
    ({"field": "context.audio.driver", "value": "CoreAudio"}, 2),
    ({"field": "context.audio.buffer", "op": ">", "value": 200}, 2),
    ({"field": "context.plugin_version", "op": "exists"}, 4),
    ({"field": "context.plugin_version", "op": "exists", "value": False}, 9),
])
def test_each_context_filter(seeded: Seeded, condition: dict, events: int) -> None:
    assert seeded.rows({"filters": [condition], "metrics": ["events"]}) == [[events]]


def test_filters_combine_and_support_can_answer_the_crash_question(seeded: Seeded) -> None:
    rows = seeded.rows({"filters": [{"field": "source", "value": "Audio"}, {"field": "severity", "value": "Critical"}],
                        "groupBy": ["context.plugin_version", "context.os"],
                        "metrics": ["events", "occurrences", "users"],
                        "orderBy": [{"field": "occurrences", "direction": "desc"}]})
    assert rows == [["2.1.0", "macOS", 1, 3, 1], ["2.2.0", "macOS", 1, 2, 1], ["2.1.0", "Windows", 1, 1, 1]]


@pytest.mark.parametrize("dimension, expected", [
    ("source", {"Audio": [6, 9], "Network": [4, 9], "UI": [3, 6]}),
    ("severity", {"Critical": [3, 6], "Error": [6, 11], "Warning": [2, 5], "Info": [2, 2]}),
    ("release", {"": [11, 22], "3.0.1": [1, 1], "3.0.2": [1, 1]}),
    ("environment", {"": [11, 22], "beta": [1, 1], "production": [1, 1]}),
    ("platform", {"": [11, 22], "macos": [1, 1], "windows": [1, 1]}),
    ("project_id", {0: [11, 22], 7: [2, 2]}),
    ("exception_type", {"": [11, 22], "DspOverload": [2, 2]}),
    ("context.endpoint", {"/api/upload": [2, 7], "/api/feed": [2, 2], None: [9, 15]}),
    ("context.audio.driver", {"CoreAudio": [2, 5], "ASIO": [1, 1], None: [10, 18]}),
    ("context.http_status", {"429": [2, 7], "504": [1, 1], "500": [1, 1], None: [9, 15]}),
])
def test_each_dimension(seeded: Seeded, dimension: str, expected: dict) -> None:
    rows = seeded.rows({"groupBy": [dimension], "metrics": ["events", "occurrences"]})
    assert by_first(rows) == expected


def test_group_by_message_group_and_user(seeded: Seeded) -> None:
    messages = by_first(seeded.rows({"groupBy": ["message"], "metrics": ["occurrences"]}))
    assert messages["Audio engine crashed"] == [6] and messages["Upload rate limit exceeded"] == [7]
    groups = seeded.rows({"groupBy": ["group_id", "message"], "metrics": ["events"]})
    assert len(groups) == len(messages)  # one group per distinct message here
    ids = {row[1]: row[0] for row in groups}
    crash = ids["Audio engine crashed"]
    only = seeded.rows({"filters": [{"field": "group_id", "value": crash}], "metrics": ["events"]})
    assert only == [[3]]
    users = by_first(seeded.rows({"groupBy": ["user_id"], "metrics": ["events", "users"]}))
    assert users[seeded.user_ids["ana"]] == [4, 1] and users[seeded.user_ids["cay"]] == [4, 1]
    mine = seeded.rows({"filters": [{"field": "user_id", "value": seeded.user_ids["ben"]}], "metrics": ["events"]})
    assert mine == [[5]]


def test_typed_context_dimension_sorts_numbers_as_numbers(seeded: Seeded) -> None:
    rows = seeded.rows({"groupBy": [{"field": "context.retries", "type": "int"}], "metrics": ["events"],
                        "filters": [{"field": "context.retries", "op": "exists"}], "orderBy": ["context.retries"]})
    assert rows == [[0, 1], [1, 1], [2, 1], [3, 1]]
    crossed = seeded.rows({"groupBy": [{"field": "context.retries", "type": "int"}, "context.http_status"],
                           "filters": [{"field": "context.http_status", "value": 429}],
                           "metrics": ["occurrences"], "orderBy": ["-occurrences"]})
    assert crossed == [[3, "429", 5], [1, "429", 2]]


@pytest.mark.parametrize("bucket, size", [("minute", 60), ("hour", HOUR), ("day", DAY)])
def test_time_buckets(seeded: Seeded, bucket: str, size: int) -> None:
    body = seeded.query({"bucket": bucket, "metrics": ["events"], "limit": 100}).get_json()
    assert body["columns"] == ["bucket", "events"]
    expected: dict[str, int] = {}
    for minutes in [e[5] for e in EVENTS] + [s["minutes"] for s in STORED]:
        start = (BASE + minutes * 60) // size * size
        expected[iso(start)] = expected.get(iso(start), 0) + 1
    assert body["rows"] == sorted([k, v] for k, v in expected.items())  # oldest bucket first by default


def test_bucket_with_a_dimension_and_order_and_limit(seeded: Seeded) -> None:
    body = seeded.query({"bucket": "day", "groupBy": ["source"], "metrics": ["occurrences", "events"],
                         "orderBy": [{"field": "occurrences", "direction": "asc"}, "source"], "limit": 2}).get_json()
    assert body["rows"] == [[iso(BASE + DAY), "Audio", 1, 1], [iso(BASE), "UI", 2, 2]]
    assert body["stats"]["truncated"] is True and body["stats"]["rows"] == 2


def test_window_bounds_are_half_open_and_accept_iso_and_unix_seconds(seeded: Seeded) -> None:
    first = BASE + 10 * 60
    assert seeded.rows({"since": first, "until": first + 1, "metrics": ["events"]}) == [[1]]
    assert seeded.rows({"since": first + 1, "until": iso(BASE + 15 * 60), "metrics": ["events"]}) == [[0]]
    assert seeded.rows({"since": iso(BASE + 26 * HOUR)[:19], "until": str(UNTIL), "metrics": ["events"]}) == [[2]]


def test_default_window_is_the_last_day(seeded: Seeded) -> None:
    resp = seeded.client.post("/api/v1/analytics/query", json={"metrics": ["events"]}, headers=seeded.headers["admin"])
    body = resp.get_json()
    assert body["rows"] == [[0]]  # the newest seeded event is older than a day
    span = (datetime.fromisoformat(body["window"]["until"]) - datetime.fromisoformat(body["window"]["since"]))
    assert span.total_seconds() == DAY


@pytest.mark.parametrize("body, code", [
    ({"since": BASE - 91 * DAY, "until": BASE}, "range_too_large"),
    ({"since": UNTIL, "until": SINCE}, "invalid_range"),
    ({"since": "last tuesday"}, "validation_error"),
    ({"limit": 10_001}, "too_many_rows"),
    ({"limit": 0}, "validation_error"),
    ({"filters": [{"field": "tags", "value": "x"}]}, "validation_error"),
    ({"filters": [{"field": "context.a b", "value": "x"}]}, "validation_error"),
    ({"filters": [{"field": "context.a.b.c.d.e.f", "value": "x"}]}, "validation_error"),
    ({"filters": [{"field": "user_id", "value": "12"}]}, "validation_error"),
    ({"filters": [{"field": "user_id", "op": "contains", "value": "1"}]}, "validation_error"),
    ({"filters": [{"field": "context.n", "op": "in", "value": [1, "a"]}]}, "validation_error"),
    ({"filters": [{"field": "source", "op": "exists"}]}, "validation_error"),
    ({"groupBy": ["source", "source"]}, "validation_error"),
    ({"orderBy": ["users"]}, "validation_error"),
    ({"metrics": ["count"]}, "validation_error"),
    ({"sql": "SELECT 1"}, "validation_error"),
])
def test_bad_queries_are_400_naming_the_problem(seeded: Seeded, body: dict, code: str) -> None:
    resp = seeded.query(body)
    assert resp.status_code == 400, resp.get_json()
    assert resp.get_json()["error"]["code"] == code
    if code in ("range_too_large", "too_many_rows"):
        assert resp.get_json()["error"]["details"]["bound"].startswith("ANALYTICS_MAX_")


def test_hostile_strings_are_values_not_sql(seeded: Seeded) -> None:
    hostile = "x' OR 1=1 --"
    assert seeded.rows({"filters": [{"field": "source", "value": hostile}], "metrics": ["events"]}) == [[0]]
    injection = "'); DROP TABLE error_events; --"
    assert seeded.rows({"filters": [{"field": "context.os", "op": "contains", "value": injection}],
                        "metrics": ["events"]}) == [[0]]
    rows = seeded.rows({"groupBy": ["context.x-y_Z"], "metrics": ["events"]})
    assert rows == [[None, 13]]
    assert seeded.rows({"metrics": ["events"]}) == [[13]]


def test_roles(seeded: Seeded) -> None:
    assert seeded.query({}, role="ana").status_code == 403
    assert seeded.query({}, role="support").status_code == 200
    assert seeded.query({}, role="admin").status_code == 200
    resp = seeded.client.post("/api/v1/analytics/query", json={})
    assert resp.status_code == 401 and resp.get_json()["error"]["code"] == "invalid_token"
