"""Sentry ingest in-process on real SQLite + chDB: encodings, keys, limits, item types, grouping, 429s."""
from __future__ import annotations

import gzip
import json
import uuid
import zlib
from dataclasses import dataclass
from typing import Any, Callable

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sentry_sdk.transport import _parse_rate_limits  # the SDK's own parser of X-Sentry-Rate-Limits


@dataclass
class Project:
    """A project made through the real `projects` CLI, and its DSN parts."""

    dsn: str
    key: str
    id: int


def create_project(app: Flask, name: str) -> Project:
    result = app.test_cli_runner().invoke(args=["projects", "create", name])
    assert result.exit_code == 0, result.output
    dsn = result.stdout.strip()
    return Project(dsn, dsn.split("//", 1)[1].split("@", 1)[0], int(dsn.rsplit("/", 1)[1]))


def envelope(*items: tuple[dict[str, Any], bytes], header: dict[str, Any] | None = None) -> bytes:
    parts = [json.dumps(header or {}).encode()]
    for item_header, payload in items:
        parts += [json.dumps(item_header).encode(), payload]
    return b"\n".join(parts) + b"\n"


def event_item(event: dict[str, Any]) -> tuple[dict[str, Any], bytes]:
    payload = json.dumps(event).encode()
    return {"type": "event", "length": len(payload)}, payload


def exception_event(kind: str, value: str, function: str = "checkout", lineno: int = 10, **more: Any) -> dict:
    frames = [{"module": "shop.cart", "function": function, "lineno": lineno, "in_app": True}]
    return {"event_id": uuid.uuid4().hex, "level": "error", "platform": "python",
            "exception": {"values": [{"type": kind, "value": value, "stacktrace": {"frames": frames}}]}, **more}


def auth(key: str) -> dict[str, str]:
    return {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_client=test/1.0, sentry_key={key}"}


def stored(app: Flask, marker: str) -> list[tuple]:
    """(group_id, severity, source, message, project_id) of the stored events whose message has `marker`."""
    return app.extensions["services"].analytics.query(
        "SELECT group_id, severity, source, message, project_id FROM error_events "
        "WHERE position(message, {m:String}) > 0 ORDER BY ts", {"m": marker})


@pytest.fixture
def app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(sentry_rate_limit=8, sentry_max_body_bytes=64 * 1024, sentry_max_envelope_bytes=256 * 1024,
                    sentry_max_event_bytes=32 * 1024)


@pytest.fixture
def client(app: Flask) -> FlaskClient:
    return app.test_client()


@pytest.fixture
def project(app: Flask) -> Project:
    return create_project(app, f"web-{uuid.uuid4().hex[:6]}")


def test_gzip_envelope_with_auth_header_is_stored_and_answers_the_event_id(app: Flask, client: FlaskClient,
                                                                         project: Project) -> None:
    event = exception_event("ValueError", "gzip marker")
    body = gzip.compress(envelope(event_item(event), header={"event_id": event["event_id"]}))
    resp = client.post(f"/api/{project.id}/envelope/", data=body,
                       headers={**auth(project.key), "Content-Encoding": "gzip"})
    assert resp.status_code == 200 and resp.get_json() == {"id": event["event_id"]}
    assert [row[1:] for row in stored(app, "gzip marker")] == [
        ("Error", "python", "ValueError: gzip marker", project.id)]


@pytest.mark.parametrize("encoding, encode", [("deflate", zlib.compress), ("", lambda b: b)])
def test_sentry_key_query_parameter_and_other_encodings(app: Flask, client: FlaskClient, project: Project,
                                                        encoding: str, encode) -> None:  # type: ignore[no-untyped-def]
    marker = f"query key {encoding or 'plain'}"
    resp = client.post(f"/api/{project.id}/store/?sentry_key={project.key}",
                       data=encode(json.dumps({"message": marker, "level": "warning"}).encode()),
                       headers={"Content-Encoding": encoding} if encoding else {})
    assert resp.status_code == 200, resp.get_json()
    assert [row[1:4] for row in stored(app, marker)] == [("Warning", "sentry", marker)]


def test_a_browser_tunnel_envelope_carries_its_key_in_the_dsn_header(app: Flask, client: FlaskClient,
                                                                      project: Project) -> None:
    body = envelope(event_item({"message": "tunnel marker", "platform": "javascript"}), header={"dsn": project.dsn})
    resp = client.post(f"/api/{project.id}/envelope/", data=body, content_type="text/plain;charset=UTF-8")
    assert resp.status_code == 200
    assert [row[2] for row in stored(app, "tunnel marker")] == ["javascript"]


def test_missing_unknown_revoked_and_foreign_keys(app: Flask, client: FlaskClient, project: Project) -> None:
    other = create_project(app, f"api-{uuid.uuid4().hex[:6]}")
    body = envelope(event_item({"message": "never stored"}))
    cases = [({}, 401, "missing_key"), (auth("0" * 32), 401, "unknown_key"), (auth("bad key!"), 401, "unknown_key"),
             (auth(other.key), 403, "wrong_project")]
    revoke = app.test_cli_runner().invoke(args=["projects", "revoke", project.key])
    assert revoke.exit_code == 0 and project.key in revoke.output
    cases.append((auth(project.key), 403, "key_revoked"))
    for headers, status, code in cases:
        resp = client.post(f"/api/{project.id}/envelope/", data=body, headers=headers)
        assert (resp.status_code, resp.get_json()["error"]["code"]) == (status, code), headers
    assert stored(app, "never stored") == []


def test_oversize_bodies_events_and_bombs_are_413(app: Flask, client: FlaskClient, project: Project) -> None:
    big_event = envelope(event_item({"message": "too big " + "x" * 40_000}))
    bomb = gzip.compress(envelope(event_item({"message": "bomb"})) + b"\n" * 1_000_000)
    too_long = envelope(event_item({"message": "y" * 70_000}))
    for body, headers, code in [(big_event, {}, "event_too_large"),
                                (bomb, {"Content-Encoding": "gzip"}, "envelope_too_large"),
                                (too_long, {}, "payload_too_large")]:
        resp = client.post(f"/api/{project.id}/envelope/", data=body, headers={**auth(project.key), **headers})
        assert resp.status_code == 413, resp.get_json()
        assert resp.get_json()["error"]["code"] == code
    assert stored(app, "too big") == stored(app, "bomb") == []


def test_bodies_over_the_api_limit_but_within_sentrys_are_taken(make_app: Callable[..., Flask]) -> None:
    app = make_app(max_body_bytes=16 * 1024)  # the API's own body limit stays in force elsewhere
    project = create_project(app, "big")
    body = envelope(event_item({"message": "big but fine " + "z" * 100_000}))
    resp = app.test_client().post(f"/api/{project.id}/envelope/", data=body, headers=auth(project.key))
    assert resp.status_code == 200
    assert app.test_client().post("/api/v1/auth/login", data=b"x" * 20_000).status_code == 413


def test_other_item_types_are_accepted_and_skipped(app: Flask, client: FlaskClient, project: Project) -> None:
    skipped = [({"type": "session"}, b'{"sid":"s","status":"ok"}'),
               ({"type": "sessions"}, b'{"aggregates":[]}'),
               ({"type": "client_report"}, b'{"discarded_events":[]}'),
               ({"type": "attachment", "length": 4, "filename": "a.txt"}, b"\x00\x01\n\x02"),
               event_item({"type": "transaction", "transaction": "skipped marker", "message": "skipped marker"}),
               ({"type": "transaction"}, b'{"message": "skipped marker"}'),
               ({"type": "something_new"}, b"skipped marker")]
    resp = client.post(f"/api/{project.id}/envelope/", data=envelope(*skipped), headers=auth(project.key))
    assert resp.status_code == 200 and resp.get_json() == {}
    mixed = envelope(*skipped, event_item({"message": "kept marker"}))
    assert client.post(f"/api/{project.id}/envelope/", data=mixed, headers=auth(project.key)).status_code == 200
    assert stored(app, "skipped marker") == [] and len(stored(app, "kept marker")) == 1


def test_a_malformed_event_stores_nothing_of_its_envelope(app: Flask, client: FlaskClient, project: Project) -> None:
    body = envelope(event_item({"message": "first of a bad envelope"}), ({"type": "event"}, b"[1, 2]"))
    resp = client.post(f"/api/{project.id}/envelope/", data=body, headers=auth(project.key))
    assert resp.status_code == 400 and resp.get_json()["error"]["code"] == "malformed_envelope"
    resp = client.post(f"/api/{project.id}/envelope/", data=b"\x00garbage", headers=auth(project.key))
    assert resp.status_code == 400
    assert stored(app, "first of a bad envelope") == []


def test_grouping_by_frames_and_fingerprint(app: Flask, client: FlaskClient, project: Project) -> None:
    events = [exception_event("ValueError", "fp price -3", lineno=10),
              exception_event("ValueError", "fp item 7 missing", lineno=14),
              exception_event("KeyError", "fp basket", lineno=20),
              exception_event("ValueError", "fp gateway a", fingerprint=["payment-timeout"]),
              exception_event("KeyError", "fp gateway b", function="refund", fingerprint=["payment-timeout"]),
              exception_event("ValueError", "fp eu", fingerprint=["{{ default }}", "eu"])]
    resp = client.post(f"/api/{project.id}/envelope/", data=envelope(*map(event_item, events)),
                       headers=auth(project.key))
    assert resp.status_code == 200 and resp.get_json() == {"id": events[0]["event_id"]}
    groups = {row[3].split(": ", 1)[1]: row[0] for row in stored(app, ": fp ")}
    assert groups["fp price -3"] == groups["fp item 7 missing"]
    assert groups["fp gateway a"] == groups["fp gateway b"]
    assert len({groups["fp price -3"], groups["fp basket"], groups["fp gateway a"], groups["fp eu"]}) == 4


def test_events_show_up_in_the_errors_api(app: Flask, client: FlaskClient, project: Project) -> None:
    services = app.extensions["services"]
    support = services.auth.token_for(services.auth.create_user("sup-sentry", "good-pass-123", "support"))
    for n in (91, 97):
        client.post(f"/api/{project.id}/store/", json={"message": f"Disk {n}% full api marker", "level": "info",
                                                       "logger": "disk.monitor"}, headers=auth(project.key))
    listing = client.get("/api/v1/errors", query_string={"q": "api marker"},
                         headers={"Authorization": f"Bearer {support['token']}"}).get_json()
    assert [(g["events"], g["severity"], g["source"]) for g in listing["groups"]] == [(2, "Info", "disk_monitor")]


def test_rate_limit_answers_429_as_sdks_understand(app: Flask, client: FlaskClient, project: Project) -> None:
    session_only = envelope(({"type": "session"}, b"{}"))
    for n in range(8):
        ok = client.post(f"/api/{project.id}/store/", json={"message": f"quota {n}"}, headers=auth(project.key))
        assert ok.status_code == 200
    limited = client.post(f"/api/{project.id}/store/", json={"message": "quota over"}, headers=auth(project.key))
    assert limited.status_code == 429 and limited.get_json()["error"]["code"] == "rate_limited"
    retry_after = limited.headers["Retry-After"]
    assert retry_after.isdigit() and 1 <= int(retry_after) <= 60
    categories = {category for category, _ in _parse_rate_limits(limited.headers["X-Sentry-Rate-Limits"])}
    assert {"error", "default"} <= categories and None not in categories
    assert limited.headers["X-Sentry-Rate-Limits"].endswith(":key")
    assert client.post(f"/api/{project.id}/envelope/", data=session_only, headers=auth(project.key)).status_code == 200
    other = create_project(app, "other-quota")
    assert client.post(f"/api/{other.id}/store/", json={"message": "quota other"},
                       headers=auth(other.key)).status_code == 200
    assert stored(app, "quota over") == []


def test_a_resent_event_is_answered_but_stored_once(app: Flask, client: FlaskClient, project: Project) -> None:
    event = exception_event("KeyError", "resend marker")
    body = envelope(event_item(event), header={"event_id": event["event_id"]})
    for _ in range(3):  # an SDK retrying after timeouts
        resp = client.post(f"/api/{project.id}/envelope/", data=body, headers=auth(project.key))
        assert resp.status_code == 200 and resp.get_json() == {"id": event["event_id"]}
    resent_store = client.post(f"/api/{project.id}/store/", json=event, headers=auth(project.key))
    assert resent_store.get_json() == {"id": event["event_id"]}
    assert len(stored(app, "resend marker")) == 1
    for n in range(7):  # the resends spent none of the 8 a minute
        ok = client.post(f"/api/{project.id}/store/", json={"message": f"after resend {n}"}, headers=auth(project.key))
        assert ok.status_code == 200
    other = create_project(app, f"other-{uuid.uuid4().hex[:6]}")
    client.post(f"/api/{other.id}/envelope/", data=body, headers=auth(other.key))
    assert len(stored(app, "resend marker")) == 2  # the same id in another project is another event


def test_an_event_refused_by_the_quota_is_stored_when_resent(app: Flask, client: FlaskClient,
                                                            project: Project) -> None:
    for n in range(8):
        client.post(f"/api/{project.id}/store/", json={"message": f"fill {n}"}, headers=auth(project.key))
    event = exception_event("OSError", "refused marker")
    refused = client.post(f"/api/{project.id}/store/", json=event, headers=auth(project.key))
    assert refused.status_code == 429 and stored(app, "refused marker") == []
    app.extensions["services"].extra["sentry"]._quota._limit = 0  # the window passed: unlimited now
    again = client.post(f"/api/{project.id}/store/", json=event, headers=auth(project.key))
    assert again.status_code == 200 and len(stored(app, "refused marker")) == 1


def test_browsers_may_post_cross_origin(client: FlaskClient, project: Project) -> None:
    preflight = client.options(f"/api/{project.id}/envelope/", headers={"Origin": "https://shop.example.com",
                                                                        "Access-Control-Request-Method": "POST"})
    assert preflight.status_code == 200
    assert preflight.headers["Access-Control-Allow-Origin"] == "*"
    assert "x-sentry-auth" in preflight.headers["Access-Control-Allow-Headers"].lower()
    assert "X-Sentry-Rate-Limits" in preflight.headers["Access-Control-Expose-Headers"]


def test_cli_checks_names_and_base_urls_before_creating(make_app: Callable[..., Flask]) -> None:
    app = make_app(host="0.0.0.0", port=8123)
    runner = app.test_cli_runner()
    bad_url = runner.invoke(args=["projects", "create", "web", "--base-url", "ftp://x"])
    bad_name = runner.invoke(args=["projects", "create", "no spaces please"])
    assert bad_url.exit_code != 0 and bad_name.exit_code != 0
    assert app.extensions["services"].sentry.projects.projects() == []
    made = runner.invoke(args=["projects", "create", "web"])
    assert made.exit_code == 0 and made.stdout.strip().endswith("@127.0.0.1:8123/1")
    assert "--base-url" in made.stderr  # a wildcard HOST is no address for a DSN: say so
    proxied = runner.invoke(args=["projects", "add-key", "web", "--base-url", "https://u:p@errors.example.com/x/"])
    assert proxied.stdout.strip().startswith("https://") and proxied.stdout.strip().endswith("@errors.example.com/x/1")
    assert "u:p" not in proxied.stdout
    first_key = made.stdout.strip().split("//")[1].split("@")[0]
    assert runner.invoke(args=["projects", "revoke", first_key]).exit_code == 0
    keys = dict(line.split("\t")[:2] for line in runner.invoke(args=["projects", "keys", "web"]).stdout.splitlines())
    assert len(keys) == 2 and keys[first_key].startswith("revoked 20") and list(keys.values()).count("active") == 1
    assert runner.invoke(args=["projects", "list"]).stdout.startswith("1\tweb\t1 active key(s)\tcreated ")
    duplicate = runner.invoke(args=["projects", "create", "web"])
    assert duplicate.exit_code != 0 and "exists" in duplicate.output
    assert runner.invoke(args=["projects", "keys", "nope"]).exit_code != 0
    assert runner.invoke(args=["projects", "revoke", "nope"]).exit_code != 0


def test_the_per_ip_api_budget_does_not_spend_on_sentry_routes(make_app: Callable[..., Flask]) -> None:
    app = make_app(rate_limit_default="2/minute", sentry_rate_limit=0)  # one office IP, many services
    project = create_project(app, "busy")
    client = app.test_client()
    for n in range(5):
        resp = client.post(f"/api/{project.id}/store/", json={"message": f"budget {n}"}, headers=auth(project.key))
        assert resp.status_code == 200, resp.get_json()
        assert "X-RateLimit-Limit" not in resp.headers
    assert 429 in [client.get("/api/v1/errors").status_code for _ in range(3)]  # the budget is live elsewhere
