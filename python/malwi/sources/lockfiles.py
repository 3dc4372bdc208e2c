"""Lock files of uv, Poetry, Pipenv, PDM, yarn and pnpm, each read by its own format.

- PyPI: `uv.lock`, `poetry.lock`, `pdm.lock` (TOML, `[[package]]` tables) and `Pipfile.lock`
  (JSON, `default` and `develop`).
- npm: `yarn.lock`, classic (v1, yarn's own indented format) and berry (v2+, `__metadata`), and
  `pnpm-lock.yaml` (lockfileVersion 5.x, 6.x and 9.x). `package-lock.json` is read in
  `malwi.sources.dependencies`, which dispatches to `PARSERS` here by file name.

A registry release the lockfile pins is scanned. When the lockfile names the file it installs
(uv's `sdist`/`wheels`, PDM's `files` with static URLs, a yarn v1 `resolved` URL, a pnpm
`tarball`) that URL is what malwi fetches, checked against the lockfile's own hash; otherwise the
release is looked up on the registry by name and version and checked against the registry's
digest. Everything else becomes an `Unresolved` entry with the reason: git, URL and local
dependencies, another package index, a yarn patch. Local folders inside the lockfile's folder (the
project itself, workspaces, links) are marked as scanned with the project.

No YAML library at runtime: yarn berry and pnpm write their lock files in a small subset of YAML
(block mappings, lists of scalars, flow `{...}`/`[...]`, quoted and plain scalars), which `_Yaml`
reads and refuses anything beyond, with the file and line.
"""

from __future__ import annotations

import base64
import json
import os
import posixpath
import re
import sys
import urllib.parse
from collections.abc import Callable
from pathlib import Path
from typing import Any, NoReturn

from malwi.errors import DependencyFileError
from malwi.sources.archive import ARCHIVE_SUFFIXES
from malwi.sources.dependencies import (
    EXACT_NPM_VERSION,
    PACKAGE_NAME,
    Dependencies,
    Dependency,
    load_json_file,
    read_bounded,
)

_PYPI_NAME = re.compile(rf"^{PACKAGE_NAME}$")
_PYPI_VERSION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9.+!_-]*$")
_NPM_NAME = re.compile(r"^(?:@[\w.~-]+/)?[\w~-][\w.~-]*$")
_VCS = ("git", "hg", "svn", "bzr")
# pypi.org and its file host: the only package index that fetching by name and version reaches.
_PYPI_HOSTS = ("pypi.org", "www.pypi.org", "pypi.python.org", "files.pythonhosted.org")


def _show(value: object) -> str:
    """A value from the file, quoted and short enough for a one-line message."""
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def _lines(text: str) -> list[str]:
    return text.replace("\r\n", "\n").split("\n")


def _is_url(value: str) -> bool:
    """An http(s) URL that urllib can take apart (and so fetch)."""
    if not value.startswith(("https://", "http://")):
        return False
    try:
        return bool(urllib.parse.urlsplit(value).hostname)
    except ValueError:
        return False


def _is_pypi(index: str) -> bool:
    try:
        return (urllib.parse.urlsplit(index).hostname or "") in _PYPI_HOSTS
    except ValueError:
        return False


def _inside(target: str, base: str = ".") -> bool:
    """Whether a path the lockfile names (relative to `base`, itself relative to the lockfile's
    folder) stays in the lockfile's folder: the project malwi is scanning."""
    target = target.replace("\\", "/")
    if target.startswith(("/", "~")) or re.match(r"^[A-Za-z]:", target) or "://" in target:
        return False
    joined = posixpath.normpath(posixpath.join(base.replace("\\", "/") or ".", target))
    return joined != ".." and not joined.startswith(("../", "/"))


def _skip_local(
    result: Dependencies,
    ecosystem: str,
    requirement: str,
    origin: str,
    what: str,
    target: str,
    base: str = ".",
) -> None:
    if _inside(target, base):
        result.skip(
            ecosystem,
            requirement,
            origin,
            f"{what} {target}: in the project, scanned with it, not fetched",
            True,
        )
    else:
        result.skip(ecosystem, requirement, origin, f"{what} {target}: outside the project, not scanned")


def _local_kind(target: str) -> str:
    return "local archive" if target.lower().endswith(ARCHIVE_SUFFIXES) else "local folder"


# --- PyPI lock files -----------------------------------------------------------------------------


def _load_toml(path: Path) -> tuple[dict[str, Any], str]:
    text = read_bounded(path)
    if sys.version_info >= (3, 11):
        import tomllib
    else:
        import tomli as tomllib
    try:
        return tomllib.loads(text), text
    except tomllib.TOMLDecodeError as error:
        message = " ".join(str(error).split())
        at = re.search(r" \(at line (\d+), column (\d+)\)$", message)
        if at:
            where, message = f"{path}:{at.group(1)}", f"{message[: at.start()]} (column {at.group(2)})"
            raise DependencyFileError(f"{where}: not valid TOML: {message}") from None
        raise DependencyFileError(f"{path}: not valid TOML: {message}") from None
    except RecursionError:
        raise DependencyFileError(f"{path}: not valid TOML: nested too deeply") from None


class _Table:
    """One `[[package]]` table and where it is: `file:line` when the headers can be counted."""

    def __init__(self, path: Path, line: int | None, number: int, entry: dict[str, Any]) -> None:
        self.at = f"{path}:{line}" if line is not None else str(path)
        self.number = number
        self.entry = entry
        self.name = ""

    def error(self, message: str) -> NoReturn:
        which = self.name or f"#{self.number}"
        raise DependencyFileError(f"{self.at}: [[package]] {which}: {message}")

    @property
    def origin(self) -> str:
        return f"{self.at} [[package]] {self.name}"

    def text(self, key: str, *, required: bool = False) -> str:
        value = self.entry.get(key)
        if value is None and not required:
            return ""
        if not isinstance(value, str) or (required and not value):
            self.error(f"'{key}' must be a non-empty string" if value is not None else f"no '{key}'")
        return value

    def table(self, key: str) -> dict[str, Any] | None:
        value = self.entry.get(key)
        if value is not None and not isinstance(value, dict):
            self.error(f"'{key}' must be a table")
        return value

    def tables(self, key: str) -> list[dict[str, Any]]:
        value = self.entry.get(key, [])
        if not isinstance(value, list) or not all(isinstance(item, dict) for item in value):
            self.error(f"'{key}' must be a list of tables")
        return value

    def field(self, table: dict[str, Any], key: str, what: str) -> str:
        value = table.get(key, "")
        if not isinstance(value, str):
            self.error(f"{what} '{key}' must be a string")
        return value

    def pypi_name(self) -> str:
        self.name = self.text("name", required=True)
        if not _PYPI_NAME.match(self.name):
            self.name = ""
            self.error(f"{_show(self.entry['name'])} is not a package name")
        return self.name

    def pypi_version(self, *, required: bool) -> str:
        version = self.text("version", required=required)
        if version and not _PYPI_VERSION.match(version):
            self.error(f"{_show(version)} is not a version")
        return version


def _package_tables(path: Path, document: dict[str, Any], text: str) -> list[_Table]:
    """The `[[package]]` tables, each with its header's line when they can be matched up."""
    packages = document.get("package", [])
    if not isinstance(packages, list) or not all(isinstance(entry, dict) for entry in packages):
        raise DependencyFileError(f"{path}: 'package' must be an array of tables ([[package]])")
    headers = [
        number
        for number, line in enumerate(_lines(text), 1)
        if re.match(r"^\s*\[\[\s*package\s*\]\]\s*(?:#.*)?$", line)
    ]
    lines: list[int | None] = list(headers) if len(headers) == len(packages) else [None] * len(packages)
    return [_Table(path, line, number, entry) for number, (line, entry) in enumerate(zip(lines, packages), 1)]


def _python_digest(table: _Table, value: str) -> str:
    """A lockfile's `sha256:<hex>` as the digest `registries.download` checks (sha384 and sha512
    as SRI); "" for an algorithm it cannot check (md5, blake2b)."""
    algorithm, _, digest = value.partition(":")
    algorithm = algorithm.lower()
    sizes = {"sha256": 64, "sha384": 96, "sha512": 128}
    if algorithm not in sizes:
        if algorithm in ("md5", "sha1", "sha224", "blake2b") and re.fullmatch(r"[0-9a-fA-F]+", digest):
            return ""
        table.error(f"{_show(value)} is not a hash ('sha256:<hex>')")
    if len(digest) != sizes[algorithm] or not re.fullmatch(r"[0-9a-fA-F]+", digest):
        table.error(f"{_show(value)} is not a {algorithm} hash")
    if algorithm == "sha256":
        return "sha256:" + digest.lower()
    return f"{algorithm}-" + base64.b64encode(bytes.fromhex(digest)).decode()


def _pick_file(table: _Table, files: list[dict[str, Any]], url_key: str = "url") -> tuple[str, str] | None:
    """The (url, digest) to fetch of the files a lockfile lists for a release: the sdist (it
    carries setup.py), else a pure-Python wheel, else any wheel, as the registry fetch prefers;
    only files with an http(s) URL."""
    candidates: list[tuple[int, int, str, str]] = []
    for order, file in enumerate(files):
        url = table.field(file, url_key, "a file's")
        if not url.startswith(("https://", "http://")):
            continue  # a local file (`path`, `file`), or no URL
        if not _is_url(url):
            table.error(f"{_show(url)} is not a URL")
        hashed = table.field(file, "hash", "a file's")
        digest = _python_digest(table, hashed) if hashed else ""
        filename = url.split("#", 1)[0].split("?", 1)[0].rsplit("/", 1)[-1].lower()
        rank = 2 if filename.endswith((".whl", ".egg")) else 0
        if filename.endswith("-none-any.whl"):
            rank = 1
        candidates.append((0 if digest else 1, rank * len(files) + order, url, digest))
    if not candidates:
        return None
    _, _, url, digest = min(candidates)
    return url, digest


def _sha256s(table: _Table, values: list[str]) -> tuple[str, ...]:
    """The sha256 digests among a lock's file hashes (others cannot be compared with PyPI's)."""
    digests = (_python_digest(table, value) for value in values if value)
    return tuple(sorted({digest for digest in digests if digest.startswith("sha256:")}))


def _file_hashes(table: _Table, files: list[dict[str, Any]] | None) -> tuple[str, ...]:
    return _sha256s(table, [table.field(file, "hash", "a file's") for file in files or []])


def _pin_pypi(result: Dependencies, table: _Table, version: str, files: list[dict[str, Any]] | None) -> None:
    chosen = _pick_file(table, files) if files else None
    if chosen is None:
        result.add(Dependency("pypi", table.name, version, table.origin, hashes=_file_hashes(table, files)))
    else:
        result.add(Dependency("pypi", table.name, version, table.origin, *chosen))


def _requirement(name: str, version: str) -> str:
    return f"{name}=={version}" if version else name


def parse_uv_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`uv.lock`: registry releases pinned with the sdist's (else a wheel's) URL and sha256; the
    project and its workspace members (`editable`, `virtual`) are scanned with the project; git,
    URL and local-path sources are unresolved."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    document, text = _load_toml(path)
    if "version" not in document and "package" not in document:
        raise DependencyFileError(f"{path}: neither 'version' nor [[package]]: not a uv lockfile")
    for table in _package_tables(path, document, text):
        name = table.pypi_name()
        source = table.table("source")
        if source is None:
            table.error("no 'source'")
        kind = next(
            (
                k
                for k in ("registry", *_VCS, "url", "path", "directory", "editable", "virtual")
                if k in source
            ),
            "",
        )
        where = table.field(source, kind, "the source's") if kind else ""
        version = table.pypi_version(required=kind == "registry")
        requirement = _requirement(name, version)
        if kind == "registry":
            files = [
                *([sdist] if (sdist := table.table("sdist")) is not None else []),
                *table.tables("wheels"),
            ]
            chosen = _pick_file(table, files)
            if chosen is not None:
                result.add(Dependency("pypi", name, version, table.origin, *chosen))
            elif not _is_url(where):
                result.skip(
                    "pypi", requirement, table.origin, f"from the local package index {where}: not fetched"
                )
            elif _is_pypi(where):
                result.add(Dependency("pypi", name, version, table.origin))
            else:
                result.skip(
                    "pypi",
                    requirement,
                    table.origin,
                    f"from the package index {where} and uv.lock gives no file URL: malwi fetches by name from PyPI only",
                )
        elif kind in _VCS:
            result.skip(
                "pypi", requirement, table.origin, f"{kind} dependency ({where}): not a release on PyPI"
            )
        elif kind == "url":
            result.skip("pypi", requirement, table.origin, f"direct URL ({where}): not a release on PyPI")
        elif kind == "path":
            _skip_local(result, "pypi", requirement, table.origin, _local_kind(where), where)
        elif kind in ("editable", "virtual"):
            what = "editable folder" if kind == "editable" else "project folder"
            _skip_local(result, "pypi", requirement, table.origin, what, where)
        elif kind == "directory":
            _skip_local(result, "pypi", requirement, table.origin, "local folder", where)
        else:
            keys = ", ".join(sorted(str(key) for key in source)) or "none"
            result.skip("pypi", requirement, table.origin, f"a source malwi does not know (keys: {keys})")
    return result


def parse_poetry_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`poetry.lock`: a release without a `[package.source]` is PyPI's and pinned by name and
    version (the lock's `files` name no URLs); git, URL, file and directory sources and other
    package indexes are unresolved."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    document, text = _load_toml(path)
    if "package" not in document and "metadata" not in document:
        raise DependencyFileError(f"{path}: neither [[package]] nor [metadata]: not a Poetry lockfile")
    for table in _package_tables(path, document, text):
        name = table.pypi_name()
        version = table.pypi_version(required=True)
        hashes = _file_hashes(table, table.tables("files"))
        source = table.table("source")
        requirement = _requirement(name, version)
        if source is None:
            result.add(Dependency("pypi", name, version, table.origin, hashes=hashes))
            continue
        kind = table.field(source, "type", "the source's")
        url = table.field(source, "url", "the source's")
        reference = table.field(source, "resolved_reference", "the source's") or table.field(
            source, "reference", "the source's"
        )
        if kind in _VCS:
            at = f"{url}@{reference}" if reference else url
            result.skip("pypi", requirement, table.origin, f"{kind} dependency ({at}): not a release on PyPI")
        elif kind == "url":
            result.skip("pypi", requirement, table.origin, f"direct URL ({url}): not a release on PyPI")
        elif kind == "file":
            _skip_local(result, "pypi", requirement, table.origin, "local archive", url)
        elif kind == "directory":
            editable = table.entry.get("develop") is True
            _skip_local(
                result,
                "pypi",
                requirement,
                table.origin,
                "editable folder" if editable else "local folder",
                url,
            )
        elif kind == "legacy" and _is_pypi(url):
            result.add(Dependency("pypi", name, version, table.origin, hashes=hashes))
        elif kind == "legacy":
            index = f"'{reference}' ({url})" if reference else url
            result.skip(
                "pypi",
                requirement,
                table.origin,
                f"from the package index {index}: malwi fetches by name from PyPI only",
            )
        else:
            result.skip(
                "pypi", requirement, table.origin, f"source type {_show(kind)}: not a release on PyPI"
            )
    return result


def parse_pdm_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`pdm.lock`: releases pinned, with a file's URL and hash when the lock has static URLs;
    VCS (`git`, `revision`), `path` and `url` entries are unresolved."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    document, text = _load_toml(path)
    metadata = document.get("metadata")
    if not isinstance(metadata, dict):
        raise DependencyFileError(f"{path}: no [metadata] table: not a PDM lockfile")
    for table in _package_tables(path, document, text):
        name = table.pypi_name()
        vcs = next((kind for kind in _VCS if kind in table.entry), "")
        local = table.text("path")
        url = table.text("url")
        version = table.pypi_version(required=not (vcs or local or url))
        files = table.tables("files")
        requirement = _requirement(name, version)
        if vcs:
            where, revision = table.text(vcs), table.text("revision")
            at = f"{where}@{revision}" if revision else where
            result.skip("pypi", requirement, table.origin, f"{vcs} dependency ({at}): not a release on PyPI")
        elif local:
            what = "editable folder" if table.entry.get("editable") is True else _local_kind(local)
            _skip_local(result, "pypi", requirement, table.origin, what, local)
        elif url:
            result.skip("pypi", requirement, table.origin, f"direct URL ({url}): not a release on PyPI")
        else:
            _pin_pypi(result, table, version, files)
    return result


def _pipfile_hashes(where: str, values: list[str]) -> tuple[str, ...]:
    """An entry's `hashes` (`sha256:<hex>` each) as the digests PyPI's file must be among."""
    found = set()
    for value in values:
        algorithm, _, digest = value.partition(":")
        if algorithm.lower() != "sha256":
            continue  # other algorithms cannot be compared with PyPI's sha256
        if not re.fullmatch(r"[0-9a-fA-F]{64}", digest):
            raise DependencyFileError(f"{where}: {_show(value)} is not a sha256 hash")
        found.add("sha256:" + digest.lower())
    return tuple(sorted(found))


def parse_pipfile_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`Pipfile.lock`: `"version": "==1.2.3"` entries of `default` and `develop` are pinned;
    VCS, `path`, `file` and `editable` entries, unpinned ones and other package indexes are
    unresolved. Environment markers are not evaluated: every entry is scanned."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    data = load_json_file(path)
    if "default" not in data and "develop" not in data:
        raise DependencyFileError(f"{path}: neither 'default' nor 'develop': not a Pipfile.lock")
    meta = data.get("_meta", {})
    sources = meta.get("sources", []) if isinstance(meta, dict) else None
    if not isinstance(sources, list) or not all(isinstance(s, dict) for s in sources):
        raise DependencyFileError(f"{path}: _meta.sources must be a list of objects")
    indexes = {str(source.get("name")): str(source.get("url") or "") for source in sources}
    # An entry without `index` comes from the first source, as pipenv installs it.
    default_index = str(sources[0].get("url") or "") if sources else "https://pypi.org/simple"
    for section in ("default", "develop"):
        entries = data.get(section, {})
        if not isinstance(entries, dict):
            raise DependencyFileError(f"{path}: '{section}' must be an object")
        for name, entry in entries.items():
            origin, where = f"{path} {section}.{name}", f"{path}: {section}.{json.dumps(name)[1:-1][:80]}"
            if not isinstance(entry, dict) or not _PYPI_NAME.match(name):
                raise DependencyFileError(f"{where}: expected a package name and an object")
            fields: dict[str, str] = {}
            for key in (*_VCS, "path", "file", "version", "index", "ref"):
                value = entry.get(key, "")
                if not isinstance(value, str):
                    raise DependencyFileError(f"{where}: '{key}' must be a string")
                fields[key] = value
            vcs = next((kind for kind in _VCS if fields[kind]), "")
            index = fields["index"]
            index_url = indexes.get(index, "") if index else default_index
            shown_index = f"'{index}' ({index_url or 'not in _meta.sources'})" if index else index_url
            version = fields["version"]
            requirement = f"{name}{version}" if version.startswith("=") else name
            if vcs:
                at = f"{fields[vcs]}@{fields['ref']}" if fields["ref"] else fields[vcs]
                result.skip("pypi", requirement, origin, f"{vcs} dependency ({at}): not a release on PyPI")
            elif fields["path"]:
                what = "editable folder" if entry.get("editable") is True else _local_kind(fields["path"])
                _skip_local(result, "pypi", requirement, origin, what, fields["path"])
            elif fields["file"]:
                if _is_url(fields["file"]):
                    reason = f"direct URL ({fields['file']}): not a release on PyPI"
                    result.skip("pypi", requirement, origin, reason)
                else:
                    _skip_local(
                        result, "pypi", requirement, origin, _local_kind(fields["file"]), fields["file"]
                    )
            elif not version:
                result.skip("pypi", requirement, origin, "no version given")
            elif not re.match(r"^===?[A-Za-z0-9][A-Za-z0-9.+!_-]*$", version):
                result.skip("pypi", requirement, origin, f"not pinned to one version ({version})")
            elif not _is_pypi(index_url):
                result.skip(
                    "pypi",
                    requirement,
                    origin,
                    f"from the package index {shown_index}: malwi fetches by name from PyPI only",
                )
            else:
                hashes = entry.get("hashes") or []
                if not isinstance(hashes, list) or not all(isinstance(h, str) for h in hashes):
                    raise DependencyFileError(f"{where}: 'hashes' must be a list of strings")
                pin = Dependency(
                    "pypi", name, version.lstrip("="), origin, hashes=_pipfile_hashes(where, hashes)
                )
                result.add(pin)
    return result


# --- npm: a descriptor's protocol ---------------------------------------------------------------


def _split_descriptor(descriptor: str) -> tuple[str, str] | None:
    """`@scope/name@range` into name and range; None without an `@range`."""
    at = descriptor.find("@", 1)
    if at <= 0:
        return None
    return descriptor[:at], descriptor[at + 1 :]


def _protocol(reference: str) -> str:
    """What kind of source an npm range or yarn/pnpm reference names."""
    match = re.match(r"^([a-z]+):", reference)
    if reference.startswith(("git+", "git:", "git@", "ssh:")) or re.match(
        r"^[\w.-]+/[\w.-]+(?:#.*)?$", reference
    ):
        return "git"
    if _is_url(reference):
        return "git" if _git_archive(reference) else "url"
    if match and match.group(1) in ("github", "gitlab", "bitbucket", "gist"):
        return "git"
    return match.group(1) if match else "range"


def _git_archive(url: str) -> bool:
    """A git repository, or an archive of one that a git host makes (GitHub's codeload, GitLab's
    and Bitbucket's archive pages): not a registry release, and without an npm integrity."""
    try:
        parts = urllib.parse.urlsplit(url.split("#", 1)[0])
    except ValueError:
        return False
    host, path = (parts.hostname or "").lower(), parts.path
    return (
        path.endswith(".git")
        or "#commit=" in url
        or host == "codeload.github.com"
        or (host == "gitlab.com" and "/-/archive/" in path)
        or (host == "bitbucket.org" and "/get/" in path)
    )


def _sri_from_fragment(fragment: str) -> str:
    """The `#<sha1 hex>` of a yarn v1 `resolved` URL as an SRI string."""
    if re.fullmatch(r"[0-9a-fA-F]{40}", fragment):
        return "sha1-" + base64.b64encode(bytes.fromhex(fragment)).decode()
    return ""


def _npm_pin(
    result: Dependencies,
    origin: str,
    requirement: str,
    name: str,
    version: str,
    resolved: str,
    integrity: str,
) -> None:
    exact = EXACT_NPM_VERSION.match(version)
    if not _NPM_NAME.match(name):
        raise DependencyFileError(f"{origin}: {_show(name)} is not an npm package name")
    if not exact:
        result.skip("npm", requirement, origin, f"version {_show(version)} is not an exact release")
        return
    result.add(Dependency("npm", name, exact.group("version"), origin, resolved, integrity))


# --- yarn.lock ------------------------------------------------------------------------------------


def parse_yarn_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`yarn.lock`: classic (v1) or berry (v2+, it starts with `__metadata`)."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    text = read_bounded(path)
    first = next((line for line in _lines(text) if line.strip() and not line.lstrip().startswith("#")), "")
    if first.rstrip() == "__metadata:":
        _yarn_berry(path, text, result)
    else:
        _yarn_classic(path, text, result)
    return result


_YARN_QUOTED = re.compile(r'"(?:[^"\\]|\\.)*"')
_YARN_BARE_KEY = re.compile(r'[^\s",:]+')


def _yarn_string(text: str, pos: int, where: str, bare: re.Pattern[str]) -> tuple[str, int]:
    if text.startswith('"', pos):
        match = _YARN_QUOTED.match(text, pos)
        if not match:
            raise DependencyFileError(f"{where}: unterminated string")
        try:
            return str(json.loads(match.group())), match.end()
        except ValueError:
            raise DependencyFileError(f"{where}: bad escape in {_show(match.group())}") from None
    match = bare.match(text, pos)
    if not match:
        raise DependencyFileError(f"{where}: expected a key or a value at {_show(text[pos:])}")
    return match.group(), match.end()


def _yarn_line(text: str, where: str) -> tuple[list[str], str | None]:
    """`key value`, or `key, "key 2":` (value None: a block follows)."""
    keys: list[str] = []
    key, pos = _yarn_string(text, 0, where, _YARN_BARE_KEY)
    keys.append(key)
    while text.startswith(",", pos):
        pos = len(text) - len(text[pos + 1 :].lstrip(" "))
        key, pos = _yarn_string(text, pos, where, _YARN_BARE_KEY)
        keys.append(key)
    if text[pos:] == ":":
        return keys, None
    if len(keys) > 1 or not text.startswith(" ", pos):
        raise DependencyFileError(f"{where}: expected 'key value' or 'key:'")
    pos = len(text) - len(text[pos:].lstrip(" "))
    value, end = _yarn_string(text, pos, where, re.compile(r"\S+"))
    if end != len(text):
        raise DependencyFileError(f"{where}: unexpected text after the value: {_show(text[end:])}")
    return keys, value


def _yarn_classic_entries(path: Path, text: str) -> list[tuple[int, list[str], dict[str, Any]]]:
    """The entries of a v1 lockfile: (header line, its descriptors, its fields)."""
    entries: list[tuple[int, list[str], dict[str, Any]]] = []
    open_blocks: list[dict[str, Any]] = []  # open_blocks[n]: where lines indented 2 * (n + 1) go
    for number, raw in enumerate(_lines(text), 1):
        line = raw.rstrip()
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        where = f"{path}:{number}"
        content = line.lstrip(" ")
        indent = len(line) - len(content)
        if content[0].isspace() or indent % 2:
            raise DependencyFileError(f"{where}: indentation must be spaces, two per level")
        level = indent // 2
        keys, value = _yarn_line(content, where)
        if level == 0:
            if value is not None:
                raise DependencyFileError(f"{where}: expected an entry header ('name@range:')")
            block: dict[str, Any] = {}
            entries.append((number, keys, block))
            open_blocks = [block]
            continue
        if level > len(open_blocks):
            raise DependencyFileError(f"{where}: unexpected indentation")
        del open_blocks[level:]
        target = open_blocks[level - 1]
        child: dict[str, Any] = {}
        for key in keys:
            if key in target:
                raise DependencyFileError(f"{where}: {_show(key)} given twice")
            target[key] = child if value is None else value
        if value is None:
            open_blocks.append(child)
    return entries


def _yarn_classic(path: Path, text: str, result: Dependencies) -> None:
    for number, descriptors, entry in _yarn_classic_entries(path, text):
        origin = f"{path}:{number}"
        requirement = ", ".join(descriptors)
        split = _split_descriptor(descriptors[0])
        if split is None:
            raise DependencyFileError(f"{origin}: {_show(descriptors[0])} is not 'name@range'")
        name, reference = split
        fields: dict[str, str] = {}
        for key in ("version", "resolved", "integrity"):
            value = entry.get(key, "")
            if not isinstance(value, str):
                raise DependencyFileError(f"{origin}: '{key}' must be a value, not a block")
            fields[key] = value
        if not fields["version"]:
            raise DependencyFileError(f"{origin}: {_show(requirement)} has no version")
        resolved = fields["resolved"]
        protocol = _protocol(reference)
        if protocol == "npm":
            real = _split_descriptor(reference[4:])
            name, protocol = (real[0] if real else reference[4:]), "range"
        if protocol in ("range", "url") and _protocol(resolved) == "git" and resolved:
            protocol = "git"
        if protocol in ("file", "link", "portal"):
            target = reference.split(":", 1)[1]
            what = "linked local folder" if protocol != "file" else _local_kind(target)
            _skip_local(result, "npm", requirement, origin, what, target)
        elif protocol == "git":
            result.skip(
                "npm", requirement, origin, f"git dependency ({resolved or reference}): not a release on npm"
            )
        elif protocol in ("range", "url"):
            # A tarball URL without `resolved` is still fetched from that URL, never by name.
            url, _, fragment = (resolved or (reference if protocol == "url" else "")).partition("#")
            if resolved and not _is_url(url):
                result.skip("npm", requirement, origin, f"resolved from {_show(resolved)}, not a registry")
                continue
            integrity = fields["integrity"] or _sri_from_fragment(fragment)
            _npm_pin(result, origin, requirement, name, fields["version"], url, integrity)
        else:
            result.skip("npm", requirement, origin, f"'{protocol}:' protocol: not a release on npm")


def _berry_base(params: str) -> str:
    """The workspace folder a berry reference is relative to (`::locator=app%40workspace%3A.`)."""
    for locator in urllib.parse.parse_qs(params).get("locator", []):
        split = _split_descriptor(locator)
        if split and split[1].startswith("workspace:"):
            return split[1][len("workspace:") :] or "."
    return "."


def _yarn_berry(path: Path, text: str, result: Dependencies) -> None:
    documents = _Yaml(path, text).documents()
    if len(documents) != 1:
        raise DependencyFileError(f"{path}: more than one YAML document: not a yarn lockfile")
    document = documents[0]
    metadata = document.get("__metadata")
    if not isinstance(metadata, _Mapping) or not isinstance(metadata.get("version"), str):
        raise DependencyFileError(f"{path}: __metadata has no version: not a yarn lockfile")
    for key, entry in document.items():
        if key == "__metadata":
            continue
        origin = f"{path}:{document.lines[key]}"
        if not isinstance(entry, _Mapping):
            raise DependencyFileError(f"{origin}: {_show(key)} must be a mapping")
        resolution, version = entry.get("resolution"), entry.get("version", "")
        if not isinstance(resolution, str) or not isinstance(version, str):
            raise DependencyFileError(f"{origin}: {_show(key)} needs a 'resolution' and a 'version' string")
        _berry_entry(result, origin, key, resolution, version)


def _berry_entry(result: Dependencies, origin: str, requirement: str, resolution: str, version: str) -> None:
    split = _split_descriptor(resolution)
    if split is None:
        raise DependencyFileError(
            f"{origin}: resolution {_show(resolution)} is not 'name@protocol:reference'"
        )
    name, reference = split
    reference, _, params = reference.partition("::")
    protocol = _protocol(reference)
    if protocol == "npm":
        real = _split_descriptor(reference[4:])
        pinned = real[1] if real else reference[4:]
        # A berry checksum is the hash of yarn's own zip of the package, not the tarball's.
        _npm_pin(result, origin, requirement, real[0] if real else name, pinned, "", "")
    elif protocol == "patch":
        inner, _, patches = reference[len("patch:") :].partition("#")
        patched = urllib.parse.unquote(inner)
        base = _split_descriptor(patched)
        if base is None or _protocol(base[1]) != "npm":
            result.skip("npm", requirement, origin, f"patched {_show(patched)}: not a release on npm")
            return
        _berry_entry(result, origin, requirement, patched, version)
        for patch in urllib.parse.unquote(patches).split("&"):
            if patch and "builtin<" not in patch:  # builtin<compat/...>: yarn's own patches
                shown = patch.removeprefix("optional!")
                result.skip(
                    "npm",
                    requirement,
                    origin,
                    f"yarn applies the patch {shown} to {patched}: the release is scanned, the patch is not",
                )
    elif protocol in ("workspace", "link", "portal", "file"):
        target = reference.split(":", 1)[1]
        what = {"workspace": "workspace folder", "file": _local_kind(target)}.get(
            protocol, "linked local folder"
        )
        _skip_local(result, "npm", requirement, origin, what, target, _berry_base(params))
    elif protocol == "git":
        result.skip("npm", requirement, origin, f"git dependency ({reference}): not a release on npm")
    elif protocol == "url":
        # What yarn installs, with no npm integrity to check it by: fetched with a warning.
        _npm_pin(result, origin, requirement, name, version, reference, "")
    else:
        result.skip("npm", requirement, origin, f"'{protocol}:' protocol: not a release on npm")


# --- pnpm-lock.yaml -------------------------------------------------------------------------------


def _pnpm_key(key: str, major: int) -> tuple[str, str] | None:
    """A `packages` key as (name, version or reference): `/name/1.2.3_peer@1` (5.x),
    `/name@1.2.3(peer@1)` (6.x), `name@1.2.3` (9.x); None for a key that is neither."""
    if major == 5:
        if not key.startswith("/"):
            return None
        parts = key[1:].split("/")
        name_parts = 2 if key.startswith("/@") else 1
        if len(parts) != name_parts + 1:
            return None
        return "/".join(parts[:name_parts]), parts[-1].split("_", 1)[0]
    if major == 6:
        if not key.startswith("/"):
            return None
        key = key[1:]
    return _split_descriptor(key.split("(", 1)[0])


def parse_pnpm_lock(path: str | os.PathLike[str], into: Dependencies | None = None) -> Dependencies:
    """`pnpm-lock.yaml` (lockfileVersion 5.x, 6.x, 9.x): registry releases pinned with the
    lock's integrity (and its tarball URL when it names one); git, directory and local tarball
    packages, and `link:` dependencies of the importers, are unresolved."""
    path = Path(path)
    result = into if into is not None else Dependencies()
    for document in _Yaml(path, read_bounded(path)).documents():
        version = document.get("lockfileVersion")
        where = f"{path}:{document.lines.get('lockfileVersion', 1)}"
        if not isinstance(version, str):
            raise DependencyFileError(f"{path}: no lockfileVersion: not a pnpm lockfile")
        major = int(version.split(".", 1)[0]) if re.match(r"^\d{1,3}(?:\.\d+)?$", version) else 0
        if major not in (5, 6, 9):
            raise DependencyFileError(
                f"{where}: lockfileVersion {_show(version)}: malwi reads pnpm lockfiles 5.x, 6.x and 9.x"
            )
        _pnpm_importers(path, document, result)
        packages = document.get("packages") or _Mapping()
        if not isinstance(packages, _Mapping):
            raise DependencyFileError(f"{path}:{document.lines['packages']}: 'packages' must be a mapping")
        for key, entry in packages.items():
            origin = f"{path}:{packages.lines[key]}"
            if not isinstance(entry, _Mapping):
                raise DependencyFileError(f"{origin}: {_show(key)} must be a mapping")
            _pnpm_package(result, origin, key, major, entry)
    return result


def _pnpm_importers(path: Path, document: _Mapping, result: Dependencies) -> None:
    """`link:` dependencies of each project of the lockfile (a workspace's `importers`, or the
    top level of a single project's lockfile): local folders, not in `packages`."""
    importers = document.get("importers")
    if importers is None:
        importers = _Mapping()
        importers["."], importers.lines["."] = document, 1
    if not isinstance(importers, _Mapping):
        raise DependencyFileError(f"{path}:{document.lines['importers']}: 'importers' must be a mapping")
    for folder, importer in importers.items():
        if not isinstance(importer, _Mapping):
            raise DependencyFileError(
                f"{path}:{importers.lines[folder]}: importer {_show(folder)} must be a mapping"
            )
        for section in ("dependencies", "devDependencies", "optionalDependencies"):
            entries = importer.get(section)
            if entries is None:
                continue
            if not isinstance(entries, _Mapping):
                raise DependencyFileError(f"{path}:{importer.lines[section]}: '{section}' must be a mapping")
            for name, value in entries.items():
                origin = f"{path}:{entries.lines[name]}"
                version = value.get("version") if isinstance(value, _Mapping) else value
                if not isinstance(version, str):
                    raise DependencyFileError(f"{origin}: {_show(name)} needs a version")
                if version.startswith("link:"):
                    target = version[len("link:") :]
                    _skip_local(
                        result, "npm", f"{name}@{version}", origin, "linked local folder", target, folder
                    )


def _pnpm_package(result: Dependencies, origin: str, key: str, major: int, entry: _Mapping) -> None:
    resolution = entry.get("resolution")
    if not isinstance(resolution, _Mapping):
        raise DependencyFileError(f"{origin}: {_show(key)} has no 'resolution' mapping")
    fields: dict[str, str] = {}
    for source, names in (
        (entry, ("name", "version")),
        (resolution, ("integrity", "tarball", "type", "directory", "repo", "commit")),
    ):
        for field in names:
            value = source.get(field, "")
            if not isinstance(value, str):
                raise DependencyFileError(f"{origin}: '{field}' must be a string")
            fields[field] = value
    parsed = _pnpm_key(key, major)
    name = fields["name"] or (parsed[0] if parsed else "")
    version = fields["version"] or (parsed[1] if parsed else "")
    if not name:
        raise DependencyFileError(f"{origin}: {_show(key)} names no package")
    if fields["type"] == "git" or fields["repo"] or fields["commit"]:
        at = f"{fields['repo']}#{fields['commit']}" if fields["repo"] else key
        result.skip("npm", key, origin, f"git dependency ({at}): not a release on npm")
    elif fields["type"] == "directory" or fields["directory"]:
        _skip_local(result, "npm", key, origin, "local folder", fields["directory"])
    elif fields["tarball"].startswith("file:"):
        target = fields["tarball"][len("file:") :]
        _skip_local(result, "npm", key, origin, "local archive", target)
    elif _git_archive(fields["tarball"]) and not fields["integrity"]:
        result.skip("npm", key, origin, f"git dependency ({fields['tarball']}): not a release on npm")
    elif fields["tarball"] and not _is_url(fields["tarball"]):
        result.skip("npm", key, origin, f"tarball {_show(fields['tarball'])}: not a registry URL")
    elif fields["tarball"] or fields["integrity"]:
        _npm_pin(result, origin, key, name, version, fields["tarball"], fields["integrity"])
    else:
        keys = ", ".join(sorted(resolution)) or "none"
        result.skip("npm", key, origin, f"a resolution malwi does not know (keys: {keys})")


# --- the YAML subset of yarn berry and pnpm -------------------------------------------------------


class _Mapping(dict[str, Any]):
    """A YAML mapping that remembers the line of each key."""

    def __init__(self) -> None:
        super().__init__()
        self.lines: dict[str, int] = {}


_MAX_NESTING = 32
_ESCAPES = {
    "0": "\0",
    "a": "\a",
    "b": "\b",
    "t": "\t",
    "\t": "\t",
    "n": "\n",
    "v": "\v",
    "f": "\f",
    "r": "\r",
    "e": "\x1b",
    " ": " ",
    '"': '"',
    "/": "/",
    "\\": "\\",
    "N": "\x85",
    "_": "\xa0",
    "L": "\u2028",
    "P": "\u2029",
}
_DOUBLE_QUOTED = re.compile(r'"((?:[^"\\]|\\.)*)"', re.DOTALL)
_SINGLE_QUOTED = re.compile(r"'((?:[^']|'')*)'")
_ESCAPE = re.compile(r"\\(x[0-9a-fA-F]{2}|u[0-9a-fA-F]{4}|U[0-9a-fA-F]{8}|.)", re.DOTALL)
_RESERVED = "&*!|>%@`?"  # anchors, aliases, tags, block scalars, directives: not in the subset


class _Yaml:
    """A strict reader of the YAML that yarn berry and pnpm write. Every scalar is a string;
    anything beyond the subset is a DependencyFileError naming the file and line."""

    def __init__(self, path: Path, text: str) -> None:
        self.path = path
        self.text = text

    def error(self, number: int, message: str) -> NoReturn:
        raise DependencyFileError(f"{self.path}:{number}: {message}")

    def documents(self) -> list[_Mapping]:
        """Each document (separated by `---` lines) as a mapping; an empty file is one empty mapping."""
        documents: list[list[tuple[int, int, str]]] = [[]]
        for number, raw in enumerate(_lines(self.text), 1):
            line = raw.rstrip(" \t\r")
            content = line.lstrip(" ")
            if not content or content.startswith("#"):
                continue
            if line == "---":
                documents.append([])
                continue
            if content[0] == "\t" or line.startswith(("%", "...")):
                self.error(number, "tabs, directives and '...' are not in the YAML that lock files use")
            documents[-1].append((number, len(line) - len(content), content))
        parsed = []
        for lines in documents:
            if not lines and len(documents) > 1:
                continue
            if lines and lines[0][1] != 0:
                self.error(lines[0][0], "the document must start at the first column")
            value, end = self._block(lines, 0, 0, 0) if lines else (_Mapping(), 0)
            if end != len(lines):
                self.error(lines[end][0], "unexpected indentation")
            if not isinstance(value, _Mapping):
                self.error(lines[0][0], "the document must be a mapping")
            parsed.append(value)
        return parsed

    def _block(self, lines: list[tuple[int, int, str]], i: int, indent: int, depth: int) -> tuple[Any, int]:
        if depth > _MAX_NESTING:
            self.error(lines[i][0], "nested too deeply")
        if _is_item(lines[i][2]):
            return self._sequence(lines, i, indent, depth)
        return self._mapping(lines, i, indent, depth)

    def _mapping(
        self, lines: list[tuple[int, int, str]], i: int, indent: int, depth: int
    ) -> tuple[_Mapping, int]:
        mapping = _Mapping()
        while i < len(lines):
            number, at, content = lines[i]
            if at < indent:
                break
            if at > indent:
                self.error(number, "unexpected indentation")
            if _is_item(content):
                self.error(number, "a list item where a key was expected")
            key, rest = self._key(content, number)
            if key in mapping:
                self.error(number, f"{_show(key)} given twice")
            mapping.lines[key] = number
            i += 1
            if rest:
                mapping[key] = self._inline(rest, number, depth)
            elif i < len(lines) and (
                lines[i][1] > indent or (lines[i][1] == indent and _is_item(lines[i][2]))
            ):
                mapping[key], i = self._block(lines, i, lines[i][1], depth + 1)
            else:
                mapping[key] = None
        return mapping, i

    def _sequence(
        self, lines: list[tuple[int, int, str]], i: int, indent: int, depth: int
    ) -> tuple[list[Any], int]:
        items: list[Any] = []
        while i < len(lines):
            number, at, content = lines[i]
            if at < indent or (at == indent and not _is_item(content)):
                break
            if at > indent:
                self.error(number, "unexpected indentation")
            rest = content[1:].strip()
            if not rest:
                self.error(number, "an empty or nested list item is not in the YAML that lock files use")
            items.append(self._inline(rest, number, depth))
            i += 1
        return items, i

    def _key(self, content: str, number: int) -> tuple[str, str]:
        """`key: value` or `key:` into the key and the rest ("" when a block follows)."""
        if content[0] in "\"'":
            key, pos = self._quoted(content, 0, number)
            if not content.startswith(":", pos):
                self.error(number, "expected ':' after the key")
            pos += 1
        else:
            if content[0] in _RESERVED + "{}[],#:-":
                self.error(number, f"{_show(content[:20])}: not a key of the YAML that lock files use")
            colon = content.find(": ")
            if colon < 0 and content.endswith(":"):
                colon = len(content) - 1
            if colon <= 0 or " #" in content[:colon]:
                self.error(number, "expected 'key: value' or 'key:'")
            key, pos = content[:colon].rstrip(), colon + 1
        if pos < len(content) and content[pos] != " ":
            self.error(number, "expected a space after ':'")
        return key, content[pos:].strip()

    def _inline(self, text: str, number: int, depth: int) -> Any:
        """A value on the rest of a line: a quoted or plain scalar, or a flow collection."""
        if text[0] in "{[":
            value, pos = self._flow(text, 0, number, depth + 1)
        elif text[0] in "\"'":
            value, pos = self._quoted(text, 0, number)
        elif text[0] in _RESERVED or text.startswith("- ") or text[0] == "#":
            self.error(number, f"{_show(text[:20])}: not a value of the YAML that lock files use")
        else:
            comment = text.find(" #")
            value = (text if comment < 0 else text[:comment]).rstrip()
            if ": " in value or value.endswith(":"):
                self.error(number, f"{_show(value)}: a ':' in a plain value (quote it)")
            return value
        rest = text[pos:].strip()
        if rest and not rest.startswith("#"):
            self.error(number, f"unexpected text after the value: {_show(rest)}")
        return value

    def _quoted(self, text: str, pos: int, number: int) -> tuple[str, int]:
        if text[pos] == "'":
            match = _SINGLE_QUOTED.match(text, pos)
            if not match:
                self.error(number, "unterminated string (multi-line strings are not read)")
            return match.group(1).replace("''", "'"), match.end()
        match = _DOUBLE_QUOTED.match(text, pos)
        if not match:
            self.error(number, "unterminated string (multi-line strings are not read)")

        def unescape(escape: re.Match[str]) -> str:
            code = escape.group(1)
            if code[0] in "xuU" and len(code) > 1:
                value = int(code[1:], 16)
                if value > 0x10FFFF:
                    self.error(number, f"bad escape \\{code}")
                return chr(value)
            if code not in _ESCAPES:
                self.error(number, f"bad escape \\{code}")
            return _ESCAPES[code]

        return _ESCAPE.sub(unescape, match.group(1)), match.end()

    def _flow(self, text: str, pos: int, number: int, depth: int) -> tuple[Any, int]:
        """`{key: value, ...}` or `[value, ...]`, nested, all on one line."""
        if depth > _MAX_NESTING:
            self.error(number, "nested too deeply")
        closer = "}" if text[pos] == "{" else "]"
        result: _Mapping | list[Any] = _Mapping() if closer == "}" else []
        pos += 1
        while True:
            pos = _skip_spaces(text, pos)
            if pos >= len(text):
                self.error(number, f"no closing {closer!r} (multi-line flow collections are not read)")
            if text[pos] == closer:
                return result, pos + 1
            if isinstance(result, _Mapping):
                key, pos = self._flow_scalar(text, pos, number)
                pos = _skip_spaces(text, pos)
                if not text.startswith(":", pos):
                    self.error(number, f"expected ':' after {_show(key)} in a flow mapping")
                value, pos = self._flow_node(text, _skip_spaces(text, pos + 1), number, depth)
                if key in result:
                    self.error(number, f"{_show(key)} given twice")
                result[key] = value
                result.lines[key] = number
            else:
                value, pos = self._flow_node(text, pos, number, depth)
                result.append(value)
            pos = _skip_spaces(text, pos)
            if text.startswith(",", pos):
                pos += 1
            elif pos >= len(text):
                self.error(number, f"no closing {closer!r} (multi-line flow collections are not read)")
            elif not text.startswith(closer, pos):
                self.error(number, f"expected ',' or {closer!r} in a flow collection")

    def _flow_node(self, text: str, pos: int, number: int, depth: int) -> tuple[Any, int]:
        if pos < len(text) and text[pos] in "{[":
            return self._flow(text, pos, number, depth + 1)
        return self._flow_scalar(text, pos, number)

    def _flow_scalar(self, text: str, pos: int, number: int) -> tuple[str, int]:
        if pos < len(text) and text[pos] in "\"'":
            return self._quoted(text, pos, number)
        start = pos
        while pos < len(text):
            char = text[pos]
            if char in ",[]{}" or (char == ":" and (pos + 1 == len(text) or text[pos + 1] in " ,]}")):
                break
            if char == "#" and pos > start and text[pos - 1] == " ":
                self.error(number, "a comment inside a flow collection")
            pos += 1
        value = text[start:pos].strip()
        if not value or value[0] in _RESERVED:
            self.error(number, f"expected a value in a flow collection at {_show(text[start:])}")
        return value, pos


def _is_item(content: str) -> bool:
    return content == "-" or content.startswith("- ")


def _skip_spaces(text: str, pos: int) -> int:
    while pos < len(text) and text[pos] == " ":
        pos += 1
    return pos


# By file name, as `malwi.sources.dependencies.parse_dependency_file` dispatches.
PARSERS: dict[str, Callable[[str | os.PathLike[str], Dependencies | None], Dependencies]] = {
    "uv.lock": parse_uv_lock,
    "poetry.lock": parse_poetry_lock,
    "pdm.lock": parse_pdm_lock,
    "Pipfile.lock": parse_pipfile_lock,
    "yarn.lock": parse_yarn_lock,
    "pnpm-lock.yaml": parse_pnpm_lock,
}
