"""Schemathesis against a real server's `/api/v1/openapi.json`, shared by the CI test and bench/fuzz_api.py.

The run signs in as a real admin (made through the CLI), sends a real Sentry key for the ingest
routes (and that project's id as their path parameter), and applies three checks: no 5xx, every
response matches its documented schema, every status is documented.
"""
from __future__ import annotations

import collections
import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.api import Api, unique_name
from tests.support.server import ROOT, ServerProcess
from tests.support.services import cli_create_user, data_dir_env

CHECKS = ("not_a_server_error", "response_schema_conformance", "status_code_conformance")
HOOKS = ROOT / "tests" / "reliability" / "schemathesis_hooks.py"
ST = Path(sys.executable).with_name("st")
_METHODS = {"GET", "POST", "PUT", "PATCH", "DELETE"}


@dataclass(frozen=True)
class FuzzTarget:
    """A running server and the credentials the fuzzer sends."""

    server: ServerProcess
    admin_token: str
    sentry_project_id: int
    sentry_key: str


@dataclass
class FuzzRun:
    """What one schemathesis run did: exit code, output, cases, failed checks, statuses seen."""

    returncode: int
    output: str
    seconds: float
    operations: int = 0
    cases: int = 0
    failed_checks: list[str] = field(default_factory=list)
    statuses: collections.Counter = field(default_factory=collections.Counter)

    @property
    def server_errors(self) -> int:
        """Responses with a 5xx status."""
        return sum(n for status, n in self.statuses.items() if status >= 500)


def prepare_target(server: ServerProcess) -> FuzzTarget:
    """An admin account and a Sentry project (with its key) on `server`, both through the real CLI."""
    name, password = unique_name("fuzzadmin"), "staff-pass-123"
    cli_create_user(data_dir_env(server.data_dir), name, password, "admin")
    token = Api(server.url).login(name, password).token
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "projects", "create",
                             unique_name("fuzzproject")], cwd=ROOT, env=data_dir_env(server.data_dir),
                            capture_output=True, text=True, timeout=120, check=True)
    dsn = result.stdout.strip().splitlines()[-1]  # http://<key>@host:port/<project id>
    key = dsn.split("://", 1)[1].split("@", 1)[0]
    return FuzzTarget(server, token, int(dsn.rsplit("/", 1)[1]), key)


def write_config(target: FuzzTarget, workdir: Path) -> Path:
    """A schemathesis.toml: the headers, and the real project id on the Sentry ingest routes."""
    path = workdir / "schemathesis.toml"
    path.write_text("\n".join([
        "[headers]",
        f'Authorization = "Bearer {target.admin_token}"',
        f'X-Sentry-Auth = "Sentry sentry_key={target.sentry_key}, sentry_version=7"',
        "",
        "[[operations]]",
        'include-path-regex = "^/api/\\\\{project_id\\\\}/"',
        f"parameters = {{ project_id = {target.sentry_project_id} }}",
        "",
    ]))
    return path


def run_schemathesis(target: FuzzTarget, workdir: Path, *, max_examples: int, seed: int,
                     max_time: int | None = None, phases: str = "examples,coverage,fuzzing,stateful",
                     workers: int = 1, timeout: float = 3600, schema: Path | None = None) -> FuzzRun:
    """Run `st run` against the target (its live document, or `schema` from a file) and read its report."""
    workdir.mkdir(parents=True, exist_ok=True)
    config = write_config(target, workdir)
    report = workdir / "events.ndjson"
    location = [str(schema), "--url", target.server.url] if schema else [f"{target.server.url}/api/v1/openapi.json"]
    args = [str(ST), "--config-file", str(config), "run", *location,
            "--checks", ",".join(CHECKS), "--max-examples", str(max_examples), "--seed", str(seed),
            "--phases", phases, "--workers", str(workers), "--no-color", "--request-timeout", "30",
            "--suppress-health-check", "all", "--generation-database", "none",
            "--report", "ndjson", "--report-ndjson-path", str(report)]
    if max_time:
        args += ["--max-time", str(max_time)]
    env = {**os.environ, "SCHEMATHESIS_HOOKS": str(HOOKS), "PYTHONPATH": str(ROOT)}
    started = time.monotonic()
    proc = subprocess.run(args, cwd=workdir, env=env, capture_output=True, text=True, timeout=timeout)
    run = FuzzRun(proc.returncode, proc.stdout + proc.stderr, time.monotonic() - started)
    if report.exists():
        read_report(report, run)
    return run


def read_report(report: Path, run: FuzzRun) -> None:
    """Count operations, cases, failed checks and response statuses from the NDJSON events."""
    labels: set[str] = set()
    with report.open() as lines:
        for line in lines:
            event = json.loads(line).get("ScenarioFinished")
            if not event:
                continue
            recorder = event["recorder"]
            if recorder["label"].split(" ", 1)[0] in _METHODS:  # not the stateful phase's scenarios
                labels.add(recorder["label"])
            run.cases += len(recorder.get("cases", {}))
            for checks in recorder.get("checks", {}).values():
                run.failed_checks += [f"{recorder['label']}: {c['name']}" for c in checks
                                      if c["status"] == "failure"]
            for interaction in recorder.get("interactions", {}).values():
                response = interaction.get("response") or {}
                if "status_code" in response:
                    run.statuses[response["status_code"]] += 1
    run.operations = len(labels)
