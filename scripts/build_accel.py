"""Compile the OT core (`ot/`) with Cython for this interpreter, unless a build of these sources exists.

Run by `scripts/setup`. The sources stay as they are; the build goes to `<prefix>/accel/ot-<digest>/`
(see `ot/_accel.py`) and older builds are removed. A failed build is not fatal: `ot` then runs
from source, which is slower (the editing hot path by about a fifth) but behaves the same.
"""
from __future__ import annotations

import os
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ["OT_PURE"] = "1"  # import the package from source, whatever is built

from ot._accel import COMPILED_MODULES, PACKAGE_DIR, build_dir, extension_file, is_complete  # noqa: E402


def compile_into(target: Path) -> None:
    """Cythonize and build the modules in a scratch copy, then move the extensions to `target`."""
    from Cython.Build import cythonize
    from setuptools import Distribution
    from setuptools.command.build_ext import build_ext

    with tempfile.TemporaryDirectory(prefix="ot-accel-") as scratch:
        package = Path(scratch) / "ot"
        package.mkdir()
        (package / "__init__.py").write_text("")  # only so that the modules are named ot.*
        for name in COMPILED_MODULES:
            shutil.copy2(PACKAGE_DIR / f"{name}.py", package / f"{name}.py")
        here = os.getcwd()
        os.chdir(scratch)
        try:
            extensions = cythonize([f"ot/{name}.py" for name in COMPILED_MODULES],
                                   compiler_directives={"language_level": 3}, quiet=True)
            command = build_ext(Distribution({"ext_modules": extensions, "script_args": ["-q"]}))
            command.inplace = True
            command.ensure_finalized()
            command.run()
        finally:
            os.chdir(here)
        staging = Path(tempfile.mkdtemp(prefix=".building-", dir=target.parent.parent)) / "ot"
        staging.mkdir()
        staging.parent.chmod(0o755)  # mkdtemp's 0700 would hide the build from a server run as another user
        for name in COMPILED_MODULES:
            shutil.move(package / extension_file(name), staging / extension_file(name))
        staging.parent.replace(target.parent)  # atomic: a reader sees no build or a whole one


def main() -> int:
    target = build_dir()
    if is_complete(target):
        return 0
    print(f"setup: compiling the OT core with Cython into {target.parent} (~15 s)", flush=True)
    started = time.monotonic()
    builds = target.parent.parent  # <prefix>/accel
    try:
        builds.mkdir(parents=True, exist_ok=True)
        for old in builds.iterdir():  # builds of earlier sources, or an incomplete one of these
            if old.name.startswith("ot-") or old.name.startswith(".building-"):
                shutil.rmtree(old, ignore_errors=True)
        compile_into(target)
    except Exception as exc:  # no compiler, no headers, no Cython: run from source instead
        print(f"setup: warning: the OT core was not compiled ({exc.__class__.__name__}: {exc}); "
              "it runs from source", file=sys.stderr)
        return 0
    print(f"setup: compiled {len(COMPILED_MODULES)} modules in {time.monotonic() - started:.0f} s", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
