"""Verdicts: a scan scored by the model, rolled up to files and to the package.

`MalwiReport.create(input_path, ...)` is the API; `malwi scan` renders the same report. The model
is loaded once per process (see `malwi.model.load`), so scanning many packages in one process
pays for it once.
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from malwi._malwi import DEFAULT_MAX_FILE_SIZE, FileReport, MalwiObject, __version__
from malwi.model import Scorer, ScoringStatistics, load
from malwi.scan import Scan, ScanOptions

VERDICTS = ("malicious", "suspicious", "good")


class ObjectFinding:
    """An object scored at or above the suspicious threshold."""

    __slots__ = ("name", "kind", "lines", "score", "activities", "source", "hash")

    def __init__(self, obj: MalwiObject, score: float) -> None:
        self.name = obj.name
        self.kind = obj.kind
        self.lines = obj.location
        self.score = score
        self.activities = obj.activities()
        self.source = obj.source_code
        self.hash = obj.to_hash()

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "kind": self.kind,
            "lines": list(self.lines),
            "score": round(self.score, 4),
            "activities": self.activities,
            "hash": self.hash,
            "source": self.source,
        }


class FileFinding:
    __slots__ = ("path", "language", "status", "reason", "score", "objects", "object_count")

    def __init__(self, report: FileReport) -> None:
        self.path = report.path
        self.language = report.language
        self.status = report.status
        self.reason = report.reason
        self.score = 0.0
        self.objects: list[ObjectFinding] = []
        self.object_count = len(report.objects)

    def to_dict(self) -> dict[str, Any]:
        return {
            "path": self.path,
            "language": self.language,
            "status": self.status,
            "reason": self.reason,
            "score": round(self.score, 4),
            "objects": [o.to_dict() for o in self.objects],
        }


class MalwiReport:
    """The verdict on everything given as input, and why."""

    def __init__(self) -> None:
        self.inputs: list[str] = []
        self.malicious = False
        self.maliciousness = 0.0
        self.verdict = "good"
        self.threshold = 0.5
        self.suspicious_threshold = 0.25
        self.files: list[FileFinding] = []
        self.statistics: dict[str, Any] = {}
        self.model: dict[str, Any] = {}
        self.warnings: list[str] = []

    @classmethod
    def create(
        cls,
        input_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        silent: bool = False,
        malicious_threshold: float | None = None,
        *,
        device: str = "auto",
        workers: int = 0,
        model: str | os.PathLike[str] | None = None,
        extensions: list[str] | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
    ) -> MalwiReport:
        """Scans files, folders or a package and scores it. `silent` suppresses warnings on
        stderr (they stay in `report.warnings`)."""
        started = time.perf_counter()
        scorer = load(model, device=device, workers=workers)
        paths = [input_path] if isinstance(input_path, str | os.PathLike) else list(input_path)
        report = cls()
        report.inputs = [os.fspath(p) for p in paths]
        bundle = scorer.bundle
        report.threshold = bundle.threshold if malicious_threshold is None else float(malicious_threshold)
        report.suspicious_threshold = min(bundle.suspicious_threshold, report.threshold)
        report.model = {"name": bundle.name, "version": bundle.version, "device": scorer.device}
        options = ScanOptions(workers=workers, max_file_size=max_file_size, extensions=extensions, config=bundle.featurizer)
        scan = Scan(paths, options)
        scoring = ScoringStatistics()
        top = 0.0
        pending: list[FileReport] = []
        for file_report in scan:
            pending.append(file_report)
            if len(pending) >= 256:
                top = max(top, report._score_chunk(pending, scorer, scoring))
                pending.clear()
        top = max(top, report._score_chunk(pending, scorer, scoring))
        for path, message in scan.discovery_errors:
            report.warnings.append(f"{path}: cannot be read: {message}")
        # Objects are deduplicated per chunk, so a copy in two chunks counts twice: n is slightly high.
        report.maliciousness = scorer.package_score(top, scoring.unique_objects)
        report.malicious = report.maliciousness >= report.threshold
        report.verdict = (
            "malicious"
            if report.malicious
            else "suspicious" if report.maliciousness >= report.suspicious_threshold else "good"
        )
        stats = scan.statistics
        report.statistics = {
            "files": stats.files + stats.skipped_by_extension + stats.skipped_links,
            "scanned": stats.compiled,
            "skipped": stats.skipped,
            "skipped_by_extension": stats.skipped_by_extension,
            "skipped_links": stats.skipped_links,
            "failed": stats.failed,
            "objects": stats.objects,
            "objects_scored": scoring.unique_objects,
            "objects_stage2": scoring.stage2_objects,
            "windows": scoring.windows,
            "seconds": round(time.perf_counter() - started, 3),
            "device": scorer.device,
        }
        if not silent:
            import sys

            for warning in report.warnings:
                print(f"malwi: warning: {warning}", file=sys.stderr)
        return report

    def _score_chunk(self, reports: list[FileReport], scorer: Scorer, scoring: ScoringStatistics) -> float:
        """Scores one chunk; keeps per file its score and the objects worth showing."""
        objects: list[MalwiObject] = []
        owners: list[int] = []
        findings: list[FileFinding] = []
        for report in reports:
            finding = FileFinding(report)
            findings.append(finding)
            if report.status != "compiled":
                self.warnings.append(f"{report.path}: {report.status}, {report.reason}")
            for note in report.warnings:
                self.warnings.append(f"{report.path}: {note}")
            for obj in report.objects:
                objects.append(obj)
                owners.append(len(findings) - 1)
        self.files.extend(findings)
        if not objects:
            return 0.0
        raw = scorer.score(objects, scoring)
        calibrated = scorer.object_probability(raw)
        owner_index = np.asarray(owners, dtype=np.int64)
        file_scores = np.zeros(len(findings), dtype=np.float32)
        np.maximum.at(file_scores, owner_index, calibrated)
        for finding, score in zip(findings, file_scores):
            finding.score = float(score)
        for i in np.nonzero(calibrated >= self.suspicious_threshold)[0]:
            findings[owners[i]].objects.append(ObjectFinding(objects[i], float(calibrated[i])))
        for finding in findings:
            finding.objects.sort(key=lambda o: -o.score)
        return float(np.max(raw))

    @property
    def flagged_files(self) -> list[FileFinding]:
        return sorted((f for f in self.files if f.objects), key=lambda f: -f.score)

    def to_dict(self) -> dict[str, Any]:
        return {
            "malwi_version": __version__,
            "input": self.inputs,
            "malicious": self.malicious,
            "maliciousness": round(self.maliciousness, 4),
            "verdict": self.verdict,
            "threshold": self.threshold,
            "suspicious_threshold": self.suspicious_threshold,
            "model": self.model,
            "statistics": self.statistics,
            "files": [f.to_dict() for f in self.flagged_files],
            "warnings": self.warnings,
        }
