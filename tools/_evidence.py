"""Shared helpers of the evidence tools: repository paths, one-line errors, JSON loading.

Standard library only. Every tool reports problems with its input in one line and exits 2;
a gate that judges the evidence and finds it wanting exits 1.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any, NoReturn

ROOT = Path(__file__).resolve().parent.parent
EVIDENCE = ROOT / "evidence"

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2


class UsageError(Exception):
    """Unusable input (missing or malformed file, bad argument): one line, exit 2."""


def die(tool: str, message: str) -> NoReturn:
    print(f"{tool}: error: {message}", file=sys.stderr)
    raise SystemExit(EXIT_USAGE)


def display(path: Path) -> str:
    """A path as people read it: relative to the repository when inside it."""
    try:
        return str(path.resolve().relative_to(ROOT))
    except ValueError:
        return str(path)


def resolve_input(text: str) -> Path:
    """A path named on the command line: as given (relative to the working directory) when it
    exists, else relative to the repository root, so the tools work from any directory."""
    path = Path(text).expanduser()
    if path.is_absolute() or path.exists():
        return path
    rooted = ROOT / path
    return rooted if rooted.exists() else path


def resolve_output(text: str) -> Path:
    path = Path(text).expanduser()
    return path if path.is_absolute() else Path.cwd() / path


def load_json(path: Path, what: str = "file") -> Any:
    """Parses a JSON file or raises UsageError with a one-line reason."""
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise UsageError(f"{what} not found: {display(path)}") from None
    except IsADirectoryError:
        raise UsageError(f"{what} is a directory: {display(path)}") from None
    except UnicodeDecodeError:
        raise UsageError(f"{what} is not UTF-8 text: {display(path)}") from None
    except OSError as error:
        raise UsageError(f"cannot read {what} {display(path)}: {error.strerror}") from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise UsageError(
            f"{what} is not valid JSON: {display(path)}: line {error.lineno} column {error.colno}: {error.msg}"
        ) from None
    except RecursionError:
        raise UsageError(f"{what} is nested too deeply to parse: {display(path)}") from None


def write_json(path: Path, data: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(path.name + ".tmp")
    temporary.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")
    temporary.replace(path)


def one_line(text: object, limit: int = 240) -> str:
    """Collapses whitespace so a message stays on one line, and caps its length."""
    flat = " ".join(str(text).split())
    return flat if len(flat) <= limit else flat[: limit - 3] + "..."


def allow_entries(path: Path, required: bool) -> list[tuple[int, dict[str, Any]]]:
    """The entries of an allow list (`{"allow": [{...}, ...]}`) with their index; an absent
    optional list is empty. Each gate checks the fields it needs."""
    if not path.exists() and not required:
        return []
    data = load_json(path, "allow list")
    entries = data.get("allow") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f'malformed allow list: {display(path)} needs an "allow" list')
    for index, entry in enumerate(entries):
        if not isinstance(entry, dict):
            raise UsageError(f"malformed allow list: allow[{index}] is not an object")
    return list(enumerate(entries))
