"""The scan pipeline step by step (pytest-benchmark): featurisation, stage 1, stage 2, and whole
scans of the standard library's top-level modules, cold (1 and 2 workers) and from a warm
result cache, all with the shipped model on the CPU.

CI runs these in a short mode and saves them (`make bench-check`: evidence/benchmarks.json);
its gate judges the paired ratios of benches/test_ratios.py, never absolute times:

    pytest benches --benchmark-only --benchmark-json=evidence/benchmarks.json
    python tools/bench_gate.py evidence/benchmarks.json
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
import pytest

import malwi
import malwi.model
from malwi.engine import Scanner, ScanOptions, Workspace
from malwi.engine.cache import ResultCache
from malwi.model.scoring import Scorer, ScoringStatistics

# Stage 2 on the objects stage 1 ranks highest: the ones a scan sends to it.
STAGE2_OBJECTS = 200


@pytest.fixture(scope="module")
def scorer() -> Scorer:
    return malwi.model.load(device="cpu", workers=1)


@pytest.fixture(scope="module")
def objects(stdlib: tuple[list[str], int], scorer: Scorer) -> list[Any]:
    files, _ = stdlib
    reports = malwi.compile_files(files, config=scorer.bundle.featurizer)
    unique = {o.to_hash(): o for r in reports for o in r.objects}
    return list(unique.values())


@pytest.fixture(scope="module")
def stage2_sample(objects: list[Any], scorer: Scorer) -> list[Any]:
    stage1 = np.frombuffer(scorer.bundle.stage1.score(objects, workers=1), dtype=np.float32)
    return [objects[i] for i in np.argsort(-stage1, kind="stable")[:STAGE2_OBJECTS]]


def test_featurize(benchmark: Any, objects: list[Any], scorer: Scorer) -> None:
    """Objects to the model's inputs: stage-1 n-gram features and stage-2 windows."""
    bundle = scorer.bundle

    def featurize() -> int:
        bundle.stage1.score(objects[:1], workers=1)  # n-gram hashing happens inside stage 1
        encoding = bundle.vocabulary.encode(
            objects, max_length=bundle.max_length, stride=bundle.stride, max_windows=bundle.max_windows
        )
        return int(encoding.window_count)

    assert benchmark(featurize) >= len(objects)


def test_stage1(benchmark: Any, objects: list[Any], scorer: Scorer) -> None:
    scores = benchmark(scorer.bundle.stage1.score, objects, workers=1)
    assert len(np.frombuffer(scores, dtype=np.float32)) == len(objects)


def test_stage2(benchmark: Any, stage2_sample: list[Any], scorer: Scorer) -> None:
    """The shipped int8 model on the objects stage 1 sends on (fp32: benches/test_ratios.py)."""
    scores = benchmark(scorer.stage2, stage2_sample, ScoringStatistics())
    assert scores.shape == (len(stage2_sample),) and np.all((scores >= 0) & (scores <= 1))


@pytest.fixture(scope="module")
def workspace() -> Iterator[Workspace]:
    with Workspace() as opened:
        yield opened


@pytest.mark.parametrize("workers", [1, 2])
def test_scan_cold(benchmark: Any, stdlib: tuple[list[str], int], workspace: Workspace, workers: int) -> None:
    """A whole scan without the result cache: compile, score, judge (model loaded before)."""
    files, _ = stdlib
    with Scanner(ScanOptions(cache=False, workers=workers, device="cpu")) as scanner:
        scanner.scorer  # noqa: B018 - the model is loaded once, outside the timing
        report = benchmark(scanner.judge_local, workspace, files)
    assert report.statistics["scanned"] == len(files) and report.statistics["cached"] == 0


def test_scan_cached(
    benchmark: Any,
    stdlib: tuple[list[str], int],
    workspace: Workspace,
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    """The same scan answered from a warm result cache: every file read and hashed, none compiled."""
    files, _ = stdlib
    cache = ResultCache(tmp_path_factory.mktemp("bench-cache") / "results.sqlite3")
    with Scanner(ScanOptions(cache=cache, workers=1, device="cpu")) as scanner:
        scanner.judge_local(workspace, files)
        report = benchmark(scanner.judge_local, workspace, files)
    cache.close()
    assert report.statistics["cached"] == len(files)
