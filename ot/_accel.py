"""A compiled build of this package, used only when it was built from exactly these sources.

The transform and apply paths run once per operation on the server and once per revision
in every client, and the interpreter's overhead is most of their cost. `scripts/build_accel.py`
(run by `scripts/setup`) compiles the unchanged modules with Cython into a directory named
after a digest of their source, under the interpreter's prefix (the venv). The package then
looks there before its own directory. Editing a module changes the digest, so a stale build
is never picked up: the package simply runs from source until the next build. `OT_PURE=1`
forces the source.
"""
from __future__ import annotations

import hashlib
import os
import sys
from importlib.machinery import EXTENSION_SUFFIXES
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
COMPILED_MODULES = ("authority", "operations", "transform", "wire")


def source_digest(package_dir: Path = PACKAGE_DIR) -> str:
    """A digest of the compiled modules' sources (and of the interpreter that a build is for)."""
    digest = hashlib.sha256(sys.implementation.cache_tag.encode())
    for name in COMPILED_MODULES:
        digest.update(name.encode() + b"\0" + (package_dir / f"{name}.py").read_bytes() + b"\0")
    return digest.hexdigest()[:16]


def build_dir(package_dir: Path = PACKAGE_DIR) -> Path:
    """Where the build of these exact sources lives: `<prefix>/accel/ot-<digest>/ot`."""
    return Path(sys.prefix) / "accel" / f"ot-{source_digest(package_dir)}" / "ot"


def extension_file(name: str) -> str:
    """The file name of a compiled module for this interpreter, e.g. `transform.cpython-311-x86_64-linux-gnu.so`."""
    return f"{name}{EXTENSION_SUFFIXES[0]}"


def is_complete(directory: Path) -> bool:
    """Every compiled module is present in `directory`."""
    return all((directory / extension_file(name)).is_file() for name in COMPILED_MODULES)


def use_compiled(package_path: list[str]) -> bool:
    """Put the matching build first on the package's path; False (source only) when there is none."""
    if os.environ.get("OT_PURE"):
        return False
    try:
        directory = build_dir()
    except OSError:
        return False
    if not is_complete(directory):
        return False
    package_path.insert(0, str(directory))
    return True
