"""The HTML report (`--format html`): one self-contained page for triage in a browser.

The summary (target, verdict, score, counts, model, what was not scanned), a sortable table of
the package units, a sortable table of the objects that carry the flagged units' verdicts, and
per flagged unit its install scripts, what was not scanned and those objects: file, name, lines,
score, where the code runs, the reason in plain words, activities, flows and the source. Good
units get their row and nothing more (what the static engines found in their files is listed
apart, as the text report does). A dependency scan renders each package in turn.

The page loads nothing: the style and the sorting script are inline, and its Content-Security-
Policy allows exactly those two (by hash) and nothing else. Everything the scanned tree named or
wrote (paths, object names, source, strings, package names) goes through `_text` or `_source`:
controls shown as escapes (`malwi.report.escape.shown`), then `html.escape(..., quote=True)`.
No scanned text is written into the script or the style, nor into an attribute: attributes hold
only numbers, ids and class names made here. The script sorts by reading the cells' text and
the numeric `data-sort` values written here, never data embedded in it.
"""

from __future__ import annotations

import base64
import hashlib
import html
from collections.abc import Iterable

from malwi._malwi import __version__
from malwi.report.escape import shown
from malwi.report.result import BatchReport, FileFinding, MalwiReport, ObjectFinding, UnitFinding
from malwi.report.text import KIND_WORDS, file_engines, settings_lines, summary
from malwi.report.words import flow_text, reason, when

__all__ = ["to_html"]

STYLE = """
:root { color-scheme: light dark; --fg: #1b1f24; --bg: #ffffff; --muted: #57606a; --line: #d0d7de;
  --code: #f6f8fa; --malicious: #cf222e; --incomplete: #9a6700; --suspicious: #bc4c00; --good: #1a7f37; }
@media (prefers-color-scheme: dark) { :root { --fg: #e6edf3; --bg: #0d1117; --muted: #9198a1;
  --line: #30363d; --code: #161b22; --malicious: #ff7b72; --incomplete: #d29922; --suspicious: #f0883e;
  --good: #3fb950; } }
body { font: 15px/1.45 system-ui, sans-serif; color: var(--fg); background: var(--bg); margin: 2rem auto;
  max-width: 80rem; padding: 0 1rem; }
h1 { font-size: 1.5rem; } h2 { font-size: 1.25rem; border-bottom: 1px solid var(--line); }
h3, h4, h5, h6 { font-size: 1.05rem; }
code, pre { font: 13px/1.4 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; }
pre { background: var(--code); border: 1px solid var(--line); padding: .75rem; overflow: auto; tab-size: 4; }
table { border-collapse: collapse; width: 100%; margin: .5rem 0 1rem; }
th, td { border: 1px solid var(--line); padding: .3rem .5rem; text-align: left; vertical-align: top;
  overflow-wrap: anywhere; }
th button { font: inherit; font-weight: 600; background: none; border: 0; padding: 0; color: inherit;
  cursor: pointer; }
th[aria-sort="ascending"] button::after { content: " ▲"; }
th[aria-sort="descending"] button::after { content: " ▼"; }
td.number { text-align: right; font-variant-numeric: tabular-nums; }
dl.facts { display: grid; grid-template-columns: max-content 1fr; gap: .2rem 1rem; }
dl.facts dt { font-weight: 600; } dl.facts dd { margin: 0; }
.verdict { font-weight: 700; }
.v-malicious .verdict, .verdict.v-malicious { color: var(--malicious); }
.v-incomplete .verdict, .verdict.v-incomplete { color: var(--incomplete); }
.v-suspicious .verdict, .verdict.v-suspicious { color: var(--suspicious); }
.v-good .verdict, .verdict.v-good { color: var(--good); }
section.unit, section.target { border-left: 4px solid var(--line); padding-left: 1rem; margin: 1.5rem 0; }
section.unit.v-malicious, section.target.v-malicious { border-color: var(--malicious); }
section.unit.v-incomplete, section.target.v-incomplete { border-color: var(--incomplete); }
section.unit.v-suspicious, section.target.v-suspicious { border-color: var(--suspicious); }
article.finding { margin: 1rem 0 1.5rem; }
.muted, footer { color: var(--muted); }
ul.activities { list-style: none; padding: 0; margin: 0; display: flex; flex-wrap: wrap; gap: .3rem; }
ul.activities li code { background: var(--code); border: 1px solid var(--line); padding: 0 .3rem; }
"""

# Sorts a table by the column whose header button is clicked: numbers by `data-sort` (written by
# the renderer), text by the cell's text; clicking again reverses. It reads nothing else.
SCRIPT = """
(function () {
  "use strict";
  function value(cell, numeric) {
    var raw = cell.hasAttribute("data-sort") ? cell.getAttribute("data-sort") : cell.textContent;
    if (!numeric) { return raw.trim(); }
    var number = parseFloat(raw);
    return isNaN(number) ? -Infinity : number;
  }
  function sortBy(table, header, index) {
    var numeric = header.getAttribute("data-type") === "number";
    var ascending = header.getAttribute("aria-sort") !== "ascending";
    Array.prototype.forEach.call(header.parentNode.cells, function (cell) {
      cell.removeAttribute("aria-sort");
    });
    header.setAttribute("aria-sort", ascending ? "ascending" : "descending");
    var body = table.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    rows.sort(function (a, b) {
      var x = value(a.cells[index], numeric), y = value(b.cells[index], numeric);
      var order = numeric ? (x < y ? -1 : (x > y ? 1 : 0)) : x.localeCompare(y, undefined, {numeric: true});
      return ascending ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  Array.prototype.forEach.call(document.querySelectorAll("table.sortable"), function (table) {
    Array.prototype.forEach.call(table.tHead.rows[0].cells, function (header, index) {
      var button = header.querySelector("button");
      if (button) { button.addEventListener("click", function () { sortBy(table, header, index); }); }
    });
  });
})();
"""


def _digest(text: str) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(text.encode("utf-8")).digest()).decode("ascii") + "'"


# The page may run its own script and style (by hash) and load nothing at all.
POLICY = (
    f"default-src 'none'; script-src {_digest(SCRIPT)}; style-src {_digest(STYLE)}; "
    "img-src 'none'; form-action 'none'; base-uri 'none'"
)

Result = MalwiReport | BatchReport


def _text(value: object) -> str:
    """Any text, the scanned tree's included, as HTML text (or an attribute value): one line,
    controls, bidirectional overrides and undecodable bytes shown as escapes, markup escaped."""
    return html.escape(shown(str(value)), quote=True)


def _source(source: str) -> str:
    """Source code as the content of a <pre>: its lines and tabs kept, every other control shown
    as an escape, markup escaped (a `</pre>` or `</script>` in it stays text)."""
    lines = source.replace("\r\n", "\n").split("\n")
    kept = "\n".join("\t".join(shown(part) for part in line.split("\t")) for line in lines)
    return html.escape(kept, quote=True)


def _code(value: object) -> str:
    return f"<code>{_text(value)}</code>"


def _severity(verdict: str) -> int:
    """A verdict's place in the engine's order of severity (0 the worst), for sorting."""
    from malwi.engine.verdict import VERDICTS  # the order is the engine's

    return VERDICTS.index(verdict) if verdict in VERDICTS else len(VERDICTS)


def _verdict_class(verdict: str) -> str:
    """The class of a verdict's colour: only ever one of the engine's verdicts."""
    from malwi.engine.verdict import VERDICTS

    return f"v-{verdict}" if verdict in VERDICTS else "v-unknown"


def _verdict(verdict: str) -> str:
    return f'<span class="verdict {_verdict_class(verdict)}">{_text(verdict)}</span>'


def _heading(level: int, body: str) -> str:
    level = min(level, 6)
    return f"<h{level}>{body}</h{level}>"


def _facts(pairs: Iterable[tuple[str, str]], css: str = "facts") -> list[str]:
    """A definition list of (term, already escaped HTML) pairs."""
    lines = [f'<dl class="{css}">']
    for term, value in pairs:
        lines.append(f"<dt>{_text(term)}</dt><dd>{value}</dd>")
    lines.append("</dl>")
    return lines


def _list(items: Iterable[str], css: str = "") -> str:
    """A list of already escaped HTML items (empty string for none)."""
    body = "".join(f"<li>{item}</li>" for item in items)
    if not body:
        return ""
    return f'<ul class="{css}">{body}</ul>' if css else f"<ul>{body}</ul>"


def _table(caption: str, columns: list[tuple[str, str]], rows: list[str], css: str = "") -> list[str]:
    """A sortable table: columns are (header, `text` or `number`), rows already made `<tr>`s."""
    heads = "".join(
        f'<th scope="col" data-type="{kind}"><button type="button">{_text(name)}</button></th>'
        for name, kind in columns
    )
    classes = f"sortable {css}".strip()
    return [
        f'<table class="{classes}">',
        f"<caption>{_text(caption)}</caption>",
        f"<thead><tr>{heads}</tr></thead>",
        "<tbody>",
        *rows,
        "</tbody>",
        "</table>",
    ]


def _number(value: float, digits: int = 2) -> str:
    """A numeric cell: shown rounded, sorted by the exact value."""
    return f'<td class="number" data-sort="{value:.6f}">{value:.{digits}f}</td>'


def _count(value: int) -> str:
    return f'<td class="number" data-sort="{int(value)}">{int(value)}</td>'


def _lines_of(obj: ObjectFinding) -> str:
    first, last = obj.lines
    return f"{first}" if first == last else f"{first}–{last}"


def _reach_counts(unit: UnitFinding) -> str:
    """How many of the unit's files run where: `install 1 · import 2`."""
    counts = unit.statistics.get("files_by_reach") or {}
    return " · ".join(f"{_text(name)} {int(count)}" for name, count in counts.items() if count)


def _stats(report: MalwiReport) -> str:
    stats = report.statistics
    parts = [
        f"{int(stats.get('scanned', 0))} files scanned",
        f"{int(stats.get('objects', 0))} objects",
        f"{float(stats.get('seconds', 0)):.2f} s on {stats.get('device', '?')}",
    ]
    for key, words in (("skipped", "skipped"), ("failed", "failed"), ("cached", "from the cache")):
        if stats.get(key):
            parts.append(f"{int(stats[key])} {words}")
    return _text(", ".join(parts))


def _model(report: MalwiReport) -> str:
    return _text(f"{report.model.get('name')} {report.model.get('version')} · malwi {__version__}")


class _Ids:
    """Ids of the page's anchors, made here from counters (never from scanned names)."""

    def __init__(self, prefix: str) -> None:
        self.prefix = prefix
        self.units: dict[int, str] = {}
        self.findings: dict[tuple[int, int], str] = {}

    def unit(self, unit: UnitFinding) -> str:
        return self.units.setdefault(id(unit), f"{self.prefix}u{len(self.units) + 1}")

    def finding(self, file: FileFinding, obj: ObjectFinding) -> str:
        return self.findings.setdefault((id(file), id(obj)), f"{self.prefix}f{len(self.findings) + 1}")


def _ordered_units(report: MalwiReport) -> list[UnitFinding]:
    """Flagged units first, the worst first; then the good ones, the highest score first."""
    good = sorted((u for u in report.units if not u.flagged), key=lambda u: (-u.maliciousness, u.key))
    return [*report.flagged_units, *good]


def _summary_section(report: MalwiReport, level: int) -> list[str]:
    unscanned = [(unit, item) for unit in report.units for item in unit.unscanned]
    flagged = report.flagged_units
    target = _text(report.label or ", ".join(report.inputs))
    facts: list[tuple[str, str]] = [("Target", target)]
    if len(report.inputs) > 1 or (report.inputs and report.inputs != [report.label]):
        facts.append(("Inputs", _list(_code(path) for path in report.inputs)))
    if report.source:
        origin = report.source.get("filename") or report.source.get("origin", "")
        facts.append(("From", _text(f"{report.source.get('ecosystem', '')} ({origin})")))
    if report.signals:
        # Registry metadata signals: shown beside the verdict, never part of it.
        items = (_text(f"{sig.get('kind', '?')}: {sig.get('summary', '')}") for sig in report.signals)
        facts.append(("Registry signals", _list(items, "signals")))
    facts += [
        ("Verdict", _verdict(report.verdict)),
        (
            "Maliciousness",
            _text(
                f"{report.maliciousness:.2f} (malicious from {report.threshold:.2f}, "
                f"suspicious from {report.suspicious_threshold:.2f})"
            ),
        ),
        ("Packages", _text(f"{len(report.units)}, {len(flagged)} flagged")),
        ("Findings", _text(str(len(report.findings)))),
        ("Scanned", _stats(report)),
        ("Model", _model(report)),
        (
            "Status",
            _text(report.status + (": some input could not be read or parsed" if report.partial else "")),
        ),
    ]
    if unscanned:
        packages = len({id(unit) for unit, _ in unscanned})
        facts.append(
            (
                "Not scanned",
                _text(
                    f"{len(unscanned)} {'part' if len(unscanned) == 1 else 'parts'} in {packages} "
                    f"{'package' if packages == 1 else 'packages'}: the verdict cannot vouch for them"
                ),
            )
        )
    for line in settings_lines(report):
        facts.append(("Settings", _text(line)))
    facts.append(("Scanned at", _text(f"{report.timestamp} (analysis {report.analysis_id})")))
    lines = [_heading(level, "Summary"), *_facts(facts, "facts summary")]
    if report.warnings:
        lines += [_heading(level + 1, "Warnings"), _list((_text(w) for w in report.warnings), "warnings")]
    return lines


def _units_section(report: MalwiReport, ids: _Ids, level: int) -> list[str]:
    columns = [
        ("Package", "text"),
        ("Folder", "text"),
        ("Kind", "text"),
        ("Verdict", "number"),
        ("Score", "number"),
        ("Files scanned", "number"),
        ("Files by where they run", "text"),
        ("Not scanned", "number"),
        ("Findings", "number"),
    ]
    rows = []
    for unit in _ordered_units(report):
        label = _text(unit.label)
        name = f'<a href="#{ids.unit(unit)}">{label}</a>' if unit.flagged else label
        rows.append(
            f'<tr class="unit-row {_verdict_class(unit.verdict)}">'
            f"<td>{name}</td><td>{_code(unit.key)}</td><td>{_text(KIND_WORDS.get(unit.kind, unit.kind))}</td>"
            f'<td data-sort="{_severity(unit.verdict)}">{_verdict(unit.verdict)}</td>'
            f"{_number(unit.maliciousness)}{_count(unit.statistics.get('scanned', 0))}"
            f"<td>{_reach_counts(unit)}</td>{_count(len(unit.unscanned))}{_count(len(unit.carriers))}</tr>"
        )
    return [_heading(level, "Packages"), *_table("Package units and their verdicts", columns, rows, "units")]


def _findings_section(report: MalwiReport, ids: _Ids, level: int) -> list[str]:
    findings = report.findings
    if not findings:
        return [_heading(level, "Findings"), '<p class="none">No package is flagged.</p>']
    columns = [
        ("Package", "text"),
        ("File", "text"),
        ("Object", "text"),
        ("Lines", "number"),
        ("Score", "number"),
        ("Runs", "text"),
        ("Why", "text"),
    ]
    rows = [
        f'<tr class="finding-row {_verdict_class(unit.verdict)}">'
        f"<td>{_text(unit.label)}</td><td>{_code(file.path)}</td>"
        f'<td><a href="#{ids.finding(file, obj)}">{_code(obj.name)}</a></td>'
        f'<td class="number" data-sort="{int(obj.lines[0])}">{_lines_of(obj)}</td>'
        f"{_number(obj.score)}<td>{_text(obj.reach)}</td><td>{_text(reason(file, obj))}</td></tr>"
        for unit, file, obj in findings
    ]
    return [
        _heading(level, "Findings"),
        *_table("Objects that carry the flagged packages' verdicts", columns, rows, "findings"),
    ]


def _finding(file: FileFinding, obj: ObjectFinding, ids: _Ids, level: int) -> list[str]:
    title = (
        f"{_code(file.path)}:{_lines_of(obj)} · {_code(obj.name)} "
        f'<span class="muted">({_text(obj.kind)})</span> · {obj.score:.2f}'
    )
    facts: list[tuple[str, str]] = [
        ("Runs", _text(f"{obj.reach}: {when(file, obj)}")),
        ("Why", f'<span class="reason">{_text(reason(file, obj))}</span>'),
        (
            "Activities",
            _list((_code(a) for a in obj.activities), "activities")
            or '<span class="muted">none named</span>',
        ),
    ]
    if obj.decoded_from:
        facts.append(("Decoded from", _text(f"a string literal ({obj.decoded_from})")))
    if obj.flows:
        facts.append(("Flows", _list((_text(flow_text(flow)) for flow in obj.flows), "flows")))
    facts.append(("Score", _text(f"{obj.score:.4f} (model's own {obj.raw:.4f})")))
    return [
        f'<article class="finding" id="{ids.finding(file, obj)}">',
        _heading(level, title),
        *_facts(facts),
        f'<pre class="source"><code>{_source(obj.source)}</code></pre>',
        "</article>",
    ]


def _engine_lines(file: FileFinding, shown_objects: set[str]) -> str:
    return _list((_text(line.strip()) for line in file_engines(file, shown_objects)), "engines")


def _unit_section(report: MalwiReport, unit: UnitFinding, ids: _Ids, level: int) -> list[str]:
    lines = [
        f'<section class="unit {_verdict_class(unit.verdict)}" id="{ids.unit(unit)}">',
        _heading(level, f"{_verdict(unit.verdict)} {_text(unit.label)} · {unit.maliciousness:.2f}"),
        f'<p class="muted">{_text(KIND_WORDS.get(unit.kind, unit.kind))}: {_code(unit.key)}</p>',
    ]
    if unit.hooks:
        hooks = []
        for hook in unit.hooks:
            evidence = _list(_text(item) for item in hook.get("evidence") or [])
            hooks.append(f"{_code(hook['script'])}: {_code(hook['command'])}{evidence}")
        lines += [_heading(level + 1, "Install scripts"), _list(hooks, "hooks")]
    if unit.unscanned:
        items = (f"{_code(item['path'])}: {_text(item['reason'])}" for item in unit.unscanned)
        lines += [_heading(level + 1, "Not scanned"), _list(items, "unscanned")]
    shown_objects: dict[str, set[str]] = {}
    for file, obj in unit.carriers:
        lines += _finding(file, obj, ids, level + 1)
        shown_objects.setdefault(file.path, set()).add(obj.name)
    engines = []
    for file in report.files:
        if file.unit == unit.key and file.analysed:
            found = _engine_lines(file, shown_objects.get(file.path, set()))
            if found:
                engines.append(f"{_code(file.path)}{found}")
    if engines:
        lines += [_heading(level + 1, "Static analysis of its files"), _list(engines, "static")]
    lines.append("</section>")
    return lines


def _elsewhere_section(report: MalwiReport, level: int) -> list[str]:
    """What the static engines found in files of unflagged units: reported whatever the model says."""
    flagged = {unit.key for unit in report.flagged_units}
    verdicts = {unit.key: unit.verdict for unit in report.units}
    items = [
        f"{_code(file.path)} {file.score:.2f} "
        f'<span class="muted">(in a package judged {_text(verdicts.get(file.unit, "good"))})</span>'
        f"{_engine_lines(file, set())}"
        for file in report.analysed_files
        if file.unit not in flagged
    ]
    if not items:
        return []
    return [_heading(level, "Static analysis in packages not flagged"), _list(items, "static")]


def _report_body(report: MalwiReport, ids: _Ids, level: int) -> list[str]:
    lines = [
        f'<p class="verdict-line {_verdict_class(report.verdict)}">{_text(summary(report))}</p>',
        *_summary_section(report, level),
        *_units_section(report, ids, level),
        *_findings_section(report, ids, level),
    ]
    for unit in report.flagged_units:
        lines += _unit_section(report, unit, ids, level + 1)
    lines += _elsewhere_section(report, level)
    return lines


def _batch_body(batch: BatchReport) -> list[str]:
    flagged = [r for r in batch.reports if r.verdict != "good"]
    facts: list[tuple[str, str]] = [
        ("Target", _text(batch.label)),
        ("Verdict", _verdict(batch.verdict)),
        ("Maliciousness", _text(f"{batch.maliciousness:.2f} (the highest package's)")),
        (
            "Packages",
            _text(
                f"{len(batch.reports)} scanned, {len(flagged)} flagged, {batch.missing} not scanned"
                + (f" ({len(batch.failed)} failed)" if batch.failed else "")
            ),
        ),
    ]
    if batch.reports:
        facts.append(("Model", _model(batch.reports[0])))
    facts += [
        ("Status", _text(batch.status)),
        ("Scanned at", _text(f"{batch.timestamp} (analysis {batch.analysis_id})")),
    ]
    lines = [
        f'<p class="verdict-line {_verdict_class(batch.verdict)}">{_text(f"=> {batch.verdict}")}</p>',
        _heading(2, "Summary"),
        *_facts(facts, "facts summary"),
    ]
    columns = [
        ("Package", "text"),
        ("Verdict", "number"),
        ("Score", "number"),
        ("Files scanned", "number"),
        ("Units", "number"),
        ("Findings", "number"),
    ]
    rows = [
        f'<tr class="target-row {_verdict_class(report.verdict)}">'
        f'<td><a href="#t{number}">{_text(report.label)}</a></td>'
        f'<td data-sort="{_severity(report.verdict)}">{_verdict(report.verdict)}</td>'
        f"{_number(report.maliciousness)}{_count(report.statistics.get('scanned', 0))}"
        f"{_count(len(report.units))}{_count(len(report.findings))}</tr>"
        for number, report in enumerate(batch.reports, 1)
    ]
    lines += [
        _heading(2, "Packages"),
        *_table("Packages scanned and their verdicts", columns, rows, "targets"),
    ]
    missing = [
        f"{_code(item['requirement'])}: {_text(item['reason'])} ({_text(item.get('origin', ''))})"
        for item in batch.unresolved
    ] + [f"{_code(item['package'])}: {_text(item['error'])}" for item in batch.failed]
    if missing:
        lines += [_heading(2, "Not scanned"), _list(missing, "unresolved")]
    for number, report in enumerate(batch.reports, 1):
        lines += [
            f'<section class="target {_verdict_class(report.verdict)}" id="t{number}">',
            _heading(2, _text(report.label)),
            *_report_body(report, _Ids(f"t{number}-"), 3),
            "</section>",
        ]
    return lines


def to_html(report: Result) -> str:
    """The report as one HTML5 document that needs nothing else to be read or sorted."""
    if isinstance(report, BatchReport):
        title, body = report.label, _batch_body(report)
    else:
        title, body = report.label or ", ".join(report.inputs), _report_body(report, _Ids(""), 2)
    page = [
        "<!DOCTYPE html>",
        '<html lang="en">',
        "<head>",
        '<meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{POLICY}">',
        '<meta name="referrer" content="no-referrer">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>malwi report: {_text(title)}</title>",
        f"<style>{STYLE}</style>",
        "</head>",
        "<body>",
        "<header>",
        f"<h1>malwi report: {_text(title)}</h1>",
        "</header>",
        "<main>",
        *body,
        "</main>",
        f"<footer>malwi {_text(__version__)}</footer>",
        f"<script>{SCRIPT}</script>",
        "</body>",
        "</html>",
    ]
    return "\n".join(page) + "\n"
