"""Corpus for the end-to-end benchmarks: the standard library's top-level modules."""

from __future__ import annotations

import sysconfig
from pathlib import Path

import pytest


def stdlib_files() -> list[str]:
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    return sorted(str(p) for p in stdlib.glob("*.py"))


@pytest.fixture(scope="session")
def stdlib() -> tuple[list[str], int]:
    files = stdlib_files()
    return files, sum(Path(f).stat().st_size for f in files)
