"""Where scanned code comes from: local paths, archives, PyPI and npm releases, dependency files.

Everything fetched or unpacked lands in one temporary folder (`Workspace`) that is removed when
the scan ends, whatever happens. Archives are unpacked by `archive.extract` only; releases are
fetched and verified by `registries`; dependency files are read by `dependencies`.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

from malwi.errors import ArchiveError, RegistryError
from malwi.sources.archive import ExtractionLimits, extract, is_archive

if TYPE_CHECKING:
    # urllib.request costs more to import than a cached scan takes: only fetching needs it.
    from malwi.sources.dependencies import Dependency
    from malwi.sources.registries import Release

__all__ = [
    "ArchiveError",
    "ExtractionLimits",
    "Prepared",
    "RegistryError",
    "Workspace",
    "release_for",
]


class Prepared:
    """One scan target, ready: the paths to scan and how the report names them."""

    __slots__ = ("label", "paths", "display_names", "archive", "source", "folders", "warnings")

    def __init__(self, label: str, paths: list[str]) -> None:
        self.label = label
        self.paths = paths
        self.display_names: dict[str, str] = {}  # real path prefix → name shown in the report
        self.archive: Path | None = None  # the archive the result's file_info describes
        self.source: dict[str, Any] = {}
        self.folders: list[Path] = []  # what the workspace created for it
        self.warnings: list[str] = []  # what unpacking left out or renamed, for the report


class Workspace:
    """A temporary folder for downloads and unpacked archives, removed on exit.

    `keep`: a folder where downloaded release files are also copied (`--keep DIR`)."""

    def __init__(
        self,
        limits: ExtractionLimits | None = None,
        *,
        keep: str | os.PathLike[str] | None = None,
        progress: bool = False,
    ) -> None:
        self.limits = limits or ExtractionLimits()
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
        """A fresh, empty folder inside the workspace."""
        if self._temporary is None:
            raise RuntimeError("Workspace used outside its `with` block")
        with self._lock:
            self._count += 1
            path = Path(self._temporary.name) / str(self._count)
        path.mkdir()
        return path

    def unpack(self, archive: str | os.PathLike[str], shown_as: str | None = None) -> Prepared:
        """An archive, unpacked safely into a fresh folder, shown in the report under its name."""
        target = self.folder()
        extraction = extract(archive, target, self.limits)
        name = shown_as or os.fspath(archive)
        prepared = Prepared(name, [str(target)])
        prepared.warnings = [f"{name}: {note}" for note in extraction.notes]
        prepared.display_names[str(target)] = name
        prepared.archive = Path(archive)
        prepared.folders.append(target)
        return prepared

    def local(self, paths: list[str]) -> Prepared:
        """Paths from the command line; archives among them are unpacked, the rest scanned as is."""
        prepared = Prepared(", ".join(paths), [])
        for path in paths:
            if is_archive(path):
                unpacked = self.unpack(path)
                prepared.paths += unpacked.paths
                prepared.display_names.update(unpacked.display_names)
                prepared.folders += unpacked.folders
                prepared.warnings += unpacked.warnings
                if len(paths) == 1:
                    prepared.archive = unpacked.archive
            else:
                prepared.paths.append(path)
        return prepared

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

    def release(self, release: Release) -> Prepared:
        """A release fetched, verified and unpacked."""
        downloaded = self.fetch(release)
        prepared = self.unpack(downloaded, shown_as=downloaded.name)
        prepared.label = release.label
        prepared.folders.append(downloaded.parent)
        prepared.source = {
            "ecosystem": release.ecosystem,
            "name": release.name,
            "version": release.version,
            "filename": release.filename,
            "url": release.url,
            "digest": release.digest,
        }
        return prepared

    def discard(self, *folders: Path) -> None:
        """Removes folders of this workspace early (a lockfile may pull in hundreds of packages)."""
        root = Path(self._temporary.name) if self._temporary is not None else None
        for folder in folders:
            if root is not None and folder.is_relative_to(root) and folder != root:
                shutil.rmtree(folder, ignore_errors=True)


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
        return resolve_pypi(dependency.name, dependency.version)
    return resolve_npm(dependency.name, dependency.version)
