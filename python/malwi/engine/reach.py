"""Where code runs: each file of a package unit gets a reachability class.

- `install`: runs when the package is installed. `setup.py` (module level and the `cmdclass`
  commands it defines), an in-tree build backend (`[build-system] backend-path`), npm lifecycle
  scripts and the files they start, `.pth` files (run at every interpreter start).
- `import`: module-level code that runs when the package is used. Every shipped Python module
  (importing it runs its top level); for npm, the files `package.json` exposes (`main`,
  `exports`, `bin`) and what they require; a loose file outside every package.
- `library`: other shipped code (functions and classes of shipped modules, npm files that are
  published but not reached from an entry point).
- `non-shipped`: tests, docs, examples, benchmarks, build and CI tooling.

`non-shipped` is decided from the package's metadata (npm `files`, the package lists of
`pyproject.toml` and `setup.cfg`) and its layout (test folders and test file names), but never
from a folder name alone:
- a folder the package says is its own ships whatever it is called (`demo/` of a package that
  lists it, names itself `demo`, or declares it in an `egg-info`/`dist-info` `top_level.txt`;
  a package with no other code than such a folder ships it too), so a stealer cannot hide in a
  package called `tests` or `examples`;
- code imported by install- or import-time code is classed by its importer: malware moved into
  `tests/` and imported from `setup.py` is still install-time code.
Every one of these only widens what ships, so a package's own metadata cannot hide its code.

Imports are the constant module names the compiler recorded per file (`FileReport.imports`),
resolved inside the unit only: `os` or a bare `require('lodash')` is another package.
Nothing here reads code; manifests are read as data.
"""

from __future__ import annotations

import fnmatch
import os
from collections import deque
from collections.abc import Container, Iterable, Sequence
from typing import Any

from malwi.engine.manifests import load_cfg, load_json, load_toml, read_text

__all__ = ["REACH_CLASSES", "ReachFile", "classify", "object_reach"]

REACH_CLASSES = ("install", "import", "library", "non-shipped")

# Folders whose code a package does not run on a user's machine.
NON_SHIPPED_FOLDERS = frozenset(
    {
        "tests",
        "test",
        "testing",
        "__tests__",
        "__mocks__",
        "spec",
        "specs",
        "docs",
        "doc",
        "examples",
        "example",
        "samples",
        "sample",
        "demo",
        "demos",
        "benchmarks",
        "benchmark",
        "bench",
        "e2e",
        "fixtures",
        ".github",
        ".circleci",
    }
)
# Build, task and test-runner files at any depth.
NON_SHIPPED_NAMES = frozenset(
    {
        "conftest.py",
        "noxfile.py",
        "fabfile.py",
        "tasks.py",
        "gulpfile.js",
        "gruntfile.js",
        "karma.conf.js",
        "jest.config.js",
        "webpack.config.js",
        "rollup.config.js",
        "vite.config.js",
        "babel.config.js",
        ".eslintrc.js",
        ".prettierrc.js",
    }
)
PYTHON_SOURCE_BASES = ("", "src", "lib", "python")
JS_SUFFIXES = ("", ".js", ".cjs", ".mjs", ".json", ".ts", "/index.js", "/index.cjs", "/index.mjs")


def _resolve_js(target: str, files: Container[str]) -> str | None:
    """The file Node loads for `require(target)` (a real path without its suffix), if the
    unit has it: the name itself, then each suffix and folder index in Node's order."""
    for suffix in JS_SUFFIXES:
        candidate = target + suffix.replace("/", os.sep)
        if candidate in files:
            return candidate
    return None


class ReachFile:
    """A file of the unit as reachability needs it: its real path, language, the modules it
    imports, and whether it is the code of an npm install script (`hook`)."""

    __slots__ = ("hook", "imports", "language", "path")

    def __init__(self, path: str, language: str, imports: Sequence[str], hook: bool = False) -> None:
        self.path = os.path.normpath(path)
        self.language = language
        self.imports = imports
        self.hook = hook


def object_reach(file_reach: str, module_level: bool) -> str:
    """An object's class from its file's: a shipped module's top level runs on import, its
    functions are library code."""
    if file_reach == "import" and not module_level:
        return "library"
    return file_reach


def _table(data: Any, *keys: str) -> dict[str, Any]:
    """`data[k1][k2]...` when each level is a table, else an empty one (manifests are untrusted)."""
    for key in keys:
        data = data.get(key) if isinstance(data, dict) else None
    return data if isinstance(data, dict) else {}


def _strings(value: Any) -> list[str]:
    """Every string in a manifest value (npm `exports` and `bin` nest strings in objects)."""
    if isinstance(value, str):
        return [value]
    if isinstance(value, dict):
        return [s for v in value.values() for s in _strings(v)]
    if isinstance(value, list):
        return [s for v in value for s in _strings(v)]
    return []


class _Project:
    """One manifest folder of the unit and what its manifests say about shipping and entry points."""

    def __init__(self, folder: str) -> None:
        self.folder = folder
        self.npm_entries: list[str] = []  # real paths (unresolved suffixes)
        self.npm_files: list[str] | None = None  # the `files` patterns, None when not given
        self.python_packages: list[str] | None = None  # folders (relative) that ship, when listed
        self.python_excluded: list[str] = []  # dotted-name patterns that do not ship
        self.backend: str | None = None  # the in-tree build backend module
        self.backend_path: list[str] = []
        self.names: set[str] = set()  # what the package calls itself, as an import name
        self.own_tops: set[str] = set()  # top-level folders (relative) its metadata names as its own
        self.own: set[str] = set()  # all its own top-level folders, once `own_folders` decided

    def read_metadata(self) -> None:
        """What built metadata in the folder says: the name in `PKG-INFO` and the top-level
        packages in `*.egg-info`/`*.dist-info` `top_level.txt` (an sdist carries the first
        two, a wheel the last)."""
        for base in PYTHON_SOURCE_BASES:
            folder = os.path.join(self.folder, base) if base else self.folder
            try:
                entries = os.listdir(folder)
            except OSError:
                continue
            if "PKG-INFO" in entries:
                self.names |= _metadata_names(os.path.join(folder, "PKG-INFO"))
            for entry in entries:
                if entry.endswith((".egg-info", ".dist-info")):
                    tops = _top_level(os.path.join(folder, entry, "top_level.txt"))
                    self.own_tops |= {f"{base}/{top}" if base else top for top in tops}

    def own_folders(self, files: Iterable[str]) -> set[str]:
        """The top-level folders (relative: `demo`, `src/demo`) that are this package's own:
        declared in its metadata, named as the package is, or, when the package has no other
        code, its Python packages (a folder with `__init__.py`). `files` are the package's
        Python files, relative to its folder."""
        tops: dict[str, bool] = {}  # top folder → whether it holds an __init__.py
        other_code = False
        for relative in files:
            parts = relative.split("/")
            depth = 2 if parts[0] in PYTHON_SOURCE_BASES and len(parts) > 2 else 1
            if len(parts) <= depth:
                other_code = other_code or not (
                    parts[-1] in NON_SHIPPED_NAMES or parts[-1] == "setup.py" or parts[-1].endswith(".pth")
                )
                continue
            top = "/".join(parts[:depth])
            tops[top] = tops.get(top, False) or parts[depth:] == ["__init__.py"]
            if not _non_shipped_by_layout(relative):
                other_code = True
        own = set(self.own_tops)
        own |= {top for top in tops if top.rsplit("/", 1)[-1].lower() in self.names}
        own |= {p for p in self.python_packages or [] if p.count("/") < 2}
        if not other_code:
            own |= {top for top, package in tops.items() if package}
        return own

    def read_setup_cfg(self, path: str) -> None:
        """`[metadata] name` and `[options] packages` of setup.cfg (read as data, like the rest)."""
        parser = load_cfg(path)
        if parser is None:
            return
        self.names |= {_import_name(parser.get("metadata", "name", fallback=""))} - {""}
        packages = parser.get("options", "packages", fallback="").replace(",", "\n").split()
        if packages and not packages[0].startswith("find"):
            self._ship(p.replace(".", "/") for p in packages)

    def read_package_json(self, path: str) -> None:
        data = load_json(path)
        if not isinstance(data, dict):
            return
        entries = _strings(data.get("main")) or ["index.js"]
        entries += _strings(data.get("exports")) + _strings(data.get("bin")) + _strings(data.get("module"))
        self.npm_entries = [os.path.normpath(os.path.join(self.folder, e)) for e in entries]
        files = data.get("files")
        if isinstance(files, list) and all(isinstance(f, str) for f in files):
            self.npm_files = [f.strip("/").removeprefix("./") for f in files]

    def read_pyproject(self, path: str) -> None:
        data = load_toml(path) or {}
        name = _table(data, "project").get("name")
        if isinstance(name, str) and name:
            self.names.add(_import_name(name))
        build = data.get("build-system")
        if isinstance(build, dict) and isinstance(build.get("build-backend"), str):
            paths = _strings(build.get("backend-path"))
            if paths:  # only an in-tree backend is this package's code
                self.backend = build["build-backend"].split(":")[0]
                self.backend_path = [os.path.normpath(os.path.join(self.folder, p)) for p in paths]
        tool = _table(data, "tool")
        packages = _table(tool, "setuptools").get("packages")
        if isinstance(packages, list):
            self._ship(p.replace(".", "/") for p in _strings(packages))
        else:
            self.python_excluded += _strings(_table(tool, "setuptools", "packages", "find").get("exclude"))
        wheel = _table(tool, "hatch", "build", "targets", "wheel")
        if isinstance(wheel.get("packages"), list):
            self._ship(_strings(wheel["packages"]))
        poetry_packages = _table(tool, "poetry").get("packages")
        if isinstance(poetry_packages, list):
            listed = []
            for entry in poetry_packages:
                if isinstance(entry, dict) and isinstance(entry.get("include"), str):
                    base = entry.get("from")
                    listed.append(os.path.join(base if isinstance(base, str) else "", entry["include"]))
            self._ship(listed)

    def _ship(self, folders: Iterable[str]) -> None:
        self.python_packages = (self.python_packages or []) + [f.strip("/") for f in folders if f.strip("/")]

    def npm_publishes(self, relative: str) -> bool:
        """Whether npm's `files` list publishes the file (True without a list)."""
        if self.npm_files is None:
            return True
        for pattern in self.npm_files:
            if (
                relative == pattern
                or relative.startswith(pattern + "/")
                or fnmatch.fnmatch(relative, pattern)
            ):
                return True
        return False

    def python_ships(self, relative: str) -> bool:
        """Whether the package lists of pyproject.toml ship the Python file (True when unlisted)."""
        folder = relative.rsplit("/", 1)[0] if "/" in relative else ""
        if self.python_excluded and folder:
            dotted = folder.replace("/", ".")
            if any(fnmatch.fnmatch(dotted, pattern) for pattern in self.python_excluded):
                return False
        if self.python_packages is None or not folder:
            return True  # top-level modules (setup.py, a single-module package) ship
        return any(folder == p or folder.startswith(p + "/") for p in self.python_packages)


def _import_name(name: str) -> str:
    """A distribution name as the folder of its package would be called (`Demo-Utils` → `demo_utils`)."""
    return name.strip().lower().replace("-", "_").replace(".", "_")


def _metadata_names(path: str) -> set[str]:
    """The `Name:` of a PKG-INFO or METADATA file, as an import name."""
    for line in (read_text(path) or "").split("\n")[:50]:
        if line.lower().startswith("name:"):
            name = _import_name(line[5:])
            return {name} if name else set()
    return set()


def _top_level(path: str) -> set[str]:
    """The top-level import names a `top_level.txt` lists (one per line, plain names only)."""
    return {
        line.strip().replace(".", "/")
        for line in (read_text(path) or "").split("\n")
        if line.strip() and all(part.isidentifier() for part in line.strip().split("."))
    }


def _non_shipped_by_layout(relative: str, own_tops: Iterable[str] = ()) -> bool:
    """Whether the layout says the file does not ship: a test, docs or build folder on its path
    (below the package's own top-level folders, which ship whatever they are called) or a
    test-runner or test file name."""
    parts = relative.split("/")
    start = 0
    for top in own_tops:
        top_parts = top.split("/")
        if len(parts) > len(top_parts) and parts[: len(top_parts)] == top_parts:
            start = max(start, len(top_parts))
    if any(part.lower() in NON_SHIPPED_FOLDERS for part in parts[start:-1]):
        return True
    name = parts[-1].lower()
    if name in NON_SHIPPED_NAMES:
        return True
    if name.endswith(".py") and (name.startswith("test_") or name.endswith("_test.py")):
        return True
    return any(
        name.endswith(suffix) for suffix in (".test.js", ".spec.js", ".test.ts", ".spec.ts", ".test.mjs")
    )


class _Resolver:
    """Resolves recorded imports to the unit's own files."""

    def __init__(self, files: dict[str, ReachFile], bases: list[str]) -> None:
        self.files = files
        self.bases = bases
        # Every folder that holds one of the files (no file-system access while resolving).
        self.folders: set[str] = set()
        for path in files:
            folder = os.path.dirname(path)
            while folder not in self.folders and folder != os.path.dirname(folder):
                self.folders.add(folder)
                folder = os.path.dirname(folder)

    def resolve(self, file: ReachFile, module: str) -> list[str]:
        if file.language == "python":
            return self._python(file, module)
        if module.startswith((".", "/")):
            return self._js(file, module)
        return []  # a bare name: another package

    def _python(self, file: ReachFile, module: str) -> list[str]:
        if module.startswith("."):
            dots = len(module) - len(module.lstrip("."))
            package = os.path.dirname(file.path)
            for _ in range(dots - 1):
                package = os.path.dirname(package)
            rest = module[dots:]
            return self.python_in(package, rest.split(".") if rest else [])
        found: list[str] = []
        for base in [*self.bases, os.path.dirname(file.path)]:
            found = self.python_in(base, module.split("."))
            if found:
                break
        return found

    def python_in(self, base: str, parts: list[str]) -> list[str]:
        """`a.b.c` under `base`: the packages it passes through (their `__init__` runs) and the
        longest prefix that is a module (`from a.b import name` records `a.b.name`)."""
        if not parts:
            init = os.path.join(base, "__init__.py")
            return [init] if init in self.files else []
        found: list[str] = []
        folder = base
        for part in parts:
            module = os.path.join(folder, part + ".py")
            if module in self.files:
                found.append(module)
                break
            folder = os.path.join(folder, part)
            init = os.path.join(folder, "__init__.py")
            if init in self.files:
                found.append(init)
            elif folder not in self.folders:  # a namespace package is a folder without __init__
                break
        return found

    def _js(self, file: ReachFile, spec: str) -> list[str]:
        target = os.path.normpath(os.path.join(os.path.dirname(file.path), spec.split("?")[0]))
        found = _resolve_js(target, self.files)
        return [found] if found is not None else []


def classify(files: Sequence[ReachFile], manifests: Sequence[str], root: str | None) -> dict[str, str]:
    """The reachability class of each of a unit's files, by real path.

    `manifests` are the unit's manifest files (real paths); `root` its folder (None for an
    installed distribution, whose `site-packages` folder is the base of its imports)."""
    by_path = {f.path: f for f in files}
    if root is None and by_path and not any(m.endswith(("RECORD", "installed-files.txt")) for m in manifests):
        # The files outside every package: their layout is read from the folder they share.
        root = os.path.commonpath(list(by_path))
        root = root if root not in by_path else os.path.dirname(root)
    projects: dict[str, _Project] = {}
    for manifest in manifests:
        folder = os.path.dirname(os.path.normpath(manifest))
        base = os.path.basename(manifest)
        if base in ("RECORD", "installed-files.txt"):
            continue
        project = projects.setdefault(folder, _Project(folder))
        if base == "package.json":
            project.read_package_json(manifest)
        elif base == "pyproject.toml":
            project.read_pyproject(manifest)
        elif base == "setup.cfg":
            project.read_setup_cfg(manifest)
    for path in by_path:  # setup.py files of an archive's inner project mark it too
        if os.path.basename(path) == "setup.py":
            projects.setdefault(os.path.dirname(path), _Project(os.path.dirname(path)))
    bases = sorted(
        {os.path.join(p, b) if b else p for p in projects for b in PYTHON_SOURCE_BASES}
        | ({root} if root else set())
        | {
            os.path.dirname(os.path.dirname(os.path.normpath(m)))
            for m in manifests
            if m.endswith(("RECORD", "installed-files.txt"))
        },
        key=len,
        reverse=True,
    )
    resolver = _Resolver(by_path, bases)
    folders = sorted(projects, key=len, reverse=True)

    # The files outside every project are laid out from the root (a wheel's, an archive's).
    outside = _Project(root) if root else None

    def project_of(path: str) -> tuple[_Project | None, str]:
        for folder in folders:
            if path.startswith(folder + os.sep):
                return projects[folder], os.path.relpath(path, folder).replace(os.sep, "/")
        base = root or os.path.dirname(path)
        return None, os.path.relpath(path, base).replace(os.sep, "/")

    placed = {path: project_of(path) for path in by_path}
    for project in [*projects.values(), *([outside] if outside else [])]:
        project.read_metadata()
        python = [
            r for p, (o, r) in placed.items() if (o or outside) is project and by_path[p].language == "python"
        ]
        project.own = project.own_folders(python)

    reach: dict[str, str] = {}
    install_roots: list[str] = []
    import_roots: list[str] = []
    for path, file in by_path.items():
        owner, relative = placed[path]
        name = os.path.basename(path)
        if file.hook or name == "setup.py" or name.endswith(".pth"):
            install_roots.append(path)
            continue
        laid_out_by = owner or outside
        shipped = not _non_shipped_by_layout(relative, laid_out_by.own if laid_out_by else ())
        if owner is not None and shipped:
            shipped = (
                owner.python_ships(relative) if file.language == "python" else owner.npm_publishes(relative)
            )
        reach[path] = "library" if shipped else "non-shipped"
        # A shipped Python module's top level runs when it is imported; a loose file outside
        # every package (no manifest says how it is used) runs when it is loaded or run.
        if shipped and (file.language == "python" or owner is None):
            import_roots.append(path)
    for declared in projects.values():
        if declared.backend:
            for base in declared.backend_path:
                install_roots += resolver.python_in(base, declared.backend.split("."))
        for entry in declared.npm_entries:
            found = _resolve_js(entry, by_path)
            if found is not None and reach.get(found) != "install":
                import_roots.append(found)
    for path in install_roots:  # npm `bin`/`main` may point at an install script's file
        reach[path] = "install"
    _spread(install_roots, "install", reach, by_path, resolver, {"install"})
    _spread(import_roots, "import", reach, by_path, resolver, {"install", "import"})
    return reach


def _spread(
    roots: list[str],
    label: str,
    reach: dict[str, str],
    files: dict[str, ReachFile],
    resolver: _Resolver,
    stronger: set[str],
) -> None:
    """Breadth-first over the import graph from `roots`: each file reached gets `label` unless
    it already has a class in `stronger`; the roots get it too."""
    seen = set(roots)
    queue = deque(roots)
    for path in roots:
        if reach.get(path) not in stronger or reach.get(path) == label:
            reach[path] = label
    while queue:
        path = queue.popleft()
        for module in files[path].imports:
            for found in resolver.resolve(files[path], module):
                if found in seen:
                    continue
                seen.add(found)
                if reach.get(found) not in stronger:
                    reach[found] = label
                queue.append(found)
