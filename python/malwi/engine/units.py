"""Package units: which package each file of a target belongs to.

A tree is many packages: a monorepo holds projects, a `site-packages` folder distributions, a
`node_modules` folder npm packages. Each package gets its own verdict, so one small malicious
package is judged on its own objects instead of being diluted by thousands of benign ones.

- A folder with `setup.py`, `pyproject.toml`, `setup.cfg` or `package.json` is a package
  (`node_modules/<name>` is one by its `package.json`); a file belongs to the deepest package
  folder above it.
- An installed distribution (`*.dist-info` with its `RECORD`, `*.egg-info` with its
  `installed-files.txt`) owns the files it lists, wherever they lie in `site-packages`.
- An archive given as an input (`malwi scan pkg.tar.gz`, a download, a dependency) is one
  package, whatever it holds: it is what gets installed.
- Files outside every package belong to the tree itself.

Reading a manifest never runs it: `package.json`, `pyproject.toml` and `setup.cfg` are parsed
as data (a broken one only loses the name), `setup.py` only marks its folder.
"""

from __future__ import annotations

import csv
import io
import os
from collections.abc import Iterable
from typing import Any

from malwi.engine.hooks import Hook, read_hooks
from malwi.engine.manifests import load_cfg, load_json, load_toml, read_text

__all__ = ["Unit", "tree_unit", "units_of", "where"]

KINDS = ("python", "npm", "distribution", "archive", "files")


class Unit:
    """One package of a target. `key` identifies it (its folder as the report shows it); `name`
    is what the package calls itself when its manifest says (`left-pad`, `requests`)."""

    __slots__ = ("files", "hooks", "key", "kind", "manifests", "name", "root", "version")

    def __init__(self, key: str, name: str, kind: str, root: str | None) -> None:
        self.key = key
        self.name = name
        self.kind = kind  # python, npm, distribution, archive or files (outside every package)
        self.root = root  # the real folder, None for a distribution (its files are listed)
        self.version = ""
        self.manifests: list[str] = []  # real paths
        self.hooks: list[Hook] = []  # npm install scripts
        self.files: set[str] = set()  # a distribution's files (real paths), from its RECORD

    def __repr__(self) -> str:
        return f"Unit({self.key!r}, {self.kind}, {self.name!r})"


def _name_and_version(table: object) -> tuple[str, str]:
    """`name` and `version` of a manifest's table, each only when it is a string."""
    if not isinstance(table, dict):
        return "", ""
    name, version = table.get("name"), table.get("version")
    return (name if isinstance(name, str) else ""), (version if isinstance(version, str) else "")


def _name_of(manifest: str) -> tuple[str, str]:
    """The package name and version a manifest states, ("", "") when it states none."""
    base = os.path.basename(manifest)
    if base == "package.json":
        return _name_and_version(load_json(manifest))
    if base == "pyproject.toml":
        return _name_and_version((load_toml(manifest) or {}).get("project"))
    parser = load_cfg(manifest)  # setup.cfg
    if parser is None:
        return "", ""
    return parser.get("metadata", "name", fallback=""), parser.get("metadata", "version", fallback="")


def _distribution_name(folder: str) -> tuple[str, str]:
    """`requests-2.31.0.dist-info` → (`requests`, `2.31.0`)."""
    stem = os.path.basename(folder).rsplit(".", 1)[0]
    name, _, version = stem.partition("-")
    return name, version.split("-")[0]


def _record_files(manifest: str, site: str) -> set[str]:
    """The files a RECORD or installed-files.txt lists, as real paths (inside `site` only)."""
    text = read_text(manifest)
    if text is None:
        return set()
    folder = os.path.dirname(manifest)
    listed: set[str] = set()
    if manifest.endswith("RECORD"):
        rows = (row[0] for row in csv.reader(io.StringIO(text, newline="")) if row)
        base = site
    else:  # installed-files.txt: relative to the egg-info folder
        rows = (line.strip() for line in text.split("\n") if line.strip())
        base = folder
    for row in rows:
        path = os.path.normpath(os.path.join(base, row))
        if path == site or path.startswith(site + os.sep):
            listed.add(path)
    return listed


def tree_unit(label: str) -> Unit:
    """The unit of the files outside every package, named after the input (`repo` for `../repo/`)."""
    return Unit(label, os.path.basename(label.rstrip("/" + os.sep)) or label, "files", None)


def where(path: str, found_in: dict[str, str]) -> str:
    """Where a file lies for its unit: a file unpacked from an archive found inside a package
    (`pkg/cert.crt!/payload.py`) lies where that archive lies."""
    normal = os.path.normpath(path)
    for folder, archive in found_in.items():
        if normal.startswith(folder + os.sep):
            return where(archive, found_in)
    return normal


def units_of(
    label: str,
    files: Iterable[str],
    manifests: Iterable[str],
    archives: dict[str, str],
    shown: Any,
    found_in: dict[str, str] | None = None,
) -> tuple[list[Unit], dict[str, Unit]]:
    """The units of a target and the unit of each file.

    `files` are real paths; `manifests` the manifest files discovery found; `archives` maps the
    folder an input archive was unpacked into to the name it is shown as (each is one unit);
    `found_in` the folder an archive found inside the tree was unpacked into to that archive's
    path; `shown(path)` is how the report shows a path. Returns the units (the tree's own unit
    first, when some file lies outside every package) and `{file: unit}`."""
    found_in = {os.path.normpath(k): v for k, v in (found_in or {}).items()}
    by_root: dict[str, Unit] = {}
    distributions: list[Unit] = []
    for folder, name in archives.items():
        unit = Unit(name, name, "archive", os.path.normpath(folder))
        by_root[unit.root or folder] = unit
    archive_units = list(by_root.values())
    inside_archive = tuple(root + os.sep for root in by_root)
    # Shallowest first: an archive's own package.json says what npm runs when it is installed.
    for listed in sorted(manifests, key=lambda m: (m.count(os.sep), m)):
        manifest = os.path.normpath(listed)
        if manifest.startswith(inside_archive):
            # An input archive is one package, whatever it holds; its manifests still say
            # where its code runs (`malwi.engine.reach`) and what installing it runs.
            archive = next(u for u in archive_units if manifest.startswith((u.root or "") + os.sep))
            archive.manifests.append(manifest)
            if os.path.basename(manifest) == "package.json" and not any(
                m.endswith("package.json") for m in archive.manifests[:-1]
            ):
                text = read_text(manifest)
                archive.hooks = read_hooks(text) if text is not None else []
            continue
        folder = os.path.dirname(manifest)
        base = os.path.basename(manifest)
        if base in ("RECORD", "installed-files.txt"):
            name, version = _distribution_name(folder)
            distribution = Unit(shown(folder), name, "distribution", None)
            distribution.version = version
            distribution.manifests.append(manifest)
            distribution.files = _record_files(manifest, os.path.dirname(folder))
            distributions.append(distribution)
            continue
        kind = "npm" if base == "package.json" else "python"
        known = by_root.get(folder)
        if known is None:
            unit = by_root[folder] = Unit(shown(folder), os.path.basename(folder) or folder, kind, folder)
        else:
            unit = known
        if unit.kind != kind:
            unit.kind = "python" if "python" in (unit.kind, kind) else kind
        unit.manifests.append(manifest)
        if base == "setup.py":
            continue  # marks its folder only: it is code, never read as data
        name, version = _name_of(manifest)
        if name and (base == "package.json" or unit.name == os.path.basename(folder)):
            unit.name, unit.version = name, version or unit.version
        if base == "package.json":
            text = read_text(manifest)
            unit.hooks = read_hooks(text) if text is not None else []
    owner_of_listed = {path: unit for unit in distributions for path in unit.files}
    roots = sorted(by_root, key=len, reverse=True)  # the deepest folder first
    tree = tree_unit(label)
    assigned: dict[str, Unit] = {}
    for path in files:
        normal = where(path, found_in)
        owner = owner_of_listed.get(normal)
        if owner is None:
            owner = next((by_root[root] for root in roots if normal.startswith(root + os.sep)), tree)
        assigned[path] = owner
    used = {id(unit) for unit in assigned.values()}
    units = [tree] if id(tree) in used else []
    units += sorted(
        (u for u in [*by_root.values(), *distributions] if id(u) in used or u.hooks), key=lambda u: u.key
    )
    return units, assigned
