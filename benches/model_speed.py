"""End-to-end scan time with the model, and which step of the scoring path buys what.

1. Wall time of `malwi scan DIR --format json` (process start, model load, compile, scoring and
   output included) against `malwi scan DIR --format tokens` (no model), paired by round.
2. In one process, on the objects compiled from DIR, the scoring path built up step by step,
   each variant timed on the same objects, medians of paired rounds:
     a. one window per inference, padded to the model's maximum length, every object
        (how the reference scores), with the fp32 model when `--fp32` names it
     b. windows batched by length (fp32)
     c. the int8 model
     d. objects deduplicated by hash
     e. stage 1 first, only its candidates go to stage 2: the shipped path

    python benches/model_speed.py [--rounds 5] [--dir DIR] [--model DIR] [--fp32 model.fp32.onnx]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np

import malwi.model
from malwi import _malwi
from malwi.model.runtime import create_session
from malwi.model.scoring import Scorer, ScoringStatistics


def stdlib_copy(scratch: Path) -> Path:
    corpus = scratch / "stdlib"
    corpus.mkdir()
    for path in Path(sysconfig.get_paths()["stdlib"]).glob("*.py"):
        shutil.copy(path, corpus)
    return corpus


def timed(command: list[str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {result.stderr.decode(errors='replace').strip()}")
    return seconds


def one_window_at_a_time(scorer: Scorer, session: Any, objects: list[Any]) -> None:
    """Every window on its own, padded to the model's maximum length."""
    bundle = scorer.bundle
    encoding = bundle.vocabulary.encode(
        objects, max_length=bundle.max_length, stride=bundle.stride, max_windows=bundle.max_windows
    )
    pad = bundle.vocabulary.pad_id
    for window in range(encoding.window_count):
        ids, mask, _rows, columns = encoding.pack([window])
        full_ids = np.full((1, bundle.max_length), pad, dtype=np.int64)
        full_mask = np.zeros((1, bundle.max_length), dtype=np.int64)
        full_ids[0, :columns] = np.frombuffer(ids, dtype=np.int64)
        full_mask[0, :columns] = np.frombuffer(mask, dtype=np.int64)
        session.run(None, {"input_ids": full_ids, "attention_mask": full_mask})


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", help="corpus (default: the stdlib's top-level modules, copied)")
    parser.add_argument("--model", help="model bundle (default: the one malwi uses)")
    parser.add_argument("--fp32", help="the fp32 ONNX export of the same model, for steps a and b")
    parser.add_argument("--skip-reference", action="store_true", help="leave out step a (slow)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(args.dir) if args.dir else stdlib_copy(Path(scratch))
        files = sorted(p for p in corpus.rglob("*") if p.suffix in (".py", ".js") and p.is_file())
        size = sum(p.stat().st_size for p in files)
        print(f"corpus: {len(files)} files, {size / 1e6:.2f} MB; {args.rounds} rounds")

        cli = [sys.executable, "-m", "malwi", "scan", str(corpus), "-o", "/dev/null"]
        if args.model:
            cli += ["--model", args.model]
        with_model: list[float] = []
        tokens_only: list[float] = []
        for _ in range(args.rounds):
            with_model.append(timed([*cli, "--format", "json"]))
            tokens_only.append(timed([*cli, "--format", "tokens", "--no-model"]))
        print(
            f"malwi scan --format json (model load and scoring included): median {statistics.median(with_model):.2f} s; "
            f"--format tokens without the model: {statistics.median(tokens_only):.2f} s"
        )

        scorer = malwi.model.load(args.model, device="cpu")
        bundle = scorer.bundle
        reports = _malwi.compile_files([str(p) for p in files], config=bundle.featurizer)
        objects = [o for r in reports for o in r.objects]
        hashes = [o.to_hash() for o in objects]
        int8_session = scorer.session
        fp32_session = create_session(Path(args.fp32), "cpu", 0)[0] if args.fp32 else int8_session
        fp32_label = "fp32" if args.fp32 else "int8 (no --fp32 given)"

        def stage2_all(session: Any, items: list[Any]) -> None:
            Scorer(bundle, session, "cpu").stage2(items, ScoringStatistics())

        unique = list(dict(zip(hashes, objects)).values())
        encoding = bundle.vocabulary.encode(
            objects, max_length=bundle.max_length, stride=bundle.stride, max_windows=bundle.max_windows
        )
        shipped = ScoringStatistics()
        scorer.score(objects, shipped)
        print(
            f"objects {len(objects)}, unique {len(unique)}, windows {encoding.window_count}, "
            f"stage-2 candidates {shipped.stage2_objects} (batches {shipped.batches}, windows {shipped.windows})"
        )

        steps: list[tuple[str, Callable[[], None]]] = []
        if not args.skip_reference:
            steps.append(
                (
                    f"a. one window per call, padded to {bundle.max_length}, {fp32_label}",
                    lambda: one_window_at_a_time(scorer, fp32_session, objects),
                )
            )
        steps += [
            (f"b. batched by length, {fp32_label}", lambda: stage2_all(fp32_session, objects)),
            ("c. batched by length, int8", lambda: stage2_all(int8_session, objects)),
            ("d. + deduplicated by hash", lambda: stage2_all(int8_session, unique)),
            ("e. + stage 1 picks candidates (shipped)", lambda: scorer.score(objects, ScoringStatistics())),
        ]
        times: dict[str, list[float]] = {name: [] for name, _ in steps}
        for round_ in range(args.rounds):
            for name, step in steps:
                if name.startswith("a.") and round_ > 0:
                    continue  # the slow baseline runs once
                start = time.perf_counter()
                step()
                times[name].append(time.perf_counter() - start)
        previous = None
        for name, _ in steps:
            median = statistics.median(times[name])
            gain = f"  ({previous / median:.1f}x faster than the step before)" if previous else ""
            print(f"{name:<58} {median:8.2f} s{gain}")
            previous = median


if __name__ == "__main__":
    main()
