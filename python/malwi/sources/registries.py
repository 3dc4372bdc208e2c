"""PyPI and npm: which file a release is, fetching it, checking its digest.

Only the registries' JSON APIs and plain file downloads are used. Nothing is installed, built
or run: `pip download` of an sdist would run its build backend, i.e. the package's own code.

Base URLs come from `$MALWI_PYPI_URL` (default https://pypi.org/pypi) and `$MALWI_NPM_URL`
(default https://registry.npmjs.org), or the CLI's `--index-url`, for mirrors and for tests.
"""

from __future__ import annotations

import base64
import hashlib
import http.client
import json
import os
import time
import urllib.error
import urllib.parse
import urllib.request
from pathlib import Path
from typing import Any

from malwi._malwi import __version__
from malwi.errors import RegistryError
from malwi.progress import Progress

PYPI_URL = "https://pypi.org/pypi"
NPM_URL = "https://registry.npmjs.org"
USER_AGENT = f"malwi/{__version__} (malware scanner; metadata and archives only)"
TIMEOUT = 60
RETRIES = 3
# A release larger than this is refused rather than downloaded.
MAX_DOWNLOAD_BYTES = 512 * 1024 * 1024
CHUNK = 1 << 16


def pypi_url() -> str:
    return os.environ.get("MALWI_PYPI_URL", PYPI_URL).rstrip("/")


def npm_url() -> str:
    return os.environ.get("MALWI_NPM_URL", NPM_URL).rstrip("/")


def _open(url: str, accept: str) -> Any:
    """An HTTP response, retried on network errors and 5xx; 4xx is final."""
    try:
        scheme = urllib.parse.urlparse(url).scheme
    except ValueError as error:
        raise RegistryError(f"not a URL: {url!r} ({error})") from None
    if scheme not in ("http", "https"):
        raise RegistryError(f"refusing to fetch {url}: only http and https URLs")
    last = ""
    for attempt in range(RETRIES):
        request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT, "Accept": accept})
        try:
            return urllib.request.urlopen(request, timeout=TIMEOUT)  # nosec B310 - scheme checked above
        except urllib.error.HTTPError as error:
            if error.code < 500:
                raise RegistryError(f"{url}: HTTP {error.code} {error.reason}", status=error.code) from None
            last = f"HTTP {error.code} {error.reason}"
        except (urllib.error.URLError, TimeoutError, OSError, http.client.HTTPException) as error:
            last = str(getattr(error, "reason", error)) or type(error).__name__
        except ValueError as error:  # a URL that urllib cannot even send (bad host, spaces)
            raise RegistryError(f"not a usable URL: {url!r} ({error})") from None
        if attempt + 1 < RETRIES:
            time.sleep(0.5 * (attempt + 1))
    raise RegistryError(f"{url}: network error: {last}")


def fetch_json(url: str) -> dict[str, Any]:
    """A registry document: a JSON object, or RegistryError."""
    try:
        with _open(url, "application/json") as response:
            body = response.read()
    except (OSError, http.client.HTTPException) as error:
        raise RegistryError(f"{url}: network error while reading: {type(error).__name__}: {error}") from None
    return json_object(url, body)


def json_object(url: str, body: bytes) -> dict[str, Any]:
    """A registry answer's body as the JSON object it must be, or RegistryError naming `url`."""
    try:
        document = json.loads(body)
    except ValueError:
        raise RegistryError(f"{url}: the registry did not answer with JSON") from None
    if not isinstance(document, dict):
        raise RegistryError(f"{url}: the registry answered with JSON that is not an object")
    return document


def _metadata_error(what: str, error: Exception) -> RegistryError:
    return RegistryError(f"{what}: unexpected registry metadata ({type(error).__name__}: {error})")


class Release:
    """One downloadable file of a package release, with the digest the registry published.
    `metadata` is the registry document it was resolved from (PyPI's project or version page,
    npm's packument; None for a lockfile's URL) and `index_url` the registry it came from: what
    `malwi.sources.signals` reads, without another request."""

    __slots__ = ("ecosystem", "name", "version", "filename", "url", "digest", "size", "metadata", "index_url")

    def __init__(
        self,
        ecosystem: str,
        name: str,
        version: str,
        filename: str,
        url: str,
        digest: str,
        size: int = 0,
        *,
        metadata: dict[str, Any] | None = None,
        index_url: str = "",
    ) -> None:
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.filename = filename
        self.url = url
        self.digest = digest  # `sha256:<hex>` or an npm SRI string (`sha512-<base64>`)
        self.size = size
        self.metadata = metadata
        self.index_url = index_url

    @property
    def label(self) -> str:
        return f"{self.name}=={self.version}" if self.ecosystem == "pypi" else f"{self.name}@{self.version}"

    def to_dict(self) -> dict[str, Any]:
        return {name: getattr(self, name) for name in self.__slots__ if name not in ("metadata", "index_url")}


def pick_pypi_file(
    files: list[dict[str, Any]], prefer_sdist: bool = True, max_bytes: int = MAX_DOWNLOAD_BYTES
) -> dict[str, Any] | None:
    """The sdist (it carries setup.py, where install-time malware lives), else a wheel, pure
    Python ones first. Yanked files only when nothing else is left."""

    def rank(file: dict[str, Any]) -> tuple[int, int, int]:
        kind = file.get("packagetype")
        order = 0 if kind == "sdist" else 1 if str(file.get("filename", "")).endswith("-none-any.whl") else 2
        if not prefer_sdist and order < 2:
            order = 1 - order
        return (
            1 if file.get("yanked") else 0,
            order if kind in ("sdist", "bdist_wheel") else 3,
            int(file.get("size") or 0),
        )

    usable = [f for f in files if int(f.get("size") or 0) <= max_bytes and f.get("digests", {}).get("sha256")]
    usable = [f for f in usable if f.get("packagetype") in ("sdist", "bdist_wheel", "bdist_egg")]
    return min(usable, key=rank) if usable else None


def resolve_pypi(
    name: str,
    version: str | None = None,
    base: str | None = None,
    *,
    prefer_sdist: bool = True,
    max_bytes: int = MAX_DOWNLOAD_BYTES,
) -> Release:
    """The file to fetch for a PyPI release (the latest when `version` is None)."""
    try:
        return _resolve_pypi(name, version, base, prefer_sdist, max_bytes)
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        raise _metadata_error(f"{name} {version or ''}".strip(), error) from None


def _resolve_pypi(
    name: str, version: str | None, base: str | None, prefer_sdist: bool, max_bytes: int
) -> Release:
    base = (base or pypi_url()).rstrip("/")
    quoted = urllib.parse.quote(name, safe="")
    url = f"{base}/{quoted}/json"
    what = f"{name} {version}" if version else name
    document: dict[str, Any] | None = None  # the project page, when a version's page was missing
    try:
        if version:
            url = f"{base}/{quoted}/{urllib.parse.quote(version, safe='')}/json"
            try:
                metadata = fetch_json(url)
            except RegistryError as error:
                if error.status != 404:
                    raise
                # Some mirrors serve only the project document; its `releases` lists every version.
                url = f"{base}/{quoted}/json"
                project = fetch_json(url)
                files = (project.get("releases") or {}).get(version)
                if files is None:
                    raise RegistryError(f"{what} is not on PyPI ({url} lists no such version)") from None
                metadata = {"info": dict(project.get("info") or {}, version=version), "urls": files}
                document = project
        else:
            metadata = fetch_json(url)
    except RegistryError as error:
        if error.status == 404:
            raise RegistryError(f"{what} is not on PyPI ({url}: HTTP 404)", status=404) from None
        raise
    resolved = str(metadata.get("info", {}).get("version") or version or "")
    chosen = pick_pypi_file(list(metadata.get("urls") or []), prefer_sdist, max_bytes)
    if chosen is None:
        raise RegistryError(f"{name} {resolved}: no sdist or wheel with a sha256 digest to download")
    return Release(
        "pypi",
        str(metadata.get("info", {}).get("name") or name),
        resolved,
        str(chosen["filename"]),
        urllib.parse.urljoin(url, str(chosen["url"])),
        "sha256:" + str(chosen["digests"]["sha256"]),
        int(chosen.get("size") or 0),
        metadata=document if document is not None else metadata,
        index_url=base,
    )


def npm_sri(dist: dict[str, Any]) -> str:
    """The integrity string of an npm `dist`: `integrity` (SRI), else the legacy sha1 `shasum`."""
    if dist.get("integrity"):
        return str(dist["integrity"])
    if dist.get("shasum"):
        try:
            return "sha1-" + base64.b64encode(bytes.fromhex(str(dist["shasum"]))).decode()
        except ValueError:
            return ""
    return ""


def resolve_npm(name: str, version: str | None = None, base: str | None = None) -> Release:
    """The tarball of an npm release (the `latest` tag when `version` is None; tags work too)."""
    try:
        return _resolve_npm(name, version, base)
    except (AttributeError, TypeError, ValueError, KeyError) as error:
        raise _metadata_error(f"{name}@{version or 'latest'}", error) from None


def _resolve_npm(name: str, version: str | None, base: str | None) -> Release:
    base = (base or npm_url()).rstrip("/")
    url = f"{base}/{urllib.parse.quote(name, safe='@')}"
    try:
        metadata = fetch_json(url)
    except RegistryError as error:
        if error.status == 404:
            raise RegistryError(f"{name} is not on npm ({url}: HTTP 404)", status=404) from None
        raise
    tags = metadata.get("dist-tags") or {}
    wanted = tags.get(version or "latest", version)
    release = (metadata.get("versions") or {}).get(wanted or "")
    if not release:
        what = f"{name}@{version}" if version else f"{name} (no 'latest' tag)"
        raise RegistryError(f"{what}: no such version on npm")
    dist = release.get("dist") or {}
    integrity = npm_sri(dist)
    if not dist.get("tarball") or not integrity:
        raise RegistryError(f"{name}@{wanted}: the registry gives no tarball with an integrity digest")
    tarball = urllib.parse.urljoin(url, str(dist["tarball"]))
    filename = Path(urllib.parse.urlparse(tarball).path).name or f"{name}-{wanted}.tgz"
    return Release(
        "npm",
        name,
        str(wanted),
        filename,
        tarball,
        integrity,
        int(dist.get("unpackedSize") or 0),
        metadata=metadata,
        index_url=base,
    )


class _Digest:
    """The digest a release must match: `sha256:<hex>` or SRI (`sha512-<b64> sha1-<b64>`)."""

    def __init__(self, expected: str) -> None:
        self.expected = expected
        if expected.startswith("sha256:"):
            self.algorithm, self.value, self.encoding = "sha256", expected[7:].lower(), "hex"
        else:
            strongest = None
            for entry in expected.split():
                algorithm, _, value = entry.partition("-")
                algorithm = algorithm.lower()
                if algorithm in ("sha512", "sha384", "sha256", "sha1") and value:
                    rank = ("sha1", "sha256", "sha384", "sha512").index(algorithm)
                    if strongest is None or rank > strongest[0]:
                        strongest = (rank, algorithm, value.split("?")[0])
            if strongest is None:
                raise RegistryError(f"unsupported digest {expected!r}")
            _, self.algorithm, self.value = strongest
            self.encoding = "base64"
        self.hasher = hashlib.new(self.algorithm)

    def matches(self) -> bool:
        digest = self.hasher.digest()
        actual = digest.hex() if self.encoding == "hex" else base64.b64encode(digest).decode()
        return actual == self.value


def verify_file(path: Path, expected: str) -> bool:
    """Whether a file already on disk matches a release digest."""
    digest = _Digest(expected)
    with open(path, "rb") as handle:
        while block := handle.read(1 << 20):
            digest.hasher.update(block)
    return digest.matches()


def file_name(release: Release) -> str:
    """The name a release's file is saved (and shown) under: its last path component only."""
    name = Path(release.filename.replace("\\", "/")).name
    return name if name not in ("", ".", "..") else "package"


def download(release: Release, directory: str | os.PathLike[str], *, progress: bool = False) -> Path:
    """Fetches the release file into `directory`, checking size and digest while it streams.
    Returns the file's path; a file that does not match its digest is deleted and raises. A
    release without a digest (a lockfile entry that names a URL but no integrity) is fetched
    unverified: the caller says so in the report."""
    digest = _Digest(release.digest) if release.digest else None
    target = Path(directory) / file_name(release)
    partial = target.with_name(target.name + ".part")
    with _open(release.url, "application/octet-stream") as response:
        length = str(response.headers.get("Content-Length") or "0")
        total = int(length) if length.isdigit() else 0
        if total > MAX_DOWNLOAD_BYTES:
            raise RegistryError(
                f"{release.label}: {release.filename} is {total:,} bytes, more than malwi downloads"
            )
        received = 0
        try:
            with (
                open(partial, "wb") as out,
                Progress(f"{release.label}", total, unit="bytes", enabled=progress) as bar,
            ):
                while block := response.read(CHUNK):
                    received += len(block)
                    if received > MAX_DOWNLOAD_BYTES:
                        raise RegistryError(f"{release.label}: download exceeds {MAX_DOWNLOAD_BYTES:,} bytes")
                    if digest is not None:
                        digest.hasher.update(block)
                    out.write(block)
                    bar.step(len(block))
        except (OSError, TimeoutError, http.client.HTTPException) as error:
            partial.unlink(missing_ok=True)
            raise RegistryError(f"{release.url}: download interrupted: {error}") from None
        except RegistryError:
            partial.unlink(missing_ok=True)
            raise
    if total and received != total:
        partial.unlink(missing_ok=True)
        raise RegistryError(f"{release.url}: download incomplete ({received:,} of {total:,} bytes)")
    if digest is not None and not digest.matches():
        partial.unlink(missing_ok=True)
        raise RegistryError(
            f"{release.label}: {release.filename} does not match the registry's {digest.algorithm} digest "
            "(tampered with, or a broken mirror); not scanned"
        )
    partial.replace(target)
    return target
