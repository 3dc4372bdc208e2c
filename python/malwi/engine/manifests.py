"""Reading a package's manifests (package.json, pyproject.toml, setup.cfg, RECORD).

Units (which folder is a package, its name and install scripts) and reachability (what ships,
what runs) both read the same manifests; this is their one reader. Manifests are untrusted: one
larger than MAX_MANIFEST_BYTES or not readable is treated as absent, never as an error, and a
parse failure gives None. A manifest is read from disk once per scan, however many ask for it.
"""

from __future__ import annotations

import configparser
import functools
import json
import os
import sys
from typing import Any

__all__ = ["MAX_MANIFEST_BYTES", "load_cfg", "load_json", "load_toml", "read_text"]

MAX_MANIFEST_BYTES = 1 << 20


@functools.lru_cache(maxsize=64)
def _read_cached(path: str, _mtime_ns: int, _size: int) -> str | None:
    # Keyed by modification time and size as well, so an edited file is read again.
    try:
        with open(path, encoding="utf-8", errors="replace") as handle:
            return handle.read(MAX_MANIFEST_BYTES + 1)
    except OSError:
        return None


def read_text(path: str) -> str | None:
    """The manifest's text, or None when it is missing, unreadable or over the size bound."""
    try:
        status = os.stat(path)
    except OSError:
        return None
    if status.st_size > MAX_MANIFEST_BYTES:
        return None
    text = _read_cached(path, status.st_mtime_ns, status.st_size)
    return text if text is not None and len(text) <= MAX_MANIFEST_BYTES else None


def load_json(path: str) -> Any:
    """A JSON manifest's document, or None."""
    text = read_text(path)
    if text is None:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return None


def load_toml(path: str) -> dict[str, Any] | None:
    """A TOML manifest's table, or None."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib
    text = read_text(path)
    if text is None:
        return None
    try:
        return tomllib.loads(text)
    except (tomllib.TOMLDecodeError, ValueError):
        return None


def load_cfg(path: str) -> configparser.ConfigParser | None:
    """An INI manifest (`setup.cfg`), or None; read as data, with no interpolation."""
    text = read_text(path)
    if text is None:
        return None
    parser = configparser.ConfigParser(interpolation=None, strict=False)
    try:
        parser.read_string(text)
    except configparser.Error:
        return None
    return parser
