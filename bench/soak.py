"""A bounded soak: WebSocket editors doing OT edits on a few documents plus ingest clients, against
one embedded server, while the server worker's memory, open files and threads are sampled.

Prints one row per sample, the load figures, the growth slopes over the steady phase and a
verdict: nothing may keep growing (fds and threads flat under load and back to the baseline once
the clients leave; RSS slope under --rss-limit MB/min).
Usage: python -m bench.soak [--minutes 10] [--editors 200] [--documents 4] [--ingest 50]
"""
from __future__ import annotations

import argparse
import math
import multiprocessing as mp
import os
import statistics
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import requests

from tests.reliability.servers import LiveServer
from tests.support.api import Api, unique_name
from tests.support.server import GENEROUS_LIMITS
from tests.support.services import cli_create_user, data_dir_env

CONNECTIONS_PER_USER = 10


@dataclass(frozen=True)
class SoakConfig:
    """How much load, for how long, sampled how often."""

    seconds: float = 600
    editors: int = 200
    documents: int = 4
    ingest_clients: int = 50
    sample_every: float = 5.0
    editor_think: float = 2.0
    ingest_think: float = 1.0
    batch: int = 10
    client_processes: int = 2
    rss_limit_mb_per_min: float = 5.0


@dataclass(frozen=True)
class Sample:
    """The worker at one moment (seconds since the load began).

    `app_fds` leaves out chDB's per-thread /proc files and `py_threads` its pool threads: those two
    are the app's own (sockets, files; Python and gevent threads) and must return to the baseline.
    """

    t: float
    rss_mb: float
    fds: int
    threads: int
    connections: int
    app_fds: int
    py_threads: int


@dataclass
class SoakReport:
    """Samples and totals of one run, and what the verdict found wrong (empty: bounded)."""

    config: SoakConfig
    baseline: Sample
    samples: list[Sample]
    after: Sample
    totals: dict[str, Any] = field(default_factory=dict)
    problems: list[str] = field(default_factory=list)


def worker_stats(pid: int) -> tuple[float, int, int, int]:
    """RSS in MB, open file descriptors (all, and those not under /proc) and OS threads, from /proc."""
    status = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    fds = app_fds = 0
    for fd in os.listdir(f"/proc/{pid}/fd"):
        try:
            target = os.readlink(f"/proc/{pid}/fd/{fd}")
        except OSError:
            continue  # closed meanwhile
        fds += 1
        app_fds += not target.startswith("/proc/")  # chDB keeps /proc/<pid>/task/<tid>/{stat,io,...} per thread
    return int(status["VmRSS"].split()[0]) / 1024, fds, app_fds, int(status["Threads"])


def thread_names(pid: int) -> dict[str, int]:
    """How many OS threads of a process carry each name (Python's, gevent's pool, chDB's pools)."""
    names: dict[str, int] = {}
    for tid in os.listdir(f"/proc/{pid}/task"):
        try:
            name = Path(f"/proc/{pid}/task/{tid}/comm").read_text().strip()
        except FileNotFoundError:
            continue
        names[name] = names.get(name, 0) + 1
    return dict(sorted(names.items(), key=lambda kv: -kv[1]))


def slope_per_minute(points: list[tuple[float, float]]) -> float:
    """Least-squares slope of (seconds, value) points, per minute."""
    if len(points) < 2:
        return 0.0
    n = len(points)
    mean_t, mean_v = sum(t for t, _ in points) / n, sum(v for _, v in points) / n
    var = sum((t - mean_t) ** 2 for t, _ in points)
    return 0.0 if var == 0 else 60 * sum((t - mean_t) * (v - mean_v) for t, v in points) / var


class Sampler(threading.Thread):
    """Samples the worker every `every` seconds until stopped."""

    def __init__(self, pid: int, every: float, connections: Any, started: float) -> None:
        super().__init__(daemon=True, name="soak-sampler")
        self.pid, self.every, self.connections, self.started = pid, every, connections, started
        self.samples: list[Sample] = []
        self.peak_names: dict[str, int] = {}
        self.stop = threading.Event()

    def take(self) -> Sample:
        """One sample now."""
        rss, fds, app_fds, threads = worker_stats(self.pid)
        py_threads = thread_names(self.pid).get("python", 0)
        return Sample(time.monotonic() - self.started, rss, fds, threads, self.connections(), app_fds, py_threads)

    def run(self) -> None:
        while not self.stop.wait(self.every):
            sample = self.take()
            if sample.threads > max((s.threads for s in self.samples), default=0):
                self.peak_names = thread_names(self.pid)
            self.samples.append(sample)
            print(f"{sample.t:7.0f} s  rss {sample.rss_mb:7.1f} MB  fds {sample.fds:5d} (app {sample.app_fds:4d})  "
                  f"threads {sample.threads:4d} (python {sample.py_threads:3d})  ws {sample.connections:4d}",
                  flush=True)


def run_slice(spec: dict[str, Any]) -> dict[str, Any]:
    """One client process: its editors and ingest clients for the run; returns what they counted."""
    from tests.reliability.load import EditorLoop, IngestLoop, RecordingEditor, wait_all

    editors = [RecordingEditor(spec["ws_url"], token, doc, client_id).connect()
               for token, doc, client_id in spec["editors"]]
    loops = [EditorLoop(e, seed=e.client.client_id, think=spec["editor_think"]) for e in editors]
    ingest = [IngestLoop(spec["base_url"], token, seed=n, batch=spec["batch"], think=spec["ingest_think"])
              for n, token in spec["ingest"]]
    for client in ingest:
        client.stop_on_error = False
    for thread in [*loops, *ingest]:
        thread.start()
    time.sleep(spec["seconds"])
    for thread in [*loops, *ingest]:
        thread.stop.set()
    wait_all([*loops, *ingest], timeout=90)
    for editor in editors:
        editor.close()
    return {"ops_acked": sum(len(e.acked) for e in editors),
            "editor_failures": [repr(loop.failure)[:200] for loop in loops if loop.failure is not None],
            "ingest_items_acked": sum(c.tally.acked_items for c in ingest),
            "ingest_refused": sum(sum(c.tally.refused.values()) for c in ingest),
            "ingest_errors": sum(c.tally.errors for c in ingest)}


def _plan(server: LiveServer, cfg: SoakConfig) -> tuple[list[dict[str, Any]], str]:
    """Accounts, one shared channel and its documents; the client processes' shares; an admin token."""
    api = Api(server.url)
    name = unique_name("soakadmin")
    cli_create_user(data_dir_env(server.data_dir), name, "staff-pass-123", "admin")
    admin = api.login(name, "staff-pass-123")
    channel = api.post("/api/v1/channels", admin, json={"name": "soak"}).json()
    users = [api.register("soak") for _ in range(math.ceil(cfg.editors / CONNECTIONS_PER_USER))]
    for user in users:
        api.post(f"/api/v1/channels/{channel['id']}/members", admin, json={"user_id": user.id})
    editors = [(users[n // CONNECTIONS_PER_USER].token, f"channel:{channel['id']}:doc{n % cfg.documents}", 1000 + n)
               for n in range(cfg.editors)]
    reporters = [api.register("soakingest").token for _ in range(max(1, min(cfg.ingest_clients, 10)))]
    ingest = [(n, reporters[n % len(reporters)]) for n in range(cfg.ingest_clients)]
    procs = max(1, cfg.client_processes)
    base = {"ws_url": server.ws_url, "base_url": server.url, "seconds": cfg.seconds, "batch": cfg.batch,
            "editor_think": cfg.editor_think, "ingest_think": cfg.ingest_think}
    return [{**base, "editors": editors[p::procs], "ingest": ingest[p::procs]} for p in range(procs)], admin.token


def _thirds(values: list[float]) -> tuple[float, float]:
    """Medians of the first and the last third (robust to the spikes chDB's merges cause in fds)."""
    third = max(1, len(values) // 3)
    return statistics.median(values[:third]), statistics.median(values[-third:])


def judge(report: SoakReport) -> list[str]:
    """What grew without bound.

    The app's own fds and threads must be back at the baseline once the clients are gone and flat
    under steady load; all fds and threads (chDB's pool included) must stop growing (the last
    third of the steady phase no higher than what the first two thirds reached); RSS must not
    climb faster than the limit over the second half of the steady phase (judged from two minutes).
    """
    cfg, base, after = report.config, report.baseline, report.after
    steady = [s for s in report.samples if s.t >= 0.25 * cfg.seconds]
    problems = []
    if after.app_fds > base.app_fds + 10:
        problems.append(f"app fds after the load {after.app_fds} > baseline {base.app_fds} + 10")
    if after.py_threads > base.py_threads + 2:
        problems.append(f"python threads after the load {after.py_threads} > baseline {base.py_threads} + 2")
    if len(steady) >= 6:
        for label in ("app_fds", "py_threads"):
            first, last = _thirds([float(getattr(s, label)) for s in steady])
            if last > first * 1.1 + 5:
                problems.append(f"{label} rising under steady load (median {first:.0f} -> {last:.0f})")
        cut = 2 * len(steady) // 3
        for label in ("fds", "threads"):
            reached = max(getattr(s, label) for s in steady[:cut])
            if max(getattr(s, label) for s in steady[cut:]) > reached * 1.05 + 10:
                problems.append(f"{label} still growing at the end of the run (past {reached})")
    late = steady[len(steady) // 2:]
    if late and late[-1].t - late[0].t >= 120:
        rss_slope = slope_per_minute([(s.t, s.rss_mb) for s in late])
        if rss_slope > cfg.rss_limit_mb_per_min:
            problems.append(f"RSS grows {rss_slope:.2f} MB/min over the second half (limit {cfg.rss_limit_mb_per_min})")
    return problems


def run_soak(cfg: SoakConfig, workdir: Path) -> SoakReport:
    """Start a server, run the load for cfg.seconds while sampling, then sample once more after it."""
    env = {**GENEROUS_LIMITS, "WS_MAX_CONNECTIONS_PER_USER": str(CONNECTIONS_PER_USER * 2)}
    server = LiveServer(workdir / "server", env=env).start_until()
    try:
        slices, admin = _plan(server, cfg)
        metrics_url = f"{server.url}/api/v1/websocket/metrics"

        def connections() -> int:
            answer = requests.get(metrics_url, headers={"Authorization": f"Bearer {admin}"}, timeout=30)
            return int(answer.json()["connections"])

        started = time.monotonic()
        sampler = Sampler(server.worker_pid(), cfg.sample_every, connections, started)
        baseline = sampler.take()
        with mp.get_context("spawn").Pool(len(slices)) as pool:
            pending = pool.map_async(run_slice, slices)
            sampler.start()
            results = pending.get(timeout=cfg.seconds + 600)
        sampler.stop.set()
        sampler.join()
        time.sleep(5)  # connections finish closing
        after = sampler.take()
        peak_names = sampler.peak_names
        totals = {key: sum(r[key] for r in results) for key in ("ops_acked", "ingest_items_acked",
                                                                 "ingest_refused", "ingest_errors")}
        totals["editor_failures"] = [f for r in results for f in r["editor_failures"]]
        totals["seconds"] = time.monotonic() - started
        totals["threads_at_peak"], totals["threads_after"] = peak_names, thread_names(sampler.pid)
        report = SoakReport(cfg, baseline, sampler.samples, after, totals)
        report.problems = judge(report)
        return report
    finally:
        server.stop()


def print_report(report: SoakReport) -> None:
    """The figures and the verdict."""
    steady = [s for s in report.samples if s.t >= 0.25 * report.config.seconds]
    t, seconds = report.totals, report.config.seconds
    print(f"\nload: {report.config.editors} editors on {report.config.documents} documents, "
          f"{report.config.ingest_clients} ingest clients, {report.config.seconds:.0f} s")
    print(f"ops acknowledged {t['ops_acked']} ({t['ops_acked'] / report.config.seconds:.1f}/s), "
          f"ingest items acknowledged {t['ingest_items_acked']} ({t['ingest_items_acked'] / seconds:.1f}/s), "
          f"refused {t['ingest_refused']}, errors {t['ingest_errors']}, editor failures {len(t['editor_failures'])}")
    for row, s in (("baseline", report.baseline), ("after", report.after)):
        print(f"{row:9s} rss {s.rss_mb:.1f} MB, fds {s.fds} (app {s.app_fds}), threads {s.threads} "
              f"(python {s.py_threads}), ws {s.connections}")
    if steady:
        def span(attr: str) -> str:
            values = [getattr(s, attr) for s in steady]
            return f"{min(values):.0f}-{max(values):.0f}"
        print(f"steady    rss {span('rss_mb')} MB, fds {span('fds')} (app {span('app_fds')}), "
              f"threads {span('threads')} (python {span('py_threads')})")
        late = steady[len(steady) // 2:]
        for label, attr in (("rss MB", "rss_mb"), ("fds", "fds"), ("app fds", "app_fds"), ("threads", "threads")):
            whole = slope_per_minute([(s.t, getattr(s, attr)) for s in steady])
            half = slope_per_minute([(s.t, getattr(s, attr)) for s in late])
            print(f"slope {label}/min: steady phase {whole:+.2f}, its second half {half:+.2f}")
    print(f"threads by name at the peak: {t['threads_at_peak']}")
    print(f"threads by name after: {t['threads_after']}")
    for failure in t["editor_failures"][:10]:
        print(f"  editor failure: {failure}")
    print("verdict: " + ("bounded" if not report.problems else "GROWING: " + "; ".join(report.problems)))


def main() -> None:
    """Parse the options, run, print."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=float, default=10)
    parser.add_argument("--editors", type=int, default=200)
    parser.add_argument("--documents", type=int, default=4)
    parser.add_argument("--ingest", type=int, default=50)
    parser.add_argument("--sample-every", type=float, default=5.0)
    parser.add_argument("--editor-think", type=float, default=2.0, help="seconds between an editor's edits")
    parser.add_argument("--ingest-think", type=float, default=1.0, help="seconds between an ingest client's batches")
    parser.add_argument("--processes", type=int, default=2, help="client processes")
    args = parser.parse_args()
    cfg = SoakConfig(seconds=args.minutes * 60, editors=args.editors, documents=args.documents,
                     ingest_clients=args.ingest, sample_every=args.sample_every, editor_think=args.editor_think,
                     ingest_think=args.ingest_think, client_processes=args.processes)
    with tempfile.TemporaryDirectory(prefix="soak-") as workdir:
        print_report(run_soak(cfg, Path(workdir)))


if __name__ == "__main__":
    main()
