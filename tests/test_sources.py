"""Package sources: safe extraction, registry downloads (a real HTTP server on loopback),
dependency files. Hostile archives are built here, in memory; nothing is ever executed."""

from __future__ import annotations

import base64
import hashlib
import io
import json
import os
import stat
import tarfile
import time
import zipfile
from pathlib import Path

import jsonschema
import pytest

from malwi.errors import ArchiveError
from malwi.sources.archive import ExtractionLimits, extract
from malwi.sources.dependencies import parse_package_json, parse_package_lock, parse_requirements
from tests.conftest import EXAMPLES, ROOT, FakeRegistry, run_malwi

SCHEMA = json.loads((ROOT / "data" / "schemas" / "analysis_result_schema.json").read_text())
BENIGN = b'def slug(text):\n    return "-".join(text.lower().split())\n'
MALICIOUS = (ROOT / "examples" / "malicious-python" / "setup.py").read_bytes()


def tar_bytes(members: list[tarfile.TarInfo | tuple[str, bytes]], mode: str = "w:gz") -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode=mode) as tar:
        for member in members:
            if isinstance(member, tarfile.TarInfo):
                tar.addfile(member)
            else:
                name, data = member
                info = tarfile.TarInfo(name)
                info.size = len(data)
                tar.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


def zip_bytes(members: list[tuple[str, bytes]], symlink: str | None = None) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zipped:
        for name, data in members:
            zipped.writestr(name, data)
        if symlink:
            info = zipfile.ZipInfo(symlink)
            info.external_attr = (stat.S_IFLNK | 0o777) << 16
            zipped.writestr(info, "/etc/passwd")
    return buffer.getvalue()


def special(name: str, kind: bytes, target: str = "") -> tarfile.TarInfo:
    info = tarfile.TarInfo(name)
    info.type = kind
    info.linkname = target
    return info


class Zeros(io.RawIOBase):
    """A file of `size` zero bytes that never exists in memory at once."""

    def __init__(self, size: int) -> None:
        self.left = size

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: bytearray) -> int:  # type: ignore[override]
        count = min(len(buffer), self.left)
        buffer[:count] = bytes(count)
        self.left -= count
        return count


def ratio_bomb(size: int = 64 * 1024 * 1024) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        info = tarfile.TarInfo("bomb/data.py")
        info.size = size
        tar.addfile(info, io.BufferedReader(Zeros(size)))
    return buffer.getvalue()


def many_files(count: int = 100_000) -> bytes:
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz", compresslevel=1) as tar:
        for i in range(count):
            tar.addfile(tarfile.TarInfo(f"pkg/f{i}.py"), io.BytesIO(b""))
    return buffer.getvalue()


HOSTILE = {
    "zip-slip": (
        "evil.zip",
        lambda: zip_bytes([("pkg/ok.py", BENIGN), ("../../evil.py", b"print(1)\n")]),
        "path escapes the archive",
    ),
    "absolute-path": (
        "evil.tar.gz",
        lambda: tar_bytes([("/tmp/malwi-evil.py", b"x = 1\n")]),
        "absolute path in archive",
    ),
    "windows-absolute": (
        "evil.zip",
        lambda: zip_bytes([("C:\\evil.py", b"x = 1\n")]),
        "absolute path in archive",
    ),
    "device": (
        "evil.tgz",
        lambda: tar_bytes([special("pkg/dev", tarfile.CHRTYPE)]),
        "device, FIFO or special file",
    ),
    "ratio-bomb": ("bomb.tar.gz", ratio_bomb, "compression ratio above 200:1"),
    "many-files": ("many.tar.gz", many_files, "more than 50,000 files"),
}


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_hostile_archive_exits_2_and_writes_nothing_outside(case: str, tmp_path: Path) -> None:
    name, build, message = HOSTILE[case]
    archive = tmp_path / "in" / name
    archive.parent.mkdir()
    archive.write_bytes(build())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    before = sorted(p.name for p in tmp_path.iterdir())
    result = run_malwi("scan", str(archive), "--no-cache", env={"TMPDIR": str(scratch)}, timeout=300)
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert message in stderr and name in stderr, stderr
    assert len(stderr.strip().splitlines()) == 1 and "Traceback" not in stderr
    assert sorted(p.name for p in tmp_path.iterdir()) == before
    assert list(scratch.iterdir()) == [], "the temporary folder is removed after the error"
    assert not Path("/tmp/malwi-evil.py").exists()


def test_extract_refuses_to_follow_a_planted_link(tmp_path: Path) -> None:
    target = tmp_path / "out"
    target.mkdir()
    (target / "pkg").symlink_to(tmp_path)  # as if an earlier member had planted it
    archive = tmp_path / "a.tar"
    archive.write_bytes(tar_bytes([("pkg/x.py", b"x = 1\n")], mode="w"))
    with pytest.raises(ArchiveError, match="collides"):
        extract(archive, target)
    assert not (tmp_path / "x.py").exists()


LINKED = {
    "symlink": (
        "linked.tar.gz",
        lambda: tar_bytes([("pkg/setup.py", MALICIOUS), special("pkg/link", tarfile.SYMTYPE, "/etc/passwd")]),
    ),
    "hardlink": (
        "linked.tar",
        lambda: tar_bytes(
            [("pkg/setup.py", MALICIOUS), special("pkg/hard", tarfile.LNKTYPE, "/etc/shadow")], mode="w"
        ),
    ),
}


@pytest.mark.parametrize("case", sorted(LINKED))
def test_links_out_of_an_archive_are_left_out_and_the_rest_is_scanned(case: str, tmp_path: Path) -> None:
    """A link to a file the archive does not hold is never created nor followed; it is named in a
    warning and the package is still judged."""
    name, build = LINKED[case]
    archive = tmp_path / name
    archive.write_bytes(build())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = run_malwi("scan", str(archive), "--no-cache", "--format", "json", env={"TMPDIR": str(scratch)})
    assert result.returncode == 1, result.stderr
    stderr = result.stderr.decode()
    assert "1 link(s) not unpacked (the target is outside the archive, a folder or a loop): pkg/" in stderr, (
        stderr
    )
    document = json.loads(result.stdout)
    assert any("link(s) not unpacked" in w for w in document["warnings"]), document["warnings"]
    assert f"{archive}/pkg/setup.py" in [f["path"] for f in document["files"]]
    assert not [p for p in scratch.iterdir() if p.is_dir()], (
        "the unpacked folder is removed (onnxruntime leaves a .ses file)"
    )
    target = tmp_path / "out"
    target.mkdir()
    extraction = extract(archive, target)
    assert [p.name for p in (target / "pkg").iterdir()] == ["setup.py"], "no link is created"
    assert extraction.links_left_out.count == 1 and extraction.files == 1
    left_out = {"symlink": "pkg/link -> /etc/passwd", "hardlink": "pkg/hard -> /etc/shadow"}[case]
    assert extraction.links_left_out.examples == [left_out] and extraction.links_copied.count == 0


@pytest.mark.parametrize("kind", [tarfile.SYMTYPE, tarfile.LNKTYPE])
def test_a_link_inside_the_archive_is_scanned_as_a_copy_of_its_target(kind: bytes, tmp_path: Path) -> None:
    """`setup.py -> docs/notes.txt`: an installer creates the link and runs the `.txt`; the scan must
    see that code under the name that runs it."""
    target_name = (
        "docs/notes.txt" if kind == tarfile.SYMTYPE else "pkg/docs/notes.txt"
    )  # hard links name the member
    members = [
        ("pkg/docs/notes.txt", MALICIOUS),
        special("pkg/setup.py", kind, target_name),
        special("pkg/gone.py", kind, "../../x.py"),
    ]
    archive = tmp_path / "linked.tar.gz"
    archive.write_bytes(tar_bytes(members))
    result = run_malwi("scan", str(archive), "--no-cache", "--format", "json")
    assert result.returncode == 1, result.stderr
    assert f"{archive}/pkg/setup.py" in [f["path"] for f in json.loads(result.stdout)["files"]]
    assert "1 link(s) unpacked as copies of their targets" in result.stderr.decode()
    out = tmp_path / "out"
    out.mkdir()
    extraction = extract(archive, out)
    assert (out / "pkg" / "setup.py").read_bytes() == MALICIOUS and not (
        out / "pkg" / "setup.py"
    ).is_symlink()
    assert not (out / "pkg" / "gone.py").exists()
    assert (extraction.links_copied.count, extraction.links_left_out.count) == (1, 1)
    assert extraction.links_copied.examples == [f"pkg/setup.py -> {target_name}"]
    assert extraction.links_left_out.examples == ["pkg/gone.py -> ../../x.py"]


def test_links_are_followed_by_name_forwards_through_chains_and_never_round_a_loop(tmp_path: Path) -> None:
    """Installers resolve a symbolic link once everything is unpacked: it may name a later member
    or another link. A loop or a chain past the hop limit is left out, never a crash."""
    chain = [special(f"p/hop{i}", tarfile.SYMTYPE, f"hop{i + 1}") for i in range(45)]
    members: list[tarfile.TarInfo | tuple[str, bytes]] = [
        special("p/setup.py", tarfile.SYMTYPE, "docs/notes.txt"),  # before its target
        special("p/again.py", tarfile.SYMTYPE, "setup.py"),  # a link to a link
        special("p/loop_a.py", tarfile.SYMTYPE, "loop_b.py"),
        special("p/loop_b.py", tarfile.SYMTYPE, "./loop_a.py"),
        special("p/up.py", tarfile.SYMTYPE, "../p/docs/notes.txt"),
        special("p/escape.py", tarfile.SYMTYPE, "../../etc/passwd"),
        special("p/folder.py", tarfile.SYMTYPE, "docs"),
        *chain,
        ("p/hop45", b"x = 1\n"),
        ("p/docs/notes.txt", MALICIOUS),
    ]
    archive = tmp_path / "links.tar"
    archive.write_bytes(tar_bytes(members, mode="w"))
    out = tmp_path / "out"
    out.mkdir()
    extraction = extract(archive, out)
    for copied in ("setup.py", "again.py", "up.py"):
        assert (out / "p" / copied).read_bytes() == MALICIOUS, copied
    left_out = {"loop_a.py", "loop_b.py", "escape.py", "folder.py", "hop0", "hop1", "hop2", "hop3", "hop4"}
    assert not any((out / "p" / name).exists() for name in left_out)
    assert (out / "p" / "hop5").read_bytes() == b"x = 1\n", "40 hops are followed"
    assert not any(p.is_symlink() for p in out.rglob("*"))
    assert (extraction.links_copied.count, extraction.links_left_out.count) == (3 + 40, 4 + 5)
    assert all((out / "p" / f"hop{i}").read_bytes() == b"x = 1\n" for i in range(5, 45)), "the 40 copied hops"
    assert extraction.links_copied.examples == [
        "p/setup.py -> docs/notes.txt",
        "p/again.py -> setup.py",
        "p/up.py -> ../p/docs/notes.txt",
    ]
    assert extraction.links_left_out.examples == [
        "p/loop_a.py -> loop_b.py",
        "p/loop_b.py -> ./loop_a.py",
        "p/escape.py -> ../../etc/passwd",
    ]


def test_a_zip_link_entry_is_written_as_the_file_installers_write(tmp_path: Path) -> None:
    """pip and zipfile ignore a zip entry's link bits and write its data as a regular file: the scan
    reads that data, whatever it holds."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as zipped:
        info = zipfile.ZipInfo("pkg/evil.py")
        info.external_attr = (stat.S_IFLNK | 0o777) << 16
        zipped.writestr(info, MALICIOUS)
    archive = tmp_path / "linked.whl"
    archive.write_bytes(buffer.getvalue())
    out = tmp_path / "out"
    out.mkdir()
    extract(archive, out)
    assert (out / "pkg" / "evil.py").read_bytes() == MALICIOUS and not (out / "pkg" / "evil.py").is_symlink()
    assert run_malwi("scan", str(archive), "--no-cache").returncode == 1


def test_many_links_are_tallied_not_listed(tmp_path: Path) -> None:
    members: list[tarfile.TarInfo | tuple[str, bytes]] = [
        special(f"l{i}", tarfile.SYMTYPE, "/etc/\x1b[2J" + "x" * 500) for i in range(1000)
    ]
    archive = tmp_path / "links.tar"
    archive.write_bytes(tar_bytes(members, mode="w"))
    out = tmp_path / "out"
    out.mkdir()
    notes = extract(archive, out).notes
    assert len(notes) == 1 and "1000 link(s) not unpacked" in notes[0] and "(997 more)" in notes[0]
    assert "\x1b" not in notes[0] and len(notes[0]) < 600, "targets are escaped and shortened"


@pytest.mark.parametrize("order", ["malicious-last", "malicious-first"])
def test_members_sharing_a_name_are_all_scanned(order: str, tmp_path: Path) -> None:
    """An installer lets the later member win; the scanner keeps both, so neither order hides a payload."""
    versions = [("pkg/setup.py", BENIGN), ("pkg/setup.py", MALICIOUS)]
    archive = tmp_path / "twice.tar.gz"
    archive.write_bytes(tar_bytes(versions if order == "malicious-last" else versions[::-1]))
    result = run_malwi("scan", str(archive), "--no-cache", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert (
        "two members are named pkg/setup.py: the later one is scanned as pkg/setup~2.py"
        in result.stderr.decode()
    )
    assert any("pkg/setup~2.py" in w for w in document["warnings"])
    flagged = "pkg/setup~2.py" if order == "malicious-last" else "pkg/setup.py"
    assert f"{archive}/{flagged}" in [f["path"] for f in document["files"]], (
        "the malicious copy is the one judged"
    )


def test_renamed_duplicates_never_overwrite_a_member(tmp_path: Path) -> None:
    members = [
        ("a/x.py", b"one = 1\n"),
        ("a/x.py", b"two = 2\n"),
        ("a/x~2.py", b"real = 3\n"),
        ("a/x.py", b"three = 3\n"),
        ("a/LICENSE", b"l"),
        ("a/LICENSE", b"m"),
    ]
    archive = tmp_path / "dup.tar"
    archive.write_bytes(tar_bytes(members, mode="w"))
    target = tmp_path / "out"
    target.mkdir()
    extraction = extract(archive, target)
    written = {p.name: p.read_bytes() for p in (target / "a").iterdir()}
    assert sorted(written.values()) == sorted(data for _, data in members), (
        "every member is kept, none overwritten"
    )
    assert written["x.py"] == b"one = 1\n" and written["LICENSE"] == b"l" and written["LICENSE~2"] == b"m"
    assert [str(new) for _, new in extraction.renamed] == [
        "a/x~2.py",
        "a/x~2~2.py",
        "a/x~3.py",
        "a/LICENSE~2",
    ]
    assert any("two members are named a/x.py" in note for note in extraction.notes)


def test_many_members_sharing_a_name_cost_one_open_each(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A hostile archive of thousands of `a.py` must not make each one probe every earlier copy."""
    archive = tmp_path / "same.tar"
    archive.write_bytes(tar_bytes([("a.py", b"x = 1\n")] * 300, mode="w"))
    opened: list[str] = []
    real_open = os.open

    def counting_open(path: str, *rest: int) -> int:
        opened.append(os.fspath(path))
        return real_open(path, *rest)

    monkeypatch.setattr("malwi.sources.archive.os.open", counting_open)
    target = tmp_path / "out"
    target.mkdir()
    extraction = extract(archive, target)
    assert extraction.files == 300 and len(list(target.iterdir())) == 300
    assert {p.name for p in target.iterdir()} == {"a.py"} | {f"a~{i}.py" for i in range(2, 301)}
    assert len(opened) <= 2 * 300, "each copy tries its own name, then one free sibling name"


def test_sibling_names_stay_within_the_filesystem_limit(tmp_path: Path) -> None:
    long_name = "a" * 250 + ".py"
    archive = tmp_path / "long.tar"
    archive.write_bytes(tar_bytes([(long_name, b"x = 1\n"), (long_name, b"y = 2\n")], mode="w"))
    out = tmp_path / "out"
    out.mkdir()
    extraction = extract(archive, out)
    names = {p.name for p in out.iterdir()}
    renamed = extraction.renamed[0][1].name
    assert names == {long_name, renamed} and renamed.endswith("~2.py") and len(renamed.encode()) == 255


def test_limits_are_configurable(tmp_path: Path) -> None:
    archive = tmp_path / "three.zip"
    archive.write_bytes(zip_bytes([(f"p/{i}.py", BENIGN) for i in range(3)]))
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    with pytest.raises(ArchiveError, match="more than 2 files"):
        extract(archive, tmp_path / "a", ExtractionLimits(max_files=2))
    with pytest.raises(ArchiveError, match="limit on total size"):
        extract(archive, tmp_path / "b", ExtractionLimits(max_total_bytes=100))
    result = run_malwi("scan", str(archive), "--no-cache", "--max-archive-files", "2")
    assert result.returncode == 2 and b"more than 2 files" in result.stderr


@pytest.mark.parametrize("suffix", [".tar.gz", ".tgz", ".tar.bz2", ".tar", ".zip", ".whl", ".egg"])
def test_archives_are_scanned_like_folders(suffix: str, tmp_path: Path) -> None:
    members = [("demo-1.0/setup.py", MALICIOUS), ("demo-1.0/demo/__init__.py", BENIGN)]
    if suffix in (".zip", ".whl", ".egg"):
        data = zip_bytes(members)
    else:
        data = tar_bytes(
            members, mode={".tar.gz": "w:gz", ".tgz": "w:gz", ".tar.bz2": "w:bz2", ".tar": "w"}[suffix]
        )
    archive = tmp_path / f"demo-1.0{suffix}"
    archive.write_bytes(data)
    result = run_malwi("scan", str(archive), "--no-cache", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    paths = [f["path"] for f in document["files"]]
    assert f"{archive}/demo-1.0/setup.py" in paths, paths
    assert document["file_info"]["sha256"] == hashlib.sha256(data).hexdigest()
    assert document["file_info"]["file_type"] == "archive" and 0 <= document["file_info"]["entropy"] <= 8


# --- registries ---------------------------------------------------------------------------------


def sdist(name: str = "demo", version: str = "1.0", body: bytes = BENIGN) -> bytes:
    return tar_bytes(
        [(f"{name}-{version}/{name}/__init__.py", body), (f"{name}-{version}/PKG-INFO", b"Name: demo\n")]
    )


def serve_pypi(
    name: str,
    version: str,
    data: bytes,
    digest: str | None = None,
    latest: bool = True,
    versioned: bool = True,
) -> None:
    filename = f"{name}-{version}.tar.gz"
    metadata = {
        "info": {"name": name, "version": version},
        "urls": [
            {
                "packagetype": "sdist",
                "filename": filename,
                "url": f"../../../files/{filename}",
                "size": len(data),
                "digests": {"sha256": digest or hashlib.sha256(data).hexdigest()},
            }
        ],
    }
    body = json.dumps(metadata).encode()
    if versioned:
        FakeRegistry.routes[f"/pypi/{name}/{version}/json"] = (200, body)
    if latest:
        project = dict(metadata, releases={version: metadata["urls"], "0.0.1": []})
        FakeRegistry.routes[f"/pypi/{name}/json"] = (200, json.dumps(project).encode())
    FakeRegistry.routes[f"/files/{filename}"] = (200, data)


def serve_npm(name: str, version: str, data: bytes) -> str:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    tarball = f"/tarballs/{name}-{version}.tgz"
    metadata = {
        "dist-tags": {"latest": version},
        "versions": {version: {"dist": {"tarball": tarball, "integrity": integrity}}},
    }
    FakeRegistry.routes[f"/npm/{name}"] = (200, json.dumps(metadata).encode())
    FakeRegistry.routes[tarball] = (200, data)
    return integrity


def test_pypi_download_scan_and_keep(registry_server: str, tmp_path: Path) -> None:
    release = sdist()
    serve_pypi("demo", "1.0", release)
    keep = tmp_path / "kept"
    result = run_malwi("pypi", "demo", "--no-cache", "--keep", str(keep), "--format", "json")
    assert result.returncode == 0, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["verdict"] == "good" and document["label"] == "demo==1.0"
    assert document["source"]["ecosystem"] == "pypi" and document["source"]["digest"].startswith("sha256:")
    assert (keep / "demo-1.0.tar.gz").read_bytes() == release
    assert "/pypi/demo/json" in FakeRegistry.requests


def test_pypi_version_from_the_project_document_when_a_mirror_lacks_version_pages(
    registry_server: str,
) -> None:
    serve_pypi("demo", "1.0", sdist(), versioned=False)
    result = run_malwi("pypi", "demo", "1.0", "--no-cache", "--quiet")
    assert result.returncode == 0 and result.stdout.startswith(b"=> good"), result.stderr
    assert FakeRegistry.requests[:2] == ["/pypi/demo/1.0/json", "/pypi/demo/json"]
    missing = run_malwi("pypi", "demo", "2.0", "--no-cache")
    assert missing.returncode == 2 and b"demo 2.0 is not on PyPI" in missing.stderr


def test_pypi_malicious_release_exits_1(registry_server: str) -> None:
    serve_pypi("evil", "0.1", sdist("evil", "0.1", MALICIOUS))
    result = run_malwi("pypi", "evil", "0.1", "--no-cache")
    assert result.returncode == 1, result.stderr
    assert b"evil-0.1/evil/__init__.py" in result.stdout and b"=> malicious" in result.stdout


@pytest.mark.parametrize(
    ("setup", "args", "message"),
    [
        ("none", ["pypi", "absent"], "absent is not on PyPI"),
        ("none", ["pypi", "absent", "1.0"], "absent 1.0 is not on PyPI"),
        ("digest", ["pypi", "demo"], "does not match the registry's sha256 digest"),
        ("network", ["pypi", "demo"], "network error"),
        ("hostile", ["pypi", "demo"], "path escapes the archive"),
        ("none", ["npm", "left-pad"], "left-pad is not on npm"),
        ("npm-tampered", ["npm", "left-pad"], "does not match the registry's sha512 digest"),
        ("npm-version", ["npm", "left-pad", "9.9.9"], "left-pad@9.9.9: no such version on npm"),
    ],
)
def test_registry_failures_exit_2_with_one_line(
    registry_server: str, setup: str, args: list[str], message: str, tmp_path: Path
) -> None:
    if setup == "digest":
        serve_pypi("demo", "1.0", sdist(), digest="0" * 64)
    elif setup == "network":
        serve_pypi("demo", "1.0", sdist())
        FakeRegistry.routes["/files/demo-1.0.tar.gz"] = (0, b"")
    elif setup == "hostile":
        serve_pypi("demo", "1.0", tar_bytes([("demo-1.0/ok.py", BENIGN), ("../escape.py", b"x = 1\n")]))
    elif setup == "npm-tampered":
        serve_npm("left-pad", "1.3.0", sdist())
        FakeRegistry.routes["/tarballs/left-pad-1.3.0.tgz"] = (200, sdist() + b"tampered")
    elif setup == "npm-version":
        serve_npm("left-pad", "1.3.0", sdist())
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    result = run_malwi(*args, "--no-cache", env={"TMPDIR": str(scratch)})
    stderr = result.stderr.decode()
    assert result.returncode == 2, stderr
    assert message in stderr and len(stderr.strip().splitlines()) == 1, stderr
    assert list(scratch.iterdir()) == []


def test_npm_release_by_integrity(registry_server: str) -> None:
    package = tar_bytes(
        [
            ("package/index.js", b"module.exports = (s, n) => s.padStart(n);\n"),
            ("package/package.json", b"{}"),
        ]
    )
    serve_npm("left-pad", "1.3.0", package)
    result = run_malwi("npm", "left-pad", "--no-cache", "--format", "sarif")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["version"] == "2.1.0"


# --- dependency files ---------------------------------------------------------------------------


def test_requirements_parsing(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("six==1.16.0\n")
    (tmp_path / "requirements.txt").write_text(
        "# pinned and not\n-r base.txt\nrequests==2.32.3 \\\n    --hash=sha256:abc\nDjango[argon2] == 4.2.1 ; python_version >= '3.8'\n"
        "flask>=2\nnumpy\n-e .\ngit+https://example.org/x.git\npkg @ https://example.org/p.whl\n--index-url https://pypi.org/simple\n"
        "six==1.16.0\nfoo==1.*\n-r requirements.txt\n"
    )
    found = parse_requirements(tmp_path / "requirements.txt")
    assert [d.label for d in found.pinned] == ["six==1.16.0", "requests==2.32.3", "Django==4.2.1"]
    reasons = {u.requirement: u.reason for u in found.unresolved}
    assert reasons["flask>=2"].startswith("not pinned") and reasons["numpy"] == "no version given"
    assert "editable" in reasons["-e ."] and "URL" in reasons["git+https://example.org/x.git"]
    assert "foo==1.*" in reasons and "pkg @ https://example.org/p.whl" in reasons
    assert found.unresolved[0].origin.endswith("requirements.txt:6")


def test_npm_dependency_files(tmp_path: Path) -> None:
    (tmp_path / "package.json").write_text(
        json.dumps(
            {
                "dependencies": {"left-pad": "1.3.0", "lodash": "^4.17.21", "alias": "npm:real@2.0.0"},
                "devDependencies": {"x": "git+https://e/x"},
            }
        )
    )
    found = parse_package_json(tmp_path / "package.json")
    assert [d.label for d in found.pinned] == ["left-pad@1.3.0", "real@2.0.0"]
    assert sorted(u.requirement for u in found.unresolved) == ["lodash@^4.17.21", "x@git+https://e/x"]
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            "node_modules/a": {
                "version": "1.0.0",
                "resolved": "https://r/a-1.0.0.tgz",
                "integrity": "sha512-x",
            },
            "node_modules/a/node_modules/b": {"version": "2.0.0"},
            "node_modules/local": {"link": True},
            "node_modules/g": {"version": "git+ssh://git@github.com/x/g.git#abc"},
            "packages/workspace": {"version": "0.0.1"},
        },
    }
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    found = parse_package_lock(tmp_path / "package-lock.json")
    assert [(d.label, d.resolved) for d in found.pinned] == [
        ("a@1.0.0", "https://r/a-1.0.0.tgz"),
        ("b@2.0.0", ""),
    ]
    assert len(found.unresolved) == 2
    assert [(u.requirement, u.reason) for u in found.unresolved] == [
        ("local", "linked local folder: scanned with the project, not fetched"),
        ("g@git+ssh://git@github.com/x/g.git#abc", "not a registry version (git, URL or missing)"),
    ]
    legacy = {
        "lockfileVersion": 1,
        "dependencies": {"a": {"version": "1.0.0", "dependencies": {"b": {"version": "2.0.0"}}}},
    }
    (tmp_path / "v1" / "package-lock.json").parent.mkdir()
    (tmp_path / "v1" / "package-lock.json").write_text(json.dumps(legacy))
    assert [d.label for d in parse_package_lock(tmp_path / "v1" / "package-lock.json").pinned] == [
        "a@1.0.0",
        "b@2.0.0",
    ]


def test_requirements_scan_is_a_batch(registry_server: str, tmp_path: Path) -> None:
    serve_pypi("demo", "1.0", sdist())
    serve_pypi("evil", "0.1", sdist("evil", "0.1", MALICIOUS))
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo==1.0\nevil==0.1\nflask>=2\nmissing==3.0\n")
    result = run_malwi("scan", "--requirements", str(requirements), "--no-cache", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    assert document["analysis_type"] == "batch" and document["verdict"] == "malicious"
    verdicts = {p["label"]: p["verdict"] for p in document["results"]["packages"]}
    assert verdicts == {"demo==1.0": "good", "evil==0.1": "malicious"}
    assert [u["requirement"] for u in document["results"]["unresolved"]] == ["flask>=2"]
    assert [f["package"] for f in document["results"]["failed"]] == ["missing==3.0"]
    assert b"flask>=2" in result.stderr and b"missing==3.0 not scanned" in result.stderr
    text = run_malwi("scan", "-r", str(requirements), "--no-cache")
    assert b"=> malicious: 1 of 2 packages malicious (evil==0.1); 2 not scanned" in text.stdout


def test_clean_requirements_with_a_failed_download_exits_2(registry_server: str, tmp_path: Path) -> None:
    serve_pypi("demo", "1.0", sdist())
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("demo==1.0\n")
    assert run_malwi("scan", "-r", str(requirements), "--no-cache").returncode == 0
    requirements.write_text("demo==1.0\nmissing==3.0\n")
    assert run_malwi("scan", "-r", str(requirements), "--no-cache").returncode == 2


def test_lockfile_uses_its_own_resolved_url_and_integrity(registry_server: str, tmp_path: Path) -> None:
    package = tar_bytes([("package/index.js", b"module.exports = 1;\n")])
    integrity = serve_npm("tiny", "1.0.0", package)
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "": {"name": "app"},
            "node_modules/tiny": {
                "version": "1.0.0",
                "resolved": registry_server + "/tarballs/tiny-1.0.0.tgz",
                "integrity": integrity,
            },
        },
    }
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    result = run_malwi("scan", "--lockfile", str(tmp_path / "package-lock.json"), "--no-cache")
    assert result.returncode == 0, result.stderr
    assert b"tiny@1.0.0: good" in result.stdout
    assert "/npm/tiny" not in FakeRegistry.requests, "the lockfile's URL and integrity suffice"
    lock["packages"]["node_modules/tiny"]["integrity"] = "sha512-" + base64.b64encode(b"x" * 64).decode()
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    result = run_malwi("scan", "--lockfile", str(tmp_path / "package-lock.json"), "--no-cache")
    assert result.returncode == 2 and b"does not match" in result.stderr


@pytest.mark.skipif(
    not os.environ.get("MALWI_TEST_REAL_REGISTRIES"),
    reason="opt-in: set MALWI_TEST_REAL_REGISTRIES=1 to hit pypi.org and npmjs.org",
)
@pytest.mark.parametrize("args", [["pypi", "requests"], ["npm", "left-pad"]])
def test_real_registries_say_good(args: list[str]) -> None:
    started = time.perf_counter()
    result = run_malwi(*args, "--no-cache", timeout=300)
    assert result.returncode == 0, result.stderr
    assert b"=> good" in result.stdout, result.stdout
    assert time.perf_counter() - started < 300


# --- regressions found in review ----------------------------------------------------------------


def test_every_part_of_a_multi_part_gzip_is_scanned(tmp_path: Path) -> None:
    import gzip

    header = tarfile.TarInfo("p/ok.py")
    header.size = len(BENIGN)
    padding = b"\0" * (-len(BENIGN) % 512)
    first = header.tobuf() + BENIGN + padding  # one member, no end-of-archive blocks
    second = tar_bytes([("p/setup.py", MALICIOUS)], mode="w")
    archive = tmp_path / "multi.tar.gz"
    archive.write_bytes(gzip.compress(first) + gzip.compress(second))
    result = run_malwi("scan", str(archive), "--no-cache", "--format", "json")
    document = json.loads(result.stdout)
    assert result.returncode == 1 and document["statistics"]["scanned"] == 2, result.stderr
    # The two are the first part's p/ok.py and the second part's p/setup.py, which is flagged.
    assert f"{archive}/p/setup.py" in [f["path"] for f in document["files"]]
    out = tmp_path / "out"
    out.mkdir()
    extract(archive, out)
    assert {p.name: p.read_bytes() for p in (out / "p").iterdir()} == {"ok.py": BENIGN, "setup.py": MALICIOUS}


def test_a_tar_with_a_zip_appended_is_refused(tmp_path: Path) -> None:
    archive = tmp_path / "poly-1.0.tar.gz"
    archive.write_bytes(tar_bytes([("p/ok.py", BENIGN)]) + zip_bytes([("evil-1.0/setup.py", MALICIOUS)]))
    result = run_malwi("scan", str(archive), "--no-cache")
    assert result.returncode == 2 and b"both a tar and a zip archive (a polyglot)" in result.stderr


def test_encrypted_or_corrupt_zip_members_are_one_line_errors(tmp_path: Path) -> None:
    data = bytearray(zip_bytes([("p/a.py", BENIGN * 50)]))
    encrypted = tmp_path / "encrypted.zip"
    flagged = bytearray(data)
    flagged[6] |= 0x01  # general-purpose flag bit 0: encrypted (local header)
    central = flagged.rfind(b"PK\x01\x02")
    flagged[central + 8] |= 0x01  # and in the central directory
    encrypted.write_bytes(bytes(flagged))
    corrupt = tmp_path / "corrupt.zip"
    start = data.find(b"p/a.py") + len("p/a.py")
    data[start : start + 8] = b"\xff" * 8  # garbage where the deflate stream starts
    corrupt.write_bytes(bytes(data))
    for archive, message in ((encrypted, b"encrypted"), (corrupt, b"not a readable zip archive")):
        result = run_malwi("scan", str(archive), "--no-cache")
        assert (
            result.returncode == 2 and message in result.stderr and b"internal error" not in result.stderr
        ), result.stderr


def test_a_lockfile_url_without_integrity_is_fetched_from_that_url(
    registry_server: str, tmp_path: Path
) -> None:
    evil = tar_bytes(
        [("package/index.js", (ROOT / "examples" / "malicious-javascript" / "index.js").read_bytes())]
    )
    serve_npm("a", "1.0.0", tar_bytes([("package/index.js", b"module.exports = 1;\n")]))
    FakeRegistry.routes["/elsewhere/evil.tgz"] = (200, evil)
    lock = {
        "lockfileVersion": 3,
        "packages": {
            "node_modules/a": {"version": "1.0.0", "resolved": registry_server + "/elsewhere/evil.tgz"}
        },
    }
    (tmp_path / "package-lock.json").write_text(json.dumps(lock))
    result = run_malwi(
        "scan", "--lockfile", str(tmp_path / "package-lock.json"), "--no-cache", "--format", "json"
    )
    document = json.loads(result.stdout)
    assert result.returncode == 1 and document["verdict"] == "malicious", result.stderr
    assert "/elsewhere/evil.tgz" in FakeRegistry.requests and "/npm/a" not in FakeRegistry.requests
    assert document["results"]["packages"][0]["source"]["verified"] is False
    assert b"without a digest check" in result.stderr


@pytest.mark.parametrize(
    ("route", "message"),
    [
        ((200, b'{"info": '), "did not answer with JSON"),
        ((200, b"[1, 2]"), "not an object"),
        (
            (
                200,
                json.dumps(
                    {"info": {"version": "1.0"}, "urls": [{"packagetype": "sdist", "size": "12kB"}]}
                ).encode(),
            ),
            "unexpected registry metadata",
        ),
    ],
)
def test_broken_registry_answers_are_one_line_errors(
    registry_server: str, route: tuple[int, bytes], message: str
) -> None:
    FakeRegistry.routes["/pypi/demo/json"] = route
    result = run_malwi("pypi", "demo", "--no-cache")
    stderr = result.stderr.decode()
    assert result.returncode == 2 and message in stderr and "internal error" not in stderr, stderr


def test_requirements_index_options_are_reported(registry_server: str, tmp_path: Path) -> None:
    serve_pypi("demo", "1.0", sdist())
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("--index-url https://internal.example/simple\ndemo==1.0\n")
    result = run_malwi("scan", "-r", str(requirements), "--no-cache")
    assert (
        result.returncode == 0 and b"--index-url https://internal.example/simple is not used" in result.stderr
    )


@pytest.mark.parametrize(
    ("flag", "value"),
    [("--max-archive-ratio", "nan"), ("--max-archive-ratio", "-5"), ("--max-archive-files", "0")],
)
def test_archive_limits_must_make_sense(flag: str, value: str) -> None:
    result = run_malwi("scan", str(ROOT / "examples"), flag, value)
    assert result.returncode == 2 and result.stderr.startswith(b"malwi: error: argument " + flag.encode())


def test_since_scans_only_the_pins_that_are_new_or_changed(registry_server: str, tmp_path: Path) -> None:
    """`--since OLD_LOCK`: the old lock's pins were reviewed; a new package and a version bump
    are scanned, an unchanged pin is not, and a pin that keeps its version but moves its
    integrity (another tarball) counts as changed."""
    benign = tar_bytes([("package/index.js", b"module.exports = 1;\n")])
    evil = tar_bytes([("package/index.js", (EXAMPLES / "malicious-javascript" / "index.js").read_bytes())])
    entries = {}
    for name, version, data in (
        ("kept", "1.0.0", benign),
        ("bumped", "1.0.0", benign),
        ("bumped", "1.1.0", evil),
    ):
        integrity = serve_npm(name, version, data)
        entries[name, version] = {
            "version": version,
            "resolved": f"{registry_server}/tarballs/{name}-{version}.tgz",
            "integrity": integrity,
        }

    def lock(path: Path, pins: dict[str, dict[str, str]]) -> Path:
        packages = {"": {"name": "app"}, **{f"node_modules/{name}": entry for name, entry in pins.items()}}
        path.mkdir(exist_ok=True)
        (path / "package-lock.json").write_text(json.dumps({"lockfileVersion": 3, "packages": packages}))
        return path / "package-lock.json"

    old = lock(tmp_path / "old", {"kept": entries["kept", "1.0.0"], "bumped": entries["bumped", "1.0.0"]})
    new = lock(tmp_path / "new", {"kept": entries["kept", "1.0.0"], "bumped": entries["bumped", "1.1.0"]})
    result = run_malwi("scan", "--lockfile", str(new), "--since", str(old), "--format", "json", "--no-cache")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    assert [r["label"] for r in document["results"]["packages"]] == ["bumped@1.1.0"]
    assert document["results"]["unchanged"] == ["kept@1.0.0"] and document["results"]["since"] == [str(old)]
    assert "/tarballs/kept-1.0.0.tgz" not in FakeRegistry.requests
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())

    moved = dict(entries["kept", "1.0.0"], integrity="sha512-" + base64.b64encode(b"y" * 64).decode())
    again = lock(tmp_path / "again", {"kept": moved, "bumped": entries["bumped", "1.0.0"]})
    result = run_malwi("scan", "--lockfile", str(again), "--since", str(old), "--no-cache")
    assert b"kept@1.0.0: not scanned" in result.stdout and b"does not match" in result.stdout + result.stderr
    text = run_malwi("scan", "--lockfile", str(new), "--since", str(old)).stdout.decode()
    assert f"1 unchanged since {old}, not scanned again: kept@1.0.0" in text
    assert run_malwi("scan", str(tmp_path), "--since", str(old)).returncode == 2
