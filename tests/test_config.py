"""`[tool.malwi]` in pyproject.toml: lookup, every key, every kind of bad value."""

from __future__ import annotations

from pathlib import Path

import pytest

from malwi.config import (
    ProjectConfig,
    find_project_config,
    load_project_config,
    merge,
    parse_size,
)
from malwi.errors import ConfigError


def write(path: Path, text: str) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def config_of(tmp_path: Path, table: str) -> ProjectConfig:
    write(tmp_path / "pyproject.toml", "[tool.malwi]\n" + table)
    return find_project_config(tmp_path)


def error_of(tmp_path: Path, table: str) -> str:
    with pytest.raises(ConfigError) as caught:
        config_of(tmp_path, table)
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith(f"{tmp_path / 'pyproject.toml'}: ")
    return message


def test_found_upward_from_a_nested_directory_and_from_a_file(tmp_path: Path) -> None:
    pyproject = write(
        tmp_path / "pyproject.toml", "[project]\nname = 'x'\n\n[tool.malwi]\nthreshold = 0.25\n"
    )
    nested = tmp_path / "src" / "pkg" / "deep"
    nested.mkdir(parents=True)
    config = find_project_config(nested)
    assert config.path == pyproject.resolve()
    assert config.base == tmp_path.resolve()
    assert config.values == {"threshold": 0.25}
    source = write(nested / "mod.py", "x = 1\n")
    assert find_project_config(source).path == pyproject.resolve()
    assert find_project_config(str(nested)).values == {"threshold": 0.25}


def test_pyproject_without_the_table_is_skipped_over(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", "[tool.malwi]\nquiet = true\n")
    # The package's own pyproject.toml configures other tools (and mentions malwi in passing).
    write(
        tmp_path / "pkg" / "pyproject.toml",
        "[project]\nname = 'malwi-plugin'\n\n[tool.ruff]\nline-length = 99\n",
    )
    config = find_project_config(tmp_path / "pkg")
    assert config.path == outer.resolve()
    assert config.values == {"quiet": True}


def test_the_nearest_table_wins_without_merging(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.malwi]\nquiet = true\nworkers = 3\n")
    inner = write(tmp_path / "pkg" / "pyproject.toml", "[tool.malwi]\nworkers = 2\n")
    config = find_project_config(tmp_path / "pkg")
    assert config.path == inner.resolve()
    assert config.values == {"workers": 2}


def test_nothing_found_is_an_empty_config(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[project]\nname = 'x'\n")
    config = find_project_config(tmp_path)
    assert config.path is None and config.base is None
    assert config.values == {}
    assert load_project_config(tmp_path / "pyproject.toml").path is None


def test_unrelated_broken_pyproject_does_not_stop_the_lookup(tmp_path: Path) -> None:
    outer = write(tmp_path / "pyproject.toml", "[tool.malwi]\ncache = false\n")
    write(tmp_path / "pkg" / "pyproject.toml", "[project\nname = \n")
    assert find_project_config(tmp_path / "pkg").path == outer.resolve()


def test_every_key_parsed(tmp_path: Path) -> None:
    config = config_of(
        tmp_path,
        """
threshold = 1
extensions = ["py", ".js"]
max-file-size = "10MB"
workers = 0
device = "cuda"
format = "sarif"
exclude = ["tests/fixtures/", "*.min.js", "!keep.min.js"]
cache = false
model = "models/mine"
quiet = true
""",
    )
    assert config.values == {
        "threshold": 1.0,
        "extensions": ["py", ".js"],
        "max_file_size": 10 * 1024 * 1024,
        "workers": 0,
        "device": "cuda",
        "format": "sarif",
        "exclude": ["tests/fixtures/", "*.min.js", "!keep.min.js"],
        "cache": False,
        "model": str(tmp_path.resolve() / "models" / "mine"),
        "quiet": True,
    }
    assert isinstance(config.values["threshold"], float)
    assert "ProjectConfig(path=" in repr(config)


@pytest.mark.parametrize(
    ("text", "size"),
    [
        ("1234", 1234),
        ("512B", 512),
        ("512KB", 512 * 1024),
        ("512 kb", 512 * 1024),
        ("10M", 10 * 1024**2),
        ("10MiB", 10 * 1024**2),
        ("1.5GB", int(1.5 * 1024**3)),
        ("2g", 2 * 1024**3),
    ],
)
def test_size_strings(text: str, size: int) -> None:
    assert parse_size(text) == size


@pytest.mark.parametrize(
    "bad", ["", "MB", "ten MB", "10 parsecs", "-1MB", "0", "0.1b", "inf", "nan", 0, -5, 1.5, True]
)
def test_bad_sizes(bad: object) -> None:
    with pytest.raises(ValueError):
        parse_size(bad)


def test_max_file_size_as_bytes(tmp_path: Path) -> None:
    assert config_of(tmp_path, "max-file-size = 5000000\n").values == {"max_file_size": 5_000_000}


def test_relative_model_path_resolved_against_the_pyproject_directory(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool.malwi]\nmodel = '../shared/./model'\n")
    (tmp_path / "sub").mkdir()
    config = find_project_config(tmp_path / "sub")
    assert config.values["model"] == str(tmp_path.resolve().parent / "shared" / "model")
    absolute = str(tmp_path / "elsewhere")
    assert config_of(tmp_path, f"model = {absolute!r}\n").values["model"] == absolute


@pytest.mark.parametrize(
    ("table", "message"),
    [
        ("threshold = 'high'", "[tool.malwi] threshold must be a number between 0 and 1, got 'high'"),
        ("threshold = 1.5", "[tool.malwi] threshold must be a number between 0 and 1, got 1.5"),
        ("threshold = true", "[tool.malwi] threshold must be a number between 0 and 1, got True"),
        (
            "extensions = 'py'",
            "[tool.malwi] extensions must be a list of file extensions (non-empty strings), got 'py'",
        ),
        ("extensions = ['py', 3]", "[tool.malwi] extensions must be a list of file extensions"),
        (
            "max-file-size = '10 parsecs'",
            "[tool.malwi] max-file-size must be a positive number of bytes or a size such as '10MB', got '10 parsecs'",
        ),
        ("max-file-size = 0", "[tool.malwi] max-file-size must be a positive number of bytes"),
        ("max-file-size = 1.5", "[tool.malwi] max-file-size must be a positive number of bytes"),
        ("workers = -1", "[tool.malwi] workers must be a whole number, 0 (all cores) or more, got -1"),
        ("workers = 2.5", "[tool.malwi] workers must be a whole number"),
        ("workers = false", "[tool.malwi] workers must be a whole number"),
        ("device = 'tpu'", "[tool.malwi] device must be one of 'auto', 'cpu', 'cuda', got 'tpu'"),
        (
            "format = 'xml'",
            "[tool.malwi] format must be one of 'text', 'json', 'yaml', 'markdown', 'sarif', 'html', 'tokens', 'code', got 'xml'",
        ),
        (
            "exclude = 'build/'",
            "[tool.malwi] exclude must be a list of gitignore patterns (non-empty strings), got 'build/'",
        ),
        ("exclude = ['']", "[tool.malwi] exclude must be a list of gitignore patterns"),
        ("cache = 'no'", "[tool.malwi] cache must be true or false, got 'no'"),
        ("quiet = 1", "[tool.malwi] quiet must be true or false, got 1"),
        ("model = 42", "[tool.malwi] model must be a path (a non-empty string), got 42"),
        ("max_file_size = 10", "[tool.malwi] unknown key 'max_file_size'; did you mean 'max-file-size'?"),
        (
            "colour = 'red'",
            "[tool.malwi] unknown key 'colour' (known keys: threshold, extensions, max-file-size",
        ),
        ("[tool.malwi.nested]\nx = 1", "[tool.malwi] unknown key 'nested'"),
    ],
)
def test_bad_values_are_one_line_errors_naming_file_and_key(tmp_path: Path, table: str, message: str) -> None:
    assert message in error_of(tmp_path, table + "\n")


def test_tool_malwi_must_be_a_table(tmp_path: Path) -> None:
    write(tmp_path / "pyproject.toml", "[tool]\nmalwi = 3\n")
    with pytest.raises(ConfigError, match=r"\[tool.malwi\] must be a table, got 3$"):
        find_project_config(tmp_path)


def test_invalid_toml_is_a_one_line_error_with_the_parser_message(tmp_path: Path) -> None:
    pyproject = write(tmp_path / "pyproject.toml", "[tool.malwi]\nthreshold = \n")
    with pytest.raises(ConfigError) as caught:
        find_project_config(tmp_path)
    message = str(caught.value)
    assert message.startswith(f"{pyproject}: invalid TOML: ")
    assert "line 2" in message and "\n" not in message
    pyproject.write_bytes(b"[tool.malwi]\nmodel = '\xff'\n")
    with pytest.raises(ConfigError, match="invalid TOML: not UTF-8"):
        find_project_config(tmp_path)


def test_unreadable_pyproject(tmp_path: Path) -> None:
    # A folder named pyproject.toml cannot be read by anyone, root included (unlike chmod 0).
    (tmp_path / "pyproject.toml").mkdir()
    with pytest.raises(ConfigError, match="cannot read"):
        load_project_config(tmp_path / "pyproject.toml")


def test_merge_precedence() -> None:
    assert merge(0.3, 0.7, 0.5) == 0.3
    assert merge(None, 0.7, 0.5) == 0.7
    assert merge(None, None, 0.5) == 0.5
    # Falsy values given on purpose still win.
    assert merge(0, 4, 8) == 0
    assert merge(None, False, True) is False
