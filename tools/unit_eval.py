#!/usr/bin/env python3
"""Package-level figures of the shipped package-unit model against the package score it replaces,
on the units `malwi research unit-features` scanned (`W/unit_features.parquet`).

A package is flagged when any of its units is (as a scan reports it). Sets, by the listing's
split and ecosystem: the test split's benign long-tail releases (the registry-feed set: names
never trained or tuned on), held-out malicious PyPI samples, and the hand-written npm set
(`data/validation/npm-malicious`). For each: the object-model package score at its own
thresholds (`object_model_verdict`, what shipped before) and the unit model at its thresholds,
plus the unit-model threshold that keeps the feed set's false-positive rate at 0.1 % and the
recall it leaves (read off the test set, so reported, never used by the scanner).

    python tools/unit_eval.py --work W --model python/malwi/models/default [--json OUT]
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow.parquet as pq

from malwi.model.bundle import ModelBundle
from malwi.model.runtime import create_session

FEED_RATE = 0.001


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
    args = parser.parse_args()
    bundle = ModelBundle.load(args.model)
    spec = bundle.unit_model
    if spec is None:
        raise SystemExit(f"{args.model} has no unit model")
    rows = pq.read_table(args.work / "unit_features.parquet").to_pylist()
    session, _ = create_session(spec.path, "cpu", 1)
    features = np.asarray([row["features"] for row in rows], dtype=np.float32)
    scores = np.asarray(session.run([spec.output], {spec.input: features})[0], dtype=np.float32).reshape(-1)
    # name: (split, label, ecosystem or None for both)
    sets: dict[str, tuple[str, int, str | None]] = {
        "feed: benign long-tail PyPI (test)": ("test", 0, "pypi"),
        "feed: benign long-tail npm (test)": ("test", 0, "npm"),
        "benign validation (chose the model)": ("validation", 0, None),
        "malicious PyPI samples (test)": ("test", 1, "pypi"),
        "hand-written malicious npm (test)": ("test", 1, "npm"),
    }

    def members(split: str, label: int, ecosystem: str | None) -> list[int]:
        return [
            i
            for i, r in enumerate(rows)
            if r["split"] == split and r["label"] == label and ecosystem in (None, r["ecosystem"])
        ]

    result: dict[str, Any] = {"model": bundle.name, "unit_model": spec.name, "sets": {}}
    feed_benign: list[float] = []
    for name, wanted in sets.items():
        picked = members(*wanted)
        part = [rows[i] for i in picked]
        part_scores = scores[picked]
        before: dict[str, bool] = {}
        for row in part:
            verdict = row["object_model_verdict"]
            before[row["package_id"]] = before.get(row["package_id"], False) or verdict == "malicious"
        before_warned: dict[str, bool] = {}
        for row in part:
            verdict = row["object_model_verdict"]
            before_warned[row["package_id"]] = before_warned.get(row["package_id"], False) or verdict in (
                "malicious",
                "suspicious",
            )
        after = package_flags(part, part_scores, spec.threshold)
        after_warned = package_flags(part, part_scores, spec.suspicious_threshold)
        result["sets"][name] = {
            "packages": len(after),
            "package_score_malicious": share(before),
            "package_score_suspicious_or_worse": share(before_warned),
            "unit_model_malicious": share(after),
            "unit_model_suspicious_or_worse": share(after_warned),
        }
        if name.startswith("feed:"):
            feed_benign += list(package_scores(part, part_scores).values())
    threshold = feed_threshold(feed_benign, FEED_RATE)
    malicious_pypi = members("test", 1, "pypi")
    caught = package_flags([rows[i] for i in malicious_pypi], scores[malicious_pypi], threshold)
    npm = members("test", 1, "npm")
    caught_npm = package_flags([rows[i] for i in npm], scores[npm], threshold)
    result["feed_rate"] = {
        "false_positive_rate": FEED_RATE,
        "feed_packages": len(feed_benign),
        "threshold": threshold,
        "recall_malicious_pypi": share(caught),
        "recall_handwritten_npm": share(caught_npm),
    }
    result["thresholds"] = {"malicious": spec.threshold, "suspicious": spec.suspicious_threshold}
    print(
        "| packages | count | package score: malicious | suspicious or worse | unit model: malicious | suspicious or worse |"
    )
    print("|---|---|---|---|---|---|")
    for name, figures in result["sets"].items():
        print(
            f"| {name} | {figures['packages']:,} | {figures['package_score_malicious']:.4f} | "
            f"{figures['package_score_suspicious_or_worse']:.4f} | {figures['unit_model_malicious']:.4f} | "
            f"{figures['unit_model_suspicious_or_worse']:.4f} |"
        )
    print(json.dumps(result["feed_rate"]))
    if args.json:
        args.json.write_text(json.dumps(result, indent=1) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
