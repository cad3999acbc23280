"""Dashboard callbacks at 10M stored events: every page's data functions, then the real callbacks over HTTP.

1. A child process fills a fresh chDB folder through `ClickHouseStore.insert` in batches of ~200k
   rows: N error events (30 days, ~2000 groups, skewed), plus request, rate-limit and operation rows;
   then it times each page's data functions (dashboards/data) for every range of the picker.
2. This process starts a real server on that folder and times each page's Dash callback over HTTP
   (POST /dashboard/_dash-update-component with a support account's bearer token).
Prints median (max) milliseconds per range; the goal is every callback under 300 ms.
Usage: python -m bench.dashboard [--events 10000000] [--others 2000000] [--batch 200000] [--runs 5]
       python -m bench.dashboard --reuse --data-dir DIR   (time an already seeded folder again)
"""
from __future__ import annotations

import argparse
import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parents[1]
RANGE_KEYS = ("15m", "1h", "6h", "24h", "7d", "30d")
DAYS, GROUPS, GOAL_MS = 30, 2000, 300
KEYS = 2000
KEY_WEIGHTS = list(itertools.accumulate(1 / (k + 1) ** 1.2 for k in range(KEYS)))
LIMITS = ("default", "auth", "errors_batch", "uploads")
SOURCES = ("Network", "Audio", "UI", "Storage", "Licensing")
SEVERITIES = ("Info", "Warning", "Error", "Critical")
ROUTES = ("/api/v1/errors/batch", "/api/v1/errors", "/api/v1/auth/login", "/api/v1/documents/<document_id>",
          "/api/v1/channels", "/healthz", "/dashboard/_dash-update-component", "/ws")


def batches(total: int, size: int) -> Iterator[int]:
    """Batch sizes adding up to `total`."""
    done = 0
    while done < total:
        yield min(size, total - done)
        done += min(size, total - done)


def _stamps(rng: random.Random, n: int, now: float) -> list[datetime]:
    return [datetime.fromtimestamp(now - rng.random() * DAYS * 86400, timezone.utc) for _ in range(n)]


def error_rows(rng: random.Random, n: int, now: float, cum: list[float]) -> list[tuple]:
    """Events of ~GROUPS groups, a few groups making most of them; users from 50k."""
    groups = rng.choices(range(GROUPS), cum_weights=cum, k=n)
    return [(uuid.UUID(int=rng.getrandbits(128)), f"{g:016x}", ts, rng.randrange(1, 50_000), SOURCES[g % 5],
             SEVERITIES[g % 4], f"Synthetic failure {g}", 1 + (g + i) % 3)
            for i, (g, ts) in enumerate(zip(groups, _stamps(rng, n, now), strict=True))]


def other_rows(table: str, rng: random.Random, n: int, now: float) -> list[tuple]:
    """Rows for the ops tables, following their documented columns."""
    stamps = _stamps(rng, n, now)
    if table == "request_metrics":
        return [(ts, ROUTES[i % 8], "POST" if i % 8 in (0, 2, 6) else "GET", 500 if i % 97 == 0 else 200,
                 rng.lognormvariate(2, 0.8)) for i, ts in enumerate(stamps)]
    if table == "rate_limit_hits":  # a few noisy keys make most hits; each key mostly hits one limit
        keys = rng.choices(range(KEYS), cum_weights=KEY_WEIGHTS, k=n)
        return [(ts, LIMITS[k % 4], ROUTES[k % 3], "POST", "ip" if k % 4 != 2 else "user", f"{k:064x}")
                for k, ts in zip(keys, stamps, strict=True)]
    return [(ts, f"channel:{rng.randrange(300)}:lyrics", rng.randrange(1, 3000), rng.randrange(1, 10_000),
             rng.randrange(1, 100_000), int(rng.expovariate(3)), int(i % 53 == 0),
             "invalid_operation" if i % 53 == 0 else "", rng.lognormvariate(0.2, 0.6)) for i, ts in enumerate(stamps)]


COLUMNS = {
    "error_events": ("event_id", "group_id", "ts", "user_id", "source", "severity", "message", "occurrences"),
    "request_metrics": ("ts", "route", "method", "status", "duration_ms"),
    "rate_limit_hits": ("ts", "limit_name", "route", "method", "key_kind", "key_hash"),
    "operation_metrics": ("ts", "document_id", "user_id", "client_id", "revision", "transformed_over", "rejected",
                          "reason", "apply_ms"),
}


def fill(services: Any, table: str, total: int, batch: int, make: Callable[[int], list[tuple]]) -> None:
    """Insert `total` rows in batches, printing progress."""
    started, done = time.monotonic(), 0
    for n in batches(total, batch):
        services.analytics.insert(table, make(n), COLUMNS[table])
        done += n
        rate = done / (time.monotonic() - started)
        print(f"  {table}: {done:>11,} / {total:,} rows  ({rate:,.0f} rows/s)", flush=True)


def seed(services: Any, events: int, others: int, batch: int) -> None:
    """Fill every table the dashboard reads, and the SQL state of the groups."""
    from bench.seed import merge_all
    rng, now = random.Random(42), time.time()
    cum = list(itertools.accumulate(1 / (g + 1) ** 1.1 for g in range(GROUPS)))
    now_ms = int(now * 1000)
    services.tracking.groups.record_seen([
        {"id": f"{g:016x}", "project_id": 0, "source": SOURCES[g % 5], "severity": SEVERITIES[g % 4],
         "message": f"Synthetic failure {g}", "status": "unresolved", "first_seen_ms": now_ms - DAYS * 86_400_000,
         "last_seen_ms": now_ms, "status_changed_at_ms": now_ms} for g in range(GROUPS)])
    for g in range(0, GROUPS, 10):
        services.tracking.groups.set_status(f"{g:016x}", "resolved", 0)
    fill(services, "error_events", events, batch, lambda n: error_rows(rng, n, now, cum))
    for table in ("request_metrics", "rate_limit_hits", "operation_metrics"):
        fill(services, table, others, batch, lambda n, t=table: other_rows(t, rng, n, now))
    merge_all(services.analytics)


def timed(fn: Callable[[], Any], runs: int) -> tuple[float, float]:
    """(median, max) milliseconds over `runs` calls after one warm-up call."""
    fn()
    samples = []
    for _ in range(runs):
        start = time.perf_counter()
        fn()
        samples.append((time.perf_counter() - start) * 1000)
    return statistics.median(samples), max(samples)


def print_table(title: str, rows: dict[str, dict[str, tuple[float, float]]]) -> float:
    """Print median (max) ms per range; return the worst max."""
    print(f"\n{title}\n{'':34}" + "".join(f"{k:>15}" for k in RANGE_KEYS))
    for name, by_range in rows.items():
        cells = "".join(f"{f'{m:.0f} ({x:.0f})':>15}" if (m, x) != (-1, -1) else f"{'-':>15}"
                        for m, x in (by_range.get(k, (-1, -1)) for k in RANGE_KEYS))
        print(f"{name:34}{cells}")
    worst = max(x for by_range in rows.values() for _, x in by_range.values())
    print(f"slowest: {worst:.0f} ms (goal: every callback under {GOAL_MS} ms)")
    return worst


def data_functions(group_id: str) -> dict[str, Callable[[str], Any]]:
    """Each page's data functions, by name, taking a range key."""
    from dashboards.data import collaboration, errors, overview, rate_limits

    return {
        "overview.traffic": overview.traffic, "overview.routes": overview.routes,
        "errors.trends": lambda r: errors.trends(r, {}),
        "errors.trends (status+text filter)": lambda r: errors.trends(r, {"status": "unresolved", "q": "failure 1"}),
        "errors.top_groups": lambda r: errors.top_groups(r, {}),
        "errors.top_groups (status filter)": lambda r: errors.top_groups(r, {"status": "unresolved"}),
        "errors.top_groups (severity)": lambda r: errors.top_groups(r, {"severity": "Error"}),
        "errors.group_users (biggest group)": lambda r: errors.group_users(*_window(r), [group_id]),
        "errors.group": lambda r: errors.group(group_id, r),
        "rate_limits.hits": rate_limits.hits, "rate_limits.totals": rate_limits.totals,
        "rate_limits.keys": rate_limits.keys,
        "collaboration.activity": collaboration.activity, "collaboration.summary": collaboration.summary,
    }


def _window(range_key: str) -> tuple[int, int]:
    from dashboards.timerange import span_for

    span = span_for(range_key)
    return span.since_ms, span.until_ms


def local_phase(args: argparse.Namespace) -> None:
    """Seed the folder and time the data functions in this (child) process."""
    from flask import g

    from app import create_app
    from dashboards.data import overview

    app = create_app({"data_dir": args.data_dir})
    services = app.extensions["services"]
    if not args.reuse:
        print(f"seeding {args.data_dir}: {args.events:,} error events, {args.others:,} rows in each ops table",
              flush=True)
        started = time.monotonic()
        seed(services, args.events, args.others, args.batch)
        print(f"seeded in {time.monotonic() - started:.0f} s", flush=True)
    user = services.auth.create_user(f"bench{uuid.uuid4().hex[:6]}", "bench-pass-123", "support")
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    with app.test_request_context("/dashboard/"):
        g.dashboard_user = user
        rows["overview.health"] = {RANGE_KEYS[0]: timed(overview.health, args.runs)}
        for name, fn in data_functions(f"{0:016x}").items():
            rows[name] = {k: timed(lambda fn=fn, k=k: fn(k), args.runs) for k in RANGE_KEYS}
    print_table(f"Data functions, in process: median (max) ms of {args.runs} runs", rows)
    services.close()


def parse_outputs(spec: str) -> list[dict[str, Any]]:
    """Dash's output string ("..a.children...b.figure.." or "a.children") as {id, property} items."""
    parts = spec[2:-2].split("...") if spec.startswith("..") else [spec]
    found = []
    for part in parts:
        cid, prop = part.rsplit(".", 1)
        found.append({"id": json.loads(cid) if cid.startswith("{") else cid, "property": prop})
    return found


def value_for(dep: dict[str, Any], range_key: str, group_id: str) -> Any:
    """What the browser would send for an input or state on a freshly opened page."""
    cid = dep["id"]
    for marker, value in (('"range"', range_key), ('"sort"', "occurrences"), ('"refresh"', ["on"])):
        if marker in cid:
            return value
    return {"tick": 0, "group-version": 0, "group-id": group_id}.get(cid)


def http_phase(args: argparse.Namespace) -> None:
    """Start a real server on the seeded folder and time each page's callbacks over HTTP."""
    import requests

    from tests.support.server import GENEROUS_LIMITS, ServerProcess
    from tests.support.services import cli_create_user, data_dir_env

    server = ServerProcess(Path(args.data_dir), env=GENEROUS_LIMITS).start(timeout=180)
    try:
        name = f"benchhttp{uuid.uuid4().hex[:6]}"
        cli_create_user(data_dir_env(Path(args.data_dir)), name, "bench-pass-123", "support")
        http = requests.Session()
        token = http.post(f"{server.url}/api/v1/auth/login",
                          json={"username": name, "password": "bench-pass-123"}).json()["token"]
        http.headers.update({"Authorization": f"Bearer {token}"})
        rows = time_callbacks(http, server.url, args.runs)
        print_table(f"Dash callbacks over HTTP (bearer token): median (max) ms of {args.runs} runs", rows)
    finally:
        server.stop()


def time_callbacks(http: Any, base: str, runs: int) -> dict[str, dict[str, tuple[float, float]]]:
    """Each page's data callback for every range; the users callback after the groups table."""
    deps = http.get(f"{base}/dashboard/_dash-dependencies").json()
    wanted = ("overview-health", "overview-kpis", "overview-routes", "errors-by-severity", "errors-groups",
              "group-header", "limits-by-limit", "limits-kpis", "limits-keys", "collab-rate", "collab-kpis")
    rows: dict[str, dict[str, tuple[float, float]]] = {}
    for spec in deps:
        first = parse_outputs(spec["output"])[0]["id"]
        if first not in wanted:
            continue
        ranges = RANGE_KEYS[:1] if first == "overview-health" else RANGE_KEYS
        rows[f"callback → {first}"] = {
            k: timed(lambda s=spec, k=k: post_callback(http, base, s, k), runs) for k in ranges}
        if first == "errors-groups":
            users = next(d for d in deps if "group-users" in d["output"])
            rows["callback → one row's users"] = {
                k: timed(lambda u=users, k=k: post_users(http, base, u, k), runs) for k in RANGE_KEYS[3:]}
    return rows


def post_users(http: Any, base: str, users: dict[str, Any], range_key: str) -> None:
    """The biggest group's user count over a range, as its table row asks once it appears."""
    since_ms, until_ms = _window(range_key)
    gid = f"{0:016x}"
    window_id = {"type": "group-users-window", "gid": gid}
    body = {"output": users["output"], "outputs": {"id": {"type": "group-users", "gid": gid}, "property": "children"},
            "inputs": [{"id": window_id, "property": "data", "value": {"since_ms": since_ms, "until_ms": until_ms}}],
            "state": [], "changedPropIds": [json.dumps(window_id, sort_keys=True, separators=(",", ":")) + ".data"]}
    resp = http.post(f"{base}/dashboard/_dash-update-component", json=body, timeout=60)
    assert resp.status_code == 200 and '"?"' not in resp.text, resp.text[:300]


def post_callback(http: Any, base: str, spec: dict[str, Any], range_key: str) -> dict[str, Any]:
    """One POST to _dash-update-component, as the renderer sends it."""
    def items(deps: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{"id": json.loads(d["id"]) if d["id"].startswith("{") else d["id"], "property": d["property"],
                 "value": value_for(d, range_key, f"{0:016x}")} for d in deps]

    outputs = parse_outputs(spec["output"])
    body = {"output": spec["output"], "outputs": outputs if spec["output"].startswith("..") else outputs[0],
            "inputs": items(spec["inputs"]), "state": items(spec["state"]),
            "changedPropIds": [f"{spec['inputs'][0]['id']}.{spec['inputs'][0]['property']}"]}
    resp = http.post(f"{base}/dashboard/_dash-update-component", json=body, timeout=60)
    assert resp.status_code == 200 and "not answering" not in resp.text, resp.text[:300]
    return resp.json().get("response", {})


def main() -> None:
    """Run the child (seed + data functions), then the HTTP phase."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n", 1)[0])
    parser.add_argument("--events", type=int, default=10_000_000)
    parser.add_argument("--others", type=int, default=2_000_000, help="rows in each ops table")
    parser.add_argument("--batch", type=int, default=200_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--data-dir", default="")
    parser.add_argument("--phase", choices=("all", "local", "http"), default="all")
    parser.add_argument("--reuse", action="store_true", help="time a folder seeded by an earlier run")
    args = parser.parse_args()
    args.data_dir = args.data_dir or tempfile.mkdtemp(prefix="dashboard-bench-")
    if args.phase == "local":
        return local_phase(args)
    if args.phase in ("all",):
        child = [sys.executable, "-m", "bench.dashboard", "--phase", "local", "--data-dir", args.data_dir,
                 "--events", str(args.events), "--others", str(args.others), "--batch", str(args.batch),
                 "--runs", str(args.runs)] + (["--reuse"] if args.reuse else [])
        subprocess.run(child, cwd=ROOT, check=True)  # chDB: one process per folder, so seed in another
    http_phase(args)
    print(f"\ndata left in {args.data_dir} (rerun the HTTP part with --phase http --data-dir ...)")


if __name__ == "__main__":
    main()
