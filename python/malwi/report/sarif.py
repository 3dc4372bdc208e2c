"""SARIF 2.1.0 rendering of a MalwiReport, for GitHub code scanning and other SARIF consumers.

How a report maps to SARIF:

- one run, tool `malwi`; its rules are the behaviour categories of the pattern database
  (`PROCESS_MANAGEMENT`, ...) plus `MALICIOUS_OBJECT` and `SUSPICIOUS_OBJECT` for objects that show
  no known behaviour;
- results for flagged packages only: one per object that carries a package's verdict
  (`MalwiReport.findings`, at most a few per package), never for objects of good packages. Its
  rule is the object's most severe activity (highest security severity, ties broken by the order
  of `activities`), or MALICIOUS_OBJECT / SUSPICIOUS_OBJECT when it has none; the message says in
  words where the code runs and what it does (its flows, decoded payload, behaviours), all its
  activities are in `properties.activities`, the others also in `properties.otherActivities`,
  its package in `properties.package`, where its code runs in `properties.reach` (install,
  import, library, non-shipped). Level `error` when the package is malicious, `warning` when it
  is suspicious; `rank` is the object's score in percent;
- the location is the object's file and lines. URIs are relative to the scan input (one folder:
  that folder; one file: its folder; several: their common folder), posix separators,
  percent-encoded, with `uriBaseId` `%SRCROOT%`, which `originalUriBaseIds` resolves to that
  folder; a file outside it gets an absolute `file:` URI (a relative display path, such as an
  archive member's, stays relative without a base). `to_sarif(report, root=...)`
  chooses another root (GitHub wants paths relative to the repository root);
- `partialFingerprints["malwiObjectHash/v1"]` is the object's token hash plus its occurrence
  number among identical objects of the same file (`<sha256>:<n>`), so an alert survives edits
  elsewhere in the file and reruns;
- the verdict (verdict, malicious, maliciousness, thresholds), the model and the statistics are
  in `run.properties`; the scan's warnings are `invocations[0].toolExecutionNotifications`.

Security severity (GitHub's 0-10 scale: ≥ 9 critical, ≥ 7 high, ≥ 4 medium, else low) of a
category rule is ten times the highest confidence of the category's patterns in
data/patterns/pattern_database.json (`malwi.report.words.SECURITY_SEVERITY`; the tests keep the two in step).
GitHub takes the severity of an alert from its rule, so a malicious object whose only activity is
a mild one shows that rule's severity, with level `error`.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any
from urllib.parse import quote

from malwi._malwi import PATTERN_DATABASE_VERSION, __version__, categories
from malwi.report.escape import json_safe
from malwi.report.result import BatchReport, FileFinding, MalwiReport, ObjectFinding, UnitFinding
from malwi.report.words import DEFAULT_SEVERITY, SECURITY_SEVERITY, reason

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = "https://pypi.org/project/malwi/"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "malwiObjectHash/v1"
MALICIOUS_OBJECT = "MALICIOUS_OBJECT"
SUSPICIOUS_OBJECT = "SUSPICIOUS_OBJECT"
# GitHub rejects a run with more results than this; the highest-scoring objects are kept.
MAX_RESULTS = 25_000

OBJECT_RULES = {
    MALICIOUS_OBJECT: (
        9.0,
        "Code object the model scores as malicious, with no known behaviour category.",
        "malwi's model scored this code object at or above the verdict threshold, although none of "
        "the behaviour patterns of its pattern database matched in it.",
    ),
    SUSPICIOUS_OBJECT: (
        5.0,
        "Code object the model scores as suspicious, with no known behaviour category.",
        "malwi's model scored this code object at or above the suspicious threshold (below the "
        "verdict threshold), although none of the behaviour patterns of its pattern database "
        "matched in it.",
    ),
}
# SARIF's well-known logicalLocation kinds for malwi's object kinds.
LOGICAL_KINDS = {
    "module": "module",
    "function": "function",
    "method": "member",
    "class": "type",
    "lambda": "function",
}
HELP = (
    "malwi compiles each module, class, function, method and lambda of a package into tokens, "
    "names the behaviour each shows, has its model score every object and judges each package "
    "from its objects. An alert is an object that carries a flagged package's verdict: level error "
    "when the package is malicious, warning when it is suspicious. The score is the model's "
    "judgement of the whole object; the behaviour alone does not make code malicious. Read the "
    "object's source: code that hides what it runs, fetches and executes payloads, reads secrets "
    "or runs at install time without a reason is the pattern of malware. Dismiss the alert if the "
    "code is expected."
)


def _severity_level(severity: float) -> str:
    return "error" if severity >= 7.0 else "warning" if severity >= 4.0 else "note"


def _pascal(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_") if part)


def _rule(rule_id: str, severity: float, short: str, full: str) -> dict[str, Any]:
    return {
        "id": rule_id,
        "name": _pascal(rule_id),
        "shortDescription": {"text": short},
        "fullDescription": {"text": full},
        "help": {"text": HELP, "markdown": HELP},
        "defaultConfiguration": {"level": _severity_level(severity)},
        "properties": {
            "tags": ["security", "malware"],
            "precision": "medium",
            "security-severity": f"{severity:.1f}",
        },
    }


def _category_rule(name: str, description: str) -> dict[str, Any]:
    full = (
        f"{description} malwi's model scored a code object showing this behaviour ({name}) as "
        "suspicious or malicious; when an object shows several behaviours, the most severe one "
        "names the alert."
    )
    return _rule(name, SECURITY_SEVERITY.get(name, DEFAULT_SEVERITY), description, full)


def _primary(obj: ObjectFinding, unit: UnitFinding) -> str:
    if not obj.activities:
        return MALICIOUS_OBJECT if unit.verdict == "malicious" else SUSPICIOUS_OBJECT
    # max() keeps the first of equals, so ties go to the earlier activity.
    return max(obj.activities, key=lambda a: SECURITY_SEVERITY.get(a, DEFAULT_SEVERITY))


def _is_within(path: str, root: str) -> bool:
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


def source_root(report: MalwiReport) -> str:
    """The absolute folder result URIs are relative to: the one folder scanned, the folder of the
    one file scanned, or the common folder of several inputs (the working directory without any)."""
    folders = []
    for given in report.inputs:
        absolute = os.path.abspath(given)
        folders.append(os.path.dirname(absolute) if os.path.isfile(absolute) else absolute)
    if not folders:
        return os.getcwd()
    try:
        return os.path.commonpath(folders)
    except ValueError:  # inputs on different drives
        return os.getcwd()


def _directory_uri(folder: str) -> str:
    uri = Path(folder).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _encode(relative: str) -> str:
    # A URI names bytes: a name that is not UTF-8 is percent-encoded as the bytes it has.
    return quote(relative.replace(os.sep, "/"), safe="/", errors="surrogateescape")


def artifact_location(path: str, root: str) -> dict[str, Any]:
    """`path` as an artifactLocation: relative to `root` under %SRCROOT% when inside it; outside
    it, an absolute file URI, or for a relative path (an archive member's display name) the path
    itself without a base."""
    absolute = os.path.abspath(path)
    if absolute != root and _is_within(absolute, root):
        return {"uri": _encode(os.path.relpath(absolute, root)), "uriBaseId": SRCROOT}
    if os.path.isabs(path):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": _encode(os.path.normpath(path))}


def _region(obj: ObjectFinding) -> dict[str, int]:
    first, last = obj.lines
    start = max(1, int(first))
    return {"startLine": start, "endLine": max(start, int(last))}


def _message(unit: UnitFinding, finding: FileFinding, obj: ObjectFinding) -> str:
    first, last = obj.lines
    return (
        f"{obj.name} ({obj.kind}, lines {first}-{last}) carries the {unit.verdict} verdict on {unit.label} "
        f"(package score {unit.maliciousness:.2f}, object {obj.score:.2f}): {reason(finding, obj)}."
    )


def sarif_log(report: MalwiReport, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict; `root` overrides the folder result URIs are relative to."""
    base = os.path.abspath(root) if root is not None else source_root(report)
    rules = [_category_rule(name, description) for name, description in categories()]
    rules += [_rule(rule_id, *spec) for rule_id, spec in OBJECT_RULES.items()]
    flagged = report.findings
    truncated = len(flagged) > MAX_RESULTS
    if truncated:
        flagged = sorted(flagged, key=lambda found: -found[2].score)[:MAX_RESULTS]
    known = {rule["id"] for rule in rules}
    unknown = sorted({a for _, _, o in flagged for a in o.activities} - known)
    rules += [_category_rule(name, f"Shows {name} behaviour.") for name in unknown]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}

    artifacts: list[dict[str, Any]] = []
    artifact_index: dict[str, int] = {}
    # Occurrence numbers tell identical objects of one file apart, counted in line order.
    occurrence: dict[int, int] = {}
    for finding in report.files:
        seen: dict[str, int] = {}
        for obj in sorted(finding.objects, key=lambda o: (tuple(o.lines), o.name, o.kind)):
            seen[obj.hash] = occurrence[id(obj)] = seen.get(obj.hash, 0) + 1

    def located(finding: FileFinding) -> dict[str, Any]:
        if finding.path not in artifact_index:
            artifact_index[finding.path] = len(artifacts)
            artifacts.append(
                {
                    "location": artifact_location(finding.path, base),
                    "sourceLanguage": finding.language,
                    "roles": ["analysisTarget"],
                    "properties": {"score": round(finding.score, 4)},
                }
            )
        return dict(artifact_location(finding.path, base), index=artifact_index[finding.path])

    results: list[dict[str, Any]] = []
    for unit, finding, obj in flagged:
        location = located(finding)
        rule_id = _primary(obj, unit)
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": rule_index[rule_id],
                "level": "error" if unit.verdict == "malicious" else "warning",
                "rank": round(100.0 * min(max(obj.score, 0.0), 1.0), 2),
                "message": {"text": _message(unit, finding, obj)},
                "locations": [
                    {
                        "physicalLocation": {"artifactLocation": location, "region": _region(obj)},
                        "logicalLocations": [
                            {
                                "name": obj.name,
                                "fullyQualifiedName": obj.name,
                                "kind": LOGICAL_KINDS.get(obj.kind, obj.kind),
                            }
                        ],
                    }
                ],
                "partialFingerprints": {FINGERPRINT: f"{obj.hash}:{occurrence[id(obj)]}"},
                "properties": {
                    "score": round(obj.score, 4),
                    "activities": list(obj.activities),
                    "otherActivities": [a for a in obj.activities if a != rule_id],
                    "objectName": obj.name,
                    "objectKind": obj.kind,
                    "objectHash": obj.hash,
                    "reach": obj.reach,
                    "fileScore": round(finding.score, 4),
                    "package": unit.label,
                    "packageVerdict": unit.verdict,
                    "packageScore": round(unit.maliciousness, 4),
                    **({"flows": obj.flows} if obj.flows else {}),
                    **({"decodedFrom": obj.decoded_from} if obj.decoded_from else {}),
                },
            }
        )

    notifications = [{"level": "warning", "message": {"text": warning}} for warning in report.warnings]
    if truncated:
        text = f"only the {MAX_RESULTS} highest-scoring carrying objects are reported"
        notifications.append({"level": "warning", "message": {"text": text}})
    invocation: dict[str, Any] = {"executionSuccessful": True}
    if notifications:
        invocation["toolExecutionNotifications"] = notifications
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "malwi",
                "version": __version__,
                "semanticVersion": __version__,
                "informationUri": INFORMATION_URI,
                "rules": rules,
                "properties": {"patternDatabaseVersion": PATTERN_DATABASE_VERSION},
            }
        },
        "invocations": [invocation],
        "originalUriBaseIds": {
            SRCROOT: {
                "uri": _directory_uri(base),
                "description": {"text": "The folder that result paths are relative to."},
            }
        },
        "artifacts": artifacts,
        "results": results,
        "properties": {
            "verdict": report.verdict,
            "malicious": report.malicious,
            "maliciousness": round(report.maliciousness, 4),
            "threshold": report.threshold,
            "suspiciousThreshold": report.suspicious_threshold,
            "model": dict(report.model),
            "statistics": dict(report.statistics),
            "inputs": list(report.inputs),
            "resultsTruncated": truncated,
        },
    }
    return {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": [run]}


def to_sarif(report: MalwiReport | BatchReport, root: str | os.PathLike[str] | None = None) -> str:
    """The report as a SARIF 2.1.0 log (JSON text); see the module docstring for the mapping.
    A batch (dependency files) gives one run per package scanned."""
    if isinstance(report, BatchReport):
        log: dict[str, Any] = {"$schema": SCHEMA_URI, "version": "2.1.0", "runs": []}
        for package in report.reports:
            run = sarif_log(package, root)["runs"][0]
            run["automationDetails"] = {"id": f"malwi/{package.label}/"}
            log["runs"].append(run)
        return json_safe(json.dumps(log, indent=2, ensure_ascii=False)) + "\n"
    return json_safe(json.dumps(sarif_log(report, root), indent=2, ensure_ascii=False)) + "\n"
