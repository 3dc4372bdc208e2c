"""`malwi research download`: benign releases from PyPI and npm, as files, digests checked.

Resumable: a file already present with the right digest is not fetched again, and a partial
download is never mistaken for a complete one (`.part`, then rename). Nothing is installed.
"""

from __future__ import annotations

import argparse
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from malwi.errors import RegistryError
from malwi.sources import registries
from malwi_research import Progress, WorkFolder, log

DownloadError = RegistryError


def download_pypi(name: str, root: Path, prefer_sdist: bool, max_bytes: int) -> dict[str, Any]:
    release = registries.resolve_pypi(name, prefer_sdist=prefer_sdist, max_bytes=max_bytes)
    return _fetch(release, root / "pypi" / name, root)


def download_npm(name: str, root: Path, max_bytes: int) -> dict[str, Any]:
    release = registries.resolve_npm(name)
    if release.size > 8 * max_bytes:
        return {"ecosystem": "npm", "name": name, "status": "too large"}
    return _fetch(release, root / "npm" / name.replace("/", "__"), root)


def _fetch(release: registries.Release, folder: Path, root: Path) -> dict[str, Any]:
    """Downloads a release unless a file with the right digest is already there (resumable:
    `download` writes `.part` first and renames only a verified file)."""
    target = folder / release.filename
    if target.exists() and registries.verify_file(target, release.digest):
        status = "cached"
    else:
        folder.mkdir(parents=True, exist_ok=True)
        registries.download(release, folder)
        status = "downloaded"
    result = {"ecosystem": release.ecosystem, "name": release.name, "version": release.version}
    result.update(file=str(target.relative_to(root)), digest=release.digest, status=status)
    return result


def names(path: Path, count: int) -> list[str]:
    result = []
    for raw in path.read_text().splitlines():
        line = raw.strip()
        if line and not line.startswith("#"):
            result.append(line)
        if len(result) >= count:
            break
    return result


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    data = work.config["data"]
    max_bytes = int(data["max_download_mb"]) * 1024 * 1024
    jobs = [("pypi", n) for n in names(work.data_path("benign_pypi_list"), int(data["benign_pypi_packages"]))]
    jobs += [("npm", n) for n in names(work.data_path("benign_npm_list"), int(data["benign_npm_packages"]))]
    root = work.downloads
    progress = Progress("download", len(jobs))

    def one(job: tuple[str, str]) -> dict[str, Any]:
        ecosystem, name = job
        try:
            if ecosystem == "pypi":
                return download_pypi(name, root, bool(data["prefer_sdist"]), max_bytes)
            return download_npm(name, root, max_bytes)
        except (RegistryError, ValueError, KeyError) as error:
            return {"ecosystem": ecosystem, "name": name, "status": f"failed: {error}"}
        finally:
            progress.step()

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, jobs))
    progress.close()
    index = root / "index.json"
    root.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(results, indent=1))
    ok = [r for r in results if r["status"] in ("downloaded", "cached")]
    for ecosystem in ("pypi", "npm"):
        done = sum(1 for r in ok if r["ecosystem"] == ecosystem)
        wanted = sum(1 for e, _ in jobs if e == ecosystem)
        log(f"{ecosystem}: {done}/{wanted} releases available in {root / ecosystem}")
    log(f"index: {index}")
