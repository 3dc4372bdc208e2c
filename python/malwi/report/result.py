"""The JSON result document: the contract in `data/schemas/analysis_result_schema.json`.

One document per report (`analysis_type` hybrid: the model's classification plus the behaviour
categories of the pattern database), or one batch document holding a complete document per
package scanned from dependency files.
"""

from __future__ import annotations

import uuid
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from malwi._malwi import PATTERN_DATABASE_VERSION, __version__, categories

if TYPE_CHECKING:
    from malwi.report import MalwiReport

SCHEMA_VERSION = "1.0.0"


def pattern_analysis(report: MalwiReport) -> dict[str, Any]:
    """Each behaviour category seen in a flagged object, with where it was seen; its confidence
    is the highest score of an object showing it."""
    descriptions = dict(categories())
    found: dict[str, dict[str, Any]] = {}
    for finding in report.flagged_files:
        for obj in finding.objects:
            for activity in obj.activities:
                entry = found.setdefault(
                    activity,
                    {
                        "pattern_id": activity,
                        "pattern_name": descriptions.get(activity, activity.replace("_", " ").lower()),
                        "confidence": 0.0,
                        "locations": [],
                    },
                )
                entry["confidence"] = max(entry["confidence"], round(obj.score, 4))
                entry["locations"].append(
                    {
                        "file": finding.path,
                        "start_line": max(obj.lines[0], 1),
                        "end_line": max(obj.lines[1], obj.lines[0], 1),
                        "object": obj.name,
                        "score": round(obj.score, 4),
                    }
                )
    patterns = sorted(found.values(), key=lambda p: (-p["confidence"], p["pattern_id"]))
    return {"database_version": PATTERN_DATABASE_VERSION, "patterns_found": patterns}


def flow_text(flow: dict[str, Any]) -> str:
    """`environment → network (lines 3 → 4, to https://host/x)`."""
    lines = f"line {flow['sink_line']}"
    if flow["source_line"] != flow["sink_line"]:
        lines = f"lines {flow['source_line']} → {flow['sink_line']}"
    details = [
        d
        for d in (
            flow.get("source_detail") and f"from {flow['source_detail']}",
            flow.get("sink_detail") and f"to {flow['sink_detail']}",
        )
        if d
    ]
    return f"{flow['source']} → {flow['sink']} ({', '.join([lines, *details])})"


def protector_evidence(protection: dict[str, Any]) -> list[dict[str, Any]]:
    """The evidence of the protector a file is said to be protected by (it may show traces of others)."""
    return [e for e in protection["evidence"] if e["protector"] == protection["protector"]]


def deobfuscation(report: MalwiReport) -> dict[str, Any]:
    """Payloads decoded from string literals (and scored as objects), and those reported but
    never decoded or loaded (marshalled code), with the limits decoding ran into."""
    payloads = [
        {"file": f.path, **payload, "lines": [max(n, 1) for n in payload["lines"]]}
        for f in report.files
        for payload in f.payloads
    ]
    notes = [{"file": f.path, **note} for f in report.files for note in f.notes]
    return {
        "status": "completed",
        "files_with_payloads": len({p["file"] for p in payloads}),
        "payloads": payloads,
        "notes": notes,
    }


def vm_detection(report: MalwiReport) -> dict[str, Any]:
    """Obfuscators and protectors: the package is protected when any file is; the strongest
    file's protector and confidence stand for the package, every file's evidence is listed."""
    detections = [(f, f.protection) for f in report.files if f.protection]
    protected = [(f, d) for f, d in detections if d["is_protected"]]
    strongest = max(protected, key=lambda item: item[1]["confidence"], default=None)
    evidence = [{"file": f.path, **item} for f, d in detections for item in d["evidence"]]
    return {
        "status": "completed",
        "is_protected": bool(protected),
        "confidence": round(max((d["confidence"] for _, d in detections), default=0.0), 4),
        "protector": strongest[1]["protector"] if strongest else None,
        "protectors": sorted({d["protector"] for _, d in protected}),
        "protected_files": [f.path for f, _ in protected],
        "evidence": evidence,
    }


def taint_tracking(report: MalwiReport) -> dict[str, Any]:
    """Data flows from sources to sinks, each inside one object (function or module body)."""
    flows = [
        {"file": f.path, **flow, "path": f"{flow['source']} → {flow['sink']}"}
        for f in report.files
        for flow in f.flows
    ]
    return {
        "status": "completed",
        "handlers_analyzed": report.statistics.get("objects", 0),
        "taint_flows": flows,
    }


def result_document(report: MalwiReport) -> dict[str, Any]:
    confidence = round(report.maliciousness, 4)
    document: dict[str, Any] = {
        "schema_version": SCHEMA_VERSION,
        "analysis_id": report.analysis_id,
        "timestamp": report.timestamp,
        "analysis_type": "hybrid",
        "status": report.status,
        "file_info": report.file_info.to_dict(),
        "malwi_version": __version__,
        "label": report.label,
        "input": report.inputs,
        "malicious": report.malicious,
        "confidence": confidence,
        "maliciousness": confidence,
        "verdict": report.verdict,
        "threshold": report.threshold,
        "suspicious_threshold": report.suspicious_threshold,
        "model": report.model,
        "statistics": report.statistics,
        "files": [f.to_dict() for f in report.flagged_files],
        "warnings": report.warnings,
        "results": {
            "classification": {
                "verdict": report.verdict,
                "malicious": report.malicious,
                "confidence": confidence,
                "threshold": report.threshold,
                "suspicious_threshold": report.suspicious_threshold,
                "model": report.model,
                "features_used": ["malwicode"],
            },
            "pattern_analysis": pattern_analysis(report),
            "deobfuscation": deobfuscation(report),
            "vm_detection": vm_detection(report),
            "taint_tracking": taint_tracking(report),
        },
    }
    if report.source:
        document["source"] = report.source
    return document


class BatchReport:
    """Several packages, each with its own verdict (dependency files): malicious when any is."""

    def __init__(self, label: str) -> None:
        self.analysis_id = str(uuid.uuid4())
        self.timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.label = label
        self.reports: list[MalwiReport] = []
        self.unresolved: list[dict[str, str]] = []
        self.failed: list[dict[str, str]] = []
        self.file_info: dict[str, Any] = {}

    @property
    def malicious(self) -> bool:
        return any(r.malicious for r in self.reports)

    @property
    def maliciousness(self) -> float:
        return max((r.maliciousness for r in self.reports), default=0.0)

    @property
    def verdict(self) -> str:
        for verdict in ("malicious", "suspicious"):
            if any(r.verdict == verdict for r in self.reports):
                return verdict
        return "good"

    @property
    def status(self) -> str:
        if self.failed and not self.reports:
            return "failed"
        return "partial" if self.failed or any(r.status != "completed" for r in self.reports) else "completed"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": SCHEMA_VERSION,
            "analysis_id": self.analysis_id,
            "timestamp": self.timestamp,
            "analysis_type": "batch",
            "status": self.status,
            "file_info": self.file_info,
            "malwi_version": __version__,
            "label": self.label,
            "malicious": self.malicious,
            "confidence": round(self.maliciousness, 4),
            "maliciousness": round(self.maliciousness, 4),
            "verdict": self.verdict,
            "results": {
                "packages": [r.to_dict() for r in self.reports],
                "unresolved": self.unresolved,
                "failed": self.failed,
            },
        }
