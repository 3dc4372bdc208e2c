"""Inputs → workspace: everything a user can point malwi at becomes `Target`s of source files.

A folder, a file, an archive (`.tar.gz`, `.zip`, a wheel or sdist), a release on PyPI or npm,
the pinned dependencies of a requirements or lock file: each becomes a `Target` (one thing
judged as a whole) holding the files to compile, each with how the report shows it and where it
came from (`Origin`: the package, and for an unpacked file the archive and its member path).
Archives found inside by their content (a zip renamed `cert.crt`, a nested wheel) are unpacked
into the same workspace and their files join the target's.

Everything fetched or unpacked lives in one temporary folder that is removed when the
`Workspace` closes, whatever happens. Archives are unpacked only by `malwi.sources.archive`,
releases fetched and verified only by `malwi.sources.registries`, dependency files read only by
`malwi.sources.dependencies`: the plug-ins of this step.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from collections import deque
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from malwi._malwi import discover
from malwi.engine.hooks import script_source
from malwi.engine.units import Unit, tree_unit, units_of, where
from malwi.errors import ArchiveError, MalwiError, RegistryError
from malwi.sources.archive import ExtractionLimits, is_archive, unpack, unpack_found

if TYPE_CHECKING:
    # urllib.request costs more to import than a cached scan takes: only fetching needs it.
    from malwi.sources.dependencies import Dependency
    from malwi.sources.registries import Release

__all__ = ["Origin", "SourceFile", "Target", "Workspace", "release_for", "release_signals"]

# Releases downloaded ahead of the one being scanned, and at once (downloads are network-bound).
FETCH_AHEAD = 6
# Archives inside archives are unpacked this many levels down (a payload three zips deep is
# found); below that, and past the scan's budget on unpacked bytes and files, the package is
# incomplete. A zip quine (a zip that holds itself) stops here too.
MAX_ARCHIVE_DEPTH = 8
FETCH_WORKERS = 4


class Origin:
    """Where a file comes from: the package (`unit`) it belongs to and, for a file unpacked from
    an archive, that archive as the report shows it and the member's path inside it; `nesting`
    is the whole way in, outermost archive first: `(archive as shown, member path in it)` for
    each archive the file lies in (a wheel inside an sdist gives two)."""

    __slots__ = ("archive", "member", "nesting", "unit")

    def __init__(
        self,
        unit: str,
        archive: str | None = None,
        member: str | None = None,
        nesting: tuple[tuple[str, str], ...] = (),
    ) -> None:
        self.unit = unit
        self.archive = archive
        self.member = member
        self.nesting = nesting

    def __repr__(self) -> str:
        inside = f", {self.archive!r}: {self.member!r}" if self.archive else ""
        return f"Origin({self.unit!r}{inside})"


class SourceFile:
    """One file to compile: its real path, language, the path the report shows, its origin."""

    __slots__ = ("language", "origin", "path", "shown")

    def __init__(self, path: str, language: str, shown: str, origin: Origin) -> None:
        self.path = path
        self.language = language
        self.shown = shown
        self.origin = origin

    def __repr__(self) -> str:
        return f"SourceFile({self.shown!r}, {self.language})"


class Target:
    """One thing judged as a whole: a local tree, an archive, a release, one pinned dependency.

    `files` are what the pipeline compiles. `archive` is the file the result's `file_info`
    describes (an archive or download); `source` says where a release came from. `trusted`
    targets are the user's own files: their root `.malwiignore` counts. Unpacked and downloaded
    ones are not trusted to say what to skip."""

    __slots__ = (
        "_names",
        "archive",
        "archive_name",
        "exclude",
        "files",
        "found_in",
        "ignore_files",
        "input_archives",
        "folders",
        "inputs",
        "label",
        "partial",
        "signals",
        "skipped_by_extension",
        "skipped_ignored",
        "skipped_links",
        "source",
        "trusted",
        "units",
        "unscanned",
        "warnings",
    )

    def __init__(self, label: str, inputs: list[str], *, trusted: bool) -> None:
        self.label = label
        self.inputs = inputs
        self.trusted = trusted
        self.files: list[SourceFile] = []
        self.source: dict[str, Any] = {}
        # Registry metadata signals (`malwi.sources.signals`): reported, never part of the verdict.
        self.signals: list[dict[str, Any]] = []
        self.archive: Path | None = None
        self.archive_name = ""
        self.warnings: list[str] = []
        self.partial = False  # something given could not be read or unpacked
        self.skipped_by_extension = 0
        self.skipped_links = 0
        self.skipped_ignored = 0
        self.folders: list[Path] = []  # what the workspace created for it
        self.input_archives: dict[str, str] = {}  # folder an input archive was unpacked into → its name
        self.found_in: dict[str, str] = {}  # folder an archive found inside was unpacked into → its path
        self.ignore_files: list[str] = []  # the `.malwiignore` files honoured (a trusted root's own)
        self.exclude: list[str] = []  # the exclude patterns applied
        self.units: list[Unit] = []  # its packages (see `malwi.engine.units`)
        # (real path, why): content that never reached the compiler, so its unit is incomplete.
        self.unscanned: list[tuple[str, str]] = []
        # (real path prefix, shown name, archive it was unpacked from): longest prefix first.
        self._names: list[tuple[str, str, str | None]] = []

    def show_as(self, real: str, shown: str, archive: str | None = None) -> None:
        self._names.append((real, shown, archive))
        self._names.sort(key=lambda item: -len(item[0]))

    def shown(self, path: str) -> str:
        """The path as the report shows it: an unpacked archive's files under the archive's name."""
        for real, shown, _ in self._names:
            if path == real or path.startswith(real + os.sep):
                return shown + path[len(real) :].replace(os.sep, "/")
        return path

    def origin(self, path: str, unit: str) -> Origin:
        nesting: list[tuple[str, str]] = []
        inside: str | None = path
        while inside is not None:
            folder = next(
                (
                    (real, archive)
                    for real, _, archive in self._names
                    if archive is not None and inside.startswith(real + os.sep)
                ),
                None,
            )
            if folder is None:
                break
            real, archive = folder
            nesting.append((archive, inside[len(real) + 1 :].replace(os.sep, "/")))
            # An archive found inside another lies in that one's folder; an input archive is the end.
            inside = self.found_in.get(real)
        if not nesting:
            return Origin(unit)
        nesting.reverse()
        archive, member = nesting[-1]
        return Origin(unit, archive, member, tuple(nesting))

    def unit_of(self, path: str) -> str:
        """The key of the unit a path lies in (the tree's own unit outside every package)."""
        normal = where(path, self.found_in)
        inside = [
            u for u in self.units if u.root and (normal == u.root or normal.startswith(u.root + os.sep))
        ]
        if inside:
            return max(inside, key=lambda u: len(u.root or "")).key
        tree = next((u for u in self.units if u.kind == "files"), None)
        if tree is None:
            tree = tree_unit(self.label)
            self.units.insert(0, tree)
        return tree.key

    def __repr__(self) -> str:
        return f"Target({self.label!r}, {len(self.files)} files)"


class Workspace:
    """Turns inputs into targets, in a temporary folder removed on exit.

    `limits` cap what archives unpack to (all the archives found inside one target share them);
    `extensions` and `exclude` (gitignore patterns relative to `exclude_base`) choose the files.
    `extensions_from_project`: the extensions came from the project's `[tool.malwi]`, which then
    applies to the user's own trees only. `keep`: a folder where downloads are also copied."""

    def __init__(
        self,
        *,
        limits: ExtractionLimits | None = None,
        extensions: list[str] | None = None,
        extensions_from_project: bool = False,
        exclude: Sequence[str] = (),
        exclude_base: str | os.PathLike[str] | None = None,
        keep: str | os.PathLike[str] | None = None,
        progress: bool = False,
    ) -> None:
        self.limits = limits or ExtractionLimits()
        self.extensions = extensions
        self.extensions_from_project = extensions_from_project
        self.exclude = list(exclude)
        self.exclude_base = os.fspath(exclude_base) if exclude_base is not None else None
        self.keep = Path(keep) if keep else None
        self.progress = progress
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0
        self._lock = threading.Lock()

    def __enter__(self) -> Workspace:
        self._temporary = tempfile.TemporaryDirectory(prefix="malwi-")
        return self

    def __exit__(self, *_: object) -> None:
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None

    def folder(self) -> Path:
        """A fresh, empty folder inside the workspace (safe to call from several threads)."""
        if self._temporary is None:
            raise RuntimeError("Workspace used outside its `with` block")
        with self._lock:
            self._count += 1
            path = Path(self._temporary.name) / str(self._count)
        path.mkdir()
        return path

    # -----------------------------------------------------------------------------------------
    # Targets

    def single_archive(self, paths: Sequence[str]) -> tuple[Path, str] | None:
        """The archive and its shown name when `paths` is one archive (followed when a link,
        as `local` does), else None: what a cached report of the whole archive can answer."""
        if len(paths) != 1:
            return None
        path = os.path.realpath(paths[0]) if os.path.islink(paths[0]) else paths[0]
        if not os.path.isfile(path) or not is_archive(path):
            return None
        return Path(path), paths[0]

    def settings_key(self) -> dict[str, Any]:
        """What the workspace decides about a target's files besides their bytes."""
        limits = self.limits
        return {
            "limits": [limits.max_total_bytes, limits.max_files, limits.max_ratio, limits.ratio_grace],
            "extensions": sorted(self.extensions) if self.extensions is not None else None,
            "extensions_from_project": self.extensions_from_project,
            "exclude": self.exclude,
        }

    def local(self, paths: Sequence[str], *, label: str | None = None, trusted: bool = True) -> Target:
        """Paths from the command line or the API, as one target; archives among them are
        unpacked (and then not trusted to say what to skip), the rest scanned where they are."""
        target = Target(label or ", ".join(paths), list(paths), trusted=trusted)
        roots: list[str] = []
        for given in paths:
            path = given
            if os.path.islink(given):
                # Named by the user, so scanned: what it points to, shown under the given name.
                # (Links met while walking a tree are not followed.)
                path = os.path.realpath(given)
                target.show_as(path, given)
                target.warnings.append(f"{given}: a link; scanned what it points to, {path}")
            if is_archive(path):
                try:
                    roots.append(str(self._unpack(target, Path(path), target.shown(path))))
                except ArchiveError as error:
                    if len(paths) == 1:
                        raise
                    # One broken archive among several inputs: the others are still judged,
                    # and the tree is incomplete, never good.
                    target.warnings.append(str(error))
                    target.unscanned.append((path, str(error).removeprefix(f"{path}: ")))
                    continue
                if len(paths) == 1:
                    target.archive, target.archive_name = Path(path), target.shown(path)
            else:
                roots.append(path)
        self._collect(target, roots)
        return target

    def archive(self, path: Path, shown_as: str, *, label: str | None = None) -> Target:
        """An archive (a download, a dependency's file) as one untrusted target."""
        target = Target(label or shown_as, [shown_as], trusted=False)
        target.archive, target.archive_name = path, path.name
        self._collect(target, [str(self._unpack(target, path, shown_as))])
        return target

    def release(self, release: Release) -> Target:
        """A release fetched, verified and unpacked."""
        downloaded = self.fetch(release)
        target = self.archive(downloaded, downloaded.name, label=release.label)
        target.folders.append(downloaded.parent)
        target.source = {
            "ecosystem": release.ecosystem,
            "name": release.name,
            "version": release.version,
            "filename": release.filename,
            "url": release.url,
            "digest": release.digest,
        }
        _add_signals(target, release, more_requests=True)
        return target

    def dependencies(self, pinned: list[Dependency]) -> Iterator[tuple[Dependency, Target | MalwiError]]:
        """One target per pinned dependency, in order, fetched a few ahead in parallel; a
        dependency that cannot be fetched or unpacked comes with its error instead."""
        for dependency, outcome in self._fetch_all(pinned):
            if isinstance(outcome, MalwiError):
                yield dependency, outcome
                continue
            fetched, release = outcome
            try:
                target = self.archive(fetched, dependency.label, label=dependency.label)
            except ArchiveError as error:
                self.discard_folders(fetched.parent)
                yield dependency, error
                continue
            target.folders.append(fetched.parent)  # kept until judged: file_info describes it
            verified = not (dependency.resolved and not dependency.integrity)
            target.source = {
                "ecosystem": dependency.ecosystem,
                "name": dependency.name,
                "version": dependency.version,
                "origin": dependency.origin,
                "verified": verified,
            }
            if dependency.chain:
                target.source["chain"] = list(dependency.chain)
            if not verified:
                target.warnings.append(
                    f"{dependency.label}: the lockfile gives no integrity; fetched from its resolved URL "
                    f"{dependency.resolved} without a digest check"
                )
            # From the metadata the fetch read (none for a lockfile's URL: the name alone), no more requests.
            _add_signals(target, release, more_requests=False)
            yield dependency, target

    def discard(self, target: Target) -> None:
        """Removes what the workspace created for a target once it is judged (a lockfile may
        pull in hundreds of packages)."""
        self.discard_folders(*target.folders)

    def discard_folders(self, *folders: Path) -> None:
        root = Path(self._temporary.name) if self._temporary is not None else None
        for folder in folders:
            if root is not None and folder.is_relative_to(root) and folder != root:
                shutil.rmtree(folder, ignore_errors=True)

    # -----------------------------------------------------------------------------------------
    # Fetching

    def fetch(self, release: Release) -> Path:
        """Downloads a release into a fresh folder (digest checked while it streams) and keeps a
        copy if asked. Safe to call from several threads."""
        from malwi.sources.registries import download

        downloaded = download(release, self.folder(), progress=self.progress)
        if self.keep is not None:
            try:
                self.keep.mkdir(parents=True, exist_ok=True)
                shutil.copy2(downloaded, self.keep / downloaded.name)
            except OSError as error:
                raise RegistryError(
                    f"cannot keep {downloaded.name} in {self.keep}: {error.strerror}"
                ) from None
        return downloaded

    def _fetch_all(
        self, pinned: list[Dependency]
    ) -> Iterator[tuple[Dependency, tuple[Path, Release] | MalwiError]]:
        from concurrent.futures import Future, ThreadPoolExecutor

        def one(dependency: Dependency) -> tuple[Path, Release] | MalwiError:
            try:
                release = release_for(dependency)
                return self.fetch(release), release
            except MalwiError as error:
                return error

        progress, self.progress = self.progress, False  # parallel bars would garble stderr
        try:
            with ThreadPoolExecutor(max_workers=FETCH_WORKERS) as pool:
                pending: deque[tuple[Dependency, Future[tuple[Path, Release] | MalwiError]]] = deque()
                for dependency in pinned:
                    pending.append((dependency, pool.submit(one, dependency)))
                    if len(pending) >= FETCH_AHEAD:
                        first, future = pending.popleft()
                        yield first, future.result()
                while pending:
                    first, future = pending.popleft()
                    yield first, future.result()
        finally:
            self.progress = progress

    # -----------------------------------------------------------------------------------------
    # Unpacking and discovery

    def _unpack(self, target: Target, archive: Path, shown_as: str) -> Path:
        """An archive unpacked safely into a fresh folder, its files shown under its name."""
        folder = self.folder()
        target.folders.append(folder)
        extraction = unpack(archive, folder, self.limits)
        target.warnings += [f"{shown_as}: {note}" for note in extraction.notes + extraction.left_out]
        target.unscanned += [(str(folder), reason) for reason in extraction.left_out]
        target.show_as(str(folder), shown_as, shown_as)
        target.input_archives[str(folder)] = shown_as
        target.trusted = False
        return folder

    def _collect(self, target: Target, roots: list[str]) -> None:
        """Finds the target's files under `roots`, then unpacks the archives found among them
        by content (and those inside them, `_unpack_found`) and adds what they hold."""
        extensions = None if self.extensions_from_project and not target.trusted else self.extensions
        found = discover(
            roots,
            extensions=extensions,
            exclude=self.exclude or None,
            exclude_base=self.exclude_base,
            ignore_files=target.trusted,
            max_archive_size=self.limits.max_total_bytes,
        )
        found_files = [found]
        target.exclude = list(self.exclude)
        if target.trusted:
            target.ignore_files += [
                target.shown(os.path.join(root, ".malwiignore"))
                for root in roots
                if os.path.isfile(os.path.join(root, ".malwiignore"))
            ]
        for path in found.ignored_ignore_files:
            target.warnings.append(
                f"{target.shown(path)}: not honoured (only the .malwiignore of a scanned folder itself counts)"
            )
        target.skipped_ignored += found.skipped_ignored
        self._unpack_found(target, found, found_files, extensions)
        self._add(target, found_files, found.manifests)

    def _unpack_found(self, target: Target, found: Any, found_files: list[Any], extensions: Any) -> None:
        """Unpacks the archives found among the target's files by content, and the archives
        found inside those, breadth first, down to MAX_ARCHIVE_DEPTH levels and within the
        workspace's limits on unpacked size and file count for all of them together. What is
        not unpacked (too deep, over the budget, unreadable) makes its package incomplete."""
        used_bytes = used_files = 0
        pending = deque((path, kind, disguised, 1) for path, kind, disguised in found.archives)
        while pending:
            path, kind, disguised, depth = pending.popleft()
            name = target.shown(path)
            words = _archive_words(path, kind, disguised)
            left = ExtractionLimits(
                self.limits.max_total_bytes - used_bytes,
                self.limits.max_files - used_files,
                self.limits.max_ratio,
                self.limits.ratio_grace,
            )
            reason = None
            if depth > MAX_ARCHIVE_DEPTH:
                reason = f"not unpacked: {MAX_ARCHIVE_DEPTH} archives deep already (limit on archive nesting)"
            elif left.max_total_bytes <= 0 or left.max_files <= 0:
                reason = "not unpacked: the archives found in this scan already reach the limit on unpacked size or file count"
            if reason is not None:
                _not_unpacked(target, path, f"{words} {reason}", disguised)
                continue
            folder = self.folder()
            target.folders.append(folder)
            try:
                # Quarantined: a member named outside this archive is still scanned, said in a warning.
                extraction, unpacked_as = unpack_found(path, folder, kind, left, quarantine=True)
            except Exception as error:  # noqa: BLE001 - hostile bytes: whatever breaks, the package is still scanned
                shutil.rmtree(folder, ignore_errors=True)
                reason = (
                    str(error).removeprefix(f"{path}: ") if isinstance(error, ArchiveError) else repr(error)
                )
                _not_unpacked(target, path, f"{words} not unpacked: {reason}", disguised)
                continue
            used_bytes += extraction.bytes
            used_files += extraction.files
            target.show_as(str(folder), name + "!", name)
            target.found_in[str(folder)] = path
            target.warnings.append(f"{name}: {_archive_words(path, unpacked_as, disguised)}, scanned inside")
            target.warnings += [f"{name}: {note}" for note in extraction.notes + extraction.left_out]
            target.unscanned += [(path, reason) for reason in extraction.left_out]
            inner = discover([str(folder)], extensions=extensions, ignore_files=False)
            found_files.append(inner)
            pending.extend(
                (nested, nested_kind, hidden, depth + 1) for nested, nested_kind, hidden in inner.archives
            )

    def _add(self, target: Target, discoveries: list[Any], manifests: list[str]) -> None:
        """The discoveries' files into the target, each with its package unit, and the code of
        the units' install scripts as files of their own."""
        files = [(path, language) for found in discoveries for path, language in found.files]
        units, unit_of = units_of(
            target.label,
            [path for path, _ in files],
            manifests,
            target.input_archives,
            target.shown,
            target.found_in,
        )
        target.units = units
        target.files += [
            SourceFile(path, language, target.shown(path), target.origin(path, unit_of[path].key))
            for path, language in files
        ]
        for unit in units:
            if unit.hooks:
                self._hook_sources(target, unit)
        for found in discoveries:
            target.skipped_by_extension += found.skipped_by_extension
            target.skipped_links += found.skipped_links
            for path in found.sourceless:
                # Python imports a `.pyc` that has no source as it is: code malwi cannot read.
                target.unscanned.append((path, "compiled Python without its source: bytecode is not scanned"))
            for path, message in found.errors:
                target.warnings.append(f"{target.shown(path)}: cannot be read: {message}")
                target.unscanned.append((path, f"cannot be read: {message}"))
                target.partial = True

    def _hook_sources(self, target: Target, unit: Unit) -> None:
        """A unit's npm install scripts as JavaScript the pipeline compiles: each command as the
        child process npm starts, and the code given to `node -e`. Written into the workspace
        (never run), shown as `<package>/package.json#scripts.<name>`."""
        folder = self.folder()
        target.folders.append(folder)
        manifest = next((m for m in unit.manifests if m.endswith("package.json")), unit.manifests[0])
        shown_manifest = target.shown(manifest)
        for hook in unit.hooks:
            pieces = [("", script_source(hook))] + [
                (f"/node-e-{i + 1}", code) for i, code in enumerate(hook.inline)
            ]
            for suffix, code in pieces:
                path = folder / f"{hook.name}{suffix.replace('/', '-')}.js"
                path.write_text(code, encoding="utf-8")
                shown = f"{shown_manifest}#scripts.{hook.name}{suffix}"
                target.show_as(str(path), shown)
                target.files.append(SourceFile(str(path), "javascript", shown, Origin(unit.key)))


def release_signals(
    release: Release, *, more_requests: bool = True
) -> tuple[list[dict[str, Any]], list[str]]:
    """A release's registry metadata signals (as the report lists them) and warnings: from the
    metadata its resolution read (`release.metadata`). `more_requests`: PyPI's project page and
    the previous version's page may be read (two requests at most). Whatever goes wrong is a
    warning: signals never fail a scan. Computed afresh each time (a release's age changes):
    a report answered from the result cache needs them too."""
    try:
        from malwi.sources.signals import pypi_fetcher, registry_signals

        fetch = None
        if more_requests and release.ecosystem == "pypi" and release.index_url and release.metadata:
            fetch = pypi_fetcher(release.index_url, release.name)
        notes: list[str] = []
        signals = registry_signals(
            release.ecosystem, release.metadata, release.version, name=release.name, fetch=fetch, notes=notes
        )
        return [signal.to_dict() for signal in signals], [f"{release.label}: {note}" for note in notes]
    except Exception as error:  # noqa: BLE001 - signals are advisory: whatever breaks, the scan goes on
        return [], [f"{release.label}: registry signals not computed: {type(error).__name__}: {error}"]


def _add_signals(target: Target, release: Release, *, more_requests: bool) -> None:
    target.signals, notes = release_signals(release, more_requests=more_requests)
    target.warnings += notes


def _not_unpacked(target: Target, path: str, reason: str, disguised: bool) -> None:
    """An archive found in the target that was not unpacked: said, and its package incomplete."""
    target.warnings.append(f"{target.shown(path)}: {reason}")
    target.unscanned.append((path, reason))
    target.partial = target.partial or disguised


def _archive_words(path: str, kind: str, disguised: bool) -> str:
    """`zip archive disguised as .crt`, or `nested zip archive` for one named as an archive."""
    if not disguised:
        return f"nested {kind} archive"
    base = os.path.basename(path)
    suffix = os.path.splitext(base)[1]
    return f"{kind} archive disguised as {suffix or base}"


def release_for(dependency: Dependency) -> Release:
    """The file to fetch for a pinned dependency. A lockfile's own `resolved` URL is what npm
    installs, so it is what gets scanned: verified by the lockfile's `integrity`, or fetched
    unverified when the lockfile has none (the report says so). Without a URL, whatever the
    registry lists for that version."""
    from malwi.sources.registries import Release, resolve_npm, resolve_pypi

    if dependency.resolved:
        filename = (
            dependency.resolved.rsplit("/", 1)[-1].split("?")[0]
            or f"{dependency.name}-{dependency.version}.tgz"
        )
        return Release(
            dependency.ecosystem,
            dependency.name,
            dependency.version,
            filename,
            dependency.resolved,
            dependency.integrity,
        )
    if dependency.ecosystem == "pypi":
        release = resolve_pypi(dependency.name, dependency.version)
        # A lock file's hashes pin the bytes: the registry's file must be one of them (the
        # download is then checked against that digest as it streams).
        if dependency.hashes and release.digest.lower() not in dependency.hashes:
            raise RegistryError(
                f"{dependency.label}: the registry's {release.filename} ({release.digest}) is not among the "
                f"{len(dependency.hashes)} hashes {dependency.origin} allows"
            )
        return release
    return resolve_npm(dependency.name, dependency.version)
