"""`malwi research reach-weights`: how much each reachability class counts in the package score,
fitted on labelled validation packages and written into a model bundle.

A package's score is made from its highest object score per class (`malwi.engine.reach`):
install, import, library, non-shipped, each multiplied by its weight (`PackageScore.top_of`).
`install` stays at 1.0: the calibration (`a`, `b`, threshold) was fitted on packages whose
malware runs at install time, so it is the scale the others are measured against. The other
three are grid-searched over 0.1 … 1.0 (never 0: code that does not run here may be imported
elsewhere) at the bundle's own threshold, so a score keeps its meaning:

1. keep only weightings under which every malicious package that neutral weights (all 1.0)
   flag keeps at least half of its margin over the threshold (`--keep`; a weighting that only
   just keeps a package flagged loses its like among packages never seen), and whose recall is
   within `--max-recall-loss` of neutral;
2. of those, the fewest benign packages at or above the threshold, then the fewest at or above
   the suspicious threshold, then the largest weights (the closest to neutral).

Each package is scanned once, with the scanner itself (`Workspace` + `Scanner`): the
per-class maxima it records are exactly what a scan weighs, so the fit and a scan cannot
disagree. Packages are listed in a file, one per line: `benign<TAB>path` or
`malicious<TAB>path` (a folder or an archive; nothing is installed or run).
"""

from __future__ import annotations

import argparse
import itertools
import json
import shutil
from pathlib import Path
from typing import Any

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi.engine.reach import REACH_CLASSES
from malwi.engine.verdict import PackageScore
from malwi.errors import MalwiError
from malwi.model import load_bundle, model_path
from malwi.model.bundle import pin_if_shipped, sha256_file
from malwi_research import Progress, ResearchError, WorkFolder, log
from malwi_research.export import write_manifest

GRID = tuple(round(0.1 * step, 1) for step in range(1, 11))
FITTED = ("import", "library", "non-shipped")
LABELS = {"benign": 0, "malicious": 1}
# The share of its margin over the threshold a malicious package must keep (see `fit`).
KEEP = 0.5

# One package: its label and, per unit, (highest raw object score per class, distinct objects).
Sample = tuple[int, list[tuple[dict[str, float], int]]]


def read_listing(path: Path) -> list[tuple[int, str]]:
    listed = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip() or line.startswith("#"):
            continue
        label, _, package = line.partition("\t")
        if label not in LABELS or not package:
            raise ResearchError(f"{path}:{number}: expected 'benign<TAB>path' or 'malicious<TAB>path'")
        listed.append((LABELS[label], package))
    return listed


def collect(
    listing: list[tuple[int, str]], bundle: Path, workers: int = 0
) -> tuple[list[Sample], list[str], list[str]]:
    """Scans each listed package once; returns the samples, their packages, and the packages
    that could not be scanned (with why)."""
    samples: list[Sample] = []
    names: list[str] = []
    failed: list[str] = []
    with (
        Workspace() as workspace,
        Scanner(ScanOptions(model=bundle, workers=workers)) as scanner,
        Progress("reach", len(listing)) as bar,
    ):
        for label, package in listing:
            try:
                target = workspace.local([package])
                report = scanner.judge(target)
                workspace.discard(target)
            except MalwiError as error:
                failed.append(f"{package}: {error}")
                bar.step()
                continue
            samples.append(
                (label, [(dict(unit.tops), unit.statistics["objects_scored"]) for unit in report.units])
            )
            names.append(package)
            bar.step()
    return samples, names, failed


def worst_unit_scores(samples: list[Sample], score: PackageScore) -> list[float]:
    """Each package's score: its worst unit's, as a scan reports it."""
    return [
        max((score.package_probability(score.top_of(tops), n) for tops, n in units), default=0.0)
        for _, units in samples
    ]


def measure(
    samples: list[Sample], values: list[float], threshold: float, suspicious: float
) -> dict[str, Any]:
    """Recall and benign packages flagged, given each package's score (`worst_unit_scores`)."""
    caught = malicious = flagged = warned = benign = 0
    for (label, _), value in zip(samples, values, strict=True):
        if label:
            malicious += 1
            caught += value >= threshold
        else:
            benign += 1
            flagged += value >= threshold
            warned += value >= suspicious
    return {
        "malicious_packages": malicious,
        "benign_packages": benign,
        "recall": caught / malicious if malicious else 0.0,
        "benign_malicious": flagged,
        "benign_suspicious_or_worse": warned,
        "false_positive_rate": flagged / benign if benign else 0.0,
    }


def fit(
    samples: list[Sample],
    score: PackageScore,
    threshold: float,
    suspicious: float,
    max_recall_loss: float,
    keep: float = KEEP,
) -> dict[str, Any]:
    """The weights the module docstring describes, with what they and neutral weights give."""

    def scored(weights: dict[str, float]) -> PackageScore:
        return PackageScore(score.method, score.a, score.b, score.benign, weights)

    neutral_values = worst_unit_scores(samples, scored({}))
    neutral = measure(samples, neutral_values, threshold, suspicious)
    # Each malicious package flagged with neutral weights must keep `keep` of its margin over
    # the threshold: a weighting that only just keeps it would lose its like elsewhere.
    floors = [
        threshold + keep * (value - threshold) if label and value >= threshold else None
        for (label, _), value in zip(samples, neutral_values)
    ]
    best: tuple[tuple[float, ...], dict[str, float], dict[str, Any]] | None = None
    for combination in itertools.product(GRID, repeat=len(FITTED)):
        weights = {"install": 1.0, **dict(zip(FITTED, combination))}
        weighed = scored(weights)
        values = worst_unit_scores(samples, weighed)
        if any(floor is not None and value < floor - 1e-12 for floor, value in zip(floors, values)):
            continue
        measured = measure(samples, values, threshold, suspicious)
        if measured["recall"] < neutral["recall"] - max_recall_loss - 1e-12:
            continue
        key = (measured["benign_malicious"], measured["benign_suspicious_or_worse"], -sum(combination))
        if best is None or key < best[0]:
            best = (key, weights, measured)
    assert best is not None  # neutral weights (all 1.0) are in the grid and always qualify
    _, weights, measured = best
    return {
        "weights": weights,
        "fitted": measured,
        "neutral": neutral,
        "max_recall_loss": max_recall_loss,
        "keep": keep,
    }


def write_bundle(source: Path, into: Path, weights: dict[str, float], record: dict[str, Any]) -> None:
    """A copy of `source` whose calibration carries the weights (and how they were fitted)."""
    if into.resolve() != source.resolve():
        if into.exists():
            shutil.rmtree(into)
        shutil.copytree(source, into)
    manifest = json.loads((into / "manifest.json").read_text(encoding="utf-8"))
    manifest["calibration"]["reach_weights"] = {c: weights[c] for c in REACH_CLASSES}
    manifest["calibration"]["reach_fit"] = record
    write_manifest(into, manifest)
    pin_if_shipped(into)


def lost(samples: list[Sample], names: list[str], score: PackageScore, threshold: float) -> list[str]:
    """The malicious packages found with neutral weights and missed with `score`'s."""
    neutral = PackageScore(score.method, score.a, score.b, score.benign)

    def flagged(weighed: PackageScore, units: list[tuple[dict[str, float], int]]) -> bool:
        return (
            max((weighed.package_probability(weighed.top_of(t), n) for t, n in units), default=0.0)
            >= threshold
        )

    return [
        name
        for name, (label, units) in zip(names, samples)
        if label and flagged(neutral, units) and not flagged(score, units)
    ]


def scanned(
    listing: list[tuple[int, str]], bundle: Path, model: str, saved: Path | None, workers: int
) -> tuple[list[Sample], list[str]]:
    """The listed packages' samples and names, from `saved` when it holds scans of exactly
    these packages by this model (refits need not scan again), else scanned (and saved)."""
    paths = [p for _, p in listing]
    if saved is not None and saved.exists():
        stored = json.loads(saved.read_text(encoding="utf-8"))
        if stored.get("model") != model or stored.get("listing") != paths:
            raise ResearchError(f"{saved}: scanned with another model or package list; delete it to rescan")
        samples = [(label, [(tops, n) for tops, n in units]) for label, units in stored["samples"]]
        names, failed = stored["names"], stored["failed"]
    else:
        samples, names, failed = collect(listing, bundle, workers)
        if saved is not None:
            saved.parent.mkdir(parents=True, exist_ok=True)
            record = {"model": model, "listing": paths, "samples": samples, "names": names, "failed": failed}
            saved.write_text(json.dumps(record), encoding="utf-8")
    for line in failed:
        log(f"not used: {line}")
    return samples, names


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    del work  # the packages are listed, not taken from the working folder
    bundle = model_path(args.model).resolve()
    loaded = load_bundle(bundle)
    model = sha256_file(loaded.onnx_path)
    folder = Path(args.samples) if args.samples else None
    listing = read_listing(Path(args.packages))
    samples, names = scanned(listing, bundle, model, folder / "fit.json" if folder else None, args.workers)
    if not any(label for label, _ in samples) or all(label for label, _ in samples):
        raise ResearchError("reach weights need both benign and malicious packages")
    score, threshold, suspicious = loaded.package_score, loaded.threshold, loaded.suspicious_threshold
    result = fit(samples, score, threshold, suspicious, args.max_recall_loss, args.keep)
    result["packages_file"] = Path(args.packages).name
    result["not_used"] = len(listing) - len(samples)
    fitted = PackageScore(score.method, score.a, score.b, score.benign, result["weights"])
    neutral = PackageScore(score.method, score.a, score.b, score.benign)
    result["malicious_lost"] = lost(samples, names, fitted, threshold)
    log(
        f"weights {result['weights']}: {json.dumps(result['fitted'])} (neutral: {json.dumps(result['neutral'])})"
    )
    for held_out in args.held_out or []:
        # Packages never fitted on, measured with neutral and with the fitted weights.
        other = read_listing(Path(held_out))
        saved = folder / f"{Path(held_out).stem}.json" if folder else None
        held, held_names = scanned(other, bundle, model, saved, args.workers)
        result.setdefault("held_out", {})[Path(held_out).name] = {
            "neutral": measure(held, worst_unit_scores(held, neutral), threshold, suspicious),
            "fitted": measure(held, worst_unit_scores(held, fitted), threshold, suspicious),
            "malicious_lost": lost(held, held_names, fitted, threshold),
        }
    if args.into:
        write_bundle(bundle, Path(args.into), result["weights"], result)
        log(f"written into {args.into}")
    print(json.dumps(result, indent=1))
