"""The features of one package unit: what the package-unit model judges.

The object model scores each object on its own; a package is more than its highest object
score. The static engines already know what runs where (`malwi.engine.reach`), which behaviours
each object has (activities), where data flows (taint flows), what was decoded (payloads), what
is protected, and what the install scripts run. This module turns that into one fixed-length
vector per unit:

- `FileSummary`: per compiled file, its raw object scores (those above `SCORE_FLOOR`) and the
  activities of its objects, each split into module-level objects (top level, decoded payloads)
  and the others, and what its string literals look like (byte histogram, entropy windows:
  `malwi._malwi.FileReport.literal_bytes`, `.literal_windows`). Made once, when the file is
  scored, and kept in the result cache, so a unit answered from the cache gets the same features.
- `UnitEvidence`: a unit's file summaries with each file's reachability class, its flows,
  payloads, protection, and the unit's install hooks.
- `UnitFeatures`: the vector, by the training configuration's `feature_extractors` (the shipped
  unit model records the settings it was trained with).

Size is kept out on purpose: the malicious training samples are only the files that carry the
malice, the benign ones whole packages, so a count of files or objects would teach that a small
package is malware. Every feature is a maximum, a presence, or a count of *high-scoring* or
*dangerous* things, which benign filler does not raise.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from malwi._malwi import (
    BYTE_BINS,
    CODE_STRING_CHAIN,
    ENTROPY_BUCKET_BITS,
    ENTROPY_BUCKETS,
    ENTROPY_WINDOWS,
    categories,
    flow_kinds,
)
from malwi.engine.reach import REACH_CLASSES, object_reach

if TYPE_CHECKING:
    import numpy as np

    from malwi._malwi import FileReport
    from malwi.report.result import FileFinding

__all__ = ["SCORE_FLOOR", "FileSummary", "UnitEvidence", "UnitFeatures", "summarize_files"]

# Raw object scores below this are not kept per file: most objects score near zero, and a count
# over a threshold below it is never asked for (`UnitFeatures` refuses one).
SCORE_FLOOR = 0.01
# The most scores kept per file and kind: the top ones; counts over a threshold saturate there.
MAX_KEPT_SCORES = 256
ACTIVITIES = tuple(name for name, _ in categories())
FLOW_SOURCES, FLOW_SINKS = (tuple(kinds) for kinds in flow_kinds())
# Code that runs without being called: on install, on import.
RUNS = frozenset({"install", "import"})


class FileSummary:
    """A compiled file's raw object scores (at or above SCORE_FLOOR, highest first, at most
    MAX_KEPT_SCORES) and activities, for its module-level objects and its other objects; and
    its string literals' byte histogram (`BYTE_BINS` counts) and entropy windows (per window
    size of `ENTROPY_WINDOWS`, the count of windows per entropy bucket)."""

    __slots__ = ("activities", "literal_bytes", "literal_windows", "scores")

    def __init__(
        self,
        scores: tuple[list[float], list[float]] = ([], []),
        activities: tuple[list[str], list[str]] = ([], []),
        literal_bytes: Sequence[int] = (),
        literal_windows: Sequence[Sequence[int]] = (),
    ) -> None:
        self.scores = scores
        self.activities = activities
        self.literal_bytes = list(literal_bytes) or [0] * BYTE_BINS
        self.literal_windows = [list(w) for w in literal_windows] or [
            [0] * ENTROPY_BUCKETS for _ in ENTROPY_WINDOWS
        ]

    def to_record(self) -> dict[str, Any]:
        return {
            "scores": [list(s) for s in self.scores],
            "activities": [list(a) for a in self.activities],
            "literals": {
                "bytes": list(self.literal_bytes),
                "windows": [list(w) for w in self.literal_windows],
            },
        }

    @classmethod
    def from_record(cls, record: Any) -> FileSummary:
        """A summary read back from the cache, checked (a bad one raises: the file is rescanned)."""
        scores, activities = record["scores"], record["activities"]
        if not (isinstance(scores, list) and isinstance(activities, list)):
            raise TypeError("summary scores and activities are lists")
        if len(scores) != 2 or len(activities) != 2:
            raise ValueError("a summary has module-level and other parts")
        known = set(ACTIVITIES)
        checked_scores = []
        for part in scores:
            values = [float(v) for v in part]
            if len(values) > MAX_KEPT_SCORES or not all(SCORE_FLOOR <= v <= 1.0 for v in values):
                raise ValueError("summary scores out of range")
            checked_scores.append(values)
        checked_activities = []
        for part in activities:
            if not all(isinstance(a, str) and a in known for a in part):
                raise ValueError("unknown activity in a summary")
            checked_activities.append(list(part))
        literals = record["literals"]
        literal_bytes = _counts(literals["bytes"], BYTE_BINS)
        windows = literals["windows"]
        if not isinstance(windows, list) or len(windows) != len(ENTROPY_WINDOWS):
            raise ValueError("a summary has entropy windows per window size")
        return cls(
            (checked_scores[0], checked_scores[1]),
            (checked_activities[0], checked_activities[1]),
            literal_bytes,
            [_counts(w, ENTROPY_BUCKETS) for w in windows],
        )


def _counts(values: Any, length: int) -> list[int]:
    """`length` non-negative integer counts read back from the cache (anything else raises)."""
    if not isinstance(values, list) or len(values) != length:
        raise ValueError(f"expected {length} counts")
    if not all(type(v) is int and v >= 0 for v in values):
        raise ValueError("counts are non-negative integers")
    return values


def summarize_files(reports: Sequence[FileReport], raw: np.ndarray) -> list[FileSummary]:
    """The summary of each report; `raw[i]` is the raw score of the `i`-th object of all the
    reports, in report order (as `judge_files` takes them)."""
    kept: list[tuple[list[float], list[float]]] = [([], []) for _ in reports]
    seen: list[tuple[set[str], set[str]]] = [(set(), set()) for _ in reports]
    scores = iter(raw.tolist())
    for owner, report in enumerate(reports):
        for obj in report.objects:
            part = 0 if obj.kind == "module" or obj.decoded_from else 1
            score = next(scores, 0.0)
            if score >= SCORE_FLOOR:
                kept[owner][part].append(score)
            seen[owner][part].update(obj.activities())
    summaries = []
    for report, (module, other), (module_activities, other_activities) in zip(reports, kept, seen):
        module.sort(reverse=True)
        other.sort(reverse=True)
        summaries.append(
            FileSummary(
                (module[:MAX_KEPT_SCORES], other[:MAX_KEPT_SCORES]),
                (sorted(module_activities), sorted(other_activities)),
                report.literal_bytes,
                report.literal_windows,
            )
        )
    return summaries


def decoding_layers(chain: Any) -> int:
    """How many decodings a payload's chain names, as the Rust core writes it (`MalwiObject.
    decoded_from`: the steps joined by " > ", `(truncated)` after a cut): `base64 > zlib` is two."""
    if not isinstance(chain, str):
        return 0
    steps = chain.removesuffix(" (truncated)").strip()
    return len(steps.split(" > ")) if steps else 0


class UnitEvidence:
    """What one unit's scan found, file by file, once each file's reachability class is known."""

    __slots__ = ("files", "hooks")

    def __init__(self) -> None:
        # (its summary, its finding: reachability class, flows, payloads, protection)
        self.files: list[tuple[FileSummary, FileFinding]] = []
        self.hooks: list[dict[str, Any]] = []


class UnitFeatures:
    """The feature vector of a unit, by the `feature_extractors` settings (`object_scores`:
    `top_k`, `thresholds`; `byte_histogram` and `entropy_features` when `enabled`: a model
    trained before they existed has neither); `names` says what each position holds."""

    def __init__(self, settings: dict[str, Any]) -> None:
        scores = settings["object_scores"]
        self.top_k = int(scores["top_k"])
        self.thresholds = tuple(float(t) for t in scores["thresholds"])
        if self.top_k < 1:
            raise ValueError(f"object_scores.top_k {self.top_k} must be at least 1")
        if any(not SCORE_FLOOR <= t <= 1.0 for t in self.thresholds):
            raise ValueError(
                f"object_scores.thresholds must lie in [{SCORE_FLOOR}, 1]: {list(self.thresholds)}"
            )
        histogram = settings.get("byte_histogram") or {}
        self.byte_bins = int(histogram.get("bins", BYTE_BINS)) if histogram.get("enabled") else 0
        if self.byte_bins and (self.byte_bins > BYTE_BINS or BYTE_BINS % self.byte_bins):
            raise ValueError(f"byte_histogram.bins {self.byte_bins} must divide {BYTE_BINS}")
        entropy = settings.get("entropy_features") or {}
        self.entropy_windows = (
            tuple(int(w) for w in entropy.get("window_sizes", ())) if entropy.get("enabled") else ()
        )
        if any(w not in ENTROPY_WINDOWS for w in self.entropy_windows):
            raise ValueError(
                f"entropy_features.window_sizes must be among {ENTROPY_WINDOWS}: {list(self.entropy_windows)}"
            )
        high = float(entropy.get("high_entropy_bits", 0.0)) / ENTROPY_BUCKET_BITS
        if self.entropy_windows and not (0 < high <= ENTROPY_BUCKETS and high == round(high)):
            raise ValueError(
                f"entropy_features.high_entropy_bits must be a multiple of {ENTROPY_BUCKET_BITS} in (0, 8]"
            )
        self.high_bucket = round(high)
        # How `payloads.max_depth` counts: `layers`, the decodings a chain names. A model trained
        # before the setting existed learned the length of the chain's text (a bug), and keeps it.
        self.payload_depth = settings.get("payload_depth", "chain_characters")
        if self.payload_depth not in ("layers", "chain_characters"):
            raise ValueError(f"payload_depth must be layers or chain_characters: {self.payload_depth!r}")
        self.names = self._names()
        self._position = {name: i for i, name in enumerate(self.names)}

    def _names(self) -> list[str]:
        names = []
        for reach in REACH_CLASSES:
            names += [f"scores.{reach}.top{i + 1}" for i in range(self.top_k)]
            names += [f"scores.{reach}.at_least_{t:g}" for t in self.thresholds]
        names += [f"activity.{reach}.{name}" for reach in REACH_CLASSES for name in ACTIVITIES]
        names += [f"flow.{source}.{sink}" for source in FLOW_SOURCES for sink in FLOW_SINKS]
        names += ["flows.running_code", "flows.other_code"]
        names += ["payloads.running_code", "payloads.other_code", "payloads.max_depth"]
        names += ["protection.max_confidence", "protection.files"]
        names += ["hooks.scripts", "hooks.files_run", "hooks.inline_code", "hooks.evidence"]
        names += [
            "structure.install_code",
            "structure.import_code",
            "structure.python",
            "structure.javascript",
        ]
        names += [f"literals.bytes.bin{i}" for i in range(self.byte_bins)]
        for window in self.entropy_windows:
            names += [
                f"literals.entropy{window}.{name}" for name in ("max", "high.running_code", "high.other_code")
            ]
        return names

    def _literal_features(self, evidence: UnitEvidence, values: list[float]) -> None:
        """The string literals of the unit's shipped code (tests and examples left out, as their
        fixtures are data): the share of their bytes per histogram bin, and per window size the
        highest entropy reached and how many windows reach `high_entropy_bits`, in code that runs
        (install, import) and in the rest."""
        if not (self.byte_bins or self.entropy_windows):
            return
        position = self._position
        counts = [0] * BYTE_BINS
        windows = {part: [[0] * ENTROPY_BUCKETS for _ in ENTROPY_WINDOWS] for part in ("running", "other")}
        for summary, finding in evidence.files:
            if finding.reach == "non-shipped":
                continue
            counts = [a + b for a, b in zip(counts, summary.literal_bytes)]
            part = windows["running" if finding.reach in RUNS else "other"]
            for kept, more in zip(part, summary.literal_windows):
                for bucket, n in enumerate(more):
                    kept[bucket] += n
        total = sum(counts)
        width = BYTE_BINS // self.byte_bins if self.byte_bins else 0
        for i in range(self.byte_bins):
            share = sum(counts[i * width : (i + 1) * width]) / total if total else 0.0
            values[position[f"literals.bytes.bin{i}"]] = share
        for window in self.entropy_windows:
            size = ENTROPY_WINDOWS.index(window)
            running, other = windows["running"][size], windows["other"][size]
            reached = [b for b in range(ENTROPY_BUCKETS) if running[b] or other[b]]
            name = f"literals.entropy{window}"
            values[position[f"{name}.max"]] = (max(reached) + 1) * ENTROPY_BUCKET_BITS if reached else 0.0
            values[position[f"{name}.high.running_code"]] = math.log1p(sum(running[self.high_bucket :]))
            values[position[f"{name}.high.other_code"]] = math.log1p(sum(other[self.high_bucket :]))

    def vector(self, evidence: UnitEvidence) -> list[float]:
        values = [0.0] * len(self.names)
        position = self._position

        def raise_to(name: str, value: float) -> None:
            index = position[name]
            values[index] = max(values[index], value)

        by_reach: dict[str, list[float]] = {reach: [] for reach in REACH_CLASSES}
        flows = {"running": 0, "other": 0}
        payloads = {"running": 0, "other": 0}
        protected = 0
        for summary, finding in evidence.files:
            file_reach = finding.reach
            running = "running" if file_reach in RUNS else "other"
            for part, module_level in ((0, True), (1, False)):
                reach = object_reach(file_reach, module_level)
                by_reach[reach] += summary.scores[part]
                for activity in summary.activities[part]:
                    raise_to(f"activity.{reach}.{activity}", 1.0)
            for flow in finding.flows:
                name = f"flow.{flow.get('source')}.{flow.get('sink')}"
                if name in position:
                    raise_to(name, 1.0)
                flows[running] += 1
            for payload in finding.payloads:
                if payload.get("chain") == CODE_STRING_CHAIN:
                    # Code run from a plain string (`exec("import os...")`) hides behind no
                    # encoding: its objects are scored like any other, but it is no payload,
                    # as the units the model learned from counted it (tests exec snippets).
                    continue
                payloads[running] += 1
                chain = payload.get("chain")
                depth = decoding_layers(chain) if self.payload_depth == "layers" else len(chain or ())
                raise_to("payloads.max_depth", float(depth))
            protection = finding.protection or {}
            if protection.get("is_protected"):
                protected += 1
            raise_to("protection.max_confidence", float(protection.get("confidence") or 0.0))
            if file_reach == "install":
                raise_to("structure.install_code", 1.0)
            elif file_reach == "import":
                raise_to("structure.import_code", 1.0)
            raise_to(f"structure.{'javascript' if finding.language == 'javascript' else 'python'}", 1.0)
        for reach, scores in by_reach.items():
            scores.sort(reverse=True)
            for i, score in enumerate(scores[: self.top_k]):
                values[position[f"scores.{reach}.top{i + 1}"]] = score
            for threshold in self.thresholds:
                above = sum(1 for s in scores if s >= threshold)
                values[position[f"scores.{reach}.at_least_{threshold:g}"]] = math.log1p(above)
        values[position["flows.running_code"]] = math.log1p(flows["running"])
        values[position["flows.other_code"]] = math.log1p(flows["other"])
        values[position["payloads.running_code"]] = math.log1p(payloads["running"])
        values[position["payloads.other_code"]] = math.log1p(payloads["other"])
        values[position["protection.files"]] = math.log1p(protected)
        hooks = evidence.hooks
        values[position["hooks.scripts"]] = math.log1p(len(hooks))
        values[position["hooks.files_run"]] = math.log1p(sum(len(h.get("runs") or ()) for h in hooks))
        values[position["hooks.inline_code"]] = math.log1p(sum(int(h.get("inline_code") or 0) for h in hooks))
        values[position["hooks.evidence"]] = math.log1p(sum(len(h.get("evidence") or ()) for h in hooks))
        self._literal_features(evidence, values)
        return values
