"""The Python API: compile_source, compile_files, discover, objects, configuration, errors."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import pytest

import malwi
from malwi import _malwi


def test_version_is_defined_once() -> None:
    cargo = (Path(__file__).parent.parent / "Cargo.toml").read_text()
    assert f'version = "{malwi.__version__}"' in cargo


def test_compile_source_returns_objects_with_everything_a_caller_needs() -> None:
    objects = malwi.compile_source(
        "import os\n\ndef run(cmd):\n    os.system(cmd)\n", "python", file_path="pkg/setup.py"
    )
    assert [o.name for o in objects] == ["<module>", "run"]
    module, run = objects
    assert module.kind == "module" and run.kind == "function"
    assert run.language == "python"
    assert run.file_path == "pkg/setup.py"
    assert run.location == (3, 4)
    assert run.source_code == "def run(cmd):\n    os.system(cmd)"
    assert run.to_token_string() == "LOAD_NAME os LOAD_ATTR PROCESS_MANAGEMENT LOAD_NAME cmd CALL 1 POP_TOP"
    assert run.tokens() == run.to_token_string().split(" ")
    assert run.token_count == len(run.tokens())
    assert len(run.to_hash()) == 64
    # The hash is the SHA-256 of the token string: equal behaviour, equal hash.
    assert run.to_hash() == hashlib.sha256(run.to_token_string().encode()).hexdigest() != module.to_hash()
    assert run.instructions()[:2] == [("LOAD_NAME", ("os",)), ("LOAD_ATTR", ("PROCESS_MANAGEMENT",))]
    assert "run" in repr(run)


def test_str_and_bytes_give_the_same_objects() -> None:
    text = "const x = require('fs').readFileSync('/etc/passwd');"
    from_str = malwi.compile_source(text, "javascript")
    from_bytes = malwi.compile_source(text.encode(), "js")
    assert [o.to_hash() for o in from_str] == [o.to_hash() for o in from_bytes]


def test_language_names() -> None:
    for name in ("python", "py", "javascript", "js", "typescript", "ts", "tsx"):
        assert malwi.compile_source("x", name)
    with pytest.raises(malwi.UnsupportedLanguageError, match="cobol"):
        malwi.compile_source("x", "cobol")


def test_typed_errors_share_one_base() -> None:
    for error in (
        malwi.UnsupportedLanguageError,
        malwi.ConfigError,
        malwi.PathError,
        malwi.ParseError,
        malwi.InternalError,
    ):
        assert issubclass(error, malwi.MalwiError)
    assert malwi.errors.MalwiError is malwi.MalwiError


def test_wrong_source_type_is_a_type_error() -> None:
    with pytest.raises(TypeError, match="str or bytes"):
        malwi.compile_source(42, "python")  # type: ignore[arg-type]


def test_featurizer_config_round_trip_and_id() -> None:
    default = malwi.FeaturizerConfig()
    assert default.version == malwi.FEATURIZER_VERSION
    assert default.methods == "separate"
    inline = malwi.FeaturizerConfig(methods="inline", disabled_string_classes=["STRING_EMAIL"])
    assert inline.featurizer_id != default.featurizer_id
    assert malwi.FeaturizerConfig.from_json(inline.to_json()) == inline
    assert json.loads(inline.to_json())["disabled_string_classes"] == ["STRING_EMAIL"]
    with pytest.raises(malwi.ConfigError):
        malwi.FeaturizerConfig(methods="sometimes")
    with pytest.raises(malwi.ConfigError):
        malwi.FeaturizerConfig(disabled_string_classes=["STRING_NONSENSE"])
    with pytest.raises(malwi.ConfigError):
        malwi.FeaturizerConfig.from_json('{"version": 0}')


def test_switching_a_string_class_off_changes_tokens() -> None:
    source = "x = 'admin@example.com'"
    on = malwi.compile_source(source, "python")[0].to_token_string()
    off = malwi.compile_source(
        source, "python", config=malwi.FeaturizerConfig(disabled_string_classes=["STRING_EMAIL"])
    )[0].to_token_string()
    assert "STRING_EMAIL" in on
    assert "STRING_EMAIL" not in off and "'admin@example.com'" in off


def test_methods_can_be_inline_or_separate() -> None:
    source = "class A:\n    def m(self):\n        return 1\n"
    separate = malwi.compile_source(source, "python")
    inline = malwi.compile_source(source, "python", config=malwi.FeaturizerConfig(methods="inline"))
    assert [o.name for o in separate] == ["<module>", "A", "A.m"]
    assert [o.name for o in inline] == ["<module>", "A"]


def test_reserved_tokens_cover_emitted_vocabulary() -> None:
    reserved = set(malwi.reserved_tokens())
    assert {"LOAD_NAME", "CALL", "PROCESS_MANAGEMENT", "STRING_URL", "STRING_SIZE_L"} <= reserved
    categories = {name for name, _ in malwi.categories()}
    assert categories <= reserved
    objects = malwi.compile_source(
        (Path(__file__).parent.parent / "examples/malicious-python/stealer.py").read_text(), "python"
    )
    for obj in objects:
        for op, _ in obj.instructions():
            assert op in reserved


def test_compile_files_reports_every_file(tmp_path: Path) -> None:
    good = tmp_path / "good.py"
    good.write_text("import os\nos.system('id')\n")
    big = tmp_path / "big.js"
    big.write_text("x = 1;\n" * 200)
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(64)))
    missing = tmp_path / "missing.py"
    reports = malwi.compile_files(
        [good, big, binary, missing], workers=2, max_file_size=1000, hard_limit=1000
    )
    assert [r.status for r in reports] == ["compiled", "skipped", "skipped", "failed"]
    assert (
        reports[0]
        .objects[0]
        .to_token_string()
        .endswith("LOAD_ATTR PROCESS_MANAGEMENT LOAD_CONST 'id' CALL 1 POP_TOP")
    )
    assert "size limit" in (reports[1].reason or "")
    assert reports[2].reason == "binary file"
    assert reports[3].objects == [] and reports[3].reason
    assert reports[0].language == "python" and reports[1].language == "javascript"


def test_failures_are_typed(tmp_path: Path) -> None:
    big = tmp_path / "big.js"
    big.write_text("x = 1;\n" * 200)
    binary = tmp_path / "binary.py"
    binary.write_bytes(b"\x7fELF\x02\x01\x01" + bytes(range(64)))
    too_large, not_text, missing = malwi.compile_files(
        [big, binary, tmp_path / "missing.py"], max_file_size=1000, hard_limit=1000
    )
    assert too_large.failure is not None
    assert (too_large.failure.kind, too_large.failure.size, too_large.failure.limit) == (
        "too_large",
        1400,
        1000,
    )
    assert (
        too_large.failure.skipped
        and too_large.status == "skipped"
        and too_large.reason == too_large.failure.message
    )
    assert (not_text.failure.kind, not_text.failure.skipped, not_text.status) == ("binary", True, "skipped")
    assert (missing.failure.kind, missing.failure.skipped, missing.status) == ("unreadable", False, "failed")
    assert malwi.compile_files([big])[0].failure is None
    # Over the size limit but under the hard limit: compiled in windows, not skipped.
    (windowed,) = malwi.compile_files([big], max_file_size=1000)
    assert windowed.failure is None and windowed.status == "compiled"
    assert windowed.warnings == [
        "larger than the size limit (0.0 MB > 0.0 MB): compiled in 2 windows of at most 0.0 MB"
    ]


def test_a_file_batch_reads_once_hashes_and_compiles_each_file_once(tmp_path: Path) -> None:
    files = []
    for name, text in [
        ("a.py", "import os\nos.system('id')\n"),
        ("b.js", "eval(x)\n"),
        ("big.py", "y = 2\n" * 500),
    ]:
        (tmp_path / name).write_text(text)
        files.append(tmp_path / name)
    batch = _malwi.read_files([*files, tmp_path / "gone.py"], max_file_size=1000, hard_limit=1000, workers=2)
    assert len(batch) == 4
    assert batch.sizes == [f.stat().st_size for f in files] + [0], "each file's size, in the order given"
    assert batch.digests[:2] == [hashlib.sha256(f.read_bytes()).hexdigest() for f in files[:2]]
    assert batch.digests[2:] == [None, None] and batch.sizes[2] == 3000, "nothing past the limit is read"
    reports = batch.compile([1, 0, 2, 3], workers=2)
    assert [Path(r.path).name for r in reports] == ["b.js", "a.py", "big.py", "gone.py"]
    assert [r.status for r in reports] == ["compiled", "compiled", "skipped", "failed"]
    assert [o.to_hash() for o in reports[1].objects] == [
        o.to_hash() for o in malwi.compile_files([files[0]])[0].objects
    ]
    with pytest.raises(ValueError, match="compiled already"):
        batch.compile([0])
    with pytest.raises(IndexError):
        batch.compile([9])


def test_archive_names_are_listed_once(tmp_path: Path) -> None:
    from malwi.sources.archive import ARCHIVE_SUFFIXES, is_archive

    assert list(ARCHIVE_SUFFIXES) == _malwi.ARCHIVE_SUFFIXES
    for suffix in (".tar.gz", ".whl", ".zip", ".gz"):
        (tmp_path / f"x{suffix}").write_bytes(b"")
        assert is_archive(tmp_path / f"x{suffix}")
    (tmp_path / "x.py").write_text("")
    assert not is_archive(tmp_path / "x.py")
    assert _malwi.archive_kind(b"PK\x03\x04rest") == "zip" and _malwi.archive_kind(b"plain text") is None


def test_compile_files_accepts_explicit_languages(tmp_path: Path) -> None:
    script = tmp_path / "tool"
    script.write_text("require('child_process').exec('id')\n")
    with pytest.raises(malwi.UnsupportedLanguageError):
        malwi.compile_files([script])
    (report,) = malwi.compile_files([(script, "javascript")])
    assert "PROCESS_MANAGEMENT" in report.objects[0].to_token_string()


def test_worker_count_does_not_change_results(examples: Path) -> None:
    files = [path for path, _ in malwi.discover([examples]).files]
    one = malwi.compile_files(files, workers=1)
    two = malwi.compile_files(files, workers=2)
    assert [[o.to_hash() for o in r.objects] for r in one] == [[o.to_hash() for o in r.objects] for r in two]


def test_discover(tmp_path: Path) -> None:
    (tmp_path / "pkg").mkdir()
    (tmp_path / "pkg" / "a.py").write_text("x = 1")
    (tmp_path / "pkg" / "b.mjs").write_text("x = 1")
    (tmp_path / "pkg" / "notes.txt").write_text("x")
    (tmp_path / "pkg" / ".git").mkdir()
    (tmp_path / "pkg" / ".git" / "hook.py").write_text("x = 1")
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "tool").write_text("#!/usr/bin/env python3\nprint(1)\n")
    found = malwi.discover([tmp_path])
    names = [(Path(path).name, language) for path, language in found.files]
    assert names == [("tool", "python"), ("a.py", "python"), ("b.mjs", "javascript")]
    assert found.skipped_by_extension == 1
    # The one skipped by extension is notes.txt: without it, nothing is (.git/ is pruned unread).
    (tmp_path / "pkg" / "notes.txt").unlink()
    assert malwi.discover([tmp_path]).skipped_by_extension == 0
    only_py = malwi.discover([tmp_path], extensions=["py"])
    assert [Path(p).name for p, _ in only_py.files] == ["a.py"]
    with pytest.raises(malwi.PathError):
        malwi.discover([tmp_path / "absent"])


def test_parse_files_counts_bytes(examples: Path) -> None:
    files = [path for path, _ in malwi.discover([examples]).files]
    assert _malwi.parse_files(files, workers=1) == sum(Path(f).stat().st_size for f in files)


def test_render_is_the_tokens_dump(examples: Path) -> None:
    reports = malwi.compile_files([examples / "malicious-python" / "loader.py"])
    text = _malwi.render(reports, "tokens").decode()
    header, tokens = text.splitlines()[:2]
    assert header.endswith("loader.py:1-4 module <module>")
    assert tokens == reports[0].objects[0].to_token_string()
    with pytest.raises(malwi.ConfigError):
        _malwi.render(reports, "xml")  # type: ignore[arg-type]
