"""The hand-written stubs match the compiled extension (mypy.stubtest), and the package type-checks."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def test_stubs_match_the_extension() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy.stubtest", "malwi._malwi", "--ignore-missing-stub"],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=ROOT / "tests",  # not the source tree: stubtest must see the installed package
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_package_type_checks_strictly() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "mypy", "--strict", str(ROOT / "python" / "malwi")],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert result.returncode == 0, result.stdout + result.stderr
