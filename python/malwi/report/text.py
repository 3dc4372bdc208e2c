"""The text report: flagged files as a tree of their objects and what those do, then the
verdict line (`malwi scan`'s default output). Also how flows and protectors are put in words,
which the Markdown and SARIF renderers share."""

from __future__ import annotations

from typing import Any

from malwi._malwi import __version__
from malwi.report.result import BatchReport, FileFinding, MalwiReport, UnitFinding

Result = MalwiReport | BatchReport


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


def _counts(report: MalwiReport) -> str:
    stats = report.statistics
    return (
        f"{stats.get('scanned', 0)} files, {stats.get('objects', 0)} objects, {stats.get('seconds', 0):.2f} s, "
        f"{stats.get('device', '?')}"
    )


def _not_scanned(unscanned: int) -> str:
    return f"{unscanned} {'part' if unscanned == 1 else 'parts'} not scanned"


def summary(report: MalwiReport) -> str:
    """The verdict line. One package: its score against the threshold. Several: how many are
    flagged and which, worst first (`2 of 314 packages malicious: foo 0.97, bar 0.91`)."""
    if len(report.units) <= 1:
        relation = "≥" if report.malicious else "<"
        unscanned = sum(len(u.unscanned) for u in report.units)
        missing = f"; {_not_scanned(unscanned)}" if unscanned else ""
        return (
            f"=> {report.verdict}: maliciousness {report.maliciousness:.2f} {relation} threshold "
            f"{report.threshold:.2f}{missing} ({_counts(report)})"
        )
    flagged = [u for u in report.flagged_units if u.verdict == report.verdict]
    total = len(report.units)
    if not flagged:
        return f"=> good: {total} packages, none flagged ({_counts(report)})"

    def named(unit: UnitFinding) -> str:
        if unit.verdict == "incomplete":
            return f"{unit.label} ({_not_scanned(len(unit.unscanned))})"
        return f"{unit.label} {unit.maliciousness:.2f}"

    shown = ", ".join(named(u) for u in flagged[:5]) + (
        f", … ({len(flagged) - 5} more)" if len(flagged) > 5 else ""
    )
    return f"=> {report.verdict}: {len(flagged)} of {total} packages {report.verdict}: {shown} ({_counts(report)})"


def text(report: Result, quiet: bool = False) -> str:
    """Suspicious files, their objects and activities as a tree, then the verdict line."""
    if isinstance(report, BatchReport):
        return batch_text(report, quiet)
    if quiet:
        return summary(report) + "\n"
    lines = [f"malwi {__version__} · model {report.model.get('name')} {report.model.get('version')}"]
    if report.source:
        lines.append(
            f"{report.label} from {report.source['ecosystem']} ({report.source.get('filename') or report.source.get('origin', '')})"
        )
    lines += tree(report)
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def _humane(activities: list[str]) -> str:
    return ", ".join(a.lower().replace("_", " ") for a in activities)


def file_engines(finding: FileFinding, shown_objects: set[str]) -> list[str]:
    """What the static engines found in a file, beyond the objects already shown."""
    lines: list[str] = []
    protection = finding.protection
    if protection and protection["is_protected"]:
        where = ", ".join(f"line {e['line']}: {e['signal']}" for e in protector_evidence(protection)[:3])
        lines.append(f"    protected: {protection['protector']} ({protection['confidence']:.2f}; {where})")
    for payload in finding.payloads:
        if payload["object"] not in shown_objects:
            activities = _humane(payload["activities"]) or "no listed activity"
            lines.append(
                f"    decoded payload at line {payload['lines'][0]} ({payload['chain']}): {activities}"
            )
    for flow in finding.flows:
        if flow["object"] not in shown_objects:
            lines.append(f"    flow in {flow['object']}: {flow_text(flow)}")
    for note in finding.notes:
        lines.append(f"    note at line {note['lines'][0]}: {note['detail']}")
    return lines


def _file_tree(finding: FileFinding) -> list[str]:
    """A flagged file, its objects and what each does."""
    lines = [f"{finding.path}  {finding.score:.2f}"]
    for i, obj in enumerate(finding.objects):
        last = i == len(finding.objects) - 1
        branch, stem = ("└── ", "    ") if last else ("├── ", "│   ")
        first, final = obj.lines
        lines.append(f"{branch}{obj.name} ({obj.kind}, lines {first}-{final})  {obj.score:.2f}")
        if obj.decoded_from:
            lines.append(
                f"{stem}decoded payload ({obj.decoded_from}): {_humane(obj.activities) or 'no listed activity'}"
            )
        elif obj.activities:
            lines.append(f"{stem}activities: {', '.join(obj.activities)}")
        for flow in obj.flows:
            lines.append(f"{stem}flow: {flow_text(flow)}")
    return lines + file_engines(finding, {o.name for o in finding.objects})


KIND_WORDS = {
    "python": "Python package",
    "npm": "npm package",
    "distribution": "installed distribution",
    "archive": "archive",
    "files": "files outside any package",
}


def _unit_header(unit: UnitFinding) -> list[str]:
    lines = [
        f"[{unit.verdict}] {unit.label}  {unit.maliciousness:.2f}  ({KIND_WORDS.get(unit.kind, unit.kind)}: {unit.key})"
    ]
    for hook in unit.hooks:
        evidence = "; ".join(hook["evidence"])
        lines.append(
            f"  install script {hook['script']}: {hook['command']}" + (f" ({evidence})" if evidence else "")
        )
    for item in unit.unscanned[:10]:
        lines.append(f"  not scanned: {item['path']}: {item['reason']}")
    if len(unit.unscanned) > 10:
        lines.append(f"  not scanned: {len(unit.unscanned) - 10} more")
    return lines


def tree(report: MalwiReport) -> list[str]:
    """Flagged files with their objects (grouped by package when there are several, flagged
    packages first), then other files where the static engines found flows, payloads or
    protectors."""
    lines: list[str] = []
    flagged_files = report.flagged_files
    if len(report.units) <= 1:
        for unit in report.units:
            if unit.hooks or unit.unscanned:
                lines += _unit_header(unit)[1:]
        for finding in flagged_files:
            lines += _file_tree(finding)
    else:
        for unit in report.flagged_units:
            lines += _unit_header(unit)
            for finding in flagged_files:
                if finding.unit == unit.key:
                    lines += ["  " + line for line in _file_tree(finding)]
    shown = {f.path for f in flagged_files}
    for finding in report.analysed_files:
        if finding.path not in shown:
            lines.append(f"{finding.path}  {finding.score:.2f}  (below the suspicious threshold)")
            lines += file_engines(finding, set())
    return lines


def batch_text(batch: BatchReport, quiet: bool) -> str:
    """Per package its verdict line (and, unless quiet, the tree of what is suspicious in it),
    then what was not scanned and the overall verdict."""
    lines: list[str] = []
    if not quiet and batch.reports:
        report = batch.reports[0]
        lines.append(f"malwi {__version__} · model {report.model.get('name')} {report.model.get('version')}")
    for report in batch.reports:
        if not quiet and report.verdict != "good":
            lines += tree(report)
        lines.append(f"{report.label}: {summary(report)[3:]}")
    for item in batch.unresolved:
        lines.append(f"{item['requirement']}: not scanned, {item['reason']} ({item['origin']})")
    for item in batch.failed:
        lines.append(f"{item['package']}: not scanned, {item['error']}")
    flagged = [r.label for r in batch.reports if r.malicious]
    total = len(batch.reports)
    detail = f"{len(flagged)} of {total} packages malicious" + (f" ({', '.join(flagged)})" if flagged else "")
    missing = len(batch.unresolved) + len(batch.failed)
    if missing:
        detail += f"; {missing} not scanned"
    lines.append(f"=> {batch.verdict}: {detail}")
    return "\n".join(lines) + "\n"
