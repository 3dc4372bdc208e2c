"""`malwi research preprocess`: every file of every package turned into labelled objects.

Archives (the malicious sample archive, downloaded sdists, wheels and npm tarballs) are read
member by member. Source members are written into a temporary folder under generated names (so
nothing in an archive can choose where it lands), compiled by the Rust batch API, and the folder
is removed. Nothing is executed.

Output: `objects.parquet` (one row per distinct object of a package) and `packages.json` (one
entry per package with its label and split).
"""

from __future__ import annotations

import argparse
import json
import shutil
import tarfile
import tempfile
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from malwi._malwi import FeaturizerConfig, compile_files
from malwi_research import Progress, ResearchError, WorkFolder, log, need
from malwi_research.split import assign_splits, reuse_splits

SOURCE_LANGUAGES = {
    ".py": "python",
    ".pyw": "python",
    ".js": "javascript",
    ".mjs": "javascript",
    ".cjs": "javascript",
}
MAX_PACKAGE_BYTES = 200 * 1024 * 1024  # uncompressed source per package; beyond it the rest is skipped
MAX_RATIO = 200  # compression ratio above which a zip member is skipped (a bomb, not source)


def featurizer_config(config: dict[str, Any]) -> FeaturizerConfig:
    return FeaturizerConfig(**config["featurizer"])


def source_members(archive: Path, max_file: int) -> Iterator[tuple[str, bytes]]:
    """`(member path, bytes)` of the source files in a tar or zip archive, bounded in size."""
    total = 0
    name = archive.name
    if name.endswith((".zip", ".whl", ".egg")):
        with zipfile.ZipFile(archive) as zipped:
            for info in zipped.infolist():
                suffix = Path(info.filename).suffix.lower()
                if info.is_dir() or suffix not in SOURCE_LANGUAGES or info.file_size > max_file:
                    continue
                if info.compress_size and info.file_size / info.compress_size > MAX_RATIO:
                    continue
                total += info.file_size
                if total > MAX_PACKAGE_BYTES:
                    return
                yield info.filename, zipped.read(info)
        return
    with tarfile.open(archive, mode="r:*") as tarred:
        for member in tarred:
            suffix = Path(member.name).suffix.lower()
            if not member.isfile() or suffix not in SOURCE_LANGUAGES or member.size > max_file:
                continue
            total += member.size
            if total > MAX_PACKAGE_BYTES:
                return
            handle = tarred.extractfile(member)
            if handle is not None:
                yield member.name, handle.read()


def compile_members(
    members: list[tuple[str, bytes]], config: FeaturizerConfig, scratch: Path
) -> list[dict[str, Any]]:
    """Compiles in-memory files with the batch API; returns one row per object (no package fields)."""
    if not members:
        return []
    folder = Path(tempfile.mkdtemp(dir=scratch))
    try:
        files = []
        for i, (member, data) in enumerate(members):
            suffix = Path(member).suffix.lower()
            path = folder / f"{i:06d}{suffix}"
            path.write_bytes(data)
            files.append((str(path), SOURCE_LANGUAGES[suffix]))
        rows = []
        for (member, _), report in zip(members, compile_files(files, config=config)):
            for obj in report.objects:
                first, last = obj.location
                rows.append(
                    {
                        "file_path": member,
                        "language": obj.language,
                        "object_name": obj.name,
                        "object_kind": obj.kind,
                        "start_line": first,
                        "end_line": last,
                        "hash": obj.to_hash(),
                        "tokens": obj.to_token_string(),
                        "token_count": obj.token_count,
                    }
                )
        return rows
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def distinct_objects(objects: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """A package's objects, each distinct one (by token hash) once: the objects a scan counts
    for the package score."""
    seen: set[str] = set()
    kept = []
    for row in objects:
        if row["hash"] not in seen:
            seen.add(row["hash"])
            kept.append(row)
    return kept


def malicious_packages(archive: Path, max_file: int) -> Iterator[tuple[str, list[tuple[str, bytes]]]]:
    """`(package folder, files)` from the malicious archive, read as a stream, never unpacked."""
    current: str | None = None
    files: list[tuple[str, bytes]] = []
    with tarfile.open(archive, mode="r:xz") as tarred:
        for member in tarred:
            parts = Path(member.name).parts
            if not member.isfile() or len(parts) < 4 or member.size > max_file:
                continue
            package = parts[2]  # python/malicious/<name>_<version>/...
            if package != current:
                if current is not None and files:
                    yield current, files
                current, files = package, []
            handle = tarred.extractfile(member)
            if handle is not None and Path(member.name).suffix.lower() in SOURCE_LANGUAGES:
                files.append(("/".join(parts[2:]), handle.read()))
    if current is not None and files:
        yield current, files


def split_name_version(folder: str) -> tuple[str, str]:
    name, _, version = folder.rpartition("_")
    return (name or folder).lower().replace("-", "_"), version


def choose_splits(
    work: WorkFolder, packages: list[dict[str, Any]], rows: list[dict[str, Any]]
) -> dict[str, str]:
    """Grouped splits, or with `split.reuse` the splits of an earlier run's `packages.json`."""
    settings = work.config["split"]
    if not settings.get("reuse"):
        return assign_splits(packages, rows, settings, int(work.config["seed"]))
    source = work.config_relative(settings["reuse"])
    try:
        splits, new = reuse_splits(packages, json.loads(source.read_text()))
    except OSError as error:
        raise ResearchError(
            f"cannot read the splits to reuse (split.reuse) from {source}: {error.strerror}"
        ) from None
    except ValueError as error:
        raise ResearchError(f"cannot reuse the splits in {source}: {error}") from None
    log(f"splits reused from {source}: {len(splits)} packages; {len(new)} not in it are left out")
    for package_id in new[:20]:
        log(f"  left out: {package_id}")
    return splits


# Benign rows go to disk in parts of this many while packages are compiled, and are streamed
# into the final table: tens of thousands of benign packages held as Python rows do not fit in
# memory (with the long-tail lists a preprocess passed 16 GB before it was stopped).
PART_ROWS = 100_000


class Spill:
    """Benign object rows on disk, in Parquet parts. What the split and the drop of malicious
    objects that benign packages share need, the rows' hashes, stays in memory."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.pending: list[dict[str, Any]] = []
        self.parts: list[Path] = []
        self.hashes: set[str] = set()

    def add(self, rows: list[dict[str, Any]]) -> None:
        self.hashes.update(row["hash"] for row in rows)
        self.pending += rows
        if len(self.pending) >= PART_ROWS:
            self.flush()

    def flush(self) -> None:
        if not self.pending:
            return
        pyarrow, parquet = need("pyarrow"), need("pyarrow.parquet")
        path = self.folder / f"part-{len(self.parts):05d}.parquet"
        parquet.write_table(pyarrow.Table.from_pylist(self.pending), path)
        self.parts.append(path)
        self.pending = []


def write_objects(
    path: Path, malicious: list[dict[str, Any]], parts: list[Path], split_of: dict[str, str]
) -> int:
    """The objects table: the malicious rows, then the benign parts, each row with its
    package's split (rows of packages without one are left out), written a part at a time.
    Returns the rows written."""
    pyarrow, parquet = need("pyarrow"), need("pyarrow.parquet")

    def with_split(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
        kept = [row for row in rows if row["package_id"] in split_of]
        for row in kept:
            row["split"] = split_of[row["package_id"]]
        return kept

    writer = None
    written = 0
    try:
        batches = ([malicious], (parquet.read_table(part).to_pylist() for part in parts))
        for rows in (batch for group in batches for batch in group):
            kept = with_split(rows)
            if not kept:
                continue
            table = pyarrow.Table.from_pylist(kept)
            if writer is None:
                writer = parquet.ParquetWriter(path, table.schema, compression="zstd")
            writer.write_table(table.cast(writer.schema))
            written += len(kept)
    finally:
        if writer is not None:
            writer.close()
    if writer is None:
        raise ResearchError("preprocess found no objects in any package with a split")
    return written


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    config = featurizer_config(work.config)
    max_file = int(work.config["data"]["max_file_size_mb"]) * 1024 * 1024
    scratch = Path(tempfile.mkdtemp(prefix="malwi-preprocess-"))
    work.root.mkdir(parents=True, exist_ok=True)
    spill = Spill(Path(tempfile.mkdtemp(prefix="preprocess-rows-", dir=work.root)))
    rows: list[dict[str, Any]] = []  # malicious rows: few, and the split reads their tokens
    packages: list[dict[str, Any]] = []

    def add(package: dict[str, Any], objects: list[dict[str, Any]]) -> None:
        kept = distinct_objects(objects)
        for row in kept:
            row.update(package_id=package["id"], label=package["label"])
        if package["label"]:
            rows.extend(kept)
        else:
            spill.add(kept)
        package["objects"] = len(kept)
        packages.append(package)

    try:
        archive = work.data_path("malicious_archive")
        log(f"malicious samples from {archive}")
        progress = Progress("malicious", 9400)
        for folder, files in malicious_packages(archive, max_file):
            name, version = split_name_version(folder)
            package: dict[str, Any] = {
                "id": f"malicious/{folder}",
                "name": name,
                "version": version,
                "ecosystem": "pypi",
                "label": 1,
                "files": len(files),
            }
            add(package, compile_members(files, config, scratch))
            progress.step()
        progress.close()

        index_path = work.downloads / "index.json"
        work.require(index_path)
        index = [entry for entry in json.loads(index_path.read_text()) if entry.get("file")]
        progress = Progress("benign", len(index))
        for entry in index:
            archive_path = work.downloads / entry["file"]
            try:
                files = list(source_members(archive_path, max_file))
            except (tarfile.TarError, zipfile.BadZipFile, OSError, EOFError) as error:
                log(f"skipping unreadable {archive_path.name}: {error}")
                progress.step()
                continue
            package = {
                "id": f"{entry['ecosystem']}/{entry['name']}",
                "name": entry["name"].lower().replace("-", "_"),
                "version": entry.get("version", ""),
                "ecosystem": entry["ecosystem"],
                "source": entry.get("source", "popular"),  # popular or long-tail benign data
                "label": 0,
                "files": len(files),
            }
            add(package, compile_members(files, config, scratch))
            progress.step()
        progress.close()
        spill.flush()
    except BaseException:
        shutil.rmtree(spill.folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(scratch, ignore_errors=True)

    before = len(rows)
    rows = [row for row in rows if row["hash"] not in spill.hashes]
    log(f"dropped {before - len(rows)} malicious objects that also occur in benign packages")
    counts: dict[str, int] = {}
    for row in rows:
        counts[row["package_id"]] = counts.get(row["package_id"], 0) + 1
    for package in packages:
        if package["label"]:  # a benign package keeps every distinct object it had
            package["objects"] = counts.get(package["id"], 0)
    packages = [p for p in packages if p["objects"] > 0]

    splits = choose_splits(work, packages, rows)
    packages = [p for p in packages if p["id"] in splits]
    for package in packages:
        package["split"] = splits[package["id"]]
    split_of = {p["id"]: p["split"] for p in packages}
    try:
        written = write_objects(work.objects, rows, spill.parts, split_of)
    finally:
        shutil.rmtree(spill.folder, ignore_errors=True)
    work.packages.write_text(
        json.dumps(
            {
                "featurizer_id": config.featurizer_id,
                "featurizer": json.loads(config.to_json()),
                "packages": packages,
            },
            indent=1,
        )
    )
    summary: dict[str, dict[str, int]] = {}
    for package in packages:
        kind = "malicious" if package["label"] else f"benign-{package.get('source', 'popular')}"
        key = f"{package['ecosystem']}/{kind}"
        summary.setdefault(key, {}).setdefault(package["split"], 0)
        summary[key][package["split"]] += 1
    log(f"{written} objects from {len(packages)} packages -> {work.objects}")
    for key, by_split in sorted(summary.items()):
        log(f"  {key}: {by_split}")
