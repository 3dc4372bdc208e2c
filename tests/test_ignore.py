""".malwiignore files and exclude patterns, seen through `malwi._malwi.discover`."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from malwi import _malwi


def tree(root: Path, files: dict[str, str]) -> Path:
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return root


def names(found: _malwi.Discovery, root: Path) -> list[str]:
    return [Path(path).relative_to(root).as_posix() for path, _ in found.files]


@pytest.fixture
def project(tmp_path: Path) -> Path:
    return tree(
        tmp_path,
        {
            ".malwiignore": "# test data\nfixtures/\n*.min.js\n",
            "setup.py": "x = 1",
            "app.min.js": "x = 1",
            "src/app.js": "x = 1",
            "src/fixtures/evil.py": "x = 1",
            "src/fixtures/evil2.py": "x = 1",
            "src/vendor/.malwiignore": "!*.min.js\n",
            "src/vendor/lib.min.js": "x = 1",
        },
    )


def test_malwiignore_is_honoured(project: Path) -> None:
    found = _malwi.discover([project])
    # Only the root's .malwiignore counts: src/vendor/.malwiignore could have come with a
    # dependency, so its `!*.min.js` does not re-include and it is reported instead.
    assert names(found, project) == ["setup.py", "src/app.js"]
    # app.min.js, src/vendor/lib.min.js and the pruned src/fixtures/ (one entry, not its two files)
    assert found.skipped_ignored == 3
    assert found.ignored_ignore_files == [str(project / "src" / "vendor" / ".malwiignore")]
    assert found.errors == []
    assert "skipped_ignored=3" in repr(found)


def test_a_dependency_cannot_hide_itself(tmp_path: Path) -> None:
    tree(
        tmp_path,
        {"app.js": "x = 1", "node_modules/evil/.malwiignore": "*\n", "node_modules/evil/index.js": "x = 1"},
    )
    found = _malwi.discover([tmp_path])
    assert names(found, tmp_path) == ["app.js", "node_modules/evil/index.js"]
    assert found.ignored_ignore_files == [str(tmp_path / "node_modules" / "evil" / ".malwiignore")]


def test_ignore_files_false_reads_no_malwiignore(project: Path) -> None:
    found = _malwi.discover([project], ignore_files=False)
    assert len(found.files) == 6
    assert names(found, project) == [
        "app.min.js",
        "setup.py",
        "src/app.js",
        "src/fixtures/evil.py",
        "src/fixtures/evil2.py",
        "src/vendor/lib.min.js",
    ]
    assert found.skipped_ignored == 0


def test_exclude_patterns_relative_to_their_base(project: Path) -> None:
    found = _malwi.discover(
        [project / "src"], exclude=["/setup.py", "/src/app.js", "vendor/"], exclude_base=project
    )
    # src/app.js and src/vendor/ are excluded; the .malwiignore above the walked directory is not
    # read (only walked directories' files count), so src/fixtures/ stays.
    assert names(found, project) == ["src/fixtures/evil.py", "src/fixtures/evil2.py"]
    assert found.skipped_ignored == 2
    # Relative to the current directory by default.
    cwd = os.getcwd()
    try:
        os.chdir(project / "src")
        found = _malwi.discover(["."], exclude=["/app.js"], ignore_files=False)
    finally:
        os.chdir(cwd)
    assert sorted(Path(p).name for p, _ in found.files) == ["evil.py", "evil2.py", "lib.min.js"]
    assert found.skipped_ignored == 1


def test_named_paths_are_never_ignored(project: Path) -> None:
    named = [project / "app.min.js", project / "src" / "fixtures"]
    found = _malwi.discover(named, exclude=["*.min.js", "fixtures/"], exclude_base=project)
    assert names(found, project) == ["app.min.js", "src/fixtures/evil.py", "src/fixtures/evil2.py"]
    assert found.skipped_ignored == 0
    # What a named directory holds is still matched.
    found = _malwi.discover(named[1:], exclude=["evil2.py"], exclude_base=project)
    assert names(found, project) == ["src/fixtures/evil.py"]
    assert found.skipped_ignored == 1


def test_bad_lines_are_reported_and_bad_exclude_raises(tmp_path: Path) -> None:
    tree(tmp_path, {".malwiignore": "*.js\n{oops\n", "a.js": "", "a.py": ""})
    found = _malwi.discover([tmp_path])
    assert names(found, tmp_path) == ["a.py"]
    [(path, message)] = found.errors
    assert Path(path) == tmp_path / ".malwiignore"
    assert message.startswith("line 2: ")
    with pytest.raises(_malwi.ConfigError, match="oops"):
        _malwi.discover([tmp_path], exclude=["{oops"])
