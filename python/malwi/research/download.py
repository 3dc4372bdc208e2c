"""`malwi research download`: benign releases from PyPI and npm, as files, digests checked.

Resumable: a file already present with the right digest is not fetched again, and a partial
download is never mistaken for a complete one (`.part`, then rename). Nothing is installed.
"""

from __future__ import annotations

import argparse
import base64
import hashlib
import json
import time
import urllib.error
import urllib.parse
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

from malwi.research import Progress, Workspace, log

PYPI_JSON = "https://pypi.org/pypi/{name}/json"
NPM_JSON = "https://registry.npmjs.org/{name}"
USER_AGENT = "malwi-research (+https://github.com/malwi)"
TIMEOUT = 60


class DownloadError(Exception):
    pass


def fetch(url: str, retries: int = 3) -> bytes:
    last: Exception | None = None
    for attempt in range(retries):
        try:
            request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": "application/json"})
            with urllib.request.urlopen(request, timeout=TIMEOUT) as response:
                return response.read()  # type: ignore[no-any-return]
        except urllib.error.HTTPError as error:
            if error.code in (404, 410):
                raise DownloadError(f"{url}: HTTP {error.code}") from None
            last = error
        except (urllib.error.URLError, TimeoutError, OSError) as error:
            last = error
        time.sleep(1 + attempt)
    raise DownloadError(f"{url}: {last}")


def pick_pypi_file(metadata: dict[str, Any], prefer_sdist: bool, max_bytes: int) -> dict[str, Any] | None:
    """The sdist of the latest release (it carries setup.py), else a pure-Python wheel."""
    files = [f for f in metadata.get("urls", []) if not f.get("yanked")]
    sdists = [f for f in files if f["packagetype"] == "sdist"]
    wheels = [f for f in files if f["packagetype"] == "bdist_wheel" and f["filename"].endswith("-none-any.whl")]
    for candidate in (sdists + wheels) if prefer_sdist else (wheels + sdists):
        if candidate.get("size", 0) <= max_bytes:
            chosen: dict[str, Any] = candidate
            return chosen
    return None


def npm_integrity_ok(data: bytes, integrity: str) -> bool:
    """Checks an npm `dist.integrity` (SRI, e.g. `sha512-<base64>`)."""
    for entry in integrity.split():
        algorithm, _, expected = entry.partition("-")
        if algorithm in ("sha512", "sha384", "sha256", "sha1"):
            return base64.b64encode(hashlib.new(algorithm, data).digest()).decode() == expected
    return False


def store(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_name(path.name + ".part")
    partial.write_bytes(data)
    partial.replace(path)


def download_pypi(name: str, root: Path, prefer_sdist: bool, max_bytes: int) -> dict[str, Any]:
    metadata_url = PYPI_JSON.format(name=urllib.parse.quote(name))
    metadata = json.loads(fetch(metadata_url))
    chosen = pick_pypi_file(metadata, prefer_sdist, max_bytes)
    if chosen is None:
        return {"ecosystem": "pypi", "name": name, "status": "no suitable file"}
    target = root / "pypi" / name / chosen["filename"]
    expected = chosen["digests"]["sha256"]
    if target.exists() and hashlib.sha256(target.read_bytes()).hexdigest() == expected:
        status = "cached"
    else:
        # Mirrors may give file URLs relative to the metadata URL.
        data = fetch(urllib.parse.urljoin(metadata_url, chosen["url"]))
        if hashlib.sha256(data).hexdigest() != expected:
            raise DownloadError(f"{chosen['url']}: sha256 does not match the registry's digest")
        store(target, data)
        status = "downloaded"
    return {
        "ecosystem": "pypi",
        "name": name,
        "version": metadata["info"]["version"],
        "file": str(target.relative_to(root)),
        "sha256": expected,
        "status": status,
    }


def download_npm(name: str, root: Path, max_bytes: int) -> dict[str, Any]:
    metadata_url = NPM_JSON.format(name=urllib.parse.quote(name, safe="@"))
    metadata = json.loads(fetch(metadata_url))
    version = metadata.get("dist-tags", {}).get("latest")
    release = metadata.get("versions", {}).get(version or "")
    if not release:
        return {"ecosystem": "npm", "name": name, "status": "no latest release"}
    dist = release["dist"]
    if dist.get("unpackedSize", 0) > 8 * max_bytes:
        return {"ecosystem": "npm", "name": name, "status": "too large"}
    target = root / "npm" / name.replace("/", "__") / Path(urllib.parse.urlparse(dist["tarball"]).path).name
    integrity = dist.get("integrity") or f"sha1-{base64.b64encode(bytes.fromhex(dist['shasum'])).decode()}"
    if target.exists() and npm_integrity_ok(target.read_bytes(), integrity):
        status = "cached"
    else:
        data = fetch(urllib.parse.urljoin(metadata_url, dist["tarball"]))
        if not npm_integrity_ok(data, integrity):
            raise DownloadError(f"{dist['tarball']}: integrity does not match the registry's")
        if len(data) > max_bytes:
            return {"ecosystem": "npm", "name": name, "status": "too large"}
        store(target, data)
        status = "downloaded"
    return {"ecosystem": "npm", "name": name, "version": version, "file": str(target.relative_to(root)), "status": status}


def names(path: Path, count: int) -> list[str]:
    result = []
    for line in path.read_text().splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            result.append(line)
        if len(result) >= count:
            break
    return result


def run(workspace: Workspace, args: argparse.Namespace) -> None:
    data = workspace.config["data"]
    max_bytes = int(data["max_download_mb"]) * 1024 * 1024
    jobs = [("pypi", n) for n in names(workspace.data_path("benign_pypi_list"), int(data["benign_pypi_packages"]))]
    jobs += [("npm", n) for n in names(workspace.data_path("benign_npm_list"), int(data["benign_npm_packages"]))]
    root = workspace.downloads
    progress = Progress("download", len(jobs))

    def one(job: tuple[str, str]) -> dict[str, Any]:
        ecosystem, name = job
        try:
            if ecosystem == "pypi":
                return download_pypi(name, root, bool(data["prefer_sdist"]), max_bytes)
            return download_npm(name, root, max_bytes)
        except (DownloadError, ValueError, KeyError) as error:
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
