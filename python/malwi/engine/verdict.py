"""Verdicts: object → file → package → tree, and the one package score.

- An object's raw score comes from the model (`malwi.model.scoring`).
- `PackageScore` turns the highest raw object score of a package and its number of distinct
  objects into the calibrated probability that the package is malicious. The highest score is
  taken per reachability class (`malwi.engine.reach`: install, import, library, non-shipped),
  each weighed by the bundle's `reach_weights` (fitted on validation packages; neutral 1.0
  when the bundle has none). It is the only place
  that does: scans, `malwi research export` (which fits its calibration) and `malwi research
  evaluate` all call it, so a threshold means the same thing everywhere.
- `judge_files` is the file step: a file's score is the probability its best object would give
  a package of one object, and the objects listed are those at or above the suspicious threshold.
- `UnitTally` rolls a package unit's files up (`malwi.engine.units`): its score is the bundle's
  package-unit model's for a Python package (`malwi.model.unit_model`, over the unit's
  features), else the package score of its objects; its verdict `Verdict.of` that score, on
  that score's thresholds, and of whether all its code was scanned.
- `Verdict` decides: malicious at or above the threshold; else `incomplete` when some of the
  unit's code could not be scanned (fail closed: never good); else suspicious at or above the
  suspicious threshold; good below. A tree's verdict is its worst unit's (`worst`).

Scalar Python on purpose: a scan answered from the result cache never imports numpy, and the
file step needs the score of only the few objects worth listing (the score rises with the raw
score, so they are found from the top down).
"""

from __future__ import annotations

import math
import os
from array import array
from bisect import bisect_left
from collections.abc import Iterable, Sequence
from typing import TYPE_CHECKING

from malwi.engine.reach import REACH_CLASSES, ReachFile, classify, object_reach
from malwi.engine.unit_features import FileSummary, UnitEvidence

if TYPE_CHECKING:
    import numpy as np

    from malwi._malwi import FileReport
    from malwi.engine.units import Unit
    from malwi.model.unit_model import UnitModel
    from malwi.report.result import FileFinding, ObjectFinding, UnitFinding

# A flagged unit lists at most this many of the objects that carry its verdict: enough to act
# on, few enough to read (the target for a benign package flagged by mistake is three at most).
MAX_CARRIERS = 3
# From the worst down: a tree's verdict is the first of these that one of its units has.
VERDICTS = ("malicious", "incomplete", "suspicious", "good")
# Decoding limits that leave part of a file's code unexamined make its package incomplete.
# (The others, such as the number of payloads decoded per file, are warnings: minified bundles
# reach them without hiding anything.)
INCOMPLETE_LIMITS = frozenset({"MAX_FILE_NODES"})
# How a package score is made from its object scores (see PackageScore.raw).
PACKAGE_SCORES = ("max_object_score", "size_adjusted")


class PackageScore:
    """The probability that a package is malicious, from its highest raw object score (`top`)
    and its number of distinct objects: `calibrate(package_raw(top, objects))`.

    `package_raw` is one of two methods, chosen on validation packages by `malwi research export`:

    - `max_object_score`: the highest object score as it is.
    - `size_adjusted`: -log10 of the chance that a benign package with that many objects has an
      object scoring this high, from the object scores of benign validation packages. A benign
      package of 20,000 objects is expected to hold a few high-scoring ones; one of 5 is not, so
      a plain maximum would turn package size into false positives.

    `calibrate` is Platt scaling (`a`, `b`) fitted on whole validation packages; `a` must be
    positive, so that a higher raw score never means a lower probability."""

    __slots__ = ("a", "b", "benign", "method", "reach_weights")

    def __init__(
        self,
        method: str = "max_object_score",
        a: float = 1.0,
        b: float = 0.0,
        benign_scores: Sequence[float] | array[float] = (),
        reach_weights: dict[str, float] | None = None,
    ) -> None:
        if method not in PACKAGE_SCORES:
            raise ValueError(f"unknown package score {method!r} (known: {', '.join(PACKAGE_SCORES)})")
        if not (math.isfinite(a) and math.isfinite(b)) or a <= 0:
            raise ValueError(f"calibration a={a!r}, b={b!r}: both must be finite and a positive")
        benign = benign_scores if isinstance(benign_scores, array) else array("f", benign_scores)
        if method == "size_adjusted" and len(benign) == 0:
            raise ValueError("size_adjusted package scores need the benign object scores")
        self.method = method
        self.a = float(a)
        self.b = float(b)
        self.benign = benign  # ascending, float32
        if reach_weights is not None and not isinstance(reach_weights, dict):
            raise ValueError(f"reach weights must be a table of class: weight, got {reach_weights!r}")
        weights = dict.fromkeys(REACH_CLASSES, 1.0)
        for name, weight in (reach_weights or {}).items():
            if name not in weights:
                raise ValueError(
                    f"reach weight for unknown class {name!r} (known: {', '.join(REACH_CLASSES)})"
                )
            # Never zero: code that does not run here may run elsewhere (a test helper imported
            # by a plugin); its weight only scales how much it counts.
            if not (math.isfinite(weight) and 0.0 < weight <= 1.0):
                raise ValueError(f"reach weight {name}={weight!r} must be in (0, 1]")
            weights[name] = float(weight)
        self.reach_weights = weights

    def weigh(self, raw: float, reach: str) -> float:
        """An object's raw score as it counts towards its package, by where its code runs."""
        return raw * self.reach_weights.get(reach, 1.0)

    def top_of(self, tops: dict[str, float]) -> float:
        """A package's highest weighed object score from the highest raw score per class."""
        return max((self.weigh(top, reach) for reach, top in tops.items()), default=0.0)

    def package_raw(self, top: float, objects: int) -> float:
        """The uncalibrated package score (what calibration is fitted on)."""
        if self.method == "max_object_score":
            return float(top)
        benign = self.benign
        top32 = array("f", [top])[0]  # compared at float32 precision, as the scores are stored
        share = (len(benign) - bisect_left(benign, top32) + 1.0) / (len(benign) + 1.0)
        share = min(share, 1.0 - 1e-12)  # every benign object scored at least this: chance 1
        chance = -math.expm1(max(objects, 1) * math.log1p(-share))
        return -math.log10(max(chance, 1e-300))

    def calibrate(self, raw: float) -> float:
        logit = self.a * raw + self.b
        if logit >= 0:
            return 1.0 / (1.0 + math.exp(-logit))
        odds = math.exp(logit)  # the same sigmoid without overflow for very negative logits
        return odds / (1.0 + odds)

    def package_probability(self, top: float, objects: int) -> float:
        """The package score: 0 for a package without objects."""
        if objects <= 0:
            return 0.0
        return self.calibrate(self.package_raw(top, objects))

    def of_object(self, score: float) -> float:
        """What an object's raw score means on the package scale: the probability that a package
        made of that object alone is malicious. Files and objects in reports show it."""
        return self.package_probability(score, 1)


class Verdict:
    """Thresholds on the package scale and what a score at each side of them is called."""

    __slots__ = ("suspicious", "threshold")

    def __init__(self, threshold: float, suspicious: float) -> None:
        self.threshold = float(threshold)
        # Never above the verdict threshold: what is malicious is also worth listing.
        self.suspicious = min(float(suspicious), self.threshold)

    def of(self, score: float, complete: bool = True) -> str:
        """`complete`: all the code was scanned; when not, a score below the threshold is
        `incomplete`, never good."""
        if score >= self.threshold:
            return "malicious"
        if not complete:
            return "incomplete"
        return "suspicious" if score >= self.suspicious else "good"


def worst(verdicts: Iterable[str]) -> str:
    """A tree's verdict: its worst package's (`good` for none)."""
    found = set(verdicts)
    return next((v for v in VERDICTS if v in found), "good")


class UnitTally:
    """A package unit's files as the scan yields them, then its verdict (`judge`): where each
    file's code runs is known only once all of the unit's files (and their imports) are in."""

    __slots__ = (
        "candidates",
        "compiled",
        "failed",
        "files",
        "hashes",
        "objects",
        "reached",
        "skipped",
        "unit",
        "unscanned",
    )

    def __init__(self, unit: Unit) -> None:
        self.unit = unit
        self.hashes: set[str] = set()  # distinct objects
        self.files = self.compiled = self.skipped = self.failed = self.objects = 0
        self.unscanned: list[dict[str, str]] = []  # {path, reason} of code that was not scanned
        # (finding, file for reachability, highest raw score of module-level / other objects,
        # what the unit features need of the file)
        self.reached: list[tuple[FileFinding, ReachFile, float, float, FileSummary]] = []
        self.candidates: list[tuple[FileFinding, ObjectFinding]] = []  # objects listed by their file

    def add(
        self,
        finding: FileFinding,
        file: ReachFile,
        tops: tuple[float, float],
        hashes: Iterable[str],
        summary: FileSummary | None = None,
    ) -> None:
        """One file: `file` its real path and imports, `tops` the highest raw score of its
        module-level objects (top level, decoded payloads) and of its other objects, `summary`
        what the package-unit features need of it."""
        self.files += 1
        self.objects += finding.object_count
        if finding.status == "compiled":
            self.compiled += 1
            self.hashes.update(hashes)
            self.reached.append((finding, file, tops[0], tops[1], summary or FileSummary()))
            self.candidates += [(finding, obj) for obj in finding.objects]
            # A bound that left part of the file unanalysed: the file is not fully judged.
            for note in finding.notes:
                if note.get("limit") in INCOMPLETE_LIMITS:
                    self.unscanned.append({"path": finding.path, "reason": note["detail"]})
            return
        if finding.status == "skipped":
            self.skipped += 1
            if finding.not_code:
                return  # data named like code (macOS metadata beside each file): nothing unscanned
        else:
            self.failed += 1
        self.unscanned.append({"path": finding.path, "reason": finding.reason or finding.status})

    def not_scanned(self, path: str, reason: str) -> None:
        """Content of the unit that never reached the compiler (an archive that could not be
        unpacked, a folder that could not be read)."""
        self.unscanned.append({"path": path, "reason": reason})

    def classify(self) -> dict[str, float]:
        """Sets each file's and listed object's reachability class; returns the highest raw
        object score per class."""
        unit = self.unit
        hook_files = {
            os.path.normpath(os.path.join(os.path.dirname(manifest), script))
            for manifest in unit.manifests
            if manifest.endswith("package.json")
            for hook in unit.hooks
            for script in hook.files
        }
        for _, file, _, _, _ in self.reached:
            file.hook = file.hook or file.path in hook_files
        reach = classify([file for _, file, _, _, _ in self.reached], unit.manifests, unit.root)
        tops = dict.fromkeys(REACH_CLASSES, 0.0)
        for finding, file, module_top, other_top, _ in self.reached:
            finding.reach = reach.get(file.path, "library")
            for top, module_level in ((module_top, True), (other_top, False)):
                kind = object_reach(finding.reach, module_level)
                tops[kind] = max(tops[kind], top)
            for obj in finding.objects:
                obj.reach = object_reach(finding.reach, obj.kind == "module" or bool(obj.decoded_from))
        return tops

    def carriers(
        self, score: PackageScore, bar: float | None, objects: int
    ) -> list[tuple[FileFinding, ObjectFinding]]:
        """The objects that carry a flagged unit's verdict: each one that alone, in a unit of
        `objects` objects, would reach `bar` on the package scale, the highest first (a report
        lists MAX_CARRIERS of them; a baseline needs them all). None when `bar` is None (a good
        or incomplete unit)."""
        if bar is None:
            return []
        carrying = [
            (f, o)
            for f, o in self.candidates
            if score.package_probability(score.weigh(o.raw, o.reach), objects) >= bar
        ]
        carrying.sort(
            key=lambda pair: (-score.weigh(pair[1].raw, pair[1].reach), pair[0].path, pair[1].lines)
        )
        return carrying

    def ecosystem(self) -> str | None:
        """Which units a unit model may judge: `npm` for a unit with a package.json or only
        JavaScript code, `pypi` for another package (a manifest, an installed distribution, an
        archive), None for files outside every package. A unit model learns packages; a lone file is judged by the
        package score of its objects, as a rule test's snippet is."""
        unit = self.unit
        if unit.kind == "npm" or any(os.path.basename(m) == "package.json" for m in unit.manifests):
            return "npm"
        if unit.kind == "files":
            return None
        # An archive of JavaScript alone (an npm tarball without its package.json) is npm's.
        languages = {file.language for _, file, _, _, _ in self.reached}
        return "npm" if languages == {"javascript"} else "pypi"

    def judge(
        self,
        score: PackageScore,
        verdict: Verdict,
        unit_model: UnitModel | None = None,
        listing: Verdict | None = None,
    ) -> UnitFinding:
        """The unit's finding. Its score is the package-unit model's when there is one, the unit
        has compiled code and is of an ecosystem the model judges, else the package score of its
        objects. `verdict` holds the unit model's thresholds, `listing` the package score's
        (default: `verdict`): a unit is held to the thresholds of the score that decided it, and
        `listing` decides which objects carry a flagged verdict."""
        from malwi.report.result import UnitFinding

        unit = self.unit
        finding = UnitFinding(unit.key, unit.name, unit.kind)
        finding.version = unit.version
        tops = finding.tops = self.classify()
        objects = len(self.hashes)
        finding.object_score = score.package_probability(score.top_of(tops), objects)
        finding.unscanned = self.unscanned
        finding.hooks = [hook.to_dict() for hook in unit.hooks]
        evidence = finding.evidence = UnitEvidence()
        evidence.hooks = finding.hooks
        evidence.files = [(summary, scanned) for scanned, _, _, _, summary in self.reached]
        if unit_model is not None and self.reached and self.ecosystem() in unit_model.spec.ecosystems:
            finding.maliciousness = unit_model.score(evidence)
            finding.scored_by = "unit_model"
        else:
            finding.maliciousness = finding.object_score
        listing = listing or verdict
        # Each score against its own scale's thresholds: a unit the package score judges is
        # held to the package score's.
        judged_by = verdict if finding.scored_by == "unit_model" else listing
        finding.verdict = judged_by.of(finding.maliciousness, complete=not self.unscanned)
        if finding.scored_by == "unit_model":
            # The unit model weighs the whole unit, so no single object need reach the package
            # threshold: its carriers are the objects worth listing, else the highest ones.
            bar = listing.suspicious if finding.verdict in ("malicious", "suspicious") else None
            finding.carrying = self.carriers(score, bar, objects) or (
                self.carriers(score, 0.0, objects)[:MAX_CARRIERS] if bar is not None else []
            )
        else:
            bar = {"malicious": listing.threshold, "suspicious": listing.suspicious}.get(finding.verdict)
            finding.carrying = self.carriers(score, bar, objects)
        finding.carriers = finding.carrying[:MAX_CARRIERS]
        by_reach = dict.fromkeys(REACH_CLASSES, 0)
        for scanned, _, _, _, _ in self.reached:
            by_reach[scanned.reach] += 1
        finding.statistics = {
            "files": self.files,
            "scanned": self.compiled,
            "skipped": self.skipped,
            "failed": self.failed,
            "objects": self.objects,
            "objects_scored": len(self.hashes),
            "files_by_reach": by_reach,
        }
        return finding


def judge_files(
    reports: Sequence[FileReport],
    findings: Sequence[FileFinding],
    raw: np.ndarray,
    owners: np.ndarray,
    score: PackageScore,
    verdict: Verdict,
) -> list[tuple[float, float]]:
    """The file step for compiled files whose objects were scored: `raw[i]` is the raw score of
    object `i`, which belongs to `reports[owners[i]]`. Sets each finding's score and lists its
    objects at or above the suspicious threshold (highest first); returns each file's highest
    raw score of its module-level objects (top level and decoded payloads: they run when the
    file is loaded) and of its other objects (0 for none), which the package score is made from."""
    import numpy as np

    from malwi.report.result import ObjectFinding

    objects = [obj for report in reports for obj in report.objects]
    module_level = np.array([obj.kind == "module" or bool(obj.decoded_from) for obj in objects], dtype=bool)
    module_top = np.zeros(len(reports), dtype=np.float32)
    other_top = np.zeros(len(reports), dtype=np.float32)
    if len(raw):
        np.maximum.at(module_top, owners[module_level], raw[module_level])
        np.maximum.at(other_top, owners[~module_level], raw[~module_level])
    for index, finding in enumerate(findings):
        if finding.object_count:
            finding.score = score.of_object(float(max(module_top[index], other_top[index])))
    for i in np.argsort(-raw, kind="stable"):
        probability = score.of_object(float(raw[i]))
        if probability < verdict.suspicious:
            break  # every later object scores no higher
        findings[owners[i]].objects.append(ObjectFinding.of(objects[i], probability, float(raw[i])))
    return [(float(m), float(o)) for m, o in zip(module_top, other_top)]
