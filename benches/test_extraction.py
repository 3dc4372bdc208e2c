"""End-to-end extraction throughput (pytest-benchmark).

Compilation (read, parse, emit malwicode) beside tree-sitter's parse-only throughput of the same
files, measured in the same run, with 1 and 2 workers. Run for numbers:

    pytest benches --benchmark-only --benchmark-columns=median,mean,stddev,rounds

CI runs the suite with --benchmark-disable: every benchmark executes once, as a test.
"""

from __future__ import annotations

from typing import Any

import pytest

import malwi
from malwi import _malwi


def record(benchmark: Any, size: int) -> None:
    stats = getattr(benchmark, "stats", None)
    if stats is not None and stats.stats.median:
        benchmark.extra_info["MB/s (median)"] = round(size / stats.stats.median / 1e6, 2)
    benchmark.extra_info["bytes"] = size


@pytest.mark.parametrize("workers", [1, 2])
def test_parse_only(benchmark: Any, stdlib: tuple[list[str], int], workers: int) -> None:
    files, size = stdlib
    parsed = benchmark(_malwi.parse_files, files, workers=workers)
    assert parsed == size
    record(benchmark, size)


@pytest.mark.parametrize("workers", [1, 2])
def test_compile(benchmark: Any, stdlib: tuple[list[str], int], workers: int) -> None:
    files, size = stdlib
    reports = benchmark(malwi.compile_files, files, workers=workers)
    assert all(report.status == "compiled" for report in reports)
    record(benchmark, size)


def test_compile_and_render_tokens(benchmark: Any, stdlib: tuple[list[str], int]) -> None:
    """What `malwi scan --format tokens` does after start-up: compile, then render."""
    files, size = stdlib

    def scan() -> int:
        return len(_malwi.render(malwi.compile_files(files, workers=1), "tokens"))

    assert benchmark(scan) > size // 2
    record(benchmark, size)
