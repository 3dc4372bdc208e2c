"""The layout the code promises: one place for each rule, no cycles, layers that stay apart.

These read the sources (and, for imports at run time, a scan in a subprocess); they fail when a
change puts a second package score in, ties two Rust modules into a cycle, lets a renderer
decide, or makes the scanner pull in the research pipeline.
"""

from __future__ import annotations

import ast
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PYTHON = ROOT / "python"
sys.path.insert(0, str(ROOT / "tools"))

import rust_modules  # noqa: E402


def test_rust_modules_form_no_cycle() -> None:
    edges = rust_modules.graph()
    assert rust_modules.cycles(edges) == []
    # The typed IR is a leaf: emission, taint and featurization depend on it, never it on them.
    assert edges["malwicode"] == set()
    assert {"emit", "taint", "featurize", "object", "config"} <= {
        m for m, uses in edges.items() if "malwicode" in uses
    }


def test_the_cycle_check_finds_a_cycle(tmp_path: Path) -> None:
    (tmp_path / "a.rs").write_text("use crate::b::x; // crate::c is a comment\n")
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "mod.rs").write_text("pub fn x() { crate::a::y() }\n")
    (tmp_path / "c.rs").write_text("use crate::{a::y, b};\n")
    edges = rust_modules.graph(tmp_path)
    assert edges == {"a": {"b"}, "b": {"a"}, "c": {"a", "b"}}
    assert rust_modules.cycles(edges) == [["a", "b"]]


def definitions(name: str) -> list[str]:
    """`path:line` of every `def name` in the Python packages."""
    found = []
    for path in sorted(PYTHON.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef) and node.name == name:
                found.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return found


def test_the_package_score_is_defined_once_in_the_verdict_module() -> None:
    for name in ("package_probability", "package_raw", "calibrate"):
        assert [d.split(":")[0] for d in definitions(name)] == ["python/malwi/engine/verdict.py"], name
    # No second sigmoid over calibration parameters anywhere else.
    for path in PYTHON.rglob("*.py"):
        if path.name != "verdict.py":
            assert not re.search(r"exp\(-\(\w*a\s*\*", path.read_text()), path


def module_imports(path: Path) -> set[str]:
    """Modules imported at the top level of a file (not inside functions: those are lazy)."""
    imported = set()
    for node in ast.parse(path.read_text(encoding="utf-8")).body:
        if isinstance(node, ast.Import):
            imported |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            imported.add(node.module)
    return imported


def test_renderers_decide_nothing_and_the_engine_renders_nothing() -> None:
    for path in (PYTHON / "malwi" / "report").glob("*.py"):
        deciding = {m for m in module_imports(path) if m.startswith(("malwi.engine", "malwi.model"))}
        assert not deciding, f"{path.name} imports {deciding}"
    renderers = {"malwi.report.text", "malwi.report.markdown", "malwi.report.sarif", "malwi.report.document"}
    for path in (PYTHON / "malwi" / "engine").glob("*.py"):
        assert not module_imports(path) & renderers, path.name


def test_the_scanner_never_imports_the_research_pipeline(examples: Path) -> None:
    code = (
        "import sys\n"
        "from malwi.cli import main\n"
        f"main(['scan', {str(examples)!r}, '--quiet', '--no-cache', '-o', '/dev/null'])\n"
        "loaded = sorted(m for m in sys.modules if m.startswith('malwi_research') or m in ('torch', 'sklearn'))\n"
        "print(','.join(loaded))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == ""
    assert (
        "malwi_research" not in (ROOT / "pyproject.toml").read_text().split("[tool.maturin]")[1].split("[")[0]
    )


def test_one_chunk_loop() -> None:
    """Only the pipeline reads and compiles a scan's files (in its chunks); nothing else in the
    scanner calls the compiler's batch functions."""
    calls = re.compile(r"\b(compile_files|read_files)\(")
    callers = sorted(
        str(path.relative_to(PYTHON / "malwi"))
        for path in (PYTHON / "malwi").rglob("*.py")
        if calls.search(path.read_text()) and path.name != "_malwi.pyi"
    )
    assert callers == ["engine/pipeline.py"]
