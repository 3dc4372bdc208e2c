"""Shared helpers. Nothing here (or anywhere in the tests) imports or runs scanned code."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_malwi(*args: str, timeout: float = 120, input: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    """Runs the installed CLI exactly as a user would: `python -m malwi ...`."""
    return subprocess.run(
        [sys.executable, "-m", "malwi", *args],
        capture_output=True,
        timeout=timeout,
        input=input,
    )


@pytest.fixture
def examples() -> Path:
    return EXAMPLES
