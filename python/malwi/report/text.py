"""The text report (`malwi scan`'s default output): each flagged package with the few objects
that carry its verdict and why, then the verdict line."""

from __future__ import annotations

from typing import Any

from malwi._malwi import __version__
from malwi.report.escape import shown
from malwi.report.result import BatchReport, FileFinding, MalwiReport, UnitFinding
from malwi.report.words import flow_text, protector_evidence, reason

Result = MalwiReport | BatchReport


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


def _lines(lines: list[str]) -> str:
    """The report's lines, each shown as one line: names and strings from the scanned tree are
    escaped (a file called `x\n=> good` cannot add a line), so each element is one line."""
    return "".join(shown(line) + "\n" for line in lines)


def text(report: Result, quiet: bool = False) -> str:
    """Suspicious files, their objects and activities as a tree, then the verdict line."""
    if isinstance(report, BatchReport):
        return batch_text(report, quiet)
    if quiet:
        return _lines([summary(report), *why(report)])
    lines = [f"malwi {__version__} · model {report.model.get('name')} {report.model.get('version')}"]
    if report.source:
        lines.append(
            f"{report.label} from {report.source['ecosystem']} ({report.source.get('filename') or report.source.get('origin', '')})"
        )
    lines += signal_lines(report)
    lines += tree(report)
    lines += settings_lines(report)
    lines.append(summary(report))
    return _lines(lines)


def signal_lines(report: MalwiReport, indent: str = "") -> list[str]:
    """One line per registry metadata signal (`signal typosquat: name is one edit from ...`):
    what the registry says about the release, beside the verdict and never part of it."""
    return [
        f"{indent}signal {signal.get('kind', '?')}: {signal.get('summary', '')}" for signal in report.signals
    ]


def settings_lines(report: MalwiReport) -> list[str]:
    """What configured the scan besides the command line, when anything did."""
    settings = report.settings
    lines = []
    if settings.get("config"):
        keys = ", ".join(settings.get("config_keys") or []) or "nothing the command line left open"
        lines.append(f"settings from {settings['config']}: {keys}")
    if settings.get("ignore_files"):
        skipped = report.statistics.get("skipped_ignored", 0)
        lines.append(f"ignored as {', '.join(settings['ignore_files'])} says: {skipped} entries")
    if settings.get("exclude"):
        lines.append(f"excluded by pattern: {', '.join(settings['exclude'])}")
    if report.baseline is not None:
        lines += baseline_lines(report.baseline)
    return lines


def baseline_lines(baseline: dict[str, Any]) -> list[str]:
    """What `--baseline` accepted, and how much of the file this scan no longer finds."""
    accepted, units = baseline["accepted_findings"], baseline["accepted_units"]
    lines = [
        f"baseline {baseline['file']}: {accepted} known {'finding' if accepted == 1 else 'findings'} accepted"
        f" ({units} {'package' if units == 1 else 'packages'} judged without them)"
    ]
    stale = baseline["stale"]
    if stale:
        listed = ", ".join(f"{e['path']} {e['object']}".strip() for e in stale[:3])
        more = f", … ({len(stale) - 3} more)" if len(stale) > 3 else ""
        lines.append(f"baseline {baseline['file']}: {len(stale)} stale (not found): {listed}{more}")
    return lines


def why(report: MalwiReport) -> list[str]:
    """One line per flagged package saying why, for `--quiet` (what a pre-commit hook shows when
    it blocks a commit): the object that carries the verdict most, or what was not scanned."""
    lines = []
    for unit in report.flagged_units[:5]:
        if unit.carriers:
            file, obj = unit.carriers[0]
            lines.append(f"   {unit.label}: {file.path}:{obj.lines[0]} {obj.name}: {reason(file, obj)}")
        elif unit.unscanned:
            item = unit.unscanned[0]
            lines.append(f"   {unit.label}: not scanned: {item['path']}: {item['reason']}")
    return lines


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
    """Each flagged package, worst first: what was not scanned, its install scripts, then the
    objects that carry its verdict with where they run and what they do, and what the static
    engines found in its files beyond those objects."""
    lines: list[str] = []
    for unit in report.flagged_units:
        lines += _unit_header(unit)
        shown: dict[str, set[str]] = {}
        for file, obj in unit.carriers:
            first, last = obj.lines
            lines.append(f"  {file.path}:{first}-{last}  {obj.name} ({obj.kind})  {obj.score:.2f}")
            lines.append(f"    {reason(file, obj)}")
            lines += [f"    flow: {flow_text(flow)}" for flow in obj.flows]
            shown.setdefault(file.path, set()).add(obj.name)
        for file in report.files:
            if file.unit == unit.key and file.analysed:
                extra = file_engines(file, shown.get(file.path, set()))
                if extra:
                    lines += [f"  {file.path}", *("  " + line for line in extra)]
    # The static engines report whatever the model says: one line each, in packages judged good.
    flagged = {unit.key for unit in report.flagged_units}
    verdicts = {
        unit.key: f"{unit.verdict} with its {unit.baselined['verdict']} findings accepted by the baseline"
        if unit.baselined
        else unit.verdict
        for unit in report.units
    }
    for file in report.analysed_files:
        if file.unit not in flagged:
            lines.append(
                f"{file.path}  {file.score:.2f}  (in a package judged {verdicts.get(file.unit, 'good')})"
            )
            lines += file_engines(file, set())
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
        if not quiet:
            lines += signal_lines(report, "  ")
        chain = report.source.get("chain") or []
        if len(chain) > 1:  # a transitive dependency: what brought it in
            lines.append(f"  via {' → '.join(chain)}")
    for item in batch.unresolved:
        lines.append(f"{item['requirement']}: not scanned, {item['reason']} ({item['origin']})")
    for item in batch.failed:
        lines.append(f"{item['package']}: not scanned, {item['error']}")
    if batch.since:
        listed = ", ".join(batch.unchanged[:5]) + (
            f", … ({len(batch.unchanged) - 5} more)" if len(batch.unchanged) > 5 else ""
        )
        lines.append(
            f"{len(batch.unchanged)} unchanged since {', '.join(batch.since)}, not scanned again"
            + (f": {listed}" if listed else "")
        )
    flagged = [r.label for r in batch.reports if r.malicious]
    total = len(batch.reports)
    detail = f"{len(flagged)} of {total} packages malicious" + (f" ({', '.join(flagged)})" if flagged else "")
    missing = batch.missing
    if missing:
        detail += f"; {missing} not scanned"
    lines.append(f"=> {batch.verdict}: {detail}")
    return _lines(lines)
