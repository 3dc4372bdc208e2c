"""The JSON result document, the contract in `data/schemas/analysis_result_schema.json`, and
its two renderings: JSON and YAML.

One document per report (`analysis_type` hybrid: the model's classification plus the behaviour
categories of the pattern database), or one batch document holding a complete document per
package scanned from dependency files.
"""

from __future__ import annotations

import json
import math
import re
from typing import TYPE_CHECKING, Any

from malwi._malwi import PATTERN_DATABASE_VERSION, __version__, categories
from malwi.report.escape import json_safe, yaml_string

if TYPE_CHECKING:
    from malwi.report.result import BatchReport, FileFinding, MalwiReport, UnitFinding

SCHEMA_VERSION = "1.0.0"


def pattern_analysis(report: MalwiReport) -> dict[str, Any]:
    """Each behaviour category seen in an object that carries a flagged package's verdict, with
    where it was seen; its confidence is the highest score of an object showing it."""
    descriptions = dict(categories())
    found: dict[str, dict[str, Any]] = {}
    for _, finding, obj in report.findings:
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


def _unit_order(unit: UnitFinding) -> tuple[int, float, str]:
    """Flagged units first, the worst first."""
    from malwi.engine.verdict import VERDICTS  # the order of severity is the engine's

    return (VERDICTS.index(unit.verdict), -unit.maliciousness, unit.key)


def _carrying_files(report: MalwiReport) -> list[dict[str, Any]]:
    """The files of the objects that carry flagged units' verdicts, each with just those objects
    (every object and engine section stays in the API's `report.files`)."""
    carriers: dict[str, list[str]] = {}
    files: dict[str, FileFinding] = {}
    for _, finding, obj in report.findings:
        files[finding.path] = finding
        carriers.setdefault(finding.path, []).append(obj.hash + obj.name)
    out = []
    for path, finding in files.items():
        record = finding.to_dict()
        record["objects"] = [o for o in record["objects"] if o["hash"] + o["name"] in carriers[path]]
        out.append(record)
    return out


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
        "units": [u.to_dict() for u in sorted(report.units, key=_unit_order)],
        "files": _carrying_files(report),
        "warnings": report.warnings,
        "settings": report.settings,
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
    if report.signals:
        document["signals"] = report.signals
    if report.baseline is not None:
        document["baseline"] = report.baseline
    return document


def batch_document(batch: BatchReport) -> dict[str, Any]:
    """One document for a dependency scan: a complete result per package."""
    return {
        "schema_version": SCHEMA_VERSION,
        "analysis_id": batch.analysis_id,
        "timestamp": batch.timestamp,
        "analysis_type": "batch",
        "status": batch.status,
        "file_info": batch.file_info,
        "malwi_version": __version__,
        "label": batch.label,
        "malicious": batch.malicious,
        "confidence": round(batch.maliciousness, 4),
        "maliciousness": round(batch.maliciousness, 4),
        "verdict": batch.verdict,
        "results": {
            "packages": [r.to_dict() for r in batch.reports],
            "unresolved": batch.unresolved,
            "failed": batch.failed,
            **({"since": batch.since, "unchanged": batch.unchanged} if batch.since else {}),
        },
    }


def to_json(report: MalwiReport | BatchReport) -> str:
    return json_safe(json.dumps(report.to_dict(), indent=2, ensure_ascii=False)) + "\n"


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and not math.isfinite(value):
        return ".nan" if math.isnan(value) else (".inf" if value > 0 else "-.inf")
    if isinstance(value, int | float):
        return repr(value)
    return yaml_string(str(value))


_PLAIN_KEY = re.compile(r"[A-Za-z_][A-Za-z0-9_.-]*")


def _yaml_key(key: Any) -> str:
    """A mapping key: plain when it is a name, quoted when it comes from the scanned tree."""
    text = str(key)
    return text if _PLAIN_KEY.fullmatch(text) and text not in ("true", "false", "null") else yaml_string(text)


def _yaml(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{_yaml_key(key)}:")
                lines.extend(_yaml(item, indent + 1))
            else:
                lines.append(
                    f"{pad}{_yaml_key(key)}: {_yaml(item, 0)[0] if isinstance(item, dict | list) else _yaml_scalar(item)}"
                )
        return lines
    if isinstance(value, list):
        if not value:
            return [pad + "[]"]
        lines = []
        for item in value:
            rendered = _yaml(item, indent + 1)
            lines.append(f"{pad}- {rendered[0].lstrip()}")
            lines.extend(rendered[1:])
        return lines
    return [pad + _yaml_scalar(value)]


def to_yaml(report: MalwiReport | BatchReport) -> str:
    """YAML without a YAML library: every string double-quoted with YAML's escapes."""
    return "\n".join(_yaml(report.to_dict(), 0)) + "\n"
