"""A Sentry event as an `error_events` row: severity, source, message, time, tags and a private context."""
import json
import uuid
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from app.sentry.auth import key_from_dsn, key_from_request, parse_auth_header
from app.sentry.normalise import Origin, message, severity, source, tags, timestamp, to_row
from app.tracking.ingest import EVENT_COLUMNS

NOW = datetime(2026, 6, 1, 12, 0, tzinfo=timezone.utc)
ORIGIN = Origin(project_id=7, project_name="web", received=NOW, retention_days=90)


@pytest.mark.parametrize("level, expected", [
    ("debug", "Info"), ("info", "Info"), ("warning", "Warning"), ("WARN", "Warning"), ("error", "Error"),
    ("fatal", "Critical"), ("critical", "Critical"), (None, "Error"), ("bogus", "Error"),
])
def test_levels_map_to_severities(level: Any, expected: str) -> None:
    assert severity(level) == expected


@pytest.mark.parametrize("event, expected", [
    ({"logger": "app.errors", "platform": "python"}, "app_errors"),
    ({"platform": "javascript"}, "javascript"),
    ({"logger": "...", "platform": "node"}, "node"),
    ({"logger": "my.very.long.logger.name.for.billing.invoices"}, "logger_name_for_billing_invoices"),
    ({"logger": "ünïcode/läuft"}, "n_code_l_uft"),
    ({}, "sentry"),
])
def test_source_is_logger_else_platform_within_the_contract(event: dict, expected: str) -> None:
    got = source(event)
    assert got == expected
    assert 1 <= len(got) <= 32 and all(c.isascii() and (c.isalnum() or c in "_-") for c in got)


def test_messages() -> None:
    chain = {"exception": {"values": [{"type": "KeyError", "value": "k"}, {"type": "ValueError", "value": "bad"}]}}
    assert message(chain) == "ValueError: bad"
    assert message({"exception": {"values": [{"type": "Boom"}]}}) == "Boom"
    assert message({"logentry": {"message": "user %s failed %d times", "params": ["ada", 3]}}) == \
        "user ada failed 3 times"
    assert message({"logentry": {"message": "100% %s", "params": ["broken"]}}) == "100% %s"
    assert message({"logentry": {"formatted": "done", "message": "%s"}}) == "done"
    assert message({"message": "plain"}) == "plain"
    assert message({"message": {"message": "old style"}}) == "old style"
    assert message({}) == "(no message)"
    assert len(message({"message": "x" * 10_000})) == 4096


def test_timestamps_are_kept_unless_missing_future_or_expired() -> None:
    assert timestamp("2026-06-01T11:59:00.5Z", ORIGIN) == NOW - timedelta(seconds=59.5)
    assert timestamp((NOW - timedelta(hours=1)).timestamp(), ORIGIN) == NOW - timedelta(hours=1)
    for bad in (None, "yesterday", True, (NOW + timedelta(days=1)).isoformat(), "1999-01-01T00:00:00Z", 1e20):
        assert timestamp(bad, ORIGIN) == NOW


def test_tags_from_a_mapping_or_pairs_as_strings() -> None:
    assert tags({"tags": {"a": 1, "b": None, "c": "x" * 300}}) == {"a": "1", "c": "x" * 200}
    assert tags({"tags": [["a", "b"], ["bad"], "junk", ["n", 2]]}) == {"a": "b", "n": "2"}
    assert len(tags({"tags": {str(i): i for i in range(100)}})) == 50


def test_row_keeps_the_sdk_event_id_and_a_private_trimmed_context() -> None:
    frames = [{"module": "shop", "function": f"f{i}", "lineno": i, "in_app": True, "vars": {"password": "pw"},
               "context_line": "    charge(card)  ", "pre_context": ["secret"]} for i in range(60)]
    event = {
        "event_id": "ab" * 16, "level": "fatal", "platform": "Python", "release": "1.0", "environment": "prod",
        "tags": {"region": "eu"}, "exception": {"values": [{"type": "ValueError", "value": "bad", "stacktrace":
                                                             {"frames": frames}}]},
        "user": {"id": "42", "username": "ada", "email": "ada@example.com", "ip_address": "203.0.113.9"},
        "request": {"url": "https://shop.example.com/pay", "method": "POST", "data": {"card": "4111"},
                    "headers": {"Cookie": "session=s", "Authorization": "Bearer t", "User-Agent": "UA"}},
        "contexts": {"os": {"name": "Linux"}, "runtime": {"name": "CPython"}, "trace": {"trace_id": "t"}},
        "sdk": {"name": "sentry.python", "version": "2.0", "integrations": ["x"]},
        "breadcrumbs": {"values": [{"message": f"crumb {i}", "category": "ui"} for i in range(30)]},
        "extra": {"anything": "else"},
    }
    event_id, row = to_row(event, ORIGIN)
    values = dict(zip(EVENT_COLUMNS, row))
    assert event_id == "ab" * 16 and values["event_id"] == uuid.UUID("ab" * 16)
    assert (values["project_id"], values["user_id"], values["severity"]) == (7, 0, "Critical")
    assert (values["platform"], values["release"], values["environment"]) == ("python", "1.0", "prod")
    assert (values["exception_type"], values["exception_value"]) == ("ValueError", "bad")
    assert values["tags"] == {"region": "eu"} and values["message"] == "ValueError: bad"
    context = json.loads(values["context"])
    text = values["context"]
    for private in ("pw", "secret", "ada@example.com", "203.0.113.9", "session=s", "Bearer t", "4111", "anything"):
        assert private not in text
    frames_kept = context["exception"][0]["frames"]
    assert len(frames_kept) == 50 and context["exception"][0]["frames_omitted"] == 10
    assert frames_kept[-1] == {"module": "shop", "function": "f59", "lineno": 59, "in_app": True,
                               "context_line": "charge(card)"}
    assert context["user"] == {"id": "42", "username": "ada"}
    assert context["request"] == {"url": "https://shop.example.com/pay", "method": "POST",
                                  "headers": {"User-Agent": "UA"}}
    assert set(context["contexts"]) == {"os", "runtime"}
    assert context["sentry"]["sdk"] == {"name": "sentry.python", "version": "2.0"}
    assert [c["message"] for c in context["breadcrumbs"]] == [f"crumb {i}" for i in range(10, 30)]
    assert context["tags"] == {"region": "eu"} and context["sentry"]["project"] == "web"


def test_a_missing_event_id_falls_back_to_the_envelope_then_a_new_one() -> None:
    assert to_row({"message": "m"}, ORIGIN, "cd" * 16)[0] == "cd" * 16
    fresh = to_row({"message": "m", "event_id": "not-an-id"}, ORIGIN)[0]
    assert len(fresh) == 32 and fresh != "cd" * 16


def test_the_key_comes_from_the_auth_header_query_or_dsn() -> None:
    header = "Sentry sentry_version=7, sentry_client=sentry.python/2.0, sentry_key=abc123"
    assert parse_auth_header(header)["sentry_key"] == "abc123"
    assert parse_auth_header("Bearer abc") == {}
    assert key_from_request({"X-Sentry-Auth": header}, {}) == "abc123"
    assert key_from_request({"Authorization": "Sentry sentry_key=k2"}, {"sentry_key": "k3"}) == "k2"
    assert key_from_request({}, {"sentry_key": "k3"}) == "k3"
    assert key_from_request({"Authorization": "Bearer jwt"}, {}) is None
    assert key_from_dsn("https://pub@o1.example.com/42") == "pub"
    assert key_from_dsn(None) is None and key_from_dsn("nonsense") is None
