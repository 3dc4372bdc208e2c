"""Dependency resolution without installing anything: the releases pip or npm would pick.

`resolve_pypi` resolves requirements the way pip does (`resolvelib` with backtracking,
`packaging` markers and specifiers, pip's rules for prereleases and yanked releases). What a
release depends on is read as data, never by building or running anything: the wheel's PEP
658 metadata file (`<file URL>.metadata`, advertised by the JSON API's or the simple JSON API's
file entry), else `info.requires_dist` of the release's JSON page, else the `METADATA` inside
a wheel or the static `PKG-INFO` of an sdist (PEP 643), each file checked against its sha256
and read in memory. A release without static metadata is still pinned (and so scanned), and
listed as unresolved with "dependencies unknown".

`resolve_npm` resolves `package.json` ranges the way npm does, without backtracking: per
dependency the `latest` tag when it satisfies the range, else the highest satisfying version,
then that release's `dependencies` and `optionalDependencies` (never dev or peer).

Every pinned release carries the chain that brought it in, from the dependency file's line
down to the requirement it satisfies. Nothing fetched is executed.
"""

from __future__ import annotations

import email.parser
import hashlib
import http.client
import io
import os
import re
import urllib.parse
import zipfile
from collections import deque
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from packaging.markers import Marker, default_environment
from packaging.requirements import InvalidRequirement, Requirement
from packaging.specifiers import InvalidSpecifier, SpecifierSet
from packaging.utils import canonicalize_name
from packaging.version import InvalidVersion, Version
from resolvelib import AbstractProvider, BaseReporter, ResolutionImpossible, ResolutionTooDeep, Resolver

from malwi.errors import DependencyFileError, RegistryError
from malwi.sources.dependencies import Dependencies, Dependency, Unresolved
from malwi.sources.registries import MAX_DOWNLOAD_BYTES, _open, json_object, npm_sri, npm_url, pypi_url

if TYPE_CHECKING:  # resolvelib 1.0 keeps it elsewhere at run time; only annotations use it
    from resolvelib.structs import RequirementInformation

__all__ = [
    "MAX_CANDIDATES",
    "MAX_ROUNDS",
    "NpmRange",
    "Resolution",
    "SemVer",
    "package_json_specs",
    "requirement_lines",
    "resolve_npm",
    "resolve_pypi",
]

# Bounds on one resolution: releases whose dependencies are read (each one a registry
# request), and resolvelib rounds (a pin or a backtrack each).
MAX_CANDIDATES = 2_000
MAX_ROUNDS = 20_000
# A registry document (project JSON, packument, metadata file) larger than this is refused.
MAX_DOCUMENT_BYTES = min(64 << 20, MAX_DOWNLOAD_BYTES)

UNKNOWN_SDIST = "dependencies unknown: sdist without static metadata; not built"
# A wheel (or an sdist) read for its METADATA (PKG-INFO) when the index publishes no
# dependencies (no PEP 658 file, no requires_dist): one that is larger stays unknown.
MAX_WHEEL_READ = 32 << 20
UNKNOWN_WHEEL = "dependencies unknown: the index publishes neither a wheel metadata file nor requires_dist"
SIMPLE_JSON = "application/vnd.pypi.simple.v1+json"
NPM_ABBREVIATED = "application/vnd.npm.install-v1+json; q=1.0, application/json; q=0.8"


class Resolution:
    """The outcome of a resolution: pinned releases (each with its `chain`), what could not be
    resolved (missing packages, dependencies unknown, URLs), and notes for the user."""

    __slots__ = ("notes", "pinned", "unresolved")

    def __init__(self) -> None:
        self.pinned: list[Dependency] = []
        self.unresolved: list[Unresolved] = []
        self.notes: list[str] = []

    def merge_into(self, dependencies: Dependencies) -> Dependencies:
        """Adds everything to a `Dependencies` (pinned deduplicated as `Dependencies.add` does)."""
        for dependency in self.pinned:
            dependencies.add(dependency)
        dependencies.unresolved.extend(self.unresolved)
        dependencies.notes.extend(self.notes)
        return dependencies


# --- shared helpers ---------------------------------------------------------------------------


def _fetch(url: str, accept: str, limit: int = MAX_DOCUMENT_BYTES) -> bytes:
    """A registry document's bytes through registries' HTTP helper, at most `limit` bytes."""
    try:
        with _open(url, accept) as response:
            length = str(response.headers.get("Content-Length") or "0")
            if length.isdigit() and int(length) > limit:
                raise RegistryError(f"{url}: {int(length):,} bytes, more than malwi reads of metadata")
            body: bytes = response.read(limit + 1)
    except (OSError, http.client.HTTPException) as error:
        raise RegistryError(f"{url}: network error while reading: {type(error).__name__}: {error}") from None
    if len(body) > limit:
        raise RegistryError(f"{url}: more than {limit:,} bytes, more than malwi reads of metadata")
    return body


def _sdist_pkg_info(body: bytes, filename: str) -> str | None:
    """The text of `<top>/PKG-INFO` of an sdist held in memory (tar.gz or zip), or None."""
    import tarfile

    try:
        if filename.endswith(".zip"):
            with zipfile.ZipFile(io.BytesIO(body)) as archive:
                names = [n for n in archive.namelist() if re.fullmatch(r"[^/]+/PKG-INFO", n)]
                if len(names) != 1 or archive.getinfo(names[0]).file_size > MAX_DOCUMENT_BYTES:
                    return None
                return archive.read(names[0]).decode("utf-8", "replace")
        with tarfile.open(fileobj=io.BytesIO(body), mode="r:gz") as archive:
            for member in archive:
                if member.isfile() and re.fullmatch(r"[^/]+/PKG-INFO", member.name):
                    if member.size > MAX_DOCUMENT_BYTES:
                        return None
                    handle = archive.extractfile(member)
                    return handle.read().decode("utf-8", "replace") if handle is not None else None
    except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError, ValueError):
        return None
    return None


def _fetch_json(url: str, accept: str = "application/json") -> dict[str, Any]:
    return json_object(url, _fetch(url, accept))


def _origin_file(origin: str) -> str:
    """`requirements.txt:3` → `requirements.txt`; `package.json dependencies.x` → `package.json`."""
    match = re.match(r"^(.*):\d+$", origin)
    if match:
        return match.group(1)
    return origin.rsplit(" ", 1)[0] if " " in origin else origin


def _files(origins: Iterable[str]) -> str:
    return ", ".join(dict.fromkeys(_origin_file(origin) for origin in origins)) or "dependencies"


def _via(chain: Sequence[str]) -> str:
    return f" (via {' → '.join(chain)})" if len(chain) > 1 else ""


# --- requirements files -------------------------------------------------------------------------


def requirement_lines(path: str | os.PathLike[str]) -> list[tuple[str, str]]:
    """Every requirement of a pip requirements file as `(requirement, "file:line")`, pinned or
    not, following `-r` includes; `--hash` options are dropped, `-e` lines kept (resolve_pypi
    reports them), other option lines (`-c`, `-i`, `--pre`, ...) left out."""
    from malwi.sources.dependencies import is_editable, requirement_file_lines, without_hashes

    lines: list[tuple[str, str]] = []
    for origin, words, line in requirement_file_lines(path):
        if is_editable(words):
            lines.append((line, origin))
        elif not words[0].startswith("-"):
            lines.append((without_hashes(line), origin))
    return lines


def package_json_specs(path: str | os.PathLike[str]) -> list[tuple[str, str, str]]:
    """Every dependency of a `package.json` as `(name, range, origin)` for resolve_npm:
    `dependencies`, `devDependencies` and `optionalDependencies` (a project's own dev
    dependencies are installed by `npm install`; those of its dependencies never are). The
    origin is the one `parse_package_json` gives (`package.json dependencies.name`)."""
    from malwi.sources.dependencies import NPM_SECTIONS, load_json_file

    path = Path(path)
    data = load_json_file(path)
    specs: list[tuple[str, str, str]] = []
    for section in NPM_SECTIONS:
        entries = data.get(section) or {}
        if not isinstance(entries, dict):
            raise DependencyFileError(f"{path}: {section} must be an object")
        for name, spec in entries.items():
            specs.append((str(name), str(spec).strip(), f"{path} {section}.{name}"))
    return specs


# --- PyPI -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class _File:
    filename: str
    url: str
    kind: str  # sdist, bdist_wheel, other
    yanked: bool
    requires_python: str | None
    metadata: bool | dict[str, str]  # PEP 658/714: False, True, or the metadata file's hashes
    sha256: str = ""  # the file's own digest, as the index publishes it


@dataclass
class _Project:
    name: str  # canonical
    display: str
    url: str  # the project JSON (or simple) page, for messages
    releases: dict[Version, tuple[str, list[_File]]]  # version → (its string on the index, files)
    info: dict[str, Any] = field(default_factory=dict)
    missing: bool = False  # HTTP 404: not on the index
    simple: dict[str, _File] | None = None  # simple JSON API file entries by filename, once fetched


@dataclass(frozen=True)
class _Candidate:
    name: str
    display: str
    version: Version | None  # None: a project that is not on the index
    extra: str | None = None

    @property
    def key(self) -> str:
        return f"{self.name}[{self.extra}]" if self.extra else self.name

    @property
    def label(self) -> str:
        extra = f"[{self.extra}]" if self.extra else ""
        return f"{self.display}{extra}=={self.version}" if self.version is not None else self.display


@dataclass(frozen=True)
class _Req:
    name: str
    extra: str | None
    specifier: SpecifierSet
    text: str  # as the file or the metadata writes it (markers left out for metadata)
    origin: str = ""  # file:line for a requirement of the file itself, else empty
    position: int = 0  # order in the file / in the parent's metadata

    @property
    def key(self) -> str:
        return f"{self.name}[{self.extra}]" if self.extra else self.name


def _display(requirement: Requirement) -> str:
    extras = f"[{','.join(sorted(requirement.extras))}]" if requirement.extras else ""
    return f"{requirement.name}{extras}{requirement.specifier}"


def _split(requirement: Requirement, text: str, origin: str, position: int) -> list[_Req]:
    """One resolvelib requirement for the project and one per extra (`pkg[a,b]` → pkg, pkg[a],
    pkg[b]); each extra's candidate depends on the project pinned to the same version."""
    name = canonicalize_name(requirement.name)
    extras = sorted({canonicalize_name(extra) for extra in requirement.extras})
    return [_Req(name, extra, requirement.specifier, text, origin, position) for extra in [None, *extras]]


def _marker_holds(marker: Marker, environment: Mapping[str, str], extra: str = "") -> bool:
    try:
        return bool(marker.evaluate({**environment, "extra": extra}))
    except ValueError:  # undefined comparison or name: pip refuses; here the requirement is left out
        return False


class _Index:
    """What the resolver reads from a PyPI-shaped index, each document fetched once."""

    def __init__(self, base: str, environment: Mapping[str, str], max_candidates: int) -> None:
        self.base = base.rstrip("/")
        self.simple_base = self.base[: -len("/pypi")] + "/simple" if self.base.endswith("/pypi") else None
        self.environment = environment
        self.python = environment.get("python_full_version") or environment.get("python_version", "")
        self.max_candidates = max_candidates
        self.projects: dict[str, _Project] = {}
        self.dependencies: dict[tuple[str, Version], list[Requirement] | None] = {}
        self.unknown: dict[tuple[str, Version], str] = {}
        self.notes: list[str] = []

    # Project documents.

    def project(self, name: str) -> _Project:
        if name not in self.projects:
            self.projects[name] = self._load_project(name)
        return self.projects[name]

    def _load_project(self, name: str) -> _Project:
        url = f"{self.base}/{urllib.parse.quote(name, safe='')}/json"
        try:
            document = _fetch_json(url)
        except RegistryError as error:
            if error.status != 404:
                raise
            return _Project(name, name, url, {}, missing=True)
        try:
            info = dict(document.get("info") or {})
            project = _Project(name, str(info.get("name") or name), url, {}, info)
            releases = document.get("releases")
            if isinstance(releases, dict):
                for version_text, entries in releases.items():
                    files = [self._file(entry, url) for entry in entries or () if isinstance(entry, dict)]
                    self._add_release(project, str(version_text), files)
                return project
        except (AttributeError, TypeError, ValueError, KeyError) as error:
            raise RegistryError(
                f"{url}: unexpected registry metadata ({type(error).__name__}: {error})"
            ) from None
        # A project page without the release list: the simple JSON API lists the files.
        simple = self._simple(project)
        if not simple:
            raise RegistryError(f"{url}: lists no releases, and the index has no simple JSON API")
        by_version: dict[str, list[_File]] = {}
        for file in simple.values():
            version = _version_from_filename(file.filename)
            if version is not None:
                by_version.setdefault(version, []).append(file)
        for version_text, files in by_version.items():
            self._add_release(project, version_text, files)
        return project

    @staticmethod
    def _add_release(project: _Project, version_text: str, files: list[_File]) -> None:
        try:
            version = Version(version_text)
        except InvalidVersion:
            return  # legacy versions pip no longer installs
        files = [file for file in files if file.kind in ("sdist", "bdist_wheel")]
        if files and version not in project.releases:
            project.releases[version] = (version_text, files)

    @staticmethod
    def _file(entry: dict[str, Any], page: str) -> _File:
        filename = str(entry.get("filename") or "")
        kind = str(entry.get("packagetype") or "") or _kind(filename)
        metadata = entry.get(
            "core-metadata", entry.get("data-dist-info-metadata", entry.get("core_metadata"))
        )
        if isinstance(metadata, dict):
            hashes: bool | dict[str, str] = {str(k): str(v) for k, v in metadata.items()} or True
        else:
            hashes = bool(metadata)
        requires_python = entry.get("requires_python", entry.get("requires-python"))
        return _File(
            filename,
            urllib.parse.urljoin(page, str(entry.get("url") or "")),
            kind if kind in ("sdist", "bdist_wheel") else "other",
            bool(entry.get("yanked")),
            str(requires_python) if requires_python else None,
            hashes,
            str((entry.get("digests") or entry.get("hashes") or {}).get("sha256") or ""),
        )

    def _simple(self, project: _Project) -> dict[str, _File]:
        """The simple JSON API's file entries (they advertise PEP 658 metadata files); empty
        when the index has none."""
        if project.simple is None:
            project.simple = {}
            if self.simple_base is not None:
                url = f"{self.simple_base}/{urllib.parse.quote(project.name, safe='')}/"
                try:
                    document = _fetch_json(url, SIMPLE_JSON)
                    for entry in document.get("files") or ():
                        if isinstance(entry, dict) and entry.get("filename"):
                            file = self._file(entry, url)
                            project.simple[file.filename] = file
                except RegistryError:
                    pass  # no simple JSON API (or HTML only): requires_dist is read instead
                except (AttributeError, TypeError, ValueError):
                    project.simple = {}
        return project.simple

    # Candidates.

    def installable(self, files: list[_File]) -> bool:
        """Some file of the release is for this Python (Requires-Python), as pip requires."""
        for file in files:
            if not file.requires_python or not self.python:
                return True
            try:
                if SpecifierSet(file.requires_python).contains(self.python, prereleases=True):
                    return True
            except InvalidSpecifier:
                return True  # pip ignores an invalid Requires-Python
        return False

    # Dependencies.

    def requirements_of(self, candidate: _Candidate) -> list[Requirement]:
        """Requires-Dist of a release; unknown ones are recorded in `unknown`, as none."""
        assert candidate.version is not None
        key = (candidate.name, candidate.version)
        if key not in self.dependencies:
            if len(self.dependencies) >= self.max_candidates:
                raise _TooMany(self.max_candidates)
            self.dependencies[key] = self._read_dependencies(self.project(candidate.name), candidate.version)
        found = self.dependencies[key]
        return found if found is not None else []

    def _read_dependencies(self, project: _Project, version: Version) -> list[Requirement] | None:
        version_text, files = project.releases[version]
        wheels = [file for file in files if file.kind == "bdist_wheel"]
        label = f"{project.display}=={version_text}"
        if wheels:
            listed = [file for file in wheels if file.metadata]
            if not listed:
                simple = self._simple(project)
                listed = [
                    simple[f.filename] for f in wheels if f.filename in simple and simple[f.filename].metadata
                ]
            # A pure-Python wheel first: platform wheels rarely differ, but it is the common one.
            listed.sort(key=lambda file: (not file.filename.endswith("-none-any.whl"), file.filename))
            for file in listed[:1]:
                texts = self._metadata_file(file, label)
                if texts is not None:
                    return self._parse(texts, label)
        texts = self._requires_dist(project, version_text)
        if texts is None and wheels:
            texts = self._wheel_metadata(wheels, label)
        if texts is None and not wheels:
            texts = self._sdist_metadata([file for file in files if file.kind == "sdist"], label)
        if texts is None:
            self.unknown[(project.name, version)] = UNKNOWN_WHEEL if wheels else UNKNOWN_SDIST
            return None
        return self._parse(texts, label)

    def _sdist_metadata(self, sdists: list[_File], label: str) -> list[str] | None:
        """Requires-Dist from an sdist's PKG-INFO when it is static metadata (PEP 643:
        Metadata-Version 2.2 or later, Requires-Dist not Dynamic); the archive is read in
        memory, its digest checked; nothing is built."""
        digested = [file for file in sdists if file.sha256 and file.filename.endswith((".tar.gz", ".zip"))]
        for file in digested[:1]:
            body = self._release_file(file, label)
            if body is None:
                return None
            text = _sdist_pkg_info(body, file.filename)
            if text is None:
                return None
            message = email.parser.Parser().parsestr(text, headersonly=True)
            try:
                static = Version(str(message.get("Metadata-Version") or "0")) >= Version("2.2")
            except InvalidVersion:
                return None
            dynamic = {str(value).strip().lower() for value in message.get_all("Dynamic") or ()}
            if not static or "requires-dist" in dynamic:
                return None
            return [str(value) for value in message.get_all("Requires-Dist") or ()]
        return None

    def _release_file(self, file: _File, label: str) -> bytes | None:
        """A release file's bytes (at most MAX_WHEEL_READ), checked against its sha256."""
        try:
            body = _fetch(file.url, "application/octet-stream", MAX_WHEEL_READ)
        except RegistryError as error:
            self.notes.append(f"{label}: {file.filename} could not be read for its dependencies: {error}")
            return None
        if hashlib.sha256(body).hexdigest() != file.sha256.lower():
            self.notes.append(f"{label}: {file.filename} does not match its sha256 in the index; not read")
            return None
        return body

    def _wheel_metadata(self, wheels: list[_File], label: str) -> list[str] | None:
        """Requires-Dist from the METADATA inside the smallest pure-Python wheel (else any), when
        the index says nothing: the wheel is read as a zip in memory, its digest checked; a
        wheel is data, nothing in it runs (an sdist would have to be built)."""
        digested = [file for file in wheels if file.sha256]
        digested.sort(key=lambda file: (not file.filename.endswith("-none-any.whl"), file.filename))
        for file in digested[:1]:
            body = self._release_file(file, label)
            if body is None:
                return None
            try:
                with zipfile.ZipFile(io.BytesIO(body)) as wheel:
                    names = [n for n in wheel.namelist() if re.fullmatch(r"[^/]+\.dist-info/METADATA", n)]
                    if len(names) != 1 or wheel.getinfo(names[0]).file_size > MAX_DOCUMENT_BYTES:
                        return None
                    text = wheel.read(names[0]).decode("utf-8", "replace")
            except (zipfile.BadZipFile, OSError, ValueError):
                return None
            message = email.parser.Parser().parsestr(text, headersonly=True)
            return [str(value) for value in message.get_all("Requires-Dist") or ()]
        return None

    def _metadata_file(self, file: _File, label: str) -> list[str] | None:
        url = file.url + ".metadata"
        try:
            body = _fetch(url, "text/plain, */*")
        except RegistryError as error:
            if error.status is None:
                raise
            self.notes.append(
                f"{label}: {url} advertised but not served (HTTP {error.status}); requires_dist used"
            )
            return None
        expected = file.metadata.get("sha256", "") if isinstance(file.metadata, dict) else ""
        if expected and hashlib.sha256(body).hexdigest() != expected.lower():
            self.notes.append(f"{label}: {url} does not match its sha256 in the index; requires_dist used")
            return None
        message = email.parser.Parser().parsestr(body.decode("utf-8", "replace"), headersonly=True)
        return [str(value) for value in message.get_all("Requires-Dist") or ()]

    def _requires_dist(self, project: _Project, version_text: str) -> list[str] | None:
        """`info.requires_dist` of the release's JSON page: a list (maybe empty), or None when
        the index does not know (null, or a mirror without per-version pages)."""
        url = f"{self.base}/{urllib.parse.quote(project.name, safe='')}/{urllib.parse.quote(version_text, safe='')}/json"
        try:
            info = _fetch_json(url).get("info") or {}
        except RegistryError as error:
            if error.status != 404:
                raise
            info = project.info if str(project.info.get("version")) == version_text else {}
        requires = info.get("requires_dist") if isinstance(info, dict) else None
        if not isinstance(requires, list):
            return None
        return [str(text) for text in requires]

    def _parse(self, texts: list[str], label: str) -> list[Requirement]:
        parsed: list[Requirement] = []
        for text in texts:
            try:
                parsed.append(Requirement(text))
            except InvalidRequirement:
                self.notes.append(f"{label}: Requires-Dist {text!r} is not a valid requirement; left out")
        return parsed


class _TooMany(Exception):
    def __init__(self, limit: int) -> None:
        super().__init__(limit)
        self.limit = limit


def _kind(filename: str) -> str:
    if filename.endswith(".whl"):
        return "bdist_wheel"
    if filename.endswith((".tar.gz", ".zip", ".tar.bz2", ".tar.xz", ".tgz", ".tar")):
        return "sdist"
    return "other"


def _version_from_filename(filename: str) -> str | None:
    from packaging.utils import (
        InvalidSdistFilename,
        InvalidWheelFilename,
        parse_sdist_filename,
        parse_wheel_filename,
    )

    try:
        if filename.endswith(".whl"):
            return str(parse_wheel_filename(filename)[1])
        if filename.endswith((".tar.gz", ".zip")):
            return str(parse_sdist_filename(filename)[1])
    except (InvalidWheelFilename, InvalidSdistFilename, InvalidVersion):
        return None
    return None


def _pinned_exactly(requirement: _Req, version: Version, version_text: str) -> bool:
    for spec in requirement.specifier:
        if spec.operator == "===" and spec.version == version_text:
            return True
        if spec.operator == "==" and not spec.version.endswith(".*"):
            try:
                if Version(spec.version) == version:
                    return True
            except InvalidVersion:
                continue
    return False


if TYPE_CHECKING:
    _ProviderBase = AbstractProvider[_Req, _Candidate, str]
else:  # resolvelib 1.0 types its classes in stubs only: not subscriptable at run time
    _ProviderBase = AbstractProvider


class _Provider(_ProviderBase):
    def __init__(self, index: _Index) -> None:
        self.index = index
        self.prerelease_notes: set[str] = set()

    def identify(self, requirement_or_candidate: _Req | _Candidate) -> str:
        return requirement_or_candidate.key

    def get_preference(
        self,
        identifier: str,
        resolutions: Mapping[str, _Candidate],
        candidates: Mapping[str, Iterator[_Candidate]],
        information: Mapping[str, Iterator[RequirementInformation[_Req, _Candidate]]],
        backtrack_causes: Sequence[RequirementInformation[_Req, _Candidate]],
    ) -> tuple[bool, bool, bool, str]:
        infos = list(information[identifier])
        causes = {cause.requirement.name for cause in backtrack_causes} | {
            cause.parent.name for cause in backtrack_causes if cause.parent is not None
        }
        pinned = any(spec.operator in ("==", "===") for info in infos for spec in info.requirement.specifier)
        direct = any(info.parent is None for info in infos)
        name = identifier.split("[", 1)[0]
        return (name not in causes, not pinned, not direct, identifier)

    def find_matches(
        self,
        identifier: str,
        requirements: Mapping[str, Iterator[_Req]],
        incompatibilities: Mapping[str, Iterator[_Candidate]],
    ) -> list[_Candidate]:
        wanted = list(requirements[identifier])
        name, _, extra_text = identifier.partition("[")
        extra = extra_text.rstrip("]") or None
        project = self.index.project(name)
        bad = set(incompatibilities[identifier])
        if project.missing:
            placeholder = _Candidate(name, project.display, None, extra)
            return [] if placeholder in bad else [placeholder]
        matching: list[tuple[Version, str]] = []
        for version, (text, files) in project.releases.items():
            if not all(req.specifier.contains(version, prereleases=True) for req in wanted):
                continue
            if not self.index.installable(files):
                continue
            if all(file.yanked for file in files) and not any(
                _pinned_exactly(req, version, text) for req in wanted
            ):
                continue  # PEP 592: a yanked release only when pinned to exactly it
            matching.append((version, text))
        # pip's rule: prereleases only when a specifier names one, or when nothing else matches.
        if not any(req.specifier.prereleases for req in wanted):
            finals = [item for item in matching if not item[0].is_prerelease]
            if finals:
                matching = finals
            elif matching:
                self.prerelease_notes.add(
                    f"{project.display}: only prereleases match {', '.join(dict.fromkeys(r.text for r in wanted))}; "
                    "a prerelease is used, as pip would"
                )
        matching.sort(key=lambda item: item[0], reverse=True)
        found = [_Candidate(name, project.display, version, extra) for version, _ in matching]
        return [candidate for candidate in found if candidate not in bad]

    def is_satisfied_by(self, requirement: _Req, candidate: _Candidate) -> bool:
        if candidate.version is None:
            return True
        return requirement.specifier.contains(candidate.version, prereleases=True)

    def get_dependencies(self, candidate: _Candidate) -> list[_Req]:
        if candidate.version is None:
            return []
        requirements = self.index.requirements_of(candidate)
        environment = self.index.environment
        found: list[_Req] = []
        if candidate.extra:
            pin = f"=={candidate.version}"
            found.append(_Req(candidate.name, None, SpecifierSet(pin), f"{candidate.display}{pin}"))
        for position, requirement in enumerate(requirements):
            if requirement.url:
                continue  # reported after resolution (only for releases that are kept)
            if requirement.marker is not None:
                base = _marker_holds(requirement.marker, environment)
                if candidate.extra:
                    if base or not _marker_holds(requirement.marker, environment, candidate.extra):
                        continue  # the project's own candidate brings it in, or it is not for this extra
                elif not base:
                    continue
            elif candidate.extra:
                continue
            found.extend(_split(requirement, _display(requirement), "", position))
        return found


def _environment(overrides: Mapping[str, str] | None) -> dict[str, str]:
    environment = {key: str(value) for key, value in default_environment().items()}
    if overrides:
        environment.update(overrides)
        if "python_version" in overrides and "python_full_version" not in overrides:
            environment["python_full_version"] = overrides["python_version"] + ".0"
    return environment


def _looks_like_path_or_url(text: str) -> bool:
    return (
        "://" in text
        or text.startswith((".", "/", "~"))
        or re.match(r"^[A-Za-z]:\\", text) is not None
        or text.endswith((".whl", ".tar.gz", ".zip"))
    )


def resolve_pypi(
    requirements: list[tuple[str, str]],
    *,
    index_url: str | None,
    environment: dict[str, str] | None = None,
    max_candidates: int = MAX_CANDIDATES,
    max_rounds: int = MAX_ROUNDS,
) -> Resolution:
    """Resolves `(requirement, "file:line")` pairs to the releases pip would install, with every
    transitive dependency. `environment` overrides marker variables of the running interpreter
    (`{"python_version": "3.9", "sys_platform": "win32"}`). A conflict raises
    DependencyFileError naming the requirements; a project missing from the index, an sdist
    whose dependencies only a build would tell, and URL requirements are `unresolved`."""
    resolution = Resolution()
    index = _Index(index_url or pypi_url(), _environment(environment), max_candidates)
    roots: list[_Req] = []
    for position, (raw, origin) in enumerate(requirements):
        text = re.split(r"\s+--hash[= ]", raw.strip())[0].strip()
        if re.match(r"^(-e|--editable)(\s|=|$)", text):
            resolution.unresolved.append(
                Unresolved("pypi", text, origin, "editable install: not a release on PyPI")
            )
            continue
        if _looks_like_path_or_url(text.split(";")[0].strip()):
            resolution.unresolved.append(
                Unresolved("pypi", text, origin, "URL or local path: not a release on PyPI")
            )
            continue
        try:
            requirement = Requirement(text)
        except InvalidRequirement:
            resolution.unresolved.append(
                Unresolved("pypi", text, origin, "not a requirement pip understands")
            )
            continue
        if requirement.url:
            resolution.unresolved.append(
                Unresolved("pypi", text, origin, "URL or local path: not a release on PyPI")
            )
            continue
        if requirement.marker is not None and not _marker_holds(requirement.marker, index.environment):
            resolution.notes.append(f"{origin}: {text} is not for this environment (markers); not resolved")
            continue
        roots.extend(_split(requirement, text, origin, position))
    if not roots:
        return resolution
    files = _files(origin for _, origin in requirements)
    provider = _Provider(index)
    try:
        result = Resolver(provider, BaseReporter()).resolve(roots, max_rounds=max_rounds)
    except ResolutionImpossible as error:
        raise DependencyFileError(f"{files}: {_conflict(error.causes)}") from None
    except ResolutionTooDeep:
        raise DependencyFileError(
            f"{files}: dependency resolution gave up after {max_rounds:,} rounds; pin more of the requirements"
        ) from None
    except _TooMany as error:
        raise DependencyFileError(
            f"{files}: dependency resolution read more than {error.limit:,} releases (the limit); "
            "pin more of the requirements"
        ) from None

    chains = _chains(result.mapping, result.criteria, roots)
    resolution.notes.extend(index.notes)
    resolution.notes.extend(sorted(provider.prerelease_notes))
    for key, (origin, chain, text) in chains.items():
        candidate = result.mapping[key]
        if candidate.extra:
            continue
        if candidate.version is None:
            url = index.project(candidate.name).url
            resolution.unresolved.append(
                Unresolved("pypi", text, origin, f"not on the index ({url}: HTTP 404){_via(chain)}")
            )
            continue
        version_text = index.project(candidate.name).releases[candidate.version][0]
        resolution.pinned.append(Dependency("pypi", candidate.display, version_text, origin, chain=chain))
        unknown = index.unknown.get((candidate.name, candidate.version))
        if unknown:
            resolution.unresolved.append(
                Unresolved("pypi", f"{candidate.display}=={version_text}", origin, unknown + _via(chain))
            )
        for requirement in index.dependencies.get((candidate.name, candidate.version)) or ():
            if requirement.url and (
                requirement.marker is None or _marker_holds(requirement.marker, index.environment)
            ):
                resolution.unresolved.append(
                    Unresolved(
                        "pypi",
                        str(requirement),
                        origin,
                        f"URL requirement of {candidate.label}: not a release on PyPI{_via(chain)}",
                    )
                )
    return resolution


def _chains(
    mapping: Mapping[str, _Candidate],
    criteria: Mapping[str, Any],
    roots: list[_Req],
) -> dict[str, tuple[str, tuple[str, ...], str]]:
    """For every resolved identifier: the file:line it comes from, the shortest chain of
    requirements from that line down to it (breadth first, in file order), and the requirement
    it satisfies."""
    children: dict[str, list[tuple[int, str, _Req]]] = {}
    found: dict[str, tuple[str, tuple[str, ...], str]] = {}
    queue: deque[str] = deque()
    for root in sorted(roots, key=lambda req: req.position):
        if root.key in mapping and root.key not in found:
            found[root.key] = (root.origin, (f"{root.origin} {root.text}",), root.text)
            queue.append(root.key)
    for key, criterion in criteria.items():
        if key not in mapping:
            continue
        for information in criterion.information:
            parent = information.parent
            if parent is not None and mapping.get(parent.key) == parent:
                children.setdefault(parent.key, []).append(
                    (information.requirement.position, key, information.requirement)
                )
    while queue:
        parent_key = queue.popleft()
        origin, chain, _ = found[parent_key]
        for _, key, requirement in sorted(children.get(parent_key, ()), key=lambda item: item[0]):
            if key not in found:
                found[key] = (origin, (*chain, requirement.text), requirement.text)
                queue.append(key)
    for key, candidate in mapping.items():  # resolvelib keeps only reachable pins: never reached
        if key not in found:
            found[key] = (roots[0].origin, (), candidate.label)
    return found


def _conflict(causes: Iterable[RequirementInformation[_Req, _Candidate]]) -> str:
    """One line: which requirements cannot all hold, and who asked for each."""
    groups: dict[str, list[str]] = {}
    for cause in causes:
        requirement, parent = cause.requirement, cause.parent
        who = parent.label if parent is not None else requirement.origin
        entry = f"{requirement.text} (from {who})"
        group = groups.setdefault(requirement.name, [])
        if entry not in group:
            group.append(entry)
    parts = []
    for name, entries in groups.items():
        if len(entries) == 1:
            parts.append(f"no release of {name} on the index satisfies {entries[0]}")
        else:
            parts.append(f"conflicting requirements for {name}: {', '.join(entries)}")
    return (
        "cannot resolve the dependencies: "
        + "; ".join(parts)
        + " (yanked releases, prereleases not asked for and releases for another Python are left out)"
    )


# --- npm: semantic versions ---------------------------------------------------------------------

_SEMVER = re.compile(
    r"^\s*[=v]*(\d{1,16})\.(\d{1,16})\.(\d{1,16})"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?\s*$"
)
_PARTIAL = re.compile(
    r"^[=v]*(x|X|\*|\d{1,16})(?:\.(x|X|\*|\d{1,16})(?:\.(x|X|\*|\d{1,16})"
    r"(?:-([0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*))?)?)?(?:\+[0-9A-Za-z-]+(?:\.[0-9A-Za-z-]+)*)?$"
)


@dataclass(frozen=True)
class SemVer:
    """A semantic version (build metadata dropped): compared by precedence, as npm does."""

    major: int
    minor: int
    patch: int
    prerelease: tuple[int | str, ...] = ()

    @classmethod
    def parse(cls, text: str) -> SemVer | None:
        match = _SEMVER.match(text)
        if not match:
            return None
        return cls(
            int(match.group(1)), int(match.group(2)), int(match.group(3)), _identifiers(match.group(4))
        )

    @property
    def release(self) -> tuple[int, int, int]:
        return (self.major, self.minor, self.patch)

    def sort_key(self) -> tuple[Any, ...]:
        # A prerelease sorts before its release; numeric identifiers before alphanumeric ones.
        identifiers = tuple(
            (0, part, "") if isinstance(part, int) else (1, 0, part) for part in self.prerelease
        )
        return (*self.release, 0 if self.prerelease else 1, identifiers)

    def __lt__(self, other: SemVer) -> bool:
        return self.sort_key() < other.sort_key()

    def __le__(self, other: SemVer) -> bool:
        return self.sort_key() <= other.sort_key()

    def __gt__(self, other: SemVer) -> bool:
        return self.sort_key() > other.sort_key()

    def __ge__(self, other: SemVer) -> bool:
        return self.sort_key() >= other.sort_key()

    def __str__(self) -> str:
        pre = "-" + ".".join(str(part) for part in self.prerelease) if self.prerelease else ""
        return f"{self.major}.{self.minor}.{self.patch}{pre}"


def _identifiers(text: str | None) -> tuple[int | str, ...]:
    if not text:
        return ()
    # Numeric identifiers compare as numbers (a 40-digit one is kept as text: no huge ints).
    return tuple(int(part) if part.isdigit() and len(part) <= 16 else part for part in text.split("."))


_Comparator = tuple[str, SemVer]  # operator (<, <=, >, >=, =) and version
_NOTHING: _Comparator = ("<", SemVer(0, 0, 0, (0,)))  # matches no version at all


def _bump(major: int, minor: int | None = None) -> SemVer:
    """The first prerelease of the next major (or minor) release: an exclusive upper bound."""
    if minor is None:
        return SemVer(major + 1, 0, 0, (0,))
    return SemVer(major, minor + 1, 0, (0,))


def _partial(text: str) -> tuple[int | None, int | None, int | None, tuple[int | str, ...]] | None:
    match = _PARTIAL.match(text)
    if not match:
        return None
    numbers: list[int | None] = []
    for group in match.group(1, 2, 3):
        if group is None or group in ("x", "X", "*") or (numbers and numbers[-1] is None):
            numbers.append(None)  # everything after a wildcard is a wildcard
        else:
            numbers.append(int(group))
    pre = _identifiers(match.group(4)) if numbers[2] is not None else ()
    return numbers[0], numbers[1], numbers[2], pre


def _primitive(operator: str, text: str) -> list[_Comparator] | None:
    parsed = _partial(text)
    if parsed is None:
        return None
    major, minor, patch, pre = parsed
    if major is None:
        return [_NOTHING] if operator in ("<", ">") else []
    low = SemVer(major, minor or 0, patch or 0, pre)
    if operator == "^":
        if minor is None:
            return [(">=", low), ("<", _bump(major))]
        if patch is None:
            return [(">=", low), ("<", _bump(major, minor) if major == 0 else _bump(major))]
        if major:
            upper = _bump(major)
        elif minor:
            upper = _bump(0, minor)
        else:
            upper = SemVer(0, 0, patch + 1, (0,))
        return [(">=", low), ("<", upper)]
    if operator in ("~", "~>"):
        return [(">=", low), ("<", _bump(major) if minor is None else _bump(major, minor))]
    if operator in ("", "="):
        if minor is None:
            return [(">=", low), ("<", _bump(major))]
        if patch is None:
            return [(">=", low), ("<", _bump(major, minor))]
        return [("=", low)]
    if operator == ">":
        if minor is None:
            return [(">=", SemVer(major + 1, 0, 0))]
        if patch is None:
            return [(">=", SemVer(major, minor + 1, 0))]
        return [(">", low)]
    if operator == ">=":
        return [(">=", low)]
    if operator == "<":
        return [("<", low if patch is not None else SemVer(major, minor or 0, 0, (0,)))]
    if operator == "<=":
        if minor is None:
            return [("<", _bump(major))]
        if patch is None:
            return [("<", _bump(major, minor))]
        return [("<=", low)]
    return None


def _hyphen(first: str, last: str) -> list[_Comparator] | None:
    low, high = _partial(first), _partial(last)
    if low is None or high is None:
        return None
    comparators: list[_Comparator] = []
    if low[0] is not None:
        comparators.append((">=", SemVer(low[0], low[1] or 0, low[2] or 0, low[3])))
    major, minor, patch, pre = high
    if major is not None:
        if minor is None:
            comparators.append(("<", _bump(major)))
        elif patch is None:
            comparators.append(("<", _bump(major, minor)))
        else:
            comparators.append(("<=", SemVer(major, minor, patch, pre)))
    return comparators


_OPERATOR = re.compile(r"^(~>|<=|>=|<|>|=|~|\^)?(.*)$")


class NpmRange:
    """An npm version range (`^1.2.3`, `~1.2`, `1.x`, `>=1 <2`, `1.0.0 - 2.0.0`, `a || b`).
    `NpmRange.parse` returns None for anything that is not a range (a tag, a URL, git)."""

    __slots__ = ("sets", "text")

    def __init__(self, text: str, sets: list[list[_Comparator]]) -> None:
        self.text = text
        self.sets = sets

    @classmethod
    def parse(cls, text: str) -> NpmRange | None:
        sets: list[list[_Comparator]] = []
        for alternative in text.split("||"):
            part = alternative.strip()
            hyphen = re.match(r"^(\S+)\s+-\s+(\S+)$", part)
            if hyphen:
                comparators = _hyphen(hyphen.group(1), hyphen.group(2))
                if comparators is None:
                    return None
                sets.append(comparators)
                continue
            comparators = []
            for token in re.sub(r"(~>|<=|>=|<|>|=|~|\^)\s+", r"\1", part).split():
                match = _OPERATOR.match(token)
                assert match is not None  # the pattern matches every string
                found = _primitive(match.group(1) or "", match.group(2))
                if found is None:
                    return None
                comparators.extend(found)
            sets.append(comparators)
        return cls(text, sets)

    def matches(self, version: SemVer) -> bool:
        return any(_set_matches(comparators, version) for comparators in self.sets)

    def __repr__(self) -> str:
        return f"NpmRange({self.text!r})"


def _compare(operator: str, version: SemVer, bound: SemVer) -> bool:
    if operator == "<":
        return version < bound
    if operator == "<=":
        return version <= bound
    if operator == ">":
        return version > bound
    if operator == ">=":
        return version >= bound
    return version.sort_key() == bound.sort_key()


def _set_matches(comparators: list[_Comparator], version: SemVer) -> bool:
    if not all(_compare(operator, version, bound) for operator, bound in comparators):
        return False
    if not version.prerelease:
        return True
    # A prerelease only when a comparator of the set names a prerelease of the same release.
    return any(bound.prerelease and bound.release == version.release for _, bound in comparators)


# --- npm: resolution ----------------------------------------------------------------------------

_NOT_REGISTRY = (
    ("git+", "git dependency: not a registry release"),
    ("git:", "git dependency: not a registry release"),
    ("github:", "git dependency: not a registry release"),
    ("gitlab:", "git dependency: not a registry release"),
    ("bitbucket:", "git dependency: not a registry release"),
    ("gist:", "git dependency: not a registry release"),
    ("http://", "tarball URL: not a registry release"),
    ("https://", "tarball URL: not a registry release"),
    ("file:", "local path: not a registry release"),
    ("link:", "linked local folder: not a registry release"),
    ("workspace:", "workspace package: part of the project, not a registry release"),
    ("portal:", "local path: not a registry release"),
)


def _not_registry(spec: str) -> str | None:
    for prefix, reason in _NOT_REGISTRY:
        if spec.startswith(prefix):
            return reason
    if spec.startswith((".", "/", "~/")):
        return "local path: not a registry release"
    if re.match(r"^[A-Za-z0-9_.-]+/[A-Za-z0-9_.-]+(#.*)?$", spec):
        return "GitHub shorthand (git dependency): not a registry release"
    return None


def _pick(packument: dict[str, Any], spec: str) -> tuple[str, dict[str, Any]] | None:
    """npm's choice for a range or tag: the `latest` tag when it satisfies, else the highest
    satisfying version, one that is not deprecated when there is one."""
    versions = packument.get("versions") or {}
    tags = packument.get("dist-tags") or {}
    if not isinstance(versions, dict) or not isinstance(tags, dict):
        return None
    spec = spec.strip()
    if spec in tags and NpmRange.parse(spec) is None:
        tagged = str(tags[spec])
        entry = versions.get(tagged)
        return (tagged, entry) if isinstance(entry, dict) else None
    wanted = NpmRange.parse(spec)
    if wanted is None:
        return None
    latest = str(tags.get("latest") or "")
    latest_version = SemVer.parse(latest)
    if (
        latest_version is not None
        and isinstance(versions.get(latest), dict)
        and (spec in ("", "*", "x", "X") or wanted.matches(latest_version))
    ):
        return latest, versions[latest]
    candidates: list[tuple[bool, SemVer, str]] = []
    for text, entry in versions.items():
        version = SemVer.parse(str(text))
        if version is not None and isinstance(entry, dict) and wanted.matches(version):
            candidates.append((not entry.get("deprecated"), version, str(text)))
    if not candidates:
        return None
    best = max(candidates, key=lambda item: (item[0], item[1].sort_key()))
    return best[2], versions[best[2]]


def _npm_alias(name: str, spec: str) -> tuple[str, str]:
    if spec.startswith("npm:"):
        real, _, version = spec[4:].rpartition("@")
        if real:
            return real, version
        return spec[4:], ""
    return name, spec


def resolve_npm(
    specs: list[tuple[str, str, str]],
    *,
    registry_url: str | None,
    max_packages: int = MAX_CANDIDATES,
) -> Resolution:
    """Resolves `(name, range, origin)` from a package.json to the releases npm would install,
    with their `dependencies` and `optionalDependencies`, breadth first (each name@version once;
    cycles are fine). Registry releases get the packument's tarball and integrity as
    `resolved`/`integrity`. Ranges no release satisfies, missing packages and git, URL or local
    specs are `unresolved`."""
    base = (registry_url or npm_url()).rstrip("/")
    resolution = Resolution()
    packuments: dict[str, dict[str, Any] | None] = {}
    seen: set[tuple[str, str]] = set()
    queue: deque[tuple[str, str, str, tuple[str, ...]]] = deque()
    for name, spec, origin in specs:
        queue.append((name, spec, origin, (f"{origin} {name}@{spec}",)))
    files = _files(origin for _, _, origin in specs)

    def packument(name: str) -> dict[str, Any] | None:
        if name not in packuments:
            if len(packuments) >= max_packages:
                raise DependencyFileError(
                    f"{files}: npm resolution read more than {max_packages:,} packages (the limit)"
                )
            url = f"{base}/{urllib.parse.quote(name, safe='@')}"
            try:
                packuments[name] = _fetch_json(url, NPM_ABBREVIATED)
            except RegistryError as error:
                if error.status != 404:
                    raise
                packuments[name] = None
        return packuments[name]

    while queue:
        alias, raw, origin, chain = queue.popleft()
        name, spec = _npm_alias(alias, str(raw).strip())
        requirement = f"{alias}@{raw}"
        reason = _not_registry(spec)
        if reason is not None:
            resolution.unresolved.append(Unresolved("npm", requirement, origin, reason + _via(chain)))
            continue
        document = packument(name)
        if document is None:
            resolution.unresolved.append(
                Unresolved("npm", requirement, origin, f"{name} is not on npm (HTTP 404){_via(chain)}")
            )
            continue
        try:
            picked = _pick(document, spec)
        except (AttributeError, TypeError, ValueError) as error:
            raise RegistryError(
                f"{name}: unexpected registry metadata ({type(error).__name__}: {error})"
            ) from None
        if picked is None:
            resolution.unresolved.append(
                Unresolved("npm", requirement, origin, f"no release of {name} matches {spec!r}{_via(chain)}")
            )
            continue
        version, entry = picked
        if (name, version) in seen:
            continue
        seen.add((name, version))
        if len(seen) > max_packages:
            raise DependencyFileError(
                f"{files}: npm resolution reached more than {max_packages:,} packages (the limit)"
            )
        dist = entry.get("dist")
        if not isinstance(dist, dict):
            dist = {}
        tarball, integrity = str(dist.get("tarball") or ""), npm_sri(dist)
        if tarball and integrity:
            tarball = urllib.parse.urljoin(f"{base}/{urllib.parse.quote(name, safe='@')}", tarball)
        else:
            tarball, integrity = "", ""  # looked up again when fetched, and refused there
        resolution.pinned.append(Dependency("npm", name, version, origin, tarball, integrity, chain))
        dependencies: dict[str, Any] = {}
        for section in ("dependencies", "optionalDependencies"):
            entries = entry.get(section)
            if isinstance(entries, dict):
                dependencies.update(entries)
        for child, child_spec in dependencies.items():
            queue.append((str(child), str(child_spec), origin, (*chain, f"{child}@{child_spec}")))
    return resolution
