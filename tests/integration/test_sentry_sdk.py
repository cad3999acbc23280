"""The real sentry-sdk against a real server: projects made by the real CLI, events grouped in /api/v1/errors.

The SDK keeps a process-global client, so each SDK run is a subprocess of its own.
"""
from __future__ import annotations

import json
import subprocess
import sys
import textwrap
import uuid
from pathlib import Path
from typing import Any, Iterator

import pytest
import requests

from tests.support.api import Account, Api, unique_name
from tests.support.server import ROOT, ServerProcess
from tests.support.services import cli_create_user, data_dir_env

SDK_SCRIPT = textwrap.dedent('''
    import json, sys
    import sentry_sdk

    dsn, token, fp_token = sys.argv[1:4]
    sentry_sdk.init(dsn=dsn, release="shop@1.2.3", environment="staging", max_breadcrumbs=50)
    sentry_sdk.set_tag("feature", "checkout")
    sentry_sdk.set_user({"id": "u-42", "username": "ada", "email": "ada@example.com", "ip_address": "203.0.113.9"})
    for n in range(30):
        sentry_sdk.add_breadcrumb(category="ui.click", message=f"click {n}")

    def checkout(kind, attempt, marker):
        if kind == "value" and attempt == 1:
            raise ValueError(f"price {marker} is negative: -3")
        if kind == "value":
            raise ValueError(f"price {marker} missing for item {attempt}")
        if attempt == 1:
            raise KeyError(f"cart {marker} {attempt}")
        raise KeyError(f"basket {marker} empty")

    def capture(kind, attempt, marker=token):
        try:
            checkout(kind, attempt, marker)
        except Exception:
            return sentry_sdk.capture_exception()

    ids = [capture(kind, attempt) for kind in ("value", "key") for attempt in (1, 2)]
    ids += [sentry_sdk.capture_message(f"Disk {pct}% full on {token}") for pct in (91, 97)]
    with sentry_sdk.new_scope() as scope:  # same function and frames, but one group by fingerprint
        scope.fingerprint = ["payment-gateway-timeout"]
        ids += [capture("value", 2, fp_token), capture("key", 1, fp_token)]
    sentry_sdk.flush(timeout=30)
    print(json.dumps(ids))
''')

SELF_REPORT_SCRIPT = textwrap.dedent('''
    import json, sys
    from app import create_app

    data_dir, token = sys.argv[1:3]
    app = create_app({"data_dir": data_dir, "secret_key": "self-report-" + "z" * 40})
    client = app.test_client()

    # A route of this script (not of the product) that fails the way a bug would.
    @app.get("/checkout/<int:basket>")
    def failing_view(basket):
        raise RuntimeError(f"self-report {token} basket {basket}")

    failed = client.get("/checkout/7")
    # The injected fault: this app's own Sentry ingest crashes; that crash must not be reported.
    services = app.extensions["services"]
    own = services.sentry.projects.create("own")
    def broken_store(rows):
        raise RuntimeError(f"ingest-loop {token}")
    services.tracking.ingest.sink.store = broken_store
    crashed = client.post(f"/api/{own.project_id}/store/?sentry_key={own.public_key}", json={"message": "x"})
    import sentry_sdk
    sentry_sdk.flush(timeout=30)
    print(json.dumps({"failed": [failed.status_code, failed.get_json()],
                      "crashed": [crashed.status_code, crashed.get_json()]}))
    services.close()
''')


def run_cli(server: ServerProcess, *args: str) -> subprocess.CompletedProcess:
    """`flask --app wsgi projects ...` against the server's data, with its HOST and PORT."""
    env = data_dir_env(server.data_dir, HOST="127.0.0.1", PORT=str(server.port))
    return subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "projects", *args], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def run_python(script: str, *args: str, env: dict[str, str] | None = None) -> Any:
    result = subprocess.run([sys.executable, "-c", script, *args], cwd=ROOT, env=env, capture_output=True,
                            text=True, timeout=180)
    assert result.returncode == 0, result.stderr[-3000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


@pytest.fixture(scope="module")
def sentry_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    proc = ServerProcess(tmp_path_factory.mktemp("sentry-server"),
                         env={"SECRET_KEY": "sentry-srv-" + "s" * 40, "SENTRY_RATE_LIMIT": "100"})
    proc.start()
    yield proc
    proc.stop()


@pytest.fixture(scope="module")
def http(sentry_server: ServerProcess) -> Api:
    return Api(sentry_server.url)


@pytest.fixture(scope="module")
def support(sentry_server: ServerProcess, http: Api) -> Account:
    name = unique_name("sentrysupport")
    cli_create_user(data_dir_env(sentry_server.data_dir), name, "staff-pass-123", "support")
    return http.login(name, "staff-pass-123")


@pytest.fixture(scope="module")
def dsn(sentry_server: ServerProcess) -> str:
    result = run_cli(sentry_server, "create", "shop-backend")
    assert result.returncode == 0, result.stderr
    assert "created project shop-backend" in result.stderr
    return result.stdout.strip()


@pytest.fixture(scope="module")
def sdk_run(dsn: str) -> dict[str, Any]:
    token, fp_token = f"tok{uuid.uuid4().hex[:8]}", f"fp{uuid.uuid4().hex[:8]}"
    return {"token": token, "fp_token": fp_token, "ids": run_python(SDK_SCRIPT, dsn, token, fp_token)}


def groups(http: Api, account: Account, q: str) -> dict[str, dict]:
    resp = http.get("/api/v1/errors", account, params={"q": q, "limit": 100})
    assert resp.status_code == 200, resp.text
    return {g["message"].split(" ", 1)[0]: g for g in resp.json()["groups"]}


def test_the_dsn_points_at_the_server(dsn: str, sentry_server: ServerProcess) -> None:
    scheme, rest = dsn.split("://")
    key, where = rest.split("@")
    assert scheme == "http" and len(key) == 32
    assert where.startswith(f"127.0.0.1:{sentry_server.port}/") and where.rsplit("/", 1)[1].isdigit()


def test_sdk_exceptions_group_by_type_and_frames_messages_by_text(http: Api, support: Account,
                                                                  sdk_run: dict) -> None:
    assert len(sdk_run["ids"]) == 8 and all(isinstance(i, str) and len(i) == 32 for i in sdk_run["ids"])
    found = groups(http, support, sdk_run["token"])
    assert set(found) == {"ValueError:", "KeyError:", "Disk"}, found
    assert [found[k]["events"] for k in ("ValueError:", "KeyError:", "Disk")] == [2, 2, 2]
    assert (found["ValueError:"]["severity"], found["ValueError:"]["source"]) == ("Error", "python")
    assert (found["Disk"]["severity"], found["Disk"]["source"]) == ("Info", "python")


def test_a_fingerprint_from_the_sdk_overrides_grouping(http: Api, support: Account, sdk_run: dict) -> None:
    found = groups(http, support, sdk_run["fp_token"])
    assert len(found) == 1 and next(iter(found.values()))["events"] == 2, found
    detail = _detail(http, support, sdk_run["fp_token"], next(iter(found)))
    assert {e["message"].split(":")[0] for e in detail["recent_events"]} == {"ValueError", "KeyError"}


def _detail(http: Api, account: Account, token: str, prefix: str) -> dict:
    group = groups(http, account, token)[prefix]
    resp = http.get(f"/api/v1/errors/{group['id']}", account)
    assert resp.status_code == 200, resp.text
    return resp.json()


def test_events_keep_the_stack_tags_and_environment_without_personal_data(http: Api, support: Account,
                                                                           sdk_run: dict) -> None:
    detail = _detail(http, support, sdk_run["token"], "ValueError:")
    event = detail["recent_events"][0]
    assert event["event_id"].replace("-", "") in sdk_run["ids"]
    assert (event["platform"], event["release"], event["environment"]) == ("python", "shop@1.2.3", "staging")
    context = event["context"]
    frames = context["exception"][-1]["frames"]
    assert frames[-1]["function"] == "checkout" and isinstance(frames[-1]["lineno"], int)
    assert all("vars" not in f for f in frames)
    assert context["tags"]["feature"] == "checkout"
    assert context["user"] == {"id": "u-42", "username": "ada"}
    assert context["sentry"]["sdk"]["name"].startswith("sentry.python")
    assert context["contexts"]["runtime"]["name"] == "CPython"
    assert len(context["breadcrumbs"]) == 20 and context["breadcrumbs"][-1]["message"] == "click 29"
    assert "ada@example.com" not in json.dumps(context) and "203.0.113.9" not in json.dumps(context)


def test_keys_are_added_and_revoked_through_the_cli_while_the_server_runs(sentry_server: ServerProcess,
                                                                         dsn: str) -> None:
    project_id, first_key = dsn.rsplit("/", 1)[1], dsn.split("//")[1].split("@")[0]
    added = run_cli(sentry_server, "add-key", "shop-backend", "--base-url", "https://errors.example.com/ingest/")
    assert added.returncode == 0, added.stderr
    second_key = added.stdout.strip().split("//")[1].split("@")[0]
    assert added.stdout.strip() == f"https://{second_key}@errors.example.com/ingest/{project_id}"
    url = f"{sentry_server.url}/api/{project_id}/store/"

    def send(key: str) -> requests.Response:
        return requests.post(url, params={"sentry_key": key}, json={"message": "key check"}, timeout=30)

    assert send(second_key).status_code == 200
    revoked_cli = run_cli(sentry_server, "revoke", second_key)
    assert revoked_cli.returncode == 0 and f"revoked key {second_key} of project shop-backend" in revoked_cli.stdout
    revoked, unknown, first = send(second_key), send("f" * 32), send(first_key)
    assert (revoked.status_code, revoked.json()["error"]["code"]) == (403, "key_revoked")
    assert (unknown.status_code, unknown.json()["error"]["code"]) == (401, "unknown_key")
    assert first.status_code == 200 and len(first.json()["id"]) == 32


def test_the_server_reports_its_own_unhandled_errors_but_not_its_ingests(
        sentry_server: ServerProcess, http: Api, support: Account, tmp_path: Path) -> None:
    created = run_cli(sentry_server, "create", "platform-itself")
    assert created.returncode == 0, created.stderr
    token = f"self{uuid.uuid4().hex[:8]}"
    env = data_dir_env(tmp_path / "reporter", SENTRY_DSN=created.stdout.strip())
    outcome = run_python(SELF_REPORT_SCRIPT, str(tmp_path / "reporter"), token, env=env)
    assert outcome["failed"] == [500, {"error": {"code": "internal_error",
                                                 "message": "The server failed to handle this request."}}]
    assert outcome["crashed"][0] == 500
    reported = http.get("/api/v1/errors", support, params={"q": token}).json()["groups"]
    # Only the view's error: the crash inside the ingest was not reported (it could loop).
    assert [g["message"] for g in reported] == [f"RuntimeError: self-report {token} basket 7"]
    group = reported[0]
    assert (group["severity"], group["source"]) == ("Error", "app_errors")
    context = http.get(f"/api/v1/errors/{group['id']}", support).json()["recent_events"][0]["context"]
    assert context["request"]["url"].endswith("/checkout/7")
    assert context["exception"][-1]["frames"][-1]["function"] == "failing_view"
