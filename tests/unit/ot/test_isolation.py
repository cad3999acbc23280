"""The OT core knows nothing of the web: it imports alone and uses only the stdlib."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

import ot

OT_DIR = Path(ot.__file__).parent
FORBIDDEN = ["flask", "sqlalchemy", "clickhouse_connect", "werkzeug", "app"]


def test_importing_ot_alone_pulls_in_no_web_or_storage_module() -> None:
    script = (
        "import json, sys; import ot; "
        f"print(json.dumps([ot.__file__, [m for m in {FORBIDDEN!r} if m in sys.modules]]))"
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        cwd=OT_DIR.parent,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    assert json.loads(done.stdout) == [ot.__file__, []]


def _top_level_imports(path: Path) -> set[str]:
    """Absolute imports of a module, as top-level package names."""
    names: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names.update(alias.name.split(".")[0] for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module.split(".")[0])
    return names


def test_every_ot_module_imports_only_the_stdlib_and_ot() -> None:
    modules = sorted(OT_DIR.rglob("*.py"))
    assert len(modules) >= 4
    for path in modules:
        outside = _top_level_imports(path) - set(sys.stdlib_module_names) - {"ot"}
        assert not outside, f"{path.name} imports {sorted(outside)}"


def test_the_import_check_would_notice_a_third_party_import(tmp_path: Path) -> None:
    module = tmp_path / "bad.py"
    module.write_text("import os\nfrom flask import Flask\nfrom . import sibling\n")
    assert _top_level_imports(module) - set(sys.stdlib_module_names) == {"flask"}
