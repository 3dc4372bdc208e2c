"""`malwi research download`: benign releases from PyPI and npm, as files, digests checked.

Two kinds of benign data, both from `../shared/data`:
- **popular**: the latest release (sdist first) of the first N names of the most-downloaded
  lists: large projects with tests and vendored code;
- **long-tail**: the pinned `name==version` / `name@version` releases of the long-tail lists:
  small, recent packages, most of what a registry feed carries. Without them a model learns that
  a small package with a `setup.py` is malware. A fixed share of long-tail names
  (`evaluation_only`) is never trained on: the false-positive rate a registry feed would see is
  measured there (`tools/reach_sets.py` draws its packages from that share).

Resumable: a file already present with the right digest is not fetched again, and a partial
download is never mistaken for a complete one (`.part`, then rename). Nothing is installed.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from malwi.errors import RegistryError
from malwi.sources import registries
from malwi_research import Progress, WorkFolder, log

DownloadError = RegistryError


# The share of long-tail package names kept for evaluation only, by a hash of the name.
LONGTAIL_EVALUATION_SHARE = 0.3


def evaluation_only(name: str) -> bool:
    """Whether a long-tail package name is held out of training for evaluation (all versions of
    a name on the same side; the same answer in every run)."""
    digest = hashlib.sha256(f"longtail-evaluation:{name.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") < LONGTAIL_EVALUATION_SHARE * 2**64


def download_pypi(
    name: str, root: Path, prefer_sdist: bool, max_bytes: int, version: str | None = None
) -> dict[str, Any]:
    release = registries.resolve_pypi(name, version, prefer_sdist=prefer_sdist, max_bytes=max_bytes)
    return _fetch(release, root / "pypi" / name, root)


def download_npm(name: str, root: Path, max_bytes: int, version: str | None = None) -> dict[str, Any]:
    release = registries.resolve_npm(name, version)
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


def longtail_releases(path: Path, ecosystem: str, count: int) -> list[tuple[str, str]]:
    """(name, version) of the first `count` training-side releases of a long-tail list, in its
    order (drawn at random by the list's makers); evaluation-only names are skipped."""
    result = []
    for line in names(path, 1 << 30):
        name, _, version = line.partition("==") if ecosystem == "pypi" else line.rpartition("@")
        if name and version and not evaluation_only(name):
            result.append((name, version))
        if len(result) >= count:
            break
    return result


Job = tuple[str, str, str | None, str]  # ecosystem, name, pinned version, source


def jobs_of(work: WorkFolder) -> list[Job]:
    """What the config asks to download: popular names (latest release), then long-tail
    releases when the config lists them."""
    data = work.config["data"]
    jobs: list[Job] = [
        ("pypi", n, None, "popular")
        for n in names(work.data_path("benign_pypi_list"), int(data["benign_pypi_packages"]))
    ]
    jobs += [
        ("npm", n, None, "popular")
        for n in names(work.data_path("benign_npm_list"), int(data["benign_npm_packages"]))
    ]
    for ecosystem in ("pypi", "npm"):
        count = int(data.get(f"benign_longtail_{ecosystem}_packages", 0))
        if count:
            listed = work.data_path(f"benign_longtail_{ecosystem}_list")
            jobs += [(ecosystem, n, v, "longtail") for n, v in longtail_releases(listed, ecosystem, count)]
    return jobs


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    data = work.config["data"]
    max_bytes = int(data["max_download_mb"]) * 1024 * 1024
    jobs = jobs_of(work)
    root = work.downloads
    progress = Progress("download", len(jobs))

    def one(job: Job) -> dict[str, Any]:
        ecosystem, name, version, source = job
        try:
            if ecosystem == "pypi":
                result = download_pypi(name, root, bool(data["prefer_sdist"]), max_bytes, version)
            else:
                result = download_npm(name, root, max_bytes, version)
        except (RegistryError, ValueError, KeyError) as error:
            result = {"ecosystem": ecosystem, "name": name, "status": f"failed: {error}"}
        finally:
            progress.step()
        result["source"] = source
        return result

    with ThreadPoolExecutor(max_workers=8) as pool:
        results = list(pool.map(one, jobs))
    progress.close()
    index = root / "index.json"
    root.mkdir(parents=True, exist_ok=True)
    index.write_text(json.dumps(results, indent=1))
    ok = [r for r in results if r["status"] in ("downloaded", "cached")]
    for ecosystem in ("pypi", "npm"):
        for source in ("popular", "longtail"):
            done = sum(1 for r in ok if r["ecosystem"] == ecosystem and r["source"] == source)
            wanted = sum(1 for e, _, _, s in jobs if e == ecosystem and s == source)
            if wanted:
                log(f"{ecosystem} {source}: {done}/{wanted} releases available in {root / ecosystem}")
    log(f"index: {index}")
