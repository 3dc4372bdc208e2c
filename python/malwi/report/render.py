"""Renderings of a MalwiReport (or a batch of them): a text tree, JSON, YAML and Markdown.
SARIF lives in `malwi.report.sarif`."""

from __future__ import annotations

import json
from typing import Any

from malwi._malwi import __version__
from malwi.report import FileFinding, MalwiReport
from malwi.report.result import BatchReport, flow_text, protector_evidence

Result = MalwiReport | BatchReport


def summary(report: MalwiReport) -> str:
    stats = report.statistics
    relation = "≥" if report.malicious else "<"
    return (
        f"=> {report.verdict}: maliciousness {report.maliciousness:.2f} {relation} threshold {report.threshold:.2f} "
        f"({stats.get('scanned', 0)} files, {stats.get('objects', 0)} objects, {stats.get('seconds', 0):.2f} s, "
        f"{stats.get('device', '?')})"
    )


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


def _file_engines(finding: FileFinding, shown_objects: set[str]) -> list[str]:
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


def tree(report: MalwiReport) -> list[str]:
    """Flagged files with their objects, then other files where the static engines found
    flows, payloads or protectors."""
    lines: list[str] = []
    for finding in report.flagged_files:
        lines.append(f"{finding.path}  {finding.score:.2f}")
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
        lines += _file_engines(finding, {o.name for o in finding.objects})
    flagged = {f.path for f in report.flagged_files}
    for finding in report.analysed_files:
        if finding.path not in flagged:
            lines.append(f"{finding.path}  {finding.score:.2f}  (below the suspicious threshold)")
            lines += _file_engines(finding, set())
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


def to_json(report: Result) -> str:
    return json.dumps(report.to_dict(), indent=2, ensure_ascii=False) + "\n"


def _yaml_scalar(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value), ensure_ascii=False)  # a JSON string is a valid YAML scalar


def _yaml(value: Any, indent: int) -> list[str]:
    pad = "  " * indent
    if isinstance(value, dict):
        if not value:
            return [pad + "{}"]
        lines = []
        for key, item in value.items():
            if isinstance(item, dict | list) and item:
                lines.append(f"{pad}{key}:")
                lines.extend(_yaml(item, indent + 1))
            else:
                lines.append(
                    f"{pad}{key}: {_yaml(item, 0)[0] if isinstance(item, dict | list) else _yaml_scalar(item)}"
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


def to_yaml(report: Result) -> str:
    """YAML without a YAML library: strings are emitted as JSON strings, which YAML accepts."""
    return "\n".join(_yaml(report.to_dict(), 0)) + "\n"


def to_markdown(report: Result) -> str:
    if isinstance(report, BatchReport):
        parts = [f"# malwi report: {report.label}", "", f"**Verdict: {report.verdict}**", ""]
        for item in report.reports:
            parts.append(
                to_markdown(item)
                .replace("# malwi report", f"## {item.label}", 1)
                .replace("\n## `", "\n### `")
            )
        for unresolved in report.unresolved:
            parts.append(f"- `{unresolved['requirement']}` not scanned: {unresolved['reason']}")
        for failed in report.failed:
            parts.append(f"- `{failed['package']}` not scanned: {failed['error']}")
        return "\n".join(parts) + "\n"
    stats = report.statistics
    lines = [
        "# malwi report",
        "",
        f"**Verdict: {report.verdict}** (maliciousness {report.maliciousness:.2f}, threshold {report.threshold:.2f})",
        "",
        f"Model {report.model.get('name')} {report.model.get('version')} on {stats.get('device')}; "
        f"{stats.get('scanned', 0)} files, {stats.get('objects', 0)} objects in {stats.get('seconds', 0):.2f} s.",
        "",
    ]
    flagged = report.flagged_files
    if flagged:
        lines += ["| file | object | lines | score | activities |", "|---|---|---|---|---|"]
        for finding in flagged:
            for obj in finding.objects:
                activities = ", ".join(obj.activities) or "–"
                lines.append(
                    f"| `{finding.path}` | `{obj.name}` | {obj.lines[0]}-{obj.lines[1]} | {obj.score:.2f} | {activities} |"
                )
        for finding in flagged:
            for obj in finding.objects[:3]:
                lines += ["", f"## `{finding.path}` · `{obj.name}`", "", "```", obj.source.rstrip(), "```"]
    else:
        lines.append("No suspicious objects.")
    analysed = report.analysed_files
    if analysed:
        lines += ["", "## Static analysis", ""]
        for finding in analysed:
            lines.append(f"- `{finding.path}`")
            lines += [f"  - {line.strip()}" for line in _file_engines(finding, set())]
    return "\n".join(lines) + "\n"


def to_sarif(report: Result) -> str:
    from malwi.report.sarif import to_sarif as render_sarif

    return render_sarif(report)


RENDERERS = {"json": to_json, "yaml": to_yaml, "markdown": to_markdown, "sarif": to_sarif}
