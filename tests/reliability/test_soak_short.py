"""A CI-sized soak (bench/soak.py with 20 editors and 5 ingest clients for 20 s): the app's own open
files and threads stay within loose bounds under load and return to the baseline afterwards.

chDB's own pool threads (named `ThreadPool`) stay after a burst, each with a few /proc files
open; they are bounded by its pool size and judged by the long soak's plateau check instead.
"""
from __future__ import annotations

from pathlib import Path

from bench.soak import SoakConfig, run_soak

EDITORS = 20


def test_a_short_soak_leaves_nothing_behind(tmp_path: Path) -> None:
    cfg = SoakConfig(seconds=20, editors=EDITORS, documents=2, ingest_clients=5, sample_every=2.0,
                     editor_think=0.2, ingest_think=0.3, client_processes=1)
    report = run_soak(cfg, tmp_path)
    totals, base, after = report.totals, report.baseline, report.after
    assert totals["ops_acked"] > 0 and totals["ingest_items_acked"] > 0, totals
    assert totals["editor_failures"] == [] and totals["ingest_errors"] == 0 and totals["ingest_refused"] == 0
    assert report.samples and all(s.connections == EDITORS for s in report.samples)
    for sample in report.samples:
        assert sample.app_fds <= base.app_fds + 3 * EDITORS + 100, sample
        assert sample.py_threads <= base.py_threads + 5, sample
        assert sample.fds - sample.app_fds <= 4 * sample.threads, sample  # chDB: a few /proc files per thread
        assert sample.threads <= base.threads + 400, totals["threads_at_peak"]
    assert after.connections == 0
    assert after.app_fds <= base.app_fds + 10, (base, after)
    assert after.py_threads <= base.py_threads + 2, totals["threads_after"]
