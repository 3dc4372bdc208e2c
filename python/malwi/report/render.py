"""Renderings of a MalwiReport: a text tree, JSON, YAML and Markdown."""

from __future__ import annotations

import json
from typing import Any

from malwi.report import MalwiReport


def summary(report: MalwiReport) -> str:
    stats = report.statistics
    relation = "≥" if report.malicious else "<"
    return (
        f"=> {report.verdict}: maliciousness {report.maliciousness:.2f} {relation} threshold {report.threshold:.2f} "
        f"({stats.get('scanned', 0)} files, {stats.get('objects', 0)} objects, {stats.get('seconds', 0):.2f} s, "
        f"{stats.get('device', '?')})"
    )


def text(report: MalwiReport, quiet: bool = False) -> str:
    """Suspicious files, their objects and activities as a tree, then the verdict line."""
    if quiet:
        return summary(report) + "\n"
    lines = [f"malwi {report.to_dict()['malwi_version']} · model {report.model.get('name')} {report.model.get('version')}"]
    for finding in report.flagged_files:
        lines.append(f"{finding.path}  {finding.score:.2f}")
        for i, obj in enumerate(finding.objects):
            last = i == len(finding.objects) - 1
            branch, stem = ("└── ", "    ") if last else ("├── ", "│   ")
            first, final = obj.lines
            lines.append(f"{branch}{obj.name} ({obj.kind}, lines {first}-{final})  {obj.score:.2f}")
            if obj.activities:
                lines.append(f"{stem}activities: {', '.join(obj.activities)}")
    lines.append(summary(report))
    return "\n".join(lines) + "\n"


def to_json(report: MalwiReport) -> str:
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
                lines.append(f"{pad}{key}: {_yaml(item, 0)[0] if isinstance(item, dict | list) else _yaml_scalar(item)}")
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


def to_yaml(report: MalwiReport) -> str:
    """YAML without a YAML library: strings are emitted as JSON strings, which YAML accepts."""
    return "\n".join(_yaml(report.to_dict(), 0)) + "\n"


def to_markdown(report: MalwiReport) -> str:
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
    return "\n".join(lines) + "\n"


RENDERERS = {"json": to_json, "yaml": to_yaml, "markdown": to_markdown}
