"""Schemathesis against the live OpenAPI document: no 5xx, responses match their schemas, statuses documented.

A bounded, seeded run (a few examples per operation) that fits in CI; `bench/fuzz_api.py` is the long run.
"""
from __future__ import annotations

import json
from pathlib import Path

import requests

from tests.reliability.api_fuzzing import prepare_target, run_schemathesis
from tests.reliability.servers import server_log_problems
from tests.support.server import ServerProcess

MAX_EXAMPLES = 8
SEED = 20261126


def test_openapi_fuzzing_finds_no_server_error_or_schema_mismatch(own_server: ServerProcess,
                                                                  tmp_path: Path) -> None:
    target = prepare_target(own_server)
    run = run_schemathesis(target, tmp_path / "st", max_examples=MAX_EXAMPLES, seed=SEED, timeout=400)
    assert run.returncode == 0, run.output[-8000:]
    assert run.failed_checks == [] and run.server_errors == 0, run.output[-8000:]
    assert run.operations >= 30 and run.cases >= 500, (run.operations, run.cases)
    assert requests.get(f"{own_server.url}/readyz", timeout=10).status_code == 200
    assert server_log_problems(own_server.log_path) == []


def test_a_broken_document_is_caught(own_server: ServerProcess, tmp_path: Path) -> None:
    """The harness can fail: against a schema that promises the wrong status, the run reports it."""
    target = prepare_target(own_server)
    workdir = tmp_path / "st"
    workdir.mkdir()
    real = requests.get(f"{own_server.url}/api/v1/openapi.json", timeout=10).json()
    me = real["paths"]["/api/v1/auth/me"]["get"]
    me["responses"] = {"418": me["responses"]["200"]}
    broken = {**real, "paths": {"/api/v1/auth/me": {"get": me}}}
    (workdir / "openapi.json").write_text(json.dumps(broken))
    run = run_schemathesis(target, workdir, max_examples=2, seed=SEED, phases="fuzzing", timeout=200,
                           schema=workdir / "openapi.json")
    assert run.returncode != 0
    assert any("status_code_conformance" in failure for failure in run.failed_checks), run.output[-4000:]
