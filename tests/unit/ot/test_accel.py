"""The compiled build of the OT core: used when it matches the sources, never when stale, same results."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import ot
from ot import _accel

OT_DIR = Path(ot.__file__).parent

# Random edits of a text with emoji and combining marks, rebased and applied both ways.
CORPUS = """
import json, random, sys
import ot
from ot import Delete, Insert, apply_all, transform_pair, wins_tie
rng = random.Random(7)
def edit(text, client):
    if not text or rng.random() < 0.6:
        return Insert(rng.randint(0, len(text)), rng.choice(["a", "bc", "\\U0001F600", "e\\u0301", "xyz"]), client)
    start = rng.randrange(len(text))
    return Delete(start, text[start:start + rng.randint(1, 4)], client)
out = []
for _ in range(3000):
    text = "".join(rng.choice("ab \\U0001F44D\\U0001F3FD") for _ in range(rng.randint(0, 12)))
    a, b = edit(text, rng.randint(1, 3)), edit(text, rng.randint(1, 3))
    a2, b2 = transform_pair([a], [b], wins_tie(a, b))
    out.append([apply_all(apply_all(text, [b]), a2), [repr(op) for op in a2 + b2]])
print(json.dumps([ot.COMPILED, out]))
"""


def _run(code: str, cwd: Path, pure: bool) -> list:
    env = {key: value for key, value in os.environ.items() if key != "OT_PURE"}
    if pure:
        env["OT_PURE"] = "1"
    done = subprocess.run([sys.executable, "-c", code], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=120, check=True)
    return json.loads(done.stdout)


def test_the_core_runs_from_the_build_that_setup_made() -> None:
    assert ot.COMPILED, f"no compiled build in {_accel.build_dir()}: run scripts/setup (it needs Cython and a C compiler)"
    for name in _accel.COMPILED_MODULES:
        assert Path(sys.modules[f"ot.{name}"].__file__).parent == _accel.build_dir()


def test_compiled_and_source_give_the_same_results() -> None:
    compiled, pure = _run(CORPUS, OT_DIR.parent, pure=False), _run(CORPUS, OT_DIR.parent, pure=True)
    assert (compiled[0], pure[0]) == (True, False)
    assert compiled[1] == pure[1]
    assert len({text for text, _ in pure[1]}) > 100  # the corpus is not degenerate


def test_a_build_is_not_used_once_a_source_changed(tmp_path: Path) -> None:
    shutil.copytree(OT_DIR, tmp_path / "ot", ignore=shutil.ignore_patterns("__pycache__"))
    probe = "import json, ot; print(json.dumps([ot.COMPILED]))"
    assert _run(probe, tmp_path, pure=False) == [True]  # same sources: the same build serves the copy
    assert _accel.source_digest(tmp_path / "ot") == _accel.source_digest()
    with (tmp_path / "ot" / "transform.py").open("a") as module:
        module.write("\n# edited\n")
    assert _accel.source_digest(tmp_path / "ot") != _accel.source_digest()
    assert _run(probe, tmp_path, pure=False) == [False]


def test_ot_pure_forces_the_sources() -> None:
    probe = "import json, sys, ot; print(json.dumps([ot.COMPILED, sys.modules['ot.transform'].__file__]))"
    assert _run(probe, OT_DIR.parent, pure=True) == [False, str(OT_DIR / "transform.py")]
