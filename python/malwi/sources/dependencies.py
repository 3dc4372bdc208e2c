"""Dependency files: which exact releases a project pulls in.

`requirements.txt` (pip), `package-lock.json` (npm, lockfile versions 1 to 3) and a plain
`package.json` here; the lock files of uv, Poetry, Pipenv, PDM, yarn and pnpm (`uv.lock`,
`poetry.lock`, `Pipfile.lock`, `pdm.lock`, `yarn.lock`, `pnpm-lock.yaml`) in
`malwi.sources.lockfiles`. `parse_dependency_file` picks the reader by file name. Only pinned
dependencies can be scanned; every other line becomes an `Unresolved` entry with the reason, so
the report says what was not looked at instead of guessing a version.
"""

from __future__ import annotations

import json
import os
import re
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from malwi.errors import DependencyFileError


class Dependency:
    """A pinned release to fetch. `resolved`/`integrity` come from a lockfile when it has them;
    `chain` is what brought a resolved release in (`--resolve`): the dependency file's own line
    first, then each requirement down to the one it satisfies (`requirements.txt:3 flask==3.0.0`,
    `werkzeug>=3.0`); empty when the file pins it and nothing was resolved."""

    __slots__ = ("chain", "ecosystem", "hashes", "integrity", "name", "origin", "resolved", "version")

    def __init__(
        self,
        ecosystem: str,
        name: str,
        version: str,
        origin: str,
        resolved: str = "",
        integrity: str = "",
        chain: tuple[str, ...] = (),
        hashes: tuple[str, ...] = (),
    ) -> None:
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.origin = origin  # file:line, or file + lockfile key
        self.resolved = resolved
        self.integrity = integrity
        self.chain = chain
        # A lock file's sha256 digests of the release's files (`sha256:<hex>`) when it names no
        # URL: the file the registry gives must be one of them (`inputs.release_for`).
        self.hashes = hashes

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Two entries are the same download only with the same source: a lockfile may pin one
        version from two different URLs."""
        name = canonical_pypi_name(self.name) if self.ecosystem == "pypi" else self.name
        return (self.ecosystem, name, self.version, self.resolved)

    @property
    def label(self) -> str:
        return f"{self.name}=={self.version}" if self.ecosystem == "pypi" else f"{self.name}@{self.version}"

    @property
    def identity(self) -> tuple[str, str, str, str, str, str]:
        """What makes two pins the same code (`--since`): the release and where its bytes come
        from, with their digest; a lock file that keeps the version and moves the URL or the
        integrity pins something else."""
        return (*self.key, self.integrity, ",".join(sorted(self.hashes)))


class Unresolved:
    """A dependency that is not scanned, and why (unpinned, a URL, a local path, ...)."""

    __slots__ = ("ecosystem", "requirement", "origin", "reason", "scanned_elsewhere")

    def __init__(
        self, ecosystem: str, requirement: str, origin: str, reason: str, scanned_elsewhere: bool = False
    ) -> None:
        self.ecosystem = ecosystem
        self.requirement = requirement
        self.origin = origin
        self.reason = reason
        # True for code that is part of the scanned project (an npm `link`): not missing.
        self.scanned_elsewhere = scanned_elsewhere

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__}


class Dependencies:
    """Pinned dependencies (deduplicated, in file order) and the ones left out."""

    def __init__(self) -> None:
        self.pinned: list[Dependency] = []
        self.unresolved: list[Unresolved] = []
        self._seen: set[tuple[str, str, str, str]] = set()
        self.notes: list[str] = []  # things the user should know, e.g. an index URL malwi does not use

    def add(self, dependency: Dependency) -> None:
        if dependency.key not in self._seen:
            self._seen.add(dependency.key)
            self.pinned.append(dependency)

    def skip(
        self, ecosystem: str, requirement: str, origin: str, reason: str, scanned_elsewhere: bool = False
    ) -> None:
        self.unresolved.append(Unresolved(ecosystem, requirement, origin, reason, scanned_elsewhere))


def canonical_pypi_name(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


# A dependency file larger than this is refused, not read: lock files of the largest monorepos
# stay well below it, and `-r /dev/zero` must not read forever.
MAX_DEPENDENCY_FILE_BYTES = 64 << 20


def read_bounded(path: Path) -> str:
    """A dependency file's text: a regular file of at most MAX_DEPENDENCY_FILE_BYTES, else a
    DependencyFileError naming it."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; it is refused just below.
        handle = os.open(path, os.O_RDONLY | getattr(os, "O_NONBLOCK", 0))
        with os.fdopen(handle, "rb") as stream:
            if not stat.S_ISREG(os.fstat(stream.fileno()).st_mode):
                raise DependencyFileError(f"{path}: not a regular file (a device, FIFO or folder)")
            data = stream.read(MAX_DEPENDENCY_FILE_BYTES + 1)
    except OSError as error:
        raise DependencyFileError(f"cannot read {path}: {error.strerror}") from None
    if len(data) > MAX_DEPENDENCY_FILE_BYTES:
        raise DependencyFileError(
            f"{path}: larger than {MAX_DEPENDENCY_FILE_BYTES >> 20} MB (limit on dependency files)"
        )
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise DependencyFileError(f"{path}: not UTF-8 text") from None


# --- requirements.txt -------------------------------------------------------------------------

PACKAGE_NAME = r"[A-Za-z0-9](?:[A-Za-z0-9._-]*[A-Za-z0-9])?"
_REQUIREMENT = re.compile(rf"^(?P<name>{PACKAGE_NAME})\s*(?:\[[^\]]*\])?\s*(?P<spec>[^;]*?)\s*(?:;.*)?$")
_PIN = re.compile(r"^===?\s*(?P<version>[A-Za-z0-9][A-Za-z0-9.+!_-]*)$")


def _option_value(words: list[str], names: tuple[str, str]) -> str | None:
    """The value of a pip option line (`-r f`, `-rf`, `--requirement f`, `--requirement=f`),
    or None when the line is not that option."""
    short, long = names
    first = words[0]
    if first in names:
        return words[1] if len(words) > 1 else ""
    if first.startswith(long + "="):
        return first[len(long) + 1 :]
    if first.startswith(short) and not first.startswith("--") and len(first) > len(short):
        return first[len(short) :]
    return None


def _logical_lines(text: str) -> list[tuple[int, str]]:
    """Lines with `\\` continuations joined and comments removed, with their first line number."""
    lines: list[tuple[int, str]] = []
    pending, start = "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        if not pending:
            start = number
        line = raw
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        line = pending + line
        pending = ""
        line = re.sub(r"(^|\s)#.*$", "", line).strip()
        if line:
            lines.append((start, line))
    if pending.strip():
        lines.append((start, pending.strip()))
    return lines


def requirement_file_lines(
    path: str | os.PathLike[str], _seen: set[Path] | None = None
) -> Iterator[tuple[str, list[str], str]]:
    """`(origin "file:line", words, line)` of each logical line of a pip requirements file,
    `-r` includes followed in place (relative to the including file, each file once)."""
    path = Path(path)
    seen = _seen if _seen is not None else set()
    resolved = path.resolve()
    if resolved in seen:
        return
    seen.add(resolved)
    for number, line in _logical_lines(read_bounded(path)):
        origin = f"{path}:{number}"
        words = line.split()
        include = _option_value(words, ("-r", "--requirement"))
        if include is None:
            yield origin, words, line
            continue
        if not include:
            raise DependencyFileError(f"{origin}: -r needs a file name")
        yield from requirement_file_lines(path.parent / include, seen)


def is_editable(words: list[str]) -> bool:
    return _option_value(words, ("-e", "--editable")) is not None


def without_hashes(line: str) -> str:
    return re.split(r"\s+--hash[= ]", line)[0].strip()


def parse_requirements(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """Pins (`name==1.2`, `name===1.2`, with extras, markers and `--hash` options) are scanned;
    ranges, bare names, URLs, local paths and editables are reported as unresolved. `-r`
    includes are followed (relative to the including file); `-c` constraints only constrain."""
    result = into if into is not None else Dependencies()
    for origin, words, line in requirement_file_lines(path):
        if is_editable(words):
            result.skip("pypi", line, origin, "editable install: not a release on PyPI")
            continue
        if words[0].startswith(("-i", "--index-url", "--extra-index-url", "-f", "--find-links")):
            result.notes.append(
                f"{origin}: {line} is not used: pinned packages are fetched from PyPI "
                "(or $MALWI_PYPI_URL), which may not be where pip installs them from"
            )
            continue
        if words[0].startswith("-"):
            continue  # -c constraints, --pre ...: they say nothing about where packages come from
        requirement = without_hashes(line)
        if (
            "://" in requirement
            or requirement.startswith((".", "/", "~"))
            or " @ " in requirement
            or re.match(r"^[A-Za-z]:\\", requirement)
        ):
            result.skip("pypi", requirement, origin, "URL or local path: not a release on PyPI")
            continue
        match = _REQUIREMENT.match(requirement)
        if not match:
            result.skip("pypi", requirement, origin, "not a requirement pip understands")
            continue
        spec = match.group("spec").replace(" ", "")
        pin = _PIN.match(spec) if "," not in spec else None
        if pin is None or "*" in spec:
            reason = "no version given" if not spec else f"not pinned to one version ({spec})"
            result.skip("pypi", requirement, origin, reason)
            continue
        result.add(Dependency("pypi", match.group("name"), pin.group("version"), origin))
    return result


# --- npm --------------------------------------------------------------------------------------

EXACT_NPM_VERSION = re.compile(r"^[=v]?(?P<version>\d+\.\d+\.\d+(?:-[0-9A-Za-z.-]+)?(?:\+[0-9A-Za-z.-]+)?)$")
NPM_SECTIONS = ("dependencies", "devDependencies", "optionalDependencies")


def load_json_file(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(read_bounded(path))
    except json.JSONDecodeError as error:
        where = f"{path}:{error.lineno}"
        raise DependencyFileError(f"{where}: not valid JSON: {error.msg} (column {error.colno})") from None
    except ValueError as error:
        raise DependencyFileError(f"{path}: not valid JSON: {error}") from None
    except RecursionError:
        raise DependencyFileError(f"{path}: not valid JSON: nested too deeply") from None
    if not isinstance(data, dict):
        raise DependencyFileError(f"{path}: expected a JSON object at the top level")
    return data


def _npm_alias(name: str, spec: str) -> tuple[str, str]:
    """`"alias": "npm:real-name@1.2.3"` installs real-name."""
    if spec.startswith("npm:"):
        real, _, version = spec[4:].rpartition("@")
        if real:
            return real, version
    return name, spec


def parse_package_json(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """Exact versions (`1.2.3`, `=1.2.3`) are scanned; ranges, tags, git and file specs are
    reported as unresolved: without a lockfile npm would pick whatever is newest."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    data = load_json_file(path)
    for section in NPM_SECTIONS:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise DependencyFileError(f"{path}: {section} must be an object")
        for alias, raw in entries.items():
            name, spec = _npm_alias(alias, str(raw).strip())
            origin = f"{path} {section}.{alias}"
            exact = EXACT_NPM_VERSION.match(spec)
            if exact:
                result.add(Dependency("npm", name, exact.group("version"), origin))
            else:
                result.skip("npm", f"{alias}@{raw}", origin, "not pinned to one version (a lockfile pins it)")
    return result


def parse_package_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`package-lock.json` / `npm-shrinkwrap.json`: the `packages` map (lockfile v2, v3) or the
    nested `dependencies` (v1). The lockfile's `resolved` URL and `integrity` are used as given."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    data = load_json_file(path)
    packages = data.get("packages")
    if isinstance(packages, dict):
        for key, entry in packages.items():
            if not key or not isinstance(entry, dict):
                continue  # "" is the project itself
            if "node_modules/" not in key:
                continue  # a workspace folder: local source, scanned as part of the project
            name = str(entry.get("name") or key.rsplit("node_modules/", 1)[-1])
            _add_lock_entry(result, path, key, name, entry)
        return result
    legacy = data.get("dependencies")
    if not isinstance(legacy, dict):
        raise DependencyFileError(f"{path}: neither 'packages' nor 'dependencies': not an npm lockfile")

    def walk(entries: dict[str, Any], trail: str) -> None:
        for name, entry in entries.items():
            if not isinstance(entry, dict):
                continue
            _add_lock_entry(result, path, f"{trail}{name}", name, entry)
            nested = entry.get("dependencies")
            if isinstance(nested, dict):
                walk(nested, f"{trail}{name} > ")

    walk(legacy, "")
    return result


def _add_lock_entry(result: Dependencies, path: Path, key: str, name: str, entry: dict[str, Any]) -> None:
    origin = f"{path} {key}"
    version = str(entry.get("version") or "")
    if entry.get("link") or version.startswith("file:"):
        result.skip(
            "npm", f"{name}", origin, "linked local folder: scanned with the project, not fetched", True
        )
        return
    name, version = _npm_alias(name, version)
    exact = EXACT_NPM_VERSION.match(version)
    resolved = str(entry.get("resolved") or "")
    if not exact:
        result.skip("npm", f"{name}@{version or '?'}", origin, "not a registry version (git, URL or missing)")
        return
    if resolved and not resolved.startswith(("https://", "http://")):
        result.skip(
            "npm", f"{name}@{version}", origin, f"resolved from {resolved.split(':')[0]}, not a registry"
        )
        return
    result.add(
        Dependency("npm", name, exact.group("version"), origin, resolved, str(entry.get("integrity") or ""))
    )


# What `--lockfile` reads, by file name: the npm files here, the rest in `malwi.sources.lockfiles`.
LOCK_FILES = (
    "package-lock.json",
    "npm-shrinkwrap.json",
    "yarn.lock",
    "pnpm-lock.yaml",
    "package.json",
    "uv.lock",
    "poetry.lock",
    "Pipfile.lock",
    "pdm.lock",
)


def parse_dependency_file(
    path: str | os.PathLike[str], into: Dependencies | None = None, *, kind: str = "any"
) -> Dependencies:
    """By file name: one of LOCK_FILES, else pip requirements. `kind` is what the user said the
    file is: `lockfile` (one of LOCK_FILES, by name; anything else is refused rather than read as
    requirements), `requirements`, or `any`."""
    from malwi.sources.lockfiles import PARSERS  # it reads with this module's helpers

    name = os.path.basename(os.fspath(path))
    if name in ("package-lock.json", "npm-shrinkwrap.json"):
        return parse_package_lock(path, into)
    if name == "package.json":
        return parse_package_json(path, into)
    if name in PARSERS:
        return PARSERS[name](path, into)
    if kind == "lockfile":
        raise DependencyFileError(
            f"{os.fspath(path)}: not a lock file malwi reads (by name: {', '.join(LOCK_FILES)}); "
            "pip requirements go to --requirements"
        )
    return parse_requirements(path, into)
