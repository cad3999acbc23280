"""OT authority throughput and ack latency: our server (every op durable in SQLite) against ShareDB 7.

Workload (both sides): one document, K editors each submitting OPS random edits (60% inserts
of 1-4 letters, 40% deletes of 1-3 characters), each waiting for its ack before the next.
Reports ops/s (all acks / wall time) and p50/p99 ack latency for each K, then the ratios.

    .venv/bin/python bench/ot.py [--ks 8,32] [--ops 500] [--rounds 7] [--warmup 1] [--procs N] [--skip-sharedb]

Each K runs both peers in turn, --rounds times (who goes first alternates); the table shows
the median of each figure and the ratios of the medians, with every round's ratio above it
(this machine's speed drifts by 20% and more from one minute to the next). Before them, each
peer runs --warmup uncounted rounds per K: a fresh process is slower at first on both sides
(Node's JIT; our first two rounds ran ~20% below the rest), and at K=8 a round lasts under a
second, so a cold round weighed on the median of three. Seven counted rounds (five until
2026-11-27): single K=8 rounds of one run spread from 1.75x to 2.7x, so a median of five
still moved by ~10% from one run to the next.

Both sides drive their editors from the same number of client processes, one per 16 editors:
K=8 in one (four only added context switches on two cores: 1,680 vs 2,314 ops/s for ours), K=32
in two (one process of either side spends a whole core on 32 editors' incoming frames).
Our server runs with the embedded defaults in a temporary DATA_DIR (SQLite, chDB); the HTTP
and per-connection frame rate limits are lifted so that they are not what gets measured.
ShareDB (npm sharedb + ot-text-unicode, its in-memory DB, over ws) is installed into
bench/.peers/sharedb (git-ignored) from bench/peers/sharedb/package.json on first use.
"""
from __future__ import annotations

import argparse
import json
import multiprocessing
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Iterator

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.ot_clients import run_editors  # noqa: E402
from tests.support.api import Account, Api  # noqa: E402
from tests.support.server import ServerProcess, free_port  # noqa: E402
from tests.support.services import cli_create_user, data_dir_env  # noqa: E402

PEER_SOURCE = ROOT / "bench" / "peers" / "sharedb"
PEER_DIR = ROOT / "bench" / ".peers" / "sharedb"
EDITORS_PER_PROCESS = 16  # one client process drives up to this many editors, on each side
SHAREDB_REFERENCE = {8: (772, 92), 32: (433, 210)}  # measured earlier on this kind of machine
SERVER_ENV = {"SECRET_KEY": "bench-secret-" + "b" * 40, "RATE_LIMIT_ENABLED": "false",
              "WS_FRAMES_PER_SECOND": "1000000", "WS_FRAME_BURST": "1000000"}


def percentile(values: list[float], share: float) -> float:
    """The nearest-rank percentile (share in 0..1)."""
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, int(round(share * len(ordered))) - 1))]


def process_cpu_s(pid: int) -> float:
    """CPU seconds (user + system) used so far by a process and its children that are alive (Linux)."""
    tick = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if entry.name == str(pid) or fields[1] == str(pid):
            total += (int(fields[11]) + int(fields[12])) / tick
    return total


def figures(total_ops: int, elapsed_s: float, latencies: list[float], converged: bool,
            server_cpu_s: float, client_cpu_s: float) -> dict[str, Any]:
    """The row of the table for one run (CPU in ms per operation, summed over processes)."""
    return {"ops_s": total_ops / elapsed_s, "p50": percentile(latencies, 0.50),
            "p99": percentile(latencies, 0.99), "converged": converged,
            "server_cpu_ms": 1000 * server_cpu_s / total_ops, "client_cpu_ms": 1000 * client_cpu_s / total_ops}


def run_ours(server: ServerProcess, k: int, ops: int, procs: int) -> dict[str, Any]:
    """K editors (one account each) in `procs` processes against our server."""
    api = Api(server.url)
    with ThreadPoolExecutor(8) as pool:  # hashing passwords is slow: sign the editors up side by side
        accounts = list(pool.map(lambda _: Api(server.url).register(f"bench{k}e"), range(k)))
    channel = api.post("/api/v1/channels", accounts[0], json={"name": f"bench {k}"}).json()["id"]
    for account in accounts[1:]:
        assert api.post(f"/api/v1/channels/{channel}/members", accounts[0],
                        json={"user_id": account.id}).status_code in (200, 201)
    document_id = f"channel:{channel}:bench{k}"
    commits_before = _counters(server).get("operation_commits", 0)
    ctx = multiprocessing.get_context("fork")
    groups = [list(range(i, k, procs)) for i in range(min(procs, k))]
    ready, start, results = ctx.Barrier(len(groups) + 1), ctx.Event(), ctx.Queue()
    workers = []
    for group in groups:
        spec = {"host": "127.0.0.1", "port": server.port, "document_id": document_id, "ops": ops,
                "total_revisions": k * ops, "timeout": 600,
                "editors": [(accounts[i].token, i + 1) for i in group]}
        workers.append(ctx.Process(target=run_editors, args=(spec, ready, start, results)))
    for worker in workers:
        worker.start()
    ready.wait(timeout=120)
    assert server.proc is not None
    server_cpu = process_cpu_s(server.proc.pid)
    started = time.perf_counter()
    start.set()
    reports = [results.get(timeout=900) for _ in workers]
    server_cpu = process_cpu_s(server.proc.pid) - server_cpu
    for worker in workers:
        worker.join(30)
    editors = [editor for report in reports for editor in report["editors"]]
    elapsed = max(editor["last_ack_at"] for editor in editors) - started
    stored = api.get(f"/api/v1/documents/{document_id}", accounts[0]).json()
    errors = [error for editor in editors for error in editor["errors"]]
    converged = (not errors and stored["revision"] == k * ops
                 and all(editor["content"] == stored["content"] for editor in editors))
    latencies = [ms for editor in editors for ms in editor["latencies_ms"]]
    row = figures(k * ops, elapsed, latencies, converged, server_cpu, sum(r["cpu_s"] for r in reports))
    commits = _counters(server).get("operation_commits", 0) - commits_before
    return row | {"ops_per_commit": k * ops / max(1, commits)}


def _counters(server: ServerProcess) -> dict[str, Any]:
    """The hub's counters (GET /api/v1/websocket/metrics as an admin made through the CLI, once)."""
    global _admin
    if _admin is None:
        name, password = f"benchadmin{os.getpid()}", "bench-admin-pass-1"
        cli_create_user(data_dir_env(server.data_dir), name, password, "admin")
        _admin = Api(server.url).login(name, password)
    return Api(server.url).get("/api/v1/websocket/metrics", _admin).json()


_admin: Account | None = None


def install_sharedb() -> None:
    """npm install the peer into the ignored folder (once)."""
    PEER_DIR.mkdir(parents=True, exist_ok=True)
    for name in ("package.json", "server.js", "client.js"):
        shutil.copy(PEER_SOURCE / name, PEER_DIR / name)
    if not (PEER_DIR / "node_modules" / "sharedb").exists():
        subprocess.run(["npm", "install", "--no-audit", "--no-fund", "--silent"], cwd=PEER_DIR, check=True)


@contextmanager
def sharedb_server() -> Iterator[tuple[int, int]]:
    """Run the ShareDB server; yield its port and pid."""
    port = free_port()
    proc = subprocess.Popen(["node", "server.js", str(port)], cwd=PEER_DIR, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None and proc.stdout.readline().startswith("listening")
        yield port, proc.pid
    finally:
        proc.terminate()
        proc.wait(10)


def run_sharedb(peer: tuple[int, int], k: int, ops: int, procs: int) -> dict[str, Any]:
    """K ShareDB editors in `procs` Node processes, started together (server CPU measured around the run)."""
    port, pid = peer
    doc_id = f"bench{k}-{time.time_ns()}"
    node = ["node", "client.js", str(port)]
    subprocess.run(node + ["1", "0", doc_id], cwd=PEER_DIR, check=True, capture_output=True, timeout=60)  # create
    sizes = [len(range(i, k, procs)) for i in range(min(procs, k))]
    clients = [subprocess.Popen(node + [str(n), str(ops), doc_id, str(k * ops), "--wait-for-go"], cwd=PEER_DIR,
                                stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True) for n in sizes]
    try:
        for client in clients:
            assert client.stdout is not None and client.stdout.readline().strip() == "ready"
        server_cpu = process_cpu_s(pid)
        for client in clients:
            assert client.stdin is not None
            client.stdin.write("go\n")
            client.stdin.flush()
        outputs = [client.communicate(timeout=900)[0] for client in clients]
        server_cpu = process_cpu_s(pid) - server_cpu
    finally:
        for client in clients:
            if client.poll() is None:
                client.kill()
    results = [json.loads(out.strip().splitlines()[-1]) for out in outputs]
    converged = all(r["converged"] and r["content"] == results[0]["content"] for r in results)
    latencies = [ms for r in results for ms in r["latencies_ms"]]
    return figures(k * ops, max(r["elapsed_ms"] for r in results) / 1000.0, latencies, converged,
                   server_cpu, sum(r["cpu_s"] for r in results))


def print_table(rows: dict[tuple[str, int], dict[str, Any]], ks: list[int], ops: int) -> None:
    """Both peers per K, then our ratios against the target (2x ops/s, half the p99)."""
    print(f"\nOT authority: one document, K editors x {ops} edits, each waiting for its ack")
    print(f"{'server':<34}{'K':>4}{'ops/s':>9}{'p50 ms':>9}{'p99 ms':>9}{'srv CPU':>9}{'cli CPU':>9}"
          "  converged")
    for k in ks:
        for name, label in (("ours", "ours (SQLite, every op durable)"), ("sharedb", "ShareDB 7 (in-memory)")):
            row = rows.get((name, k))
            if row:
                converged = "yes" if row["converged"] else "NO"
                print(f"{label:<34}{k:>4}{row['ops_s']:>9.0f}{row['p50']:>9.1f}{row['p99']:>9.1f}"
                      f"{row['server_cpu_ms']:>9.3f}{row['client_cpu_ms']:>9.3f}  {converged}")
    print("(CPU columns: milliseconds of CPU per operation, server process(es) and all client processes)")
    for k in ks:
        if ("ours", k) in rows:
            print(f"ours K={k}: {rows[('ours', k)]['ops_per_commit']:.1f} operations per SQLite commit")
    print()
    for k in ks:
        ours, peer = rows.get(("ours", k)), rows.get(("sharedb", k))
        if ours and peer:
            print(f"K={k}: ops/s x{ours['ops_s'] / peer['ops_s']:.2f} (target >= 2), "
                  f"p99 x{ours['p99'] / peer['p99']:.2f} (target <= 0.5)")
        elif ours and k in SHAREDB_REFERENCE:
            ref_ops, ref_p99 = SHAREDB_REFERENCE[k]
            print(f"K={k}: vs the recorded ShareDB figures ({ref_ops} ops/s, p99 {ref_p99} ms): "
                  f"ops/s x{ours['ops_s'] / ref_ops:.2f}, p99 x{ours['p99'] / ref_p99:.2f}")


def main() -> None:
    """Run both peers at each K, alternating them over several rounds so that machine noise hits both alike."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ks", default="8,32")
    parser.add_argument("--ops", type=int, default=500)
    parser.add_argument("--rounds", type=int, default=7, help="runs of each peer per K; the table shows medians")
    parser.add_argument("--warmup", type=int, default=1, help="uncounted runs of each peer per K before them")
    parser.add_argument("--procs", type=int, default=0,
                        help=f"client processes per side (default: one per {EDITORS_PER_PROCESS} editors)")
    parser.add_argument("--skip-sharedb", action="store_true")
    parser.add_argument("--server-log", help="keep our server's log at this path")
    args = parser.parse_args()
    ks = [int(k) for k in args.ks.split(",")]
    if not args.skip_sharedb:
        install_sharedb()
    runs: dict[tuple[str, int], list[dict[str, Any]]] = {}
    with tempfile.TemporaryDirectory(prefix="bench-ot-") as data_dir:
        server = ServerProcess(Path(data_dir), env=SERVER_ENV).start()
        try:
            with (sharedb_server() if not args.skip_sharedb else _nothing()) as peer:
                warmups = max(0, args.warmup)
                for round_number in range(-warmups, max(1, args.rounds)):
                    for k in ks:
                        procs = args.procs or -(-k // EDITORS_PER_PROCESS)
                        sides = [("ours", lambda: run_ours(server, k, args.ops, procs))]
                        if peer is not None:
                            sides.append(("sharedb", lambda: run_sharedb(peer, k, args.ops, procs)))
                        if round_number % 2:
                            sides.reverse()  # neither side always runs first
                        for name, run in sides:
                            row = run()
                            if round_number < 0:
                                print(f"warm-up {name} K={k}: {row['ops_s']:.0f} ops/s (not counted)", flush=True)
                                continue
                            runs.setdefault((name, k), []).append(row)
                            print(f"round {round_number + 1} {name} K={k}: {row}", flush=True)
        finally:
            server.stop()
            if args.server_log:
                shutil.copy(server.log_path, args.server_log)
    print_rounds(runs, ks)
    print_table({key: median_row(rows) for key, rows in runs.items()}, ks, args.ops)


def median_row(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Each figure's median over the rounds (converged only if every round converged)."""
    out: dict[str, Any] = {}
    for key, value in rows[0].items():
        if isinstance(value, bool):
            out[key] = all(row[key] for row in rows)
        else:
            out[key] = statistics.median(row[key] for row in rows)
    return out


def print_rounds(runs: dict[tuple[str, int], list[dict[str, Any]]], ks: list[int]) -> None:
    """The ratio of each round, to show the spread behind the medians."""
    for k in ks:
        ours, peer = runs.get(("ours", k), []), runs.get(("sharedb", k), [])
        if ours and peer:
            pairs = list(zip(ours, peer))
            print(f"K={k} rounds: ops/s x" + ", x".join(f"{a['ops_s'] / b['ops_s']:.2f}" for a, b in pairs)
                  + "; p99 x" + ", x".join(f"{a['p99'] / b['p99']:.2f}" for a, b in pairs))


@contextmanager
def _nothing() -> Iterator[None]:
    yield None


if __name__ == "__main__":
    main()
