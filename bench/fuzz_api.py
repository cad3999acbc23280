"""The long schemathesis run against a real server: every operation, many examples, all phases.

Prints operations, test cases, the statuses seen, failed checks and 5xx count, and whether the
server stayed healthy (ready afterwards, no unhandled error, no worker restart in its log).
Usage: python -m bench.fuzz_api [--max-examples 300] [--max-time 1800] [--seed 1] [--workers 2]
"""
from __future__ import annotations

import argparse
import tempfile
from pathlib import Path

import requests

from tests.reliability.api_fuzzing import prepare_target, run_schemathesis
from tests.reliability.servers import server_log_problems
from tests.support.server import GENEROUS_LIMITS, ServerProcess


def main() -> None:
    """Start a server, fuzz it, print the figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--max-examples", type=int, default=300, help="test cases per operation and phase")
    parser.add_argument("--max-time", type=int, default=0, help="seconds; fuzzing repeats until spent (0: off)")
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", type=Path, default=None, help="folder for the server data and the report")
    args = parser.parse_args()
    workdir = args.keep or Path(tempfile.mkdtemp(prefix="fuzz-api-"))
    server = ServerProcess(workdir / "server", env=dict(GENEROUS_LIMITS)).start()
    try:
        target = prepare_target(server)
        run = run_schemathesis(target, workdir / "st", max_examples=args.max_examples, seed=args.seed,
                               max_time=args.max_time or None, workers=args.workers, timeout=6 * 3600)
        ready = requests.get(f"{server.url}/readyz", timeout=10).status_code
        problems = server_log_problems(server.log_path)
    finally:
        server.stop()
    print(run.output[-3000:])
    print(f"seed {args.seed}, max examples {args.max_examples}, workers {args.workers}")
    print(f"operations {run.operations}, test cases {run.cases}, wall {run.seconds:.0f} s "
          f"({run.cases / max(run.seconds, 1e-9):.0f} cases/s)")
    print("statuses: " + ", ".join(f"{code}: {n}" for code, n in sorted(run.statuses.items())))
    print(f"5xx responses: {run.server_errors}; failed checks: {len(run.failed_checks)}")
    for failure in sorted(set(run.failed_checks)):
        print(f"  {failure}")
    print(f"server after the run: /readyz {ready}; log problems: {len(problems)}")
    for line in problems[:20]:
        print(f"  {line}")
    print(f"report: {workdir / 'st' / 'events.ndjson'}")
    verdict = run.returncode == 0 and run.server_errors == 0 and ready == 200 and not problems
    print("verdict: " + ("PASS" if verdict else "FAIL"))


if __name__ == "__main__":
    main()
