"""What the package-unit model costs in a scan: each listed package judged by two scanners in the
same process and round, one with the bundle as shipped (unit model on) and one with the same
bundle without its `unit_model` section, result cache off; the median per-package ratio of the
two times, and the median time the unit model itself takes per package (feature vector and
ONNX Runtime, timed around `UnitModel.score`).

    python benches/unit_model_cost.py LIST [--model DIR] [--packages 60] [--rounds 3]

LIST: one package a line, a folder or an archive (`tools/unit_sets.py`'s `units.tsv` is read as
well: its last column is the path). Nothing is installed or run.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import tempfile
import time
from pathlib import Path

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi.model import DEFAULT_MODEL
from malwi.model.unit_model import UnitModel


def without_unit_model(bundle: Path, into: Path) -> Path:
    """A copy of `bundle` whose manifest has no unit model (a non-shipped folder: no pin)."""
    shutil.copytree(bundle, into)
    manifest = json.loads((into / "manifest.json").read_text())
    section = manifest.pop("unit_model")
    manifest["files"].pop(section["file"])
    (into / "manifest.json").write_text(json.dumps(manifest))
    return into


def listed(path: Path, count: int) -> list[str]:
    paths = []
    for line in path.read_text().splitlines():
        last = line.split("\t")[-1].strip()
        if last and last != "path" and not last.startswith("#"):
            paths.append(last)
    return paths[:count]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("packages", type=Path)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--packages", dest="count", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    spent: list[float] = []
    original = UnitModel.score

    def timed_score(self: UnitModel, evidence: object) -> float:
        started = time.perf_counter()
        try:
            return original(self, evidence)  # type: ignore[arg-type]
        finally:
            spent.append(time.perf_counter() - started)

    UnitModel.score = timed_score  # type: ignore[method-assign]
    paths = listed(args.packages, args.count)
    with tempfile.TemporaryDirectory() as scratch:
        plain = without_unit_model(args.model, Path(scratch) / "plain")
        ratios: list[float] = []
        unit_times: list[float] = []
        scan_times: list[float] = []
        with (
            Workspace() as workspace,
            Scanner(ScanOptions(model=args.model, workers=1)) as shipped,
            Scanner(ScanOptions(model=plain, workers=1)) as without,
        ):
            for path in paths:  # warm both: model loads and first-call costs are not the unit model's
                for scanner in (shipped, without):
                    target = workspace.local([path])
                    scanner.judge(target)
                    workspace.discard(target)
            for _ in range(args.rounds):
                for path in paths:
                    times = []
                    for scanner in (shipped, without):
                        target = workspace.local([path])
                        spent.clear()
                        started = time.perf_counter()
                        scanner.judge(target)
                        times.append(time.perf_counter() - started)
                        workspace.discard(target)
                        if scanner is shipped:
                            unit_times.append(sum(spent))
                    ratios.append(times[0] / times[1])
                    scan_times.append(times[1])
    result = {
        "packages": len(paths),
        "rounds": args.rounds,
        "median_ratio_with_to_without": statistics.median(ratios),
        "median_unit_model_seconds": statistics.median(unit_times),
        "median_scan_seconds_without": statistics.median(scan_times),
        "median_unit_model_share": statistics.median(u / s for u, s in zip(unit_times, scan_times) if s > 0),
    }
    print(json.dumps(result, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
