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
- the location is the object's file and lines. URIs are relative to the root of the git work
  tree the scan input lies in, since GitHub code scanning reads every path as relative to the
  repository root (scanning `src/` gives `src/pkg/mod.py`, not `pkg/mod.py`); outside any work
  tree, to the scan input (one folder: that folder; one file: its folder; several: their common
  folder). The root is found by looking for `.git` (a folder, or the `.git` file of a worktree
  or submodule) in the input's folder and each folder above it, never by running git. Posix
  separators, percent-encoded (RFC 3986), with `uriBaseId` `%SRCROOT%`, which
  `originalUriBaseIds` resolves to the root (a `file:///.../` URI); a file outside the root gets
  an absolute `file:` URI (a relative display path, such as a downloaded release's, stays
  relative without a base). `to_sarif(report, root=...)` chooses another root;
- a file unpacked from an archive (a wheel, sdist or tarball scanned directly, or an archive
  found inside what was scanned, to any depth) is a nested artifact, as SARIF 2.1.0 models
  members of archives (§3.24.2-3, §3.4.3): the archive is a top-level entry of `run.artifacts`
  with its location relative to the root, each member (an archive inside it, then the file) an
  entry with `parentIndex` pointing at its container and, as `location.uri`, its path inside that
  container (no base). The result points at the file's entry by `index`; its `uri`, which GitHub
  needs and shows, is the member's full address: the archive's URI, then `/` and each member
  path in turn (`dist/pkg-1.0.tar.gz/pkg/mod.py`; the text report writes `!/` after an archive
  found inside, SARIF `/` at every level). That address can never be a real file of the
  repository, since the archive is a file;
- `partialFingerprints["malwiObjectHash/v1"]` is the object's token hash plus its occurrence
  number among identical objects of the same file (`<sha256>:<n>`), so an alert survives edits
  elsewhere in the file and reruns;
- a fetched release's registry metadata signals (typosquatting, a new release, ...) are in
  `run.properties.signals`, never results: they do not enter the verdict;
- findings a baseline accepted (`malwi scan --baseline`) are results with an external, accepted
  `suppressions` entry, level by the verdict they gave; the baseline's counts and stale entries
  are in `run.properties.baseline`;
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

from malwi import DISTRIBUTION
from malwi._malwi import PATTERN_DATABASE_VERSION, __version__, categories
from malwi.report.escape import json_safe
from malwi.report.result import (
    BatchReport,
    FileFinding,
    MalwiReport,
    ObjectFinding,
    UnitFinding,
    occurrence_numbers,
)
from malwi.report.words import DEFAULT_SEVERITY, SECURITY_SEVERITY, reason

SCHEMA_URI = "https://json.schemastore.org/sarif-2.1.0.json"
INFORMATION_URI = f"https://pypi.org/project/{DISTRIBUTION}/"
SRCROOT = "%SRCROOT%"
FINGERPRINT = "malwiObjectHash/v1"
MALICIOUS_OBJECT = "MALICIOUS_OBJECT"
SUSPICIOUS_OBJECT = "SUSPICIOUS_OBJECT"
ARCHIVE_TEXT = "An archive: the artifacts whose parentIndex names it are its members."
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


def is_within(path: str, root: str) -> bool:
    """Whether `path` lies in the folder `root` (both absolute); never across drives."""
    try:
        return os.path.commonpath([path, root]) == root
    except ValueError:  # different drives
        return False


def _is_gitdir_file(path: str) -> bool:
    """A `.git` file of a worktree or submodule: it names the real git folder (`gitdir: ...`)."""
    try:
        with open(path, "rb") as handle:
            return handle.read(8) == b"gitdir: "
    except OSError:  # not a file, unreadable
        return False


def repository_root(path: str | os.PathLike[str]) -> str | None:
    """The root of the git work tree `path` lies in: the nearest folder, from `path` (from its
    folder for a file) up to the file-system root, holding a `.git` folder or a `.git` file;
    None outside any work tree. Only looks at names: git is never run on scanned content.

    The path is made absolute but symbolic links are not resolved, as the report's own paths are
    not: a tree reached through a link keeps the paths it is shown under, inside its root."""
    absolute = os.path.abspath(path)
    folder = absolute if os.path.isdir(absolute) else os.path.dirname(absolute)
    while True:
        marker = os.path.join(folder, ".git")
        if os.path.isdir(marker) or _is_gitdir_file(marker):
            return folder
        parent = os.path.dirname(folder)
        if parent == folder:
            return None
        folder = parent


def scan_folder(report: MalwiReport) -> str:
    """The absolute folder of the scan input: the one folder scanned, the folder of the one file
    scanned, or the common folder of several inputs (the working directory without any)."""
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


def source_root(report: MalwiReport) -> str:
    """The absolute folder result URIs are relative to: the root of the git work tree the scan
    input lies in, else the scan input's folder (`scan_folder`). Inputs that are not on disk (a
    release fetched from a registry) are never placed in the working directory's work tree."""
    folder = scan_folder(report)
    if report.inputs and all(os.path.exists(given) for given in report.inputs):
        return repository_root(folder) or folder
    return folder


def _directory_uri(folder: str) -> str:
    uri = Path(folder).as_uri()
    return uri if uri.endswith("/") else uri + "/"


def _encode(relative: str) -> str:
    # A URI names bytes: a name that is not UTF-8 is percent-encoded as the bytes it has.
    return quote(relative.replace(os.sep, "/"), safe="/", errors="surrogateescape")


def artifact_location(path: str, root: str) -> dict[str, Any]:
    """`path` as an artifactLocation: relative to `root` under %SRCROOT% when inside it; outside
    it, an absolute file URI, or for a relative path that names no file here (a downloaded
    release's name) the path itself without a base."""
    absolute = os.path.abspath(path)
    if absolute != root and is_within(absolute, root):
        return {"uri": _encode(os.path.relpath(absolute, root)), "uriBaseId": SRCROOT}
    if os.path.isabs(path):
        return {"uri": Path(absolute).as_uri()}
    return {"uri": _encode(os.path.normpath(path))}


def _region(obj: ObjectFinding) -> dict[str, int]:
    first, last = obj.lines
    start = max(1, int(first))
    return {"startLine": start, "endLine": max(start, int(last))}


def _judged(unit: UnitFinding) -> str:
    """The verdict an object carries: a unit a baseline accepted is good, its objects not."""
    return str(unit.baselined["verdict"]) if unit.baselined else unit.verdict


def _message(unit: UnitFinding, finding: FileFinding, obj: ObjectFinding) -> str:
    first, last = obj.lines
    return (
        f"{obj.name} ({obj.kind}, lines {first}-{last}) carries the {_judged(unit)} verdict on {unit.label} "
        f"(package score {unit.maliciousness:.2f}, object {obj.score:.2f}): {reason(finding, obj)}."
    )


def _suppression(report: MalwiReport) -> dict[str, str]:
    file = (report.baseline or {}).get("file", "")
    return {"kind": "external", "status": "accepted", "justification": f"accepted by the baseline {file}"}


def sarif_log(report: MalwiReport, root: str | os.PathLike[str] | None = None) -> dict[str, Any]:
    """The SARIF log as a dict; `root` overrides the folder result URIs are relative to."""
    base = os.path.abspath(root) if root is not None else source_root(report)
    rules = [_category_rule(name, description) for name, description in categories()]
    rules += [_rule(rule_id, *spec) for rule_id, spec in OBJECT_RULES.items()]
    flagged = report.findings
    # Findings a baseline accepted stay in the log as suppressed results: code scanning shows
    # them as dismissed instead of opening them again.
    accepted = [(unit, file, obj) for unit in report.units for file, obj in unit.accepted]
    suppressed = {id(obj) for _, _, obj in accepted}
    flagged = flagged + accepted
    truncated = len(flagged) > MAX_RESULTS
    if truncated:
        flagged = sorted(flagged, key=lambda found: -found[2].score)[:MAX_RESULTS]
    known = {rule["id"] for rule in rules}
    unknown = sorted({a for _, _, o in flagged for a in o.activities} - known)
    rules += [_category_rule(name, f"Shows {name} behaviour.") for name in unknown]
    rule_index = {rule["id"]: i for i, rule in enumerate(rules)}

    artifacts: list[dict[str, Any]] = []
    # A file by its path; an archive, a member of one, by the way in: (archive, member, ...).
    artifact_index: dict[str | tuple[str, ...], int] = {}
    occurrence = occurrence_numbers(report.files)

    def artifact(key: str | tuple[str, ...], entry: dict[str, Any]) -> int:
        if key not in artifact_index:
            artifact_index[key] = len(artifacts)
            artifacts.append(entry)
        return artifact_index[key]

    def scanned(finding: FileFinding, location: dict[str, Any]) -> dict[str, Any]:
        return {
            "location": location,
            "sourceLanguage": finding.language,
            "roles": ["analysisTarget"],
            "properties": {"score": round(finding.score, 4)},
        }

    def located(finding: FileFinding) -> dict[str, Any]:
        if not finding.nesting:
            location = artifact_location(finding.path, base)
            return dict(location, index=artifact(finding.path, scanned(finding, location)))
        # A member: its archive at the top, each member below it (see the module docstring).
        archive = finding.nesting[0][0]
        address = artifact_location(archive, base)
        key: tuple[str, ...] = (archive,)
        index = artifact(key, {"location": address, "description": {"text": ARCHIVE_TEXT}})
        uri = address["uri"]
        for depth, (_, member) in enumerate(finding.nesting):
            key += (member,)
            location = {"uri": _encode(member)}
            uri += "/" + location["uri"]
            if depth + 1 < len(finding.nesting):  # an archive inside the archive
                entry: dict[str, Any] = {"location": location, "description": {"text": ARCHIVE_TEXT}}
            else:
                entry = scanned(finding, location)
            index = artifact(key, dict(entry, parentIndex=index))
        return {**address, "uri": uri, "index": index}

    results: list[dict[str, Any]] = []
    for unit, finding, obj in flagged:
        location = located(finding)
        rule_id = _primary(obj, unit)
        results.append(
            {
                "ruleId": rule_id,
                "ruleIndex": rule_index[rule_id],
                "level": "error" if _judged(unit) == "malicious" else "warning",
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
                **({"suppressions": [_suppression(report)]} if id(obj) in suppressed else {}),
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
                    "packageVerdict": _judged(unit),
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
                "description": {
                    "text": "The root of the git work tree scanned (else the folder scanned): "
                    "result paths are relative to it."
                },
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
            **({"baseline": report.baseline} if report.baseline is not None else {}),
            # Registry metadata signals of a fetched release: evidence beside the verdict, no results.
            **({"signals": list(report.signals)} if report.signals else {}),
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
