"""Installed Python environments: an interpreter's `site-packages` folders, found without running it.

`malwi scan --python PATH` takes an interpreter (`.venv/bin/python`), an environment's folder
(`.venv`) or a `site-packages` folder, and scans each folder found; there each installed
distribution is a unit of its own, made of the files its RECORD lists (`malwi.engine.units`),
with `.pth` files (they run at every interpreter start) and files no distribution owns judged too.

The interpreter is never started to ask where its packages are: starting it would process the
environment's `.pth` files, which is exactly the code being checked. The folders are found from
the layout instead: `<prefix>/lib/pythonX.Y/site-packages` (and `lib64`, Debian's
`dist-packages`) on POSIX, `<prefix>/Lib/site-packages` on Windows, where the prefix is the
folder above the interpreter's `bin`/`Scripts` folder (a virtual environment's own, not the one
its `python` link points to). A virtual environment whose `pyvenv.cfg` includes the system
site-packages adds its base interpreter's folders.
"""

from __future__ import annotations

import glob
import os

from malwi.errors import PathError

__all__ = ["site_packages"]

# Where distributions live below a prefix, POSIX then Windows; Debian's interpreters use
# dist-packages for the packages its own package manager installs.
LAYOUTS = (
    "lib/python3*/site-packages",
    "lib64/python3*/site-packages",
    "lib/python3*/dist-packages",
    "lib/python3/dist-packages",
    "local/lib/python3*/dist-packages",
    "Lib/site-packages",
)


def _is_site_folder(folder: str) -> bool:
    name = os.path.basename(os.path.normpath(folder))
    return name in ("site-packages", "dist-packages")


def _prefix_of(path: str) -> str:
    """An interpreter's prefix: the folder above its bin/Scripts folder (links not followed: a
    virtual environment's python links to its base interpreter); a folder is a prefix itself."""
    if os.path.isdir(path):
        return os.path.abspath(path)
    binary_folder = os.path.dirname(os.path.abspath(path))
    if os.path.basename(binary_folder) in ("bin", "Scripts"):
        return os.path.dirname(binary_folder)
    return binary_folder  # Windows keeps python.exe in the prefix itself


def _base_prefix(prefix: str) -> str | None:
    """The base interpreter's prefix, when pyvenv.cfg says the system site-packages count."""
    config = os.path.join(prefix, "pyvenv.cfg")
    if not os.path.isfile(config):
        return None
    values: dict[str, str] = {}
    with open(config, encoding="utf-8", errors="replace") as handle:
        for line in handle:
            key, equals, value = line.partition("=")
            if equals:
                values[key.strip().lower()] = value.strip()
    if values.get("include-system-site-packages", "false").lower() != "true" or not values.get("home"):
        return None
    return _prefix_of(os.path.join(values["home"], "python"))


def _folders_below(prefix: str) -> list[str]:
    found: list[str] = []
    for layout in LAYOUTS:
        for folder in sorted(glob.glob(os.path.join(glob.escape(prefix), layout))):
            if os.path.isdir(folder) and folder not in found:
                found.append(folder)
    return found


def site_packages(path: str) -> list[str]:
    """The site-packages folders of the interpreter, environment or folder at `path`; a
    PathError naming it when there are none."""
    if not os.path.lexists(path):
        raise PathError(f"{path}: no such interpreter or environment")
    if os.path.isdir(path) and _is_site_folder(path):
        return [os.path.abspath(path)]
    prefix = _prefix_of(path)
    folders = _folders_below(prefix)
    base = _base_prefix(prefix)
    if base is not None and base != prefix:
        folders += [folder for folder in _folders_below(base) if folder not in folders]
    if not folders:
        raise PathError(
            f"{path}: no site-packages folder below {prefix} (malwi does not start the interpreter to ask; "
            "give the site-packages folder itself)"
        )
    return folders
