"""The Markdown report: the verdict, a table of flagged objects, their source, and what the
static engines found. Names, strings and source from the scanned tree go through
`malwi.report.escape`: they cannot end a code span, a table cell or a code block early."""

from __future__ import annotations

from malwi.report.escape import code_span, fence, shown, table_cell
from malwi.report.result import BatchReport, MalwiReport
from malwi.report.text import file_engines
from malwi.report.words import reason


def to_markdown(report: MalwiReport | BatchReport) -> str:
    if isinstance(report, BatchReport):
        parts = [f"# malwi report: {shown(report.label)}", "", f"**Verdict: {report.verdict}**", ""]
        for item in report.reports:
            parts.append(
                to_markdown(item)
                .replace("# malwi report", f"## {shown(item.label)}", 1)
                .replace("\n## `", "\n### `")
            )
        for unresolved in report.unresolved:
            parts.append(
                f"- {code_span(unresolved['requirement'])} not scanned: {shown(unresolved['reason'])}"
            )
        for failed in report.failed:
            parts.append(f"- {code_span(failed['package'])} not scanned: {shown(failed['error'])}")
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
                f"| {code_span(unit.label)} ({code_span(unit.key)}) | {unit.kind} | {unit.verdict} | {unit.maliciousness:.2f} "
                f"| {unit.statistics.get('scanned', 0)} | {len(unit.unscanned)} |"
            )
        lines.append("")
        for unit in report.units:
            for entry in unit.unscanned:
                lines.append(
                    f"- not scanned in {code_span(unit.label)}: {code_span(entry['path'])}: {shown(entry['reason'])}"
                )
            for hook in unit.hooks:
                lines.append(
                    f"- install script {code_span(hook['script'])} of {code_span(unit.label)}: {code_span(hook['command'])}"
                )
        lines.append("")
    findings = report.findings
    if findings:
        lines += ["| package | file | object | lines | score | why |", "|---|---|---|---|---|---|"]
        for unit, finding, obj in findings:
            lines.append(
                f"| {code_span(unit.label)} | {code_span(finding.path)} | {code_span(obj.name)} | {obj.lines[0]}-{obj.lines[1]} "
                f"| {obj.score:.2f} | {table_cell(reason(finding, obj))} |"
            )
        for _, finding, obj in findings[:3]:
            lines += ["", f"## {code_span(finding.path)} · {code_span(obj.name)}", "", *fence(obj.source)]
    else:
        lines.append("No package is flagged.")
    analysed = report.analysed_files  # the static engines report whatever the model says
    if analysed:
        lines += ["", "## Static analysis", ""]
        for finding in analysed:
            lines.append(f"- {code_span(finding.path)}")
            lines += [f"  - {shown(line.strip())}" for line in file_engines(finding, set())]
    return "\n".join(lines) + "\n"
