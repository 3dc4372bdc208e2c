"""`[tool.malwi]` in pyproject.toml: project settings under the command line's flags.

    [tool.malwi]
    threshold = 0.8
    exclude = ["tests/fixtures/", "*.min.js"]
    max-file-size = "5MB"

Keys are kebab-case, as in ruff's table. The nearest pyproject.toml *with* a `[tool.malwi]` table
wins; there is no merging of several files. Paths in the table (`exclude`, `model`) are relative
to the directory of the pyproject.toml that holds them.

Plain classes, no dataclasses: this module is imported on every scan and must stay cheap.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any, TypeVar

from malwi.errors import ConfigError

__all__ = [
    "ProjectConfig",
    "find_project_config",
    "load_project_config",
    "merge",
    "parse_size",
]

FORMATS = ("text", "json", "yaml", "markdown", "sarif", "html", "tokens", "code")
DEVICES = ("auto", "cpu", "cuda")
SIZE_UNITS = {
    "": 1,
    "b": 1,
    "k": 1024,
    "kb": 1024,
    "kib": 1024,
    "m": 1024**2,
    "mb": 1024**2,
    "mib": 1024**2,
    "g": 1024**3,
    "gb": 1024**3,
    "gib": 1024**3,
}
# TOML key -> the name in ProjectConfig.values (the command line's dest).
KEYS = {
    "threshold": "threshold",
    "extensions": "extensions",
    "max-file-size": "max_file_size",
    "workers": "workers",
    "device": "device",
    "format": "format",
    "exclude": "exclude",
    "cache": "cache",
    "model": "model",
    "quiet": "quiet",
}

T = TypeVar("T")


class ProjectConfig:
    """The `[tool.malwi]` settings in force for a directory.

    `path` is the pyproject.toml they came from, or None when no file up the tree has the table
    (then `values` is empty). `values` holds only the keys the file sets, under the command
    line's names (`max-file-size` -> `max_file_size`), validated and normalised: sizes in bytes,
    `model` an absolute path, `threshold` a float."""

    __slots__ = ("path", "values")

    def __init__(self, path: Path | None = None, values: dict[str, Any] | None = None) -> None:
        self.path = path
        self.values: dict[str, Any] = values if values is not None else {}

    @property
    def base(self) -> Path | None:
        """The directory relative paths in the table are resolved against (`exclude` patterns)."""
        return self.path.parent if self.path is not None else None

    def __repr__(self) -> str:
        return f"ProjectConfig(path={str(self.path) if self.path else None!r}, values={self.values!r})"


def merge(cli_value: T | None, config_value: T | None, default: T) -> T:
    """One setting, by precedence: the command-line flag, else `[tool.malwi]`, else the default.

    Meant for argparse options whose default is None, so that "not given" is distinguishable
    from any real value (store_true flags included: give them `default=None`)::

        project = find_project_config(start)
        threshold = merge(args.threshold, project.values.get("threshold"), None)
        workers = merge(args.workers, project.values.get("workers"), 0)

    A value that is present always wins, even when falsy (`--workers 0`, `cache = false`).
    """
    if cli_value is not None:
        return cli_value
    if config_value is not None:
        return config_value
    return default


def find_project_config(start: str | os.PathLike[str]) -> ProjectConfig:
    """The settings for `start` (a directory, or a file whose directory counts).

    Walks up from there to the file-system root and stops at the first pyproject.toml that has
    a `[tool.malwi]` table. pyproject.toml files without one are passed over (a package's own
    pyproject.toml rarely configures malwi; a workspace's might); files that do not even mention
    `malwi` are not parsed, so an unrelated broken pyproject.toml never stops a scan. Returns an
    empty ProjectConfig (path None) when nothing is found; raises ConfigError for a file
    that has the table (or mentions malwi) but cannot be used.
    """
    directory = Path(start).resolve()
    if not directory.is_dir():
        directory = directory.parent
    for folder in (directory, *directory.parents):
        candidate = folder / "pyproject.toml"
        if not candidate.is_file():
            continue
        config = load_project_config(candidate)
        if config.path is not None:
            return config
    return ProjectConfig()


def load_project_config(path: str | os.PathLike[str]) -> ProjectConfig:
    """`[tool.malwi]` of one pyproject.toml; `path` None in the result when it has no such table."""
    path = Path(path)
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    if b"malwi" not in raw:
        return ProjectConfig()
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: invalid TOML: not UTF-8 ({error.reason} at byte {error.start})") from None
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        document: dict[str, Any] = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        message = " ".join(str(error).split())
        raise ConfigError(f"{path}: invalid TOML: {message}") from None
    tool = document.get("tool")
    if not isinstance(tool, dict) or "malwi" not in tool:
        return ProjectConfig()
    table = tool["malwi"]
    if not isinstance(table, dict):
        raise ConfigError(f"{path}: [tool.malwi] must be a table, got {table!r}")
    return ProjectConfig(path, _validate(table, path))


def parse_size(value: object) -> int:
    """Bytes from an int or a string such as "10MB", "512 KB", "1.5GiB" (units of 1024).
    Raises ValueError for anything else, zero and negative sizes."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value <= 0:
            raise ValueError(value)
        return value
    if not isinstance(value, str):
        raise ValueError(value)
    text = value.strip().lower()
    number = text.rstrip("kmgib")
    unit = text[len(number) :]
    try:
        size = float(number) * SIZE_UNITS[unit]
    except (ValueError, KeyError):
        raise ValueError(value) from None
    if not 1 <= size < float("inf"):
        raise ValueError(value)
    return int(size)


def _validate(table: dict[str, Any], path: Path) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key, value in table.items():
        name = KEYS.get(key)
        if name is None:
            hint = key.replace("_", "-")
            suggestion = f"; did you mean {hint!r}?" if hint in KEYS else f" (known keys: {', '.join(KEYS)})"
            raise ConfigError(f"{path}: [tool.malwi] unknown key {key!r}{suggestion}")
        values[name] = _value(key, value, path)
    return values


def _value(key: str, value: Any, path: Path) -> Any:
    def wrong(expected: str) -> ConfigError:
        return ConfigError(f"{path}: [tool.malwi] {key} must be {expected}, got {value!r}")

    if key == "threshold":
        if isinstance(value, bool) or not isinstance(value, (int, float)) or not 0.0 <= value <= 1.0:
            raise wrong("a number between 0 and 1")
        return float(value)
    if key == "workers":
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise wrong("a whole number, 0 (all cores) or more")
        return value
    if key == "max-file-size":
        try:
            return parse_size(value)
        except ValueError:
            raise wrong("a positive number of bytes or a size such as '10MB'") from None
    if key in ("cache", "quiet"):
        if not isinstance(value, bool):
            raise wrong("true or false")
        return value
    if key in ("device", "format"):
        choices = DEVICES if key == "device" else FORMATS
        if value not in choices:
            raise wrong("one of " + ", ".join(repr(choice) for choice in choices))
        return value
    if key in ("extensions", "exclude"):
        what = "file extensions" if key == "extensions" else "gitignore patterns"
        if not isinstance(value, list) or not all(isinstance(item, str) and item.strip() for item in value):
            raise wrong(f"a list of {what} (non-empty strings)")
        return list(value)
    # model
    if not isinstance(value, str) or not value.strip():
        raise wrong("a path (a non-empty string)")
    return os.path.normpath(os.path.join(os.path.abspath(path.parent), os.path.expanduser(value)))
