"""Sentry envelope ingest over HTTP against a real server: envelopes/s accepted and events stored.

Clients post gzip envelopes of one ~2 KB Python exception each (the shape sentry-sdk sends),
as the Bugsink figure in /work/shared/measurements.md was taken (8 concurrent clients). A 200
here means stored, so events/s stored equals envelopes/s accepted; the script checks that.
Usage: python -m bench.sentry_ingest [--seconds 15] [--clients 8]
"""
from __future__ import annotations

import argparse
import gzip
import http.client
import json
import multiprocessing as mp
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections import Counter
from pathlib import Path

from bench.ingest import _pct, run_processes, staff_token
from tests.support.server import GENEROUS_LIMITS, ROOT, ServerProcess
from tests.support.services import data_dir_env

BUGSINK = "Bugsink 2.6 (measurements.md, not re-run): 193 envelopes/s accepted, p99 70 ms; 49 events/s stored"


def make_envelope(n: int) -> bytes:
    """One event envelope like sentry-sdk's: an exception with frames, breadcrumbs, contexts, tags."""
    frames = [{"filename": f"shop/{name}.py", "abs_path": f"/srv/shop/{name}.py", "function": name,
               "module": f"shop.{name}", "lineno": 10 + i, "in_app": True, "context_line": f"    {name}(order)",
               "pre_context": ["", "def handler(order):"], "post_context": ["", ""], "vars": {"order": "'o-1'"}}
              for i, name in enumerate(("views", "checkout", "payment"))]
    event = {"event_id": uuid.uuid4().hex, "level": "error", "platform": "python", "release": "shop@1.0",
             "environment": "production", "server_name": "web-1", "timestamp": time.time(),
             "exception": {"values": [{"type": ("ValueError", "KeyError", "TimeoutError")[n % 3],
                                       "value": f"order {n} failed", "stacktrace": {"frames": frames},
                                       "mechanism": {"type": "generic", "handled": True}}]},
             "tags": {"region": "eu", "feature": "checkout"}, "user": {"id": str(n % 100)},
             "contexts": {"runtime": {"name": "CPython", "version": "3.11.7"}, "os": {"name": "Linux"}},
             "breadcrumbs": {"values": [{"category": "http", "message": f"GET /api/items/{i}",
                                         "timestamp": time.time()} for i in range(8)]},
             "sdk": {"name": "sentry.python", "version": "2.75.0"}}
    payload = json.dumps(event).encode()
    body = b"\n".join([json.dumps({"event_id": event["event_id"]}).encode(),
                       json.dumps({"type": "event", "length": len(payload)}).encode(), payload])
    return gzip.compress(body)


def make_batch(n: int) -> bytes:
    """The plugin API's equivalent: a one-item batch with a similar context, for the same-run baseline."""
    item = {"source": "Network", "severity": "Error", "message": f"order {n} failed",
            "context": {"frames": ["shop.views:views", "shop.checkout:checkout", "shop.payment:payment"],
                        "region": "eu", "release": "shop@1.0"}}
    return json.dumps({"errors": [item]}).encode()


def _client(port: int, target: tuple[str, dict[str, str]], deadline: float, threads: int, out: "mp.Queue") -> None:
    results: list[tuple[float, int]] = []
    lock = threading.Lock()
    path, headers = target

    def run(offset: int) -> None:
        make = make_envelope if "envelope" in path else make_batch
        bodies = [make(offset + i) for i in range(16)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        local, n = [], 0
        while time.time() < deadline:
            start = time.perf_counter()
            conn.request("POST", path, body=bodies[n % len(bodies)], headers=headers)
            resp = conn.getresponse()
            resp.read()
            local.append((time.perf_counter() - start, resp.status))
            n += 1
        with lock:
            results.extend(local)

    workers = [threading.Thread(target=run, args=(i * 1000,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(results)


def create_project(server: ServerProcess) -> tuple[str, str]:
    """A project through the real CLI: (project id, public key)."""
    result = subprocess.run([sys.executable, "-m", "flask", "--app", "wsgi", "projects", "create", "bench"],
                            cwd=ROOT, env=data_dir_env(server.data_dir, PORT=str(server.port)),
                            capture_output=True, text=True, check=True)
    dsn = result.stdout.strip()
    return dsn.rsplit("/", 1)[1], dsn.split("//", 1)[1].split("@", 1)[0]


def stored_events(server: ServerProcess, token: str) -> int:
    """Events the server has stored, read back through the errors API."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    conn.request("GET", "/api/v1/errors/stats?hours=1", headers={"Authorization": f"Bearer {token}"})
    return int(json.loads(conn.getresponse().read())["events"])


def drive(server: ServerProcess, target: tuple[str, dict[str, str]], clients: int,
          seconds: float) -> tuple[str, int]:
    """Post from `clients` connections for `seconds`; one line of figures and the number accepted."""
    procs_n = min(2, clients)
    deadline = time.time() + seconds
    results, wall = run_processes(_client, (server.port, target, deadline, clients // procs_n), procs_n)
    ok = sum(1 for _, status in results if status == 200)
    refused = Counter(status for _, status in results if status != 200)
    latencies = sorted(r[0] * 1000 for r in results)
    return (f"{ok:>7} accepted {ok / wall:>7,.0f}/s  p50 {_pct(latencies, 50):>6.1f} ms  "
            f"p99 {_pct(latencies, 99):>7.1f} ms  refused {dict(refused) or 0}"), ok


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--baseline-first", action="store_true")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-sentry-"))
    server = ServerProcess(data_dir, env={**GENEROUS_LIMITS, "SENTRY_RATE_LIMIT": "0"}).start()
    try:
        project, key = create_project(server)
        token = staff_token(server)
        sample = make_envelope(0)
        print(f"{args.clients} clients, {args.seconds:.0f} s each; envelope {len(sample)} bytes gzip "
              f"({len(gzip.decompress(sample))} raw), one event each")
        sentry = (f"/api/{project}/envelope/", {"X-Sentry-Auth": f"Sentry sentry_version=7, sentry_key={key}",
                                                "Content-Encoding": "gzip"})
        batch = ("/api/v1/errors/batch", {"Authorization": f"Bearer {token}", "Content-Type": "application/json"})
        if args.baseline_first:
            print("plugin batch of 1", drive(server, batch, args.clients, args.seconds)[0], "(same-run baseline)")
        before = stored_events(server, token)
        line, accepted = drive(server, sentry, args.clients, args.seconds)
        print("sentry envelope  ", line, flush=True)
        stored = stored_events(server, token) - before
        print(f"stored events read back: {stored} ({'all' if stored == accepted else 'NOT all'} of those accepted)")
        if not args.baseline_first:
            print("plugin batch of 1", drive(server, batch, args.clients, args.seconds)[0], "(same-run baseline)")
        print(BUGSINK)
    finally:
        server.stop()


if __name__ == "__main__":
    main()
