"""The Markdown report: the verdict, a table of flagged objects, their source, and what the
static engines found."""

from __future__ import annotations

from malwi.report.result import BatchReport, MalwiReport
from malwi.report.text import file_engines
from malwi.report.words import reason


def to_markdown(report: MalwiReport | BatchReport) -> str:
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
    if len(report.units) > 1 or any(u.unscanned or u.hooks for u in report.units):
        lines += [
            "| package | kind | verdict | score | files scanned | not scanned |",
            "|---|---|---|---|---|---|",
        ]
        for unit in sorted(report.units, key=lambda u: (not u.flagged, -u.maliciousness, u.key)):
            lines.append(
                f"| `{unit.label}` (`{unit.key}`) | {unit.kind} | {unit.verdict} | {unit.maliciousness:.2f} "
                f"| {unit.statistics.get('scanned', 0)} | {len(unit.unscanned)} |"
            )
        lines.append("")
        for unit in report.units:
            for entry in unit.unscanned:
                lines.append(f"- not scanned in `{unit.label}`: `{entry['path']}`: {entry['reason']}")
            for hook in unit.hooks:
                lines.append(f"- install script `{hook['script']}` of `{unit.label}`: `{hook['command']}`")
        lines.append("")
    findings = report.findings
    if findings:
        lines += ["| package | file | object | lines | score | why |", "|---|---|---|---|---|---|"]
        for unit, finding, obj in findings:
            lines.append(
                f"| `{unit.label}` | `{finding.path}` | `{obj.name}` | {obj.lines[0]}-{obj.lines[1]} "
                f"| {obj.score:.2f} | {reason(finding, obj)} |"
            )
        for _, finding, obj in findings[:3]:
            lines += ["", f"## `{finding.path}` · `{obj.name}`", "", "```", obj.source.rstrip(), "```"]
    else:
        lines.append("No package is flagged.")
    analysed = report.analysed_files  # the static engines report whatever the model says
    if analysed:
        lines += ["", "## Static analysis", ""]
        for finding in analysed:
            lines.append(f"- `{finding.path}`")
            lines += [f"  - {line.strip()}" for line in file_engines(finding, set())]
    return "\n".join(lines) + "\n"
