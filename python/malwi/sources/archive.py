"""Safe extraction of package archives: the one place where anything scanned is unpacked.

Every archive malwi opens (`malwi scan pkg.tar.gz`, `malwi pypi`, `malwi npm`, dependency files)
goes through `extract`. An archive is hostile until proven otherwise, so each member is checked
before a byte is written:

- names: no absolute paths (`/x`, `C:\\x`, `\\\\server\\x`), no `..`, no NUL;
- types: regular files and directories only. Devices and FIFOs are refused. Links are never
  created: a tar link whose target is a file of the same archive is unpacked as a copy of it
  (an installer would create the link, and `setup.py -> notes.txt` runs what is in the `.txt`),
  other links are left out; a zip link entry is written as the regular file installers write
  from it. Benign sdists carry links such as `NEWS.txt -> CHANGELOG`; `Extraction.notes` lists
  them. A second member under a name already written is unpacked under a free sibling name
  (`x~2.py`), so both versions are scanned;
- limits: total unpacked size, compression ratio and file count (`ExtractionLimits`).

A broken rule raises ArchiveError naming the archive and the rule; the CLI prints it in one line
and exits 2. Files are created with O_EXCL|O_NOFOLLOW under a fresh folder, so even a check that
missed something cannot write outside it or through a link.
"""

from __future__ import annotations

import bz2
import gzip
import lzma
import os
import re
import stat
import tarfile
import unicodedata
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath
from typing import IO, cast

from malwi._malwi import ARCHIVE_SUFFIXES as _SUFFIXES
from malwi._malwi import DEFAULT_EXTENSIONS, archive_kind
from malwi.errors import ArchiveError
from malwi.report.escape import shown

# File names that say "archive": `malwi scan` unpacks such a file given as a path, and discovery
# calls one found inside a tree nested rather than disguised (one list, defined in the core).
ARCHIVE_SUFFIXES = tuple(_SUFFIXES)
CHUNK = 1 << 16
# Links followed from one to the next before a target counts as unreachable (Linux's limit).
MAX_LINK_HOPS = 40
MB = 1024 * 1024


class ExtractionLimits:
    """Caps on what one archive may unpack to. The ratio cap applies once the unpacked total
    passes `ratio_grace` bytes, so small, very compressible archives are fine and a bomb is
    stopped after a few megabytes rather than at the size cap."""

    __slots__ = ("max_total_bytes", "max_files", "max_ratio", "ratio_grace")

    def __init__(
        self,
        max_total_bytes: int = 1024 * MB,
        max_files: int = 50_000,
        max_ratio: float = 200.0,
        ratio_grace: int = 8 * MB,
    ) -> None:
        self.max_total_bytes = max_total_bytes
        self.max_files = max_files
        self.max_ratio = max_ratio
        self.ratio_grace = ratio_grace


def is_archive(path: str | os.PathLike[str]) -> bool:
    """A file named like an archive (by ARCHIVE_SUFFIXES)."""
    name = os.fspath(path).lower()
    return name.endswith(ARCHIVE_SUFFIXES) and os.path.isfile(path)


def checked_name(archive: str, name: str) -> PurePosixPath | None:
    """The member's relative path, or None for the archive root (`./`). Raises on a hostile name."""
    if "\x00" in name:
        raise ArchiveError(f"{archive}: member name contains a NUL byte: {name!r}")
    posix = name.replace("\\", "/")
    if posix.startswith("/") or (len(posix) > 1 and posix[1] == ":"):
        raise ArchiveError(f"{archive}: absolute path in archive: {name}")
    parts = [p for p in posix.split("/") if p not in ("", ".")]
    if ".." in parts:
        raise ArchiveError(f"{archive}: path escapes the archive ('..'): {name}")
    return PurePosixPath(*parts) if parts else None


class _Tally:
    """A count and the first few examples (a hostile archive may hold 50,000 of anything)."""

    __slots__ = ("count", "examples")

    def __init__(self) -> None:
        self.count = 0
        self.examples: list[str] = []

    def add(self, example: str) -> None:
        self.count += 1
        if len(self.examples) < 3:
            self.examples.append(example)

    def __str__(self) -> str:
        more = f", … ({self.count - len(self.examples)} more)" if self.count > len(self.examples) else ""
        return ", ".join(self.examples) + more


def _shown(text: str) -> str:
    """A member or link name as a warning may print it: short, and escaped (`report.escape`)."""
    return shown(text[:120]) + ("…" if len(text) > 120 else "")


# Folder levels a member may be below the archive's root. Real packages stay far below it; a
# member 1,000 folders deep exists to break the tools that walk or remove the tree. Deeper
# members are not unpacked, and their package is incomplete.
MAX_MEMBER_DEPTH = 64

# Where members named outside the archive (`../x`, `/tmp/x`) are unpacked when an archive found
# inside a package is quarantined rather than refused: their content is scanned all the same.
UNSAFE_FOLDER = "__malwi_unsafe__"


class Extraction:
    """What `extract` unpacked: counts, and notes for the report's warnings."""

    __slots__ = ("root", "files", "bytes", "links_copied", "links_left_out", "renamed", "unsafe", "too_deep")

    def __init__(self, root: Path) -> None:
        self.root = root
        self.files = 0
        self.bytes = 0
        self.links_copied = _Tally()  # `name -> target`, unpacked as a copy of the target
        self.links_left_out = _Tally()  # `name -> target`, target outside the archive, a folder or a loop
        self.renamed: list[tuple[PurePosixPath, PurePosixPath]] = []  # (member name, name it was unpacked as)
        self.unsafe = _Tally()  # members named outside the archive, unpacked under UNSAFE_FOLDER
        self.too_deep = _Tally()  # members more than MAX_MEMBER_DEPTH folders deep, not unpacked

    @property
    def left_out(self) -> list[str]:
        """Why content of the archive was not unpacked (each makes its package incomplete)."""
        if not self.too_deep.count:
            return []
        return [
            f"{self.too_deep.count} member(s) more than {MAX_MEMBER_DEPTH} folders deep not unpacked "
            f"(limit on member depth): {self.too_deep}"
        ]

    @property
    def notes(self) -> list[str]:
        """One line per kind of thing not unpacked as named, for the report's warnings."""
        notes = []
        if self.unsafe.count:
            notes.append(
                f"{self.unsafe.count} member(s) named outside the archive (path traversal) unpacked under "
                f"{UNSAFE_FOLDER}/ so that they are scanned: {self.unsafe}"
            )
        if self.links_copied.count:
            notes.append(
                f"{self.links_copied.count} link(s) unpacked as copies of their targets, so what they reach is "
                f"scanned: {self.links_copied}"
            )
        if self.links_left_out.count:
            notes.append(
                f"{self.links_left_out.count} link(s) not unpacked (the target is outside the archive, a folder "
                f"or a loop): {self.links_left_out}"
            )
        for member, renamed in self.renamed[:10]:
            notes.append(
                f"two members are named {_shown(str(member))}: the later one is scanned as {_shown(str(renamed))}"
            )
        if len(self.renamed) > 10:
            notes.append(
                f"{len(self.renamed) - 10} more members share a name with an earlier one; all are scanned"
            )
        return notes


class _Writer:
    """Writes members under `root`, enforcing the limits across the whole archive."""

    def __init__(
        self,
        archive: str,
        root: Path,
        compressed_size: int,
        limits: ExtractionLimits,
        quarantine: bool = False,
    ) -> None:
        self.archive = archive
        self.quarantine = quarantine
        self.root = root
        self.compressed_size = max(compressed_size, 1)
        self.limits = limits
        self.result = Extraction(root)
        self.copies: dict[tuple[Path, str], int] = {}  # (folder, folded name) → next copy number to try

    def name(self, raw: str) -> PurePosixPath | None:
        """A member's path under the root: `checked_name`'s, or, when quarantining, a name that
        escapes the archive rewritten under UNSAFE_FOLDER (its `..`, root and drive dropped).
        None for the root itself and for a member too deep to unpack (counted in `too_deep`)."""
        try:
            name = checked_name(self.archive, raw)
        except ArchiveError:
            if not self.quarantine or "\x00" in raw:
                raise
            parts = [
                p.replace(":", "_") for p in raw.replace("\\", "/").split("/") if p not in ("", ".", "..")
            ]
            self.result.unsafe.add(_shown(raw))
            name = PurePosixPath(UNSAFE_FOLDER, *parts) if parts else None
        if name is not None and len(name.parts) > MAX_MEMBER_DEPTH + 1:
            self.result.too_deep.add(_shown(raw))
            return None
        return name

    def directory(self, relative: PurePosixPath) -> Path:
        target = self.root.joinpath(*relative.parts)
        current = self.root
        for part in relative.parts:
            current = current / part
            if current.is_symlink() or (current.exists() and not current.is_dir()):
                raise ArchiveError(f"{self.archive}: {relative} collides with another member")
            current.mkdir(exist_ok=True)
        return target

    def file(self, relative: PurePosixPath, source: IO[bytes]) -> None:
        self.result.files += 1
        if self.result.files > self.limits.max_files:
            raise ArchiveError(
                f"{self.archive}: more than {self.limits.max_files:,} files (limit on file count)"
            )
        parent = self.directory(relative.parent) if relative.parent.parts else self.root
        flags = (
            os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_BINARY", 0)
        )
        # Installers let the later of two members with one name win; a scanner keeps both, since
        # either may be the one that hides something. Copies are numbered on from the last one
        # used for that name (folded, for filesystems that ignore case), so 50,000 members named
        # alike cost two opens each, not 50,000² in all.
        key = (parent, unicodedata.normalize("NFD", relative.name).casefold())
        copy = 1
        while True:
            name = relative.name if copy == 1 else _sibling(relative.name, copy)
            try:
                handle = os.open(parent / name, flags, 0o600)
                break
            except FileExistsError:
                copy = max(copy + 1, self.copies.get(key, 2))
        self.copies[key] = max(copy + 1, self.copies.get(key, 2))
        if copy > 1:
            self.result.renamed.append((relative, relative.parent / name))
        with os.fdopen(handle, "wb") as out:
            while block := source.read(CHUNK):
                self.result.bytes += len(block)
                self.check_size()
                out.write(block)

    def check_size(self) -> None:
        limits, total = self.limits, self.result.bytes
        if total > limits.max_total_bytes:
            raise ArchiveError(
                f"{self.archive}: unpacks to more than {limits.max_total_bytes / MB:,.0f} MB (limit on total size)"
            )
        if total > limits.ratio_grace and total / self.compressed_size > limits.max_ratio:
            raise ArchiveError(
                f"{self.archive}: compression ratio above {limits.max_ratio:g}:1 (limit on compression ratio; "
                "a decompression bomb?)"
            )


def _sibling(name: str, copy: int) -> str:
    """`setup.py` → `setup~2.py`: the name a later member of the same name is unpacked under
    (the stem shortened when the name would pass the 255-byte limit of most filesystems)."""
    stem, dot, suffix = name.rpartition(".")
    if not (dot and stem):
        stem, suffix = name, ""
    tail = f"~{copy}" + (f".{suffix}" if suffix else "")
    while stem and len((stem + tail).encode("utf-8", "surrogateescape")) > 255:
        stem = stem[:-1]
    return stem + tail


def _tar_members(
    writer: _Writer, tar: tarfile.TarFile
) -> Iterator[tuple[tarfile.TarInfo, PurePosixPath | None]]:
    archive = writer.archive
    for member in tar:
        name = writer.name(member.name)
        if not (member.isfile() or member.isdir() or member.issym() or member.islnk()):
            raise ArchiveError(f"{archive}: device, FIFO or special file in archive: {member.name}")
        yield member, name


def _precheck_tar(path: Path, writer: _Writer) -> None:
    """A first pass over the headers only: a tar declares every member's size, so too many files
    or too many bytes are refused before anything is written (a bomb of 100,000 empty files
    costs a header walk, not 100,000 files on disk). Extraction still counts what it writes."""
    limits, archive = writer.limits, writer.archive
    files = declared = 0
    with tarfile.open(path, mode="r:*") as tar:
        for member in tar:
            files += 1
            declared += max(member.size, 0)
            if files > limits.max_files:
                raise ArchiveError(f"{archive}: more than {limits.max_files:,} files (limit on file count)")
            if declared > limits.max_total_bytes:
                raise ArchiveError(
                    f"{archive}: unpacks to more than {limits.max_total_bytes / MB:,.0f} MB (limit on total size)"
                )


def _extract_tar(path: Path, writer: _Writer) -> None:
    archive = writer.archive
    try:
        _precheck_tar(path, writer)
        # Not the streaming mode (`r|*`): it stops after the first part of a gzip file made of
        # several, which tar and pip read to the end; members are still read in one pass.
        with tarfile.open(path, mode="r:*") as tar:
            by_name: dict[
                PurePosixPath, tarfile.TarInfo
            ] = {}  # files and links; the later of a name wins, as on disk
            links: list[tuple[tarfile.TarInfo, PurePosixPath]] = []
            for member, name in _tar_members(writer, tar):
                if name is None:  # the root, or too deep
                    continue
                if member.isdir():
                    writer.directory(name)
                    continue
                by_name[name] = member
                if member.issym() or member.islnk():
                    links.append((member, name))
                    continue
                source = tar.extractfile(member)
                if source is None:  # pragma: no cover - regular files always have data
                    raise ArchiveError(f"{archive}: unreadable member {member.name}")
                writer.file(name, source)
            # Links last: a symbolic link may name a member that comes after it.
            for member, name in links:
                _copy_link(tar, member, name, by_name, writer)
    except ArchiveError:
        raise
    except (tarfile.TarError, EOFError, OSError, ValueError, zlib.error, lzma.LZMAError) as error:
        raise ArchiveError(f"{archive}: not a readable tar archive: {error}") from None


def _link_target(
    link: tarfile.TarInfo, by_name: dict[PurePosixPath, tarfile.TarInfo]
) -> tarfile.TarInfo | None:
    """The regular file a link ends at, followed through other links of the archive by name
    only (never on disk, never through tarfile's own lookup, which recurses forever on a loop);
    None for a folder, a loop, more than `MAX_LINK_HOPS` links, or a target outside the archive."""
    current = link
    for _ in range(MAX_LINK_HOPS + 1):  # the link itself, then each link it leads to
        if current.isfile():
            return current
        if current.linkname.startswith("/"):
            return None
        # A symbolic link is relative to its folder; a hard link names an archive member.
        parts = list(PurePosixPath(current.name.replace("\\", "/")).parent.parts) if current.issym() else []
        for part in current.linkname.replace("\\", "/").split("/"):
            if part == "..":
                if not parts:
                    return None
                parts.pop()
            elif part not in ("", "."):
                parts.append(part)
        found = by_name.get(PurePosixPath(*parts)) if parts else None
        if found is None or not (found.isfile() or found.issym() or found.islnk()):
            return None
        current = found
    return None


def _copy_link(
    tar: tarfile.TarFile,
    link: tarfile.TarInfo,
    name: PurePosixPath,
    by_name: dict[PurePosixPath, tarfile.TarInfo],
    writer: _Writer,
) -> None:
    """A link unpacked as a copy of the file it ends at, or left out with a note."""
    shown = f"{_shown(link.name)} -> {_shown(link.linkname)}"
    target = _link_target(link, by_name)
    source = tar.extractfile(target) if target is not None else None
    if source is None:
        writer.result.links_left_out.add(shown)
        return
    writer.file(name, source)
    writer.result.links_copied.add(shown)


def _is_tar(path: Path) -> bool:
    try:
        return tarfile.is_tarfile(path)
    except (OSError, EOFError, ValueError, zlib.error, lzma.LZMAError):
        return False


def _extract_zip(path: Path, writer: _Writer) -> None:
    archive = writer.archive
    try:
        with zipfile.ZipFile(path) as zipped:
            infos = zipped.infolist()
            # zipfile reads the directory at the end; bytes before the first member it lists
            # (a second zip concatenated in front) are what other unzip tools may read instead.
            first = min((info.header_offset for info in infos), default=0)
            if first > 0:
                raise ArchiveError(
                    f"{archive}: {first:,} bytes before the first member the zip directory lists "
                    "(archives concatenated?): refused"
                )
            if len(infos) > writer.limits.max_files:
                raise ArchiveError(
                    f"{archive}: more than {writer.limits.max_files:,} files (limit on file count)"
                )
            for info in infos:
                name = writer.name(info.filename)
                # Unix type bits, when the zip has them (many writers leave them 0).
                kind = stat.S_IFMT(info.external_attr >> 16)
                # A zip link entry's data is its target's name, and installers (pip, zipfile)
                # write it as a regular file: so is it here, and whatever it holds is scanned.
                if kind not in (0, stat.S_IFREG, stat.S_IFDIR, stat.S_IFLNK):
                    raise ArchiveError(f"{archive}: device, FIFO or special file in archive: {info.filename}")
                if name is None:  # the root, or too deep
                    continue
                if info.is_dir():
                    writer.directory(name)
                    continue
                with zipped.open(info) as source:
                    writer.file(name, source)
    except ArchiveError:
        raise
    except RuntimeError as error:  # zipfile's way of saying a member is encrypted
        raise ArchiveError(f"{archive}: encrypted or unreadable zip member: {error}") from None
    except (
        zipfile.BadZipFile,
        zipfile.LargeZipFile,
        EOFError,
        OSError,
        ValueError,
        NotImplementedError,
        zlib.error,
    ) as error:
        raise ArchiveError(f"{archive}: not a readable zip archive: {error}") from None


def extract(
    path: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    limits: ExtractionLimits | None = None,
    quarantine: bool = False,
) -> Extraction:
    """Unpacks `path` into `destination` (an empty folder that must exist), checking every member.
    A member named outside the archive is refused, or with `quarantine` unpacked under
    UNSAFE_FOLDER (for archives found inside a package: a test fixture of path traversal is
    still content to scan).

    On ArchiveError the folder may hold part of the archive; callers unpack into a temporary
    folder and remove it either way."""
    archive = Path(path)
    root = Path(destination)
    try:
        compressed = archive.stat().st_size
        with open(archive, "rb") as handle:
            magic = handle.read(4)
    except OSError as error:
        raise ArchiveError(f"{archive}: cannot be read: {error.strerror}") from None
    writer = _Writer(str(archive), root, compressed, limits or ExtractionLimits(), quarantine)
    # By content, not by name: a `.whl` is a zip, a `.tgz` might be a plain tar.
    if magic.startswith(b"PK"):
        # A tar whose first member's name starts with `PK` is read as a tar by tar and pip.
        if _is_tar(archive):
            raise ArchiveError(f"{archive}: both a zip and a tar archive (a polyglot): refused")
        _extract_zip(archive, writer)
        return writer.result
    # zipfile (and pip) find a zip directory at the end of any file: a tar with a zip appended
    # would show one package to malwi and another to an installer.
    if zipfile.is_zipfile(archive):
        raise ArchiveError(f"{archive}: both a tar and a zip archive (a polyglot): refused")
    _extract_tar(archive, writer)
    return writer.result


# Found inside a package by content (`_malwi.discover` lists them in `archives`): the kinds that
# compress one stream, which is either a tar or a single file.
COMPRESSED_KINDS = ("gzip", "bzip2", "xz")
_COMPRESSION_SUFFIXES = {"gzip": (".gz", ".gzip", ".z"), "bzip2": (".bz2", ".bz"), "xz": (".xz", ".lzma")}
_TAR_KINDS = {"gzip": "tar.gz", "bzip2": "tar.bz2", "xz": "tar.xz"}
_DECOMPRESSION_ERRORS = (OSError, EOFError, ValueError, lzma.LZMAError, zlib.error)
# What Python and JavaScript look like at a glance: a line that starts so.
_PYTHON_LINE = re.compile(
    rb"^[ \t]*(?:import [\w.]+|from [\w.]+ import |def \w+\(|class \w+[(:]|if __name__|exec\(|print\(|try:|@\w)",
    re.M,
)
_JAVASCRIPT_LINE = re.compile(
    rb"^[ \t]*(?:(?:const|let|var) [\w${}\[\], ]+=|function[\s*\w]*\(|module\.exports|exports\.|require\(|"
    rb"import .* from |\(function|\(\(\) *=>|!function|async function|eval\()",
    re.M,
)


def _open_compressed(path: Path, kind: str) -> IO[bytes]:
    if kind == "gzip":
        return cast("IO[bytes]", gzip.open(path, "rb"))
    if kind == "bzip2":
        return bz2.open(path, "rb")
    if kind == "xz":
        return lzma.open(path, "rb")
    raise ValueError(f"not a compression kind: {kind}")


def _decompressed_head(path: Path, kind: str, size: int) -> bytes:
    try:
        with _open_compressed(path, kind) as stream:
            return stream.read(size)
    except _DECOMPRESSION_ERRORS as error:
        raise ArchiveError(f"{path}: not readable {kind} data: {error}") from None


def script_suffix(head: bytes) -> str:
    """`.py` or `.js` when `head` (the start of a file) reads like Python or JavaScript text, else
    the empty string. A guess for naming a decompressed payload so that discovery picks it up."""
    if b"\x00" in head:
        return ""
    text = head.decode("utf-8", errors="replace")
    if text.count("\ufffd") > len(text) // 20:
        return ""
    if head.startswith(b"#!"):
        first = head.split(b"\n", 1)[0]
        if b"python" in first:
            return ".py"
        if b"node" in first or b"deno" in first or b"bun" in first:
            return ".js"
    python = len(_PYTHON_LINE.findall(head))
    javascript = len(_JAVASCRIPT_LINE.findall(head))
    if python == javascript == 0:
        return ""
    return ".py" if python >= javascript else ".js"


def _gzip_name(path: Path) -> str | None:
    """The file name a gzip header records (`gzip file.py` keeps `file.py`), if it has one."""
    try:
        with open(path, "rb") as handle:
            header = handle.read(4096)
    except OSError:
        return None
    if len(header) < 10 or not header[3] & 0x08:  # FNAME
        return None
    position = 10
    if header[3] & 0x04:  # FEXTRA: a length, then that many bytes
        position += 2 + int.from_bytes(header[10:12], "little")
    end = header.find(b"\x00", position)
    return header[position:end].decode("latin-1") if end > position else None


def _safe_leaf(name: str | None) -> str | None:
    """The last part of `name`, if it is a plain file name (no control characters, not `..`)."""
    if not name:
        return None
    leaf = name.replace("\\", "/").rsplit("/", 1)[-1][:128]
    if leaf in ("", ".", "..") or any(ord(c) < 32 or ord(c) == 127 for c in leaf):
        return None
    return leaf


def decompressed_name(path: Path, kind: str, head: bytes) -> str:
    """The name a single compressed file gets when unpacked: the one the gzip header records,
    else the archive's own name without its compression suffix, else `payload`; a name that
    discovery would pass over gets `.py` or `.js` when the text looks like Python or JavaScript."""
    name = _safe_leaf(_gzip_name(path)) if kind == "gzip" else None
    if name is None:
        lower = path.name.lower()
        suffix = next((s for s in _COMPRESSION_SUFFIXES.get(kind, ()) if lower.endswith(s)), None)
        name = _safe_leaf(path.name[: -len(suffix)]) if suffix else None
    name = name or "payload"
    if name.rsplit(".", 1)[-1].lower() not in DEFAULT_EXTENSIONS or "." not in name:
        name += script_suffix(head)
    return name


def decompress(
    path: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    kind: str,
    limits: ExtractionLimits | None = None,
) -> Extraction:
    """Decompresses a single gzip, bzip2 or xz file (not a tar) into `destination` as one file
    named by `decompressed_name`, under the size and ratio limits of `extract`."""
    archive = Path(path)
    try:
        compressed = archive.stat().st_size
    except OSError as error:
        raise ArchiveError(f"{archive}: cannot be read: {error.strerror}") from None
    head = _decompressed_head(archive, kind, 4096)
    writer = _Writer(str(archive), Path(destination), compressed, limits or ExtractionLimits())
    name = PurePosixPath(decompressed_name(archive, kind, head))
    try:
        with _open_compressed(archive, kind) as stream:
            writer.file(name, stream)
    except ArchiveError:
        raise
    except _DECOMPRESSION_ERRORS as error:
        raise ArchiveError(f"{archive}: not readable {kind} data: {error}") from None
    return writer.result


def unpack(
    path: str | os.PathLike[str], destination: str | os.PathLike[str], limits: ExtractionLimits | None = None
) -> Extraction:
    """Unpacks an archive named as one (a `.tar.gz`, a wheel, a `.py.gz`) by what its content
    is: zips and tars with `extract`, a single compressed file with `decompress`."""
    try:
        with open(path, "rb") as handle:
            head = handle.read(512)
    except OSError as error:
        raise ArchiveError(f"{os.fspath(path)}: cannot be read: {error.strerror}") from None
    kind = archive_kind(head)
    if kind in COMPRESSED_KINDS:
        return unpack_found(path, destination, kind, limits)[0]
    return extract(path, destination, limits)


def unpack_found(
    path: str | os.PathLike[str],
    destination: str | os.PathLike[str],
    kind: str,
    limits: ExtractionLimits | None = None,
    quarantine: bool = False,
) -> tuple[Extraction, str]:
    """Unpacks an archive found by its content (`kind` as `_malwi.discover` names it: zip, tar,
    gzip, bzip2, xz) into `destination`: zips and tars (compressed or not) with `extract`, a
    single compressed file with `decompress`. Returns what was unpacked and what the archive
    turned out to be: `zip`, `tar`, `tar.gz`, `tar.bz2`, `tar.xz`, `gzip`, `bzip2` or `xz`."""
    archive = Path(path)
    if kind in COMPRESSED_KINDS:
        if _decompressed_head(archive, kind, 512)[257:262] != b"ustar":
            return decompress(archive, destination, kind, limits), kind
        return extract(archive, destination, limits, quarantine), _TAR_KINDS[kind]
    return extract(archive, destination, limits, quarantine), kind
