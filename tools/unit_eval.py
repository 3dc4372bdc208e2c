#!/usr/bin/env python3
"""Package-level figures of the shipped package-unit model against the package score it replaces,
on the units `malwi research unit-features` scanned (`W/unit_features.parquet`).

A package is flagged when any of its units is (as a scan reports it). Sets, by the listing's
split and ecosystem: the test split's benign long-tail releases (the registry-feed set: names
never trained or tuned on), the benign validation units (which chose the model), held-out
malicious PyPI samples, the hand-written npm set (`data/validation/npm-malicious`) and the
JavaScript rewrites of the test samples (`malwi_research.augment`). Columns:
the object-model package score at its own thresholds (`object_model_verdict`: what decided
before), the unit model alone at its thresholds, and what the bundle ships (the unit model for
the ecosystems it judges, the package score for the others). Also the unit-model threshold that
keeps the PyPI feed set's false-positive rate at 0.1 % and the recall it leaves (read off the
test set, so reported only, never used by the scanner).

    python tools/unit_eval.py --work W --model python/malwi/models/default [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from malwi.model.bundle import ModelBundle
from malwi.model.runtime import create_session

FEED_RATE = 0.001
SYNTHETIC = "synthetic-javascript"  # where tools/unit_sets.py writes the JavaScript rewrites


def package_flags(rows: list[dict[str, Any]], scores: np.ndarray, threshold: float) -> dict[str, bool]:
    flagged: dict[str, bool] = {}
    for row, score in zip(rows, scores):
        flagged[row["package_id"]] = flagged.get(row["package_id"], False) or bool(score >= threshold)
    return flagged


def package_scores(rows: list[dict[str, Any]], scores: np.ndarray) -> dict[str, float]:
    worst: dict[str, float] = {}
    for row, score in zip(rows, scores):
        worst[row["package_id"]] = max(worst.get(row["package_id"], 0.0), float(score))
    return worst


def share(flags: dict[str, bool]) -> float:
    return sum(flags.values()) / len(flags) if flags else math.nan


def feed_threshold(benign: list[float], rate: float) -> float:
    """The lowest threshold (flagged: score >= threshold) at which at most `rate` of `benign` is
    flagged."""
    ordered = sorted(benign, reverse=True)
    allowed = math.floor(rate * len(ordered))
    if allowed >= len(ordered):
        return 0.0
    # Flag at most `allowed`: the threshold must sit above the (allowed+1)-th highest score.
    return float(np.nextafter(np.float32(ordered[allowed]), np.float32(2.0)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--model", required=True, type=Path)
    parser.add_argument("--json", type=Path)
    parser.add_argument(
        "--scanned",
        type=Path,
        help="a unit-features table of the same packages scanned with the bundle itself: its verdicts are "
        "the shipped column (else that column is computed: unit model for its ecosystems)",
    )
    args = parser.parse_args()
    bundle = ModelBundle.load(args.model)
    spec = bundle.unit_model
    if spec is None:
        raise SystemExit(f"{args.model} has no unit model")
    rows = pq.read_table(args.work / "unit_features.parquet").to_pylist()
    session, _ = create_session(spec.path, "cpu", 1)
    features = np.asarray([row["features"] for row in rows], dtype=np.float32)
    scores = np.asarray(session.run([spec.output], {spec.input: features})[0], dtype=np.float32).reshape(-1)
    # name: (split, label, ecosystem or None for both, synthetic rewrites or not or None for both)
    sets: dict[str, tuple[str, int, str | None, bool | None]] = {
        "feed: benign long-tail PyPI (test)": ("test", 0, "pypi", None),
        "feed: benign long-tail npm (test)": ("test", 0, "npm", None),
        "benign validation (chose the model)": ("validation", 0, None, None),
        "malicious PyPI samples (test)": ("test", 1, "pypi", None),
        "hand-written malicious npm (test)": ("test", 1, "npm", False),
        "synthetic npm rewrites of test samples": ("test", 1, "npm", True),
    }

    def members(split: str, label: int, ecosystem: str | None, synthetic: bool | None = None) -> list[int]:
        return [
            i
            for i, r in enumerate(rows)
            if r["split"] == split
            and r["label"] == label
            and ecosystem in (None, r["ecosystem"])
            and synthetic in (None, SYNTHETIC in r["path"])
        ]

    result: dict[str, Any] = {"model": bundle.name, "unit_model": spec.name, "sets": {}}
    warned = ("malicious", "suspicious")

    def flagged_share(part: list[int], judged: Callable[[int], bool]) -> float:
        """The share of the packages of `part` (row indices) with a unit that `judged` flags."""
        flags: dict[str, bool] = {}
        for i in part:
            flags[rows[i]["package_id"]] = flags.get(rows[i]["package_id"], False) or judged(i)
        return share(flags)

    scanned: dict[str, list[str]] = {}
    if args.scanned:
        for row in pq.read_table(args.scanned).to_pylist():
            scanned.setdefault(row["package_id"], []).append(row["object_model_verdict"])

    def shipped(i: int, suspicious: bool) -> bool:
        """As a scan with the bundle decides (read from `--scanned` when given): the unit model
        for its ecosystems, else the package score."""
        if scanned:
            verdicts = scanned.get(rows[i]["package_id"], ["incomplete"])
            return any(v in (warned if suspicious else ("malicious",)) for v in verdicts)
        if rows[i]["ecosystem"] in spec.ecosystems:
            return bool(scores[i] >= (spec.suspicious_threshold if suspicious else spec.threshold))
        return rows[i]["object_model_verdict"] in (warned if suspicious else ("malicious",))

    columns: dict[str, Callable[[int], bool]] = {
        "package_score_malicious": lambda i: rows[i]["object_model_verdict"] == "malicious",
        "package_score_suspicious_or_worse": lambda i: rows[i]["object_model_verdict"] in warned,
        "unit_model_malicious": lambda i: bool(scores[i] >= spec.threshold),
        "unit_model_suspicious_or_worse": lambda i: bool(scores[i] >= spec.suspicious_threshold),
        "shipped_malicious": lambda i: shipped(i, False),
        "shipped_suspicious_or_worse": lambda i: shipped(i, True),
    }
    for name, wanted in sets.items():
        part = members(*wanted)
        figures: dict[str, Any] = {"packages": len({rows[i]["package_id"] for i in part})}
        figures.update({column: flagged_share(part, judged) for column, judged in columns.items()})
        if scanned and not any(rows[i]["package_id"] in scanned for i in part):
            # Not in the scanned table: what the bundle does there was not measured.
            figures["shipped_malicious"] = figures["shipped_suspicious_or_worse"] = None
        result["sets"][name] = figures
    # The unit-model threshold at which the PyPI feed set's false-positive rate is 0.1 %.
    feed = members("test", 0, "pypi")
    worst = package_scores([rows[i] for i in feed], scores[feed])
    threshold = feed_threshold(list(worst.values()), FEED_RATE)
    malicious_pypi = members("test", 1, "pypi")
    caught = package_flags([rows[i] for i in malicious_pypi], scores[malicious_pypi], threshold)
    result["feed_rate"] = {
        "false_positive_rate": FEED_RATE,
        "feed_packages": len(worst),
        "threshold": threshold,
        "recall_malicious_pypi": share(caught),
    }
    result["thresholds"] = {"malicious": spec.threshold, "suspicious": spec.suspicious_threshold}
    result["ecosystems"] = list(spec.ecosystems)
    print(
        "| packages | count | package score: malicious (suspicious or worse) | unit model alone | "
        f"shipped ({'scanned' if scanned else 'unit model for ' + ', '.join(spec.ecosystems)}) |"
    )
    print("|---|---|---|---|---|")
    for name, f in result["sets"].items():
        print(
            f"| {name} | {f['packages']:,} | {f['package_score_malicious']:.4f} "
            f"({f['package_score_suspicious_or_worse']:.4f}) | {f['unit_model_malicious']:.4f} "
            f"({f['unit_model_suspicious_or_worse']:.4f}) | "
            + (
                "not scanned |"
                if f["shipped_malicious"] is None
                else f"{f['shipped_malicious']:.4f} ({f['shipped_suspicious_or_worse']:.4f}) |"
            )
        )
    print(json.dumps(result["feed_rate"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
