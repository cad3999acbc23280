"""Dashboard callbacks over real data in chDB: events ingested through the API, callbacks over HTTP."""
from __future__ import annotations

import json
import time
from datetime import datetime, timedelta, timezone
from typing import Any, Callable, Iterator

import pytest
from flask import Flask
from flask.testing import FlaskClient

ORIGIN = {"Origin": "http://localhost"}
STAFF_PASSWORD = "support-pass-123"


class DashClient:
    """Calls the dashboard's Dash callbacks the way the browser does: POST _dash-update-component."""

    def __init__(self, app: Flask, client: FlaskClient, headers: dict[str, str]) -> None:
        self.dash = app.extensions["dashboard"]
        self.client = client
        self.headers = headers

    def call(self, name: str, *values: Any, changed: int = 0) -> Any:
        """Run the callback whose function is `name` with its inputs then states; return its outputs.

        `changed` is the index of the input that triggered the call.
        """
        key, spec = next((k, cb) for k, cb in self.dash.callback_map.items() if cb["callback"].__name__ == name)
        deps = [(d, "input") for d in spec["inputs"]] + [(d, "state") for d in spec["state"]]
        assert len(values) == len(deps), f"{name} takes {len(deps)} values"
        items = [{"id": json.loads(d["id"]) if d["id"].startswith("{") else d["id"], "property": d["property"],
                  "value": v} for (d, _), v in zip(deps, values, strict=True)]
        outs = spec["output"]
        multi = isinstance(outs, (list, tuple))
        outputs = [{"id": o.component_id, "property": o.component_property} for o in (outs if multi else [outs])]
        n_inputs = len(spec["inputs"])
        body = {"output": key, "outputs": outputs if multi else outputs[0], "inputs": items[:n_inputs],
                "state": items[n_inputs:],
                "changedPropIds": [f"{spec['inputs'][changed]['id']}.{spec['inputs'][changed]['property']}"]}
        resp = self.client.post("/dashboard/_dash-update-component", json=body, headers=self.headers)
        assert resp.status_code == 200, resp.get_data(as_text=True)[:500]
        answer = resp.get_json()["response"]
        found = [answer[_id_key(o["id"])][o["property"]] for o in outputs]
        return found if multi else found[0]


def _id_key(component_id: Any) -> str:
    if isinstance(component_id, dict):
        return json.dumps(component_id, sort_keys=True, separators=(",", ":"))
    return component_id


def walk(node: Any) -> Iterator[dict]:
    """Every component (as JSON) in a callback's output."""
    if isinstance(node, dict):
        if "type" in node and "props" in node:
            yield node
            yield from walk(node["props"].get("children"))
        else:
            for value in node.values():
                yield from walk(value)
    elif isinstance(node, list):
        for item in node:
            yield from walk(item)


def figures(node: Any) -> list[dict]:
    """The plotly figures of the dcc.Graph components in an output."""
    return [c["props"]["figure"] for c in walk(node) if c["type"] == "Graph"]


def text(node: Any) -> str:
    """All the text in an output, joined."""
    parts: list[str] = []

    def collect(value: Any) -> None:
        if isinstance(value, str):
            parts.append(value)
        elif isinstance(value, (int, float)):
            parts.append(str(value))
        elif isinstance(value, list):
            for item in value:
                collect(item)
        elif isinstance(value, dict) and "props" in value:
            collect(value["props"].get("children"))

    collect(node)
    return " ".join(parts)


def traces(figure: dict) -> dict[str, float]:
    """Each trace's name and the sum of its y values."""
    return {t["name"]: sum(y for y in t["y"] if y is not None) for t in figure["data"]}


@pytest.fixture
def dash_app(make_app: Callable[..., Flask]) -> Flask:
    return make_app(request_metrics_pause_ms=20)


@pytest.fixture
def staff(dash_app: Flask) -> dict[str, Any]:
    """A support account signed in to the dashboard through the login form (cookie session)."""
    auth = dash_app.extensions["services"].auth
    user = auth.create_user("support1", STAFF_PASSWORD, "support")
    client = dash_app.test_client()
    page = client.get("/dashboard/login").get_data(as_text=True)
    token = page.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]
    resp = client.post("/dashboard/login", data={"username": "support1", "password": STAFF_PASSWORD,
                                                 "csrf_token": token, "next": "/dashboard/"})
    assert resp.status_code == 303, resp.get_data(as_text=True)
    return {"user": user, "dash": DashClient(dash_app, client, ORIGIN),
            "bearer": {"Authorization": f"Bearer {auth.token_for(user)['token']}"}}


def ingest(app: Flask, items: list[dict]) -> None:
    """Report errors through the real API as a plain user."""
    client = app.test_client()
    resp = client.post("/api/v1/auth/register", json={"username": f"plugin{time.monotonic_ns()}",
                                                      "password": "plugin-pass-1"})
    token = resp.get_json()["token"]
    resp = client.post("/api/v1/errors/batch", json={"errors": items}, headers={"Authorization": f"Bearer {token}"})
    assert resp.status_code == 200 and resp.get_json()["accepted"] == len(items), resp.get_data(as_text=True)


def _ago(minutes: float) -> int:
    return int((datetime.now(timezone.utc) - timedelta(minutes=minutes)).timestamp())


SAMPLE = [
    {"source": "Network", "severity": "Error", "message": "Upload failed with status 503", "occurrences": 4,
     "context": {"endpoint": "/api/upload", "retries": 3}, "timestamp": _ago(3)},
    {"source": "Network", "severity": "Error", "message": "Upload failed with status 502", "occurrences": 1,
     "timestamp": _ago(2)},
    {"source": "Audio", "severity": "Critical", "message": "Audio device 7 disappeared", "occurrences": 2,
     "timestamp": _ago(5)},
    {"source": "UI", "severity": "Warning", "message": "Slow render of panel 'mixer'", "timestamp": _ago(90)},
]


def test_error_trends_and_groups_come_from_ingested_events(dash_app: Flask, staff: dict) -> None:
    ingest(dash_app, [{**item, "timestamp": _ago(3)} for item in SAMPLE[:3]] + SAMPLE[3:])
    dash = staff["dash"]
    by_severity, by_source = dash.call("update_trends", "24h", 0, None, None, None, "")
    assert traces(figures(by_severity)[0]) == {"Error": 5, "Critical": 2, "Warning": 1}
    assert traces(figures(by_source)[0]) == {"Network": 5, "Audio": 2, "UI": 1}
    # 15 minutes reads the raw events per minute: the 90-minute-old warning is outside.
    by_severity, _ = dash.call("update_trends", "15m", 0, None, None, None, "")
    assert traces(figures(by_severity)[0]) == {"Error": 5, "Critical": 2}
    table, sources = dash.call("update_groups", "24h", 0, None, None, None, "", "occurrences", ["on"])
    shown = text(table)
    assert "Upload failed with status 503" in shown and "Audio device 7 disappeared" in shown
    assert shown.index("Upload failed") < shown.index("Audio device")  # most occurrences first
    assert "unresolved" in shown and {"Network", "Audio", "UI"} <= set(sources)
    windows = users_windows(table)
    assert len(windows) == 3 and shown.count("…") == 3  # each row counts its users in a callback of its own
    assert {gid: users_cell(dash, gid, window) for gid, window in windows.items()} == dict.fromkeys(windows, "1")
    # 30 days reads whole days from the daily rollup and the ragged hours from the hourly one.
    table, _ = dash.call("update_groups", "30d", 0, None, None, None, "", "occurrences", ["on"])
    assert text(table) == shown and set(users_windows(table)) == set(windows)
    table, _ = dash.call("update_groups", "15m", 0, None, None, None, "", "occurrences", ["on"])
    assert not users_windows(table) and "…" not in text(table)  # short ranges count users in the same read
    by_severity, _ = dash.call("update_trends", "30d", 0, None, None, None, "upload")  # many-group path
    assert traces(figures(by_severity)[0]) == {"Error": 5}


def users_windows(table: Any) -> dict[str, dict]:
    """The rows waiting for their user count: group id -> the window their callback counts over."""
    return {c["props"]["id"]["gid"]: c["props"]["data"] for c in walk(table)
            if isinstance(c["props"].get("id"), dict) and c["props"]["id"].get("type") == "group-users-window"}


def users_cell(dash: DashClient, group_id: str, window: dict) -> str:
    """Run one row's users callback, as the browser does once the row appears; the text it shows."""
    key = next(k for k, cb in dash.dash.callback_map.items() if cb["callback"].__name__ == "update_group_users")
    body = {"output": key, "outputs": {"id": {"type": "group-users", "gid": group_id}, "property": "children"},
            "inputs": [{"id": {"type": "group-users-window", "gid": group_id}, "property": "data", "value": window}],
            "state": [], "changedPropIds": [json.dumps({"gid": group_id, "type": "group-users-window"},
                                                       separators=(",", ":")) + ".data"]}
    resp = dash.client.post("/dashboard/_dash-update-component", json=body, headers=dash.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)[:300]
    return next(iter(resp.get_json()["response"].values()))["children"]


def test_error_filters_and_empty_states(dash_app: Flask, staff: dict) -> None:
    dash = staff["dash"]
    charts = dash.call("update_trends", "15m", 0, None, None, None, "")
    assert text(charts[0]) == "No error events in the last 15 minutes."
    ingest(dash_app, SAMPLE[:3])
    table, _ = dash.call("update_groups", "1h", 0, "Critical", None, None, "", "occurrences", [])
    assert "Audio device" in text(table) and "Upload failed" not in text(table)
    table, _ = dash.call("update_groups", "1h", 0, None, None, None, "upload", "occurrences", [])
    assert "Upload failed" in text(table) and "Audio device" not in text(table)
    by_severity, _ = dash.call("update_trends", "1h", 0, None, "Audio", None, "")
    assert traces(figures(by_severity)[0]) == {"Critical": 2}
    table, _ = dash.call("update_groups", "1h", 0, None, None, "resolved", "", "occurrences", [])
    assert text(table) == "No error events matching these filters in the last hour."
    words = ("alpha", "beta", "gamma", "delta", "epsilon", "zeta", "eta")  # more groups than are read raw
    ingest(dash_app, [{"source": "Storage", "severity": "Warning", "message": f"Disk {w} is full",
                       "occurrences": 2, "timestamp": _ago(30)} for w in words])
    for range_key in ("15m", "7d", "30d"):
        by_severity, by_source = dash.call("update_trends", range_key, 0, None, None, None, "disk")
        if range_key == "15m":
            assert "No error events matching these filters" in text(by_severity)
            continue
        assert traces(figures(by_severity)[0]) == {"Warning": 14}, range_key
        assert traces(figures(by_source)[0]) == {"Storage": 14}, range_key
    by_severity, _ = dash.call("update_trends", "30d", 0, "Error", None, None, "disk")
    assert "No error events matching these filters" in text(by_severity)


def test_group_page_and_resolve_button(dash_app: Flask, staff: dict) -> None:
    ingest(dash_app, SAMPLE[:1])
    client = staff["dash"].client
    group_id = client.get("/api/v1/errors", headers=staff["bearer"]).get_json()["groups"][0]["id"]
    header, chart, events = staff["dash"].call("update_group", "24h", 0, 0, group_id)
    assert "Upload failed with status 503" in text(header) and "unresolved" in text(header)
    windows = users_windows(header)  # the header's user count comes in the users callback too
    assert list(windows) == [group_id] and users_cell(staff["dash"], group_id, windows[group_id]) == "1"
    assert traces(figures(chart)[0]) == {"Error": 4}
    assert '"retries": 3' in text(events)
    notice, version = staff["dash"].call("change_status", 1, 0, 0, group_id, 0)
    assert text(notice) == "Resolved." and version == 1
    api = client.get(f"/api/v1/errors/{group_id}", headers=staff["bearer"]).get_json()
    assert api["status"] == "resolved"
    header, _, _ = staff["dash"].call("update_group", "24h", 0, 1, group_id)
    assert "resolved" in text(header).split()
    staff["dash"].call("change_status", 1, 0, 1, group_id, 1, changed=2)  # Reopen: the third button
    assert client.get(f"/api/v1/errors/{group_id}", headers=staff["bearer"]).get_json()["status"] == "unresolved"
    header, chart, _ = staff["dash"].call("update_group", "24h", 0, 0, "0123456789abcdef")
    assert "Unknown group" in text(header)


def test_overview_reads_request_metrics_by_url_rule(dash_app: Flask, staff: dict) -> None:
    client = dash_app.test_client()
    for _ in range(3):
        assert client.get("/api/v1/errors/00000000000000aa", headers=staff["bearer"]).status_code == 404
    assert client.get("/no/such/path").status_code == 404
    deadline = time.monotonic() + 15
    while True:
        routes = staff["dash"].call("update_routes", "15m", 0)
        if "(unmatched)" in text(routes) or time.monotonic() > deadline:  # the last request made
            break
        time.sleep(0.1)
    shown = text(routes)
    assert "/api/v1/errors/<group_id>" in shown and "00000000000000aa" not in shown and "(unmatched)" in shown
    kpis, rate, latency = staff["dash"].call("update_traffic", "15m", 0)
    assert "requests" in text(kpis)
    assert set(traces(figures(rate)[0])) == {"requests/s", "5xx/s"}
    assert set(traces(figures(latency)[0])) == {"p50", "p95"}
    assert "/api/v1/errors/<group_id>" in text(staff["dash"].call("update_routes", "7d", 0))  # hourly rollup
    health = text(staff["dash"].call("update_health", 0))
    assert "SQL" in health and "ClickHouse" in health and "down" not in health


def test_rate_limit_and_collaboration_pages_read_their_tables(dash_app: Flask, staff: dict) -> None:
    dash = staff["dash"]
    assert "No rate-limited requests in the last 6 hours." in text(dash.call("update_hits", "6h", 0))
    assert "No document operations in the last 6 hours." in text(dash.call("update_activity", "6h", 0))
    now = datetime.now(timezone.utc)
    analytics = dash_app.extensions["services"].analytics
    analytics.insert("rate_limit_hits", [
        (now - timedelta(minutes=m), "auth", "/api/v1/auth/login", "POST", "ip", "a" * 64) for m in range(6)
    ] + [(now, "errors_batch", "/api/v1/errors/batch", "POST", "user", "b" * 64)],
        ["ts", "limit_name", "route", "method", "key_kind", "key_hash"])
    by_limit, by_route = dash.call("update_hits", "6h", 0)
    assert traces(figures(by_limit)[0]) == {"auth": 6, "errors_batch": 1}
    assert traces(figures(by_route)[0]) == {"/api/v1/auth/login": 6, "/api/v1/errors/batch": 1}
    kpis, keys = dash.call("update_totals", "6h", 0), dash.call("update_keys", "6h", 0)
    assert text(kpis).split()[:3] == ["7", "limited", "requests"] and ("a" * 16) in text(keys)
    by_limit, _ = dash.call("update_hits", "24h", 0)  # the hourly rollup
    assert traces(figures(by_limit)[0]) == {"auth": 6, "errors_batch": 1}
    assert ("b" * 16) in text(dash.call("update_keys", "30d", 0))
    analytics.insert("operation_metrics", [  # one bucket: half transformed, one rejected
        (now, "channel:1:lyrics", 7, 1, n, n % 2, int(n == 3), "invalid_operation" if n == 3 else "", 2.5)
        for n in range(10)
    ], ["ts", "document_id", "user_id", "client_id", "revision", "transformed_over", "rejected", "reason", "apply_ms"])
    rate, conflicts, latency = dash.call("update_activity", "6h", 0)
    assert traces(figures(rate)[0])["operations/s"] == pytest.approx(10 / 600)
    assert traces(figures(conflicts)[0])["conflict rate"] == pytest.approx(0.5)
    kpis, reasons = dash.call("update_summary", "6h", 0)
    assert "50.0%" in text(kpis).split() and "editors" in text(kpis)
    bars = figures(reasons)[0]["data"][0]
    assert bars["y"] == ["invalid_operation"] and bars["x"] == [1]
    kpis, reasons = dash.call("update_summary", "7d", 0)  # the hourly rollup
    assert "50.0%" in text(kpis).split() and figures(reasons)[0]["data"][0]["y"] == ["invalid_operation"]


def test_url_state_round_trips(dash_app: Flask, staff: dict) -> None:
    page = staff["dash"].call("page_for", "/dashboard/errors", "?range=7d&severity=Error&q=upload&bogus=1")
    values = {json.dumps(c["props"]["id"], sort_keys=True): c["props"].get("value")
              for c in walk(page) if isinstance(c["props"].get("id"), dict)}
    assert values['{"key": "range", "type": "url-state"}'] == "7d"
    assert values['{"key": "severity", "type": "url-state"}'] == "Error"
    assert values['{"key": "q", "type": "url-state"}'] == "upload"
    nav = staff["dash"].call("nav_links", "/dashboard/errors", "?range=7d&severity=Error")
    assert nav[1] == "/dashboard/errors?range=7d" and nav[5] == "nav-link active"
    assert "No such page" in text(staff["dash"].call("page_for", "/dashboard/nowhere", ""))


def test_controls_write_the_url(dash_app: Flask, staff: dict) -> None:
    dash = staff["dash"]
    key = next(k for k, cb in dash.dash.callback_map.items() if cb["callback"].__name__ == "url_search")
    controls = [("range", "6h"), ("refresh", []), ("severity", "Critical"), ("q", "  disk full "),
                ("sort", "occurrences")]
    inputs = [[{"id": {"type": "url-state", "key": k}, "property": "value", "value": v} for k, v in controls]]
    body = {"output": key, "outputs": {"id": "url", "property": "search"}, "inputs": inputs, "state": [],
            "changedPropIds": ['{"key":"range","type":"url-state"}.value']}
    resp = dash.client.post("/dashboard/_dash-update-component", json=body, headers=dash.headers)
    assert resp.status_code == 200, resp.get_data(as_text=True)
    assert resp.get_json()["response"]["url"]["search"] == "?range=6h&refresh=off&severity=Critical&q=disk+full"


class _Broken:
    """A fault injected on purpose: a hub or query service that fails on every call."""

    def __getattr__(self, name: str) -> Callable[..., Any]:
        def fail(*_args: Any, **_kwargs: Any) -> Any:
            from app.storage import StorageError

            raise StorageError("injected failure")

        return fail


def test_missing_hub_and_failing_store_leave_the_page_standing(dash_app: Flask, staff: dict) -> None:
    extra = dash_app.extensions["services"].extra
    extra.pop("hub", None)
    assert "hub is not running in this process" in text(staff["dash"].call("update_health", 0))
    extra["hub"] = _Broken()
    assert "did not report its metrics" in text(staff["dash"].call("update_health", 0))
    extra["ops_metrics"] = _Broken()
    panels = staff["dash"].call("update_hits", "1h", 0)
    assert all("not answering right now" in text(panel) for panel in panels)
