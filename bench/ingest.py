"""Ingest throughput and read latency of the error API, over HTTP against a real server.

Prints events/s and p50/p99 latency for batches of 1, 100 and 1000 items sent by concurrent
clients, then the latency of `GET /api/v1/errors` and `/stats` with 1M and 10M stored events.
Usage: python -m bench.ingest [--seconds 15] [--clients 64] [--sizes 1M,10M]
"""
from __future__ import annotations

import argparse
import http.client
import json
import multiprocessing as mp
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Callable

from tests.support.server import GENEROUS_LIMITS, ServerProcess
from tests.support.services import cli_create_user, data_dir_env

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("Audio", "Network", "UI")
MESSAGES = ("Buffer underrun after {n} samples", "Upload failed with status {n}", "Knob {n} did not render",
            "Preset 'P{n}' failed to load", "Timeout after {n} ms talking to /api/v{n}")


def make_batch(size: int, rng: random.Random) -> bytes:
    """A realistic batch: a few message shapes with varying numbers, contexts and counts."""
    items = [{"source": rng.choice(SOURCES), "severity": rng.choice(("Info", "Warning", "Error", "Critical")),
              "message": rng.choice(MESSAGES).format(n=rng.randint(1, 5000)),
              "context": {"endpoint": f"/api/e{rng.randint(1, 20)}", "retries": rng.randint(0, 4),
                          "plugin_version": f"2.{rng.randint(0, 9)}.{rng.randint(0, 9)}"},
              "occurrences": rng.randint(1, 3)} for _ in range(size)]
    return json.dumps({"errors": items}).encode()


def _client(port: int, token: str, size: int, deadline: float, threads: int, out: "mp.Queue") -> None:
    import threading

    results: list[tuple[float, int]] = []
    lock = threading.Lock()

    def run(seed: int) -> None:
        rng = random.Random(seed)
        bodies = [make_batch(size, rng) for _ in range(8)]
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
        local = []
        while time.time() < deadline:
            start = time.perf_counter()
            conn.request("POST", "/api/v1/errors/batch", body=rng.choice(bodies), headers=headers)
            resp = conn.getresponse()
            body = resp.read()
            elapsed = time.perf_counter() - start
            accepted = json.loads(body)["accepted"] if resp.status == 200 else 0
            local.append((elapsed, accepted))
        with lock:
            results.extend(local)

    workers = [threading.Thread(target=run, args=(os.getpid() * 100 + i,)) for i in range(threads)]
    for w in workers:
        w.start()
    for w in workers:
        w.join()
    out.put(results)


def run_processes(target: Callable[..., None], args: tuple, count: int) -> tuple[list, float]:
    """Run `count` client processes of `target(*args, queue)`; their pooled results and the wall time."""
    queue: mp.Queue = mp.Queue()
    procs = [mp.Process(target=target, args=(*args, queue)) for _ in range(count)]
    started = time.perf_counter()
    for p in procs:
        p.start()
    results = [r for _ in procs for r in queue.get()]
    for p in procs:
        p.join()
    return results, time.perf_counter() - started


def ingest_run(server: ServerProcess, token: str, size: int, clients: int, seconds: float) -> dict:
    """Drive the server with `clients` concurrent connections for `seconds`; return the figures."""
    procs_n = min(4, clients)
    deadline = time.time() + seconds
    results, wall = run_processes(_client, (server.port, token, size, deadline, clients // procs_n), procs_n)
    lat = sorted(r[0] * 1000 for r in results)
    events = sum(r[1] for r in results)
    return {"batch": size, "requests": len(results), "events": events, "events_s": events / wall,
            "p50": _pct(lat, 50), "p99": _pct(lat, 99)}


def _pct(values: list[float], p: float) -> float:
    if not values:
        return float("nan")
    return values[min(len(values) - 1, int(len(values) * p / 100))]


def read_latency(server: ServerProcess, token: str, path: str, n: int = 30) -> tuple[float, float]:
    """p50 and p99 of `n` sequential GETs (after one warm-up)."""
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    headers = {"Authorization": f"Bearer {token}"}
    times = []
    for i in range(n + 1):
        start = time.perf_counter()
        conn.request("GET", path, headers=headers)
        resp = conn.getresponse()
        resp.read()
        assert resp.status == 200, (path, resp.status)
        if i:
            times.append((time.perf_counter() - start) * 1000)
    times.sort()
    return statistics.median(times), _pct(times, 99)


def staff_token(server: ServerProcess) -> str:
    """A support account's token, made with the real CLI."""
    name = f"bench{random.randint(0, 10**9)}"
    cli_create_user(data_dir_env(server.data_dir), name, "bench-pass-1", "support")
    conn = http.client.HTTPConnection("127.0.0.1", server.port, timeout=30)
    conn.request("POST", "/api/v1/auth/login", body=json.dumps({"username": name, "password": "bench-pass-1"}),
                 headers={"Content-Type": "application/json"})
    return json.loads(conn.getresponse().read())["token"]


def seed(data_dir: Path, total: int) -> None:
    """Add synthetic events with the server stopped (chDB: one process per folder)."""
    subprocess.run([sys.executable, "-m", "bench.seed", str(data_dir), str(total)], cwd=ROOT, check=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=15)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--sizes", default="1M,10M", help="stored-event totals for the read test")
    args = parser.parse_args()
    data_dir = Path(tempfile.mkdtemp(prefix="bench-ingest-"))
    print(f"data dir: {data_dir}", flush=True)
    server = ServerProcess(data_dir, env=GENEROUS_LIMITS).start()
    try:
        token = staff_token(server)
        print(f"\n## Ingest ({args.clients} concurrent clients, {args.seconds:.0f} s each)")
        print(f"{'batch':>6} {'requests':>9} {'events':>10} {'events/s':>10} {'p50 ms':>8} {'p99 ms':>8}")
        for size in (1, 100, 1000):
            r = ingest_run(server, token, size, args.clients, args.seconds)
            print(f"{r['batch']:>6} {r['requests']:>9} {r['events']:>10} {r['events_s']:>10,.0f} "
                  f"{r['p50']:>8.1f} {r['p99']:>8.1f}", flush=True)
    finally:
        server.stop()
    print("\n## Reads over stored events (support account: all users' events)")
    print(f"{'stored':>8} {'query':<34} {'p50 ms':>8} {'p99 ms':>8}")
    stored = 0
    for label in args.sizes.split(","):
        target = int(float(label.rstrip("M")) * 1_000_000)
        seed(data_dir, max(0, target - stored))
        stored = target
        server = ServerProcess(data_dir, env=GENEROUS_LIMITS).start()
        try:
            token = staff_token(server)
            since = int(time.time()) - 86400
            for name, path in [("GET /errors (all 90 days)", "/api/v1/errors"),
                               ("GET /errors?since=24h", f"/api/v1/errors?since={since}"),
                               ("GET /errors?severity=Critical", "/api/v1/errors?severity=Critical"),
                               ("GET /errors/stats?hours=24", "/api/v1/errors/stats?hours=24"),
                               ("GET /errors/stats?hours=720", "/api/v1/errors/stats?hours=720")]:
                p50, p99 = read_latency(server, token, path)
                print(f"{label:>8} {name:<34} {p50:>8.1f} {p99:>8.1f}", flush=True)
        finally:
            server.stop()


if __name__ == "__main__":
    main()
