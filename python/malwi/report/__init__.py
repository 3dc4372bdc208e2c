"""Verdicts: a scan scored by the model, rolled up to files and to the package.

`MalwiReport.create(input_path, ...)` is the API; `malwi scan` renders the same report. The model
is loaded once per process (see `malwi.model.load`), so scanning many packages in one process
pays for it once.

Files whose content, featurizer and model are unchanged since an earlier scan come from the
result cache (`malwi.cache`) without being compiled or scored; when every file does, neither
numpy nor ONNX Runtime is imported at all.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import tempfile
import time
import uuid
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from malwi import _malwi
from malwi._malwi import (
    DEFAULT_MAX_ARCHIVE_SIZE,
    DEFAULT_MAX_FILE_SIZE,
    FEATURIZER_VERSION,
    FileReport,
    MalwiObject,
    __version__,
    compile_files,
    discover,
)
from malwi.model import ModelBundle, load, load_bundle, model_path

if TYPE_CHECKING:
    import numpy as np

    from malwi.cache import ResultCache
    from malwi.model.scoring import Scorer, ScoringStatistics
    from malwi.sources.archive import ExtractionLimits

VERDICTS = ("malicious", "suspicious", "good")
CHUNK_FILES = 256
# Object hashes are kept per file as 64-bit prefixes: enough to count distinct objects.
HASH_PREFIX = 16


class ObjectFinding:
    """An object scored at or above the suspicious threshold."""

    __slots__ = ("name", "kind", "lines", "score", "activities", "source", "hash", "decoded_from", "flows")

    def __init__(
        self,
        name: str,
        kind: str,
        lines: tuple[int, int],
        score: float,
        activities: list[str],
        source: str,
        hash: str,
        decoded_from: str | None = None,
        flows: list[dict[str, Any]] | None = None,
    ) -> None:
        self.name = name
        self.kind = kind
        self.lines = lines
        self.score = score
        self.activities = activities
        self.source = source
        self.hash = hash
        self.decoded_from = decoded_from  # `base64 > zlib` for code decoded from a string literal
        self.flows = flows or []  # data flows inside the object: source, sink, lines, details

    @classmethod
    def of(cls, obj: MalwiObject, score: float) -> ObjectFinding:
        return cls(
            obj.name,
            obj.kind,
            obj.location,
            score,
            obj.activities(),
            obj.source_code,
            obj.to_hash(),
            obj.decoded_from,
            [dict(flow) for flow in obj.flows],
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ObjectFinding:
        first, last = data["lines"]
        return cls(
            data["name"],
            data["kind"],
            (first, last),
            data["score"],
            data["activities"],
            data["source"],
            data["hash"],
            data.get("decoded_from"),
            data.get("flows"),
        )

    def to_dict(self) -> dict[str, Any]:
        result = {
            "name": self.name,
            "kind": self.kind,
            "lines": list(self.lines),
            "score": round(self.score, 4),
            "activities": self.activities,
            "hash": self.hash,
            "source": self.source,
        }
        if self.decoded_from:
            result["decoded_from"] = self.decoded_from
        if self.flows:
            result["flows"] = self.flows
        return result


class FileFinding:
    """One file's score, its flagged objects, and what the static engines found in it whatever
    the model says: data flows, decoded payloads, protectors and decoding notes."""

    __slots__ = (
        "path",
        "language",
        "status",
        "reason",
        "score",
        "objects",
        "object_count",
        "cached",
        "flows",
        "payloads",
        "protection",
        "notes",
    )

    def __init__(self, path: str, language: str, status: str = "compiled", reason: str | None = None) -> None:
        self.path = path
        self.language = language
        self.status = status
        self.reason = reason
        self.score = 0.0
        self.objects: list[ObjectFinding] = []
        self.object_count = 0
        self.cached = False
        # Every object's flows, with the object's name (`object`).
        self.flows: list[dict[str, Any]] = []
        # Every decoded payload object: object, lines, chain, activities.
        self.payloads: list[dict[str, Any]] = []
        # The protector detection when it found any evidence: protector, confidence, evidence.
        self.protection: dict[str, Any] | None = None
        # Payloads reported but not decoded (marshalled code) and decoding limits reached.
        self.notes: list[dict[str, Any]] = []

    def analyse(self, report: FileReport) -> None:
        """Keeps what the static engines found in a compiled file."""
        for obj in report.objects:
            for flow in obj.flows:
                self.flows.append({"object": obj.name, **flow})
            if obj.decoded_from:
                first, last = obj.location
                self.payloads.append(
                    {
                        "object": obj.name,
                        "lines": [first, last],
                        "chain": obj.decoded_from,
                        "language": obj.language,
                        "activities": obj.activities(),
                    }
                )
        self.protection = report.protection
        self.notes = list(report.notes)

    def warnings(self, repairs: list[str]) -> list[str]:
        """The file's repairs, and where payload decoding stopped at a limit (a decoding bomb)."""
        limits = [f"line {n['lines'][0]}: {n['detail']}" for n in self.notes if n["kind"] == "decoding_limit"]
        return [*repairs, *limits]

    @property
    def analysed(self) -> bool:
        """Whether the static engines found anything worth reporting here."""
        return bool(
            self.flows or self.payloads or self.notes or (self.protection and self.protection["is_protected"])
        )

    def engine_record(self) -> dict[str, Any]:
        return {
            "flows": self.flows,
            "payloads": self.payloads,
            "protection": self.protection,
            "notes": self.notes,
        }

    def restore_engines(self, record: dict[str, Any]) -> None:
        self.flows = record.get("flows", [])
        self.payloads = record.get("payloads", [])
        self.protection = record.get("protection")
        self.notes = record.get("notes", [])

    def to_dict(self) -> dict[str, Any]:
        result = {
            "path": self.path,
            "language": self.language,
            "status": self.status,
            "reason": self.reason,
            "score": round(self.score, 4),
            "objects": [o.to_dict() for o in self.objects],
        }
        for key, value in self.engine_record().items():
            if value:
                result[key] = value
        return result


class _Tally:
    """What the scan saw, for the statistics and the package score."""

    def __init__(self) -> None:
        self.top = 0.0  # highest raw object score
        self.hashes: set[str] = set()
        self.objects = 0
        self.cached = 0
        self.bytes = 0


class FileInfo:
    """What was scanned, for the result's `file_info`: one file or archive is described by its
    bytes; a folder (or several inputs) by a manifest of its files' paths and SHA-256s."""

    def __init__(self, name: str, kind: str) -> None:
        self.name = name
        self.kind = kind
        self.size = 0
        self.md5 = self.sha1 = self.sha256 = ""
        self.entropy: float | None = None

    @classmethod
    def of_file(cls, path: str | os.PathLike[str], name: str | None = None, kind: str = "file") -> FileInfo:
        info = cls(name or os.path.basename(os.fspath(path)), kind)
        import numpy as np

        md5, sha1, sha256 = (
            hashlib.md5(usedforsecurity=False),
            hashlib.sha1(usedforsecurity=False),
            hashlib.sha256(),
        )
        counts = np.zeros(256, dtype=np.int64)
        with open(path, "rb") as handle:
            while block := handle.read(1 << 20):
                info.size += len(block)
                md5.update(block)
                sha1.update(block)
                sha256.update(block)
                counts += np.bincount(np.frombuffer(block, dtype=np.uint8), minlength=256)
        info.md5, info.sha1, info.sha256 = md5.hexdigest(), sha1.hexdigest(), sha256.hexdigest()
        if info.size:
            shares = counts[counts > 0] / info.size
            info.entropy = max(0.0, float(-(shares * np.log2(shares)).sum()))
        else:
            info.entropy = 0.0
        return info

    @classmethod
    def of_manifest(cls, name: str, entries: list[tuple[str, str, int]]) -> FileInfo:
        info = cls(name, "directory")
        manifest = "".join(f"{digest}  {path}\n" for path, digest, _ in sorted(entries)).encode()
        info.size = sum(size for _, _, size in entries)
        info.md5 = hashlib.md5(manifest, usedforsecurity=False).hexdigest()
        info.sha1 = hashlib.sha1(manifest, usedforsecurity=False).hexdigest()
        info.sha256 = hashlib.sha256(manifest).hexdigest()
        return info

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "filename": self.name,
            "size": self.size,
            "md5": self.md5,
            "sha1": self.sha1,
            "sha256": self.sha256,
            "file_type": self.kind,
        }
        if self.entropy is not None:
            result["entropy"] = round(self.entropy, 4)
        return result


class MalwiReport:
    """The verdict on everything given as input, and why."""

    def __init__(self) -> None:
        self.analysis_id = str(uuid.uuid4())
        self.timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.inputs: list[str] = []
        self.label = ""
        self.malicious = False
        self.maliciousness = 0.0
        self.verdict = "good"
        self.threshold = 0.5
        self.suspicious_threshold = 0.25
        self.files: list[FileFinding] = []
        self.statistics: dict[str, Any] = {}
        self.model: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.file_info = FileInfo("", "directory")
        self.source: dict[str, Any] = {}
        self._partial = False

    @classmethod
    def create(
        cls,
        input_path: str | os.PathLike[str] | Sequence[str | os.PathLike[str]],
        silent: bool = False,
        malicious_threshold: float | None = None,
        *,
        device: str = "auto",
        workers: int = 0,
        model: str | os.PathLike[str] | None = None,
        extensions: list[str] | None = None,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        cache: bool | ResultCache = False,
        exclude: Sequence[str] = (),
        exclude_base: str | os.PathLike[str] | None = None,
        display_names: dict[str, str] | None = None,
        ignore_files: bool = True,
        label: str | None = None,
        file_info: FileInfo | None = None,
        progress: bool = False,
        archive_limits: ExtractionLimits | None = None,
    ) -> MalwiReport:
        """Scans files, folders or a package and scores it. `silent` suppresses warnings on
        stderr (they stay in `report.warnings`). `cache=True` uses the result cache in the user
        cache folder (or pass a ResultCache). `display_names` maps real path prefixes to what the
        report shows (an unpacked archive shows as the archive's name); `exclude` adds gitignore
        patterns (relative to `exclude_base`) to the `.malwiignore` at the root of each scanned
        folder; `ignore_files=False` reads no `.malwiignore` (for untrusted trees).

        Archives found among the other files by their content (a zip renamed `cert.crt`, a
        gzipped script renamed `data.pyc`, a nested wheel) are unpacked one level deep within
        `archive_limits` (default `ExtractionLimits()`) into a temporary folder and scanned with
        the rest, shown as `<archive>!/<member>`; one that cannot be unpacked safely is a
        warning, not an error."""
        started = time.perf_counter()
        paths = [input_path] if isinstance(input_path, str | os.PathLike) else list(input_path)
        bundle_path = model_path(model).resolve()
        bundle = load_bundle(bundle_path)
        if device == "cuda":
            # Asked for explicitly: an error even when every result would come from the cache.
            from malwi.model.runtime import require_device

            require_device(device)
        report = cls()
        report.threshold = bundle.threshold if malicious_threshold is None else float(malicious_threshold)
        report.suspicious_threshold = min(bundle.suspicious_threshold, report.threshold)
        report.model = {"name": bundle.name, "version": bundle.version, "device": "cache"}
        names = sorted((display_names or {}).items(), key=lambda item: -len(item[0]))

        def shown(path: str) -> str:
            for real, display in names:
                if path == real or path.startswith(real + os.sep):
                    return display + path[len(real) :].replace(os.sep, "/")
            return path

        def show_as(real: str, display: str) -> None:
            names.append((real, display))
            names.sort(key=lambda item: -len(item[0]))

        report.inputs = [shown(os.fspath(p)) for p in paths]
        report.label = label or ", ".join(report.inputs)
        found = discover(
            paths,
            extensions=extensions,
            exclude=list(exclude) or None,
            exclude_base=exclude_base,
            ignore_files=ignore_files,
            max_archive_size=archive_limits.max_total_bytes if archive_limits else DEFAULT_MAX_ARCHIVE_SIZE,
        )
        for path, message in found.errors:
            report.warnings.append(f"{shown(path)}: cannot be read: {message}")
            report._partial = True
        for path in found.ignored_ignore_files:
            report.warnings.append(
                f"{shown(path)}: not honoured (only the .malwiignore of a scanned folder itself counts)"
            )
        owned = isinstance(cache, bool)
        result_cache = _open_cache(report) if cache is True else (cache or None)
        scorer_key = _scorer_key(bundle_path, bundle, report.suspicious_threshold)
        scoring: list[Any] = []  # [Scorer, ScoringStatistics] once a file needs the model
        tally = _Tally()
        manifest: list[tuple[str, str, int]] = []
        from malwi.progress import Progress

        inside = _Inside()
        try:
            inside.unpack(report, found.archives, shown, show_as, extensions, archive_limits)
            files = found.files + inside.files
            with Progress("scan", len(files), unit="files", enabled=progress) as bar:
                for start in range(0, len(files), CHUNK_FILES):
                    chunk = files[start : start + CHUNK_FILES]
                    report._scan_chunk(
                        chunk,
                        shown,
                        bundle_path,
                        device,
                        workers,
                        max_file_size,
                        result_cache,
                        scorer_key,
                        scoring,
                        tally,
                        manifest,
                    )
                    bar.step(len(chunk))
        finally:
            inside.cleanup()
        other_types = found.skipped_by_extension + inside.skipped_by_extension
        links = found.skipped_links + inside.skipped_links
        if result_cache is not None and owned:
            if tally.cached < len(files):  # rows were written: keep the cache bounded
                try:
                    result_cache.prune()
                except Exception as error:  # noqa: BLE001 - as for writes: speed only
                    report.warnings.append(f"result cache not pruned: {error}")
            result_cache.close()
        report.maliciousness = bundle.package_probability(tally.top, len(tally.hashes))
        report.malicious = report.maliciousness >= report.threshold
        report.verdict = (
            "malicious"
            if report.malicious
            else "suspicious"
            if report.maliciousness >= report.suspicious_threshold
            else "good"
        )
        if scoring:
            report.model["device"] = scoring[0].device
        stage = scoring[1] if scoring else None
        report.statistics = {
            "files": len(files) + other_types + links + found.skipped_ignored,
            "scanned": sum(1 for f in report.files if f.status == "compiled"),
            "skipped": sum(1 for f in report.files if f.status == "skipped"),
            "skipped_by_extension": other_types,
            "skipped_links": links,
            "skipped_ignored": found.skipped_ignored,
            "failed": sum(1 for f in report.files if f.status == "failed"),
            "cached": tally.cached,
            "objects": tally.objects,
            "objects_scored": len(tally.hashes),
            "objects_stage2": stage.stage2_objects if stage else 0,
            "windows": stage.windows if stage else 0,
            "bytes": tally.bytes,
            "seconds": round(time.perf_counter() - started, 3),
            "device": report.model["device"],
        }
        if report.statistics["failed"]:
            report._partial = True
        if report.statistics["scanned"] == 0:
            report.warnings.append(
                f"nothing was scanned ({report.statistics['files']} files seen, {found.skipped_ignored} ignored, "
                f"{other_types} of other types): a good verdict here means nothing"
            )
        if file_info is not None:
            report.file_info = file_info
        elif len(paths) == 1 and os.path.isfile(paths[0]):
            report.file_info = FileInfo.of_file(paths[0], shown(os.fspath(paths[0])))
        else:
            report.file_info = FileInfo.of_manifest(report.label, manifest)
        if not silent:
            import sys

            for warning in report.warnings:
                print(f"malwi: warning: {warning}", file=sys.stderr)
        return report

    def _scan_chunk(
        self,
        chunk: list[tuple[str, str]],
        shown: Any,
        bundle_path: Any,
        device: str,
        workers: int,
        max_file_size: int,
        cache: ResultCache | None,
        scorer_key: str,
        scoring: list[Any],
        tally: _Tally,
        manifest: list[tuple[str, str, int]],
    ) -> None:
        """Answers what it can from the cache; compiles and scores the rest."""
        digests: dict[str, str] = {}
        for path, _ in chunk:
            try:
                if os.path.getsize(path) > max_file_size:
                    continue  # compile_files skips it with the reason
                with open(path, "rb") as handle:
                    data = handle.read()
            except OSError:
                continue  # compile_files reports why
            digests[path] = hashlib.sha256(data).hexdigest()
            manifest.append((shown(path), digests[path], len(data)))
            tally.bytes += len(data)
        hits = (
            cache.lookup([(digests[p], lang) for p, lang in chunk if p in digests], scorer_key)
            if cache
            else {}
        )
        misses: list[tuple[str, str]] = []
        for path, language in chunk:
            cached = hits.get((digests.get(path, ""), language))
            if cached is None:
                misses.append((path, language))
                continue
            finding = FileFinding(shown(path), language)
            finding.cached = True
            finding.score = cached["score"]
            finding.object_count = cached["objects"]
            finding.objects = [ObjectFinding.from_dict(o) for o in cached["findings"]]
            finding.restore_engines(cached)
            self.warnings.extend(f"{finding.path}: {note}" for note in cached["warnings"])
            self.files.append(finding)
            tally.cached += 1
            tally.objects += cached["objects"]
            tally.top = max(tally.top, cached["top"])
            tally.hashes.update(cached["hashes"])
        if not misses:
            return
        if not scoring:
            scorer = load(bundle_path, device=device, workers=workers)
            from malwi.model.scoring import ScoringStatistics

            scoring.extend([scorer, ScoringStatistics()])
        reports = compile_files(
            misses, workers=workers, max_file_size=max_file_size, config=scoring[0].bundle.featurizer
        )
        records = self._score_files(reports, shown, scoring[0], scoring[1], tally)
        if cache is not None:
            rows = [
                (digests[report.path], report.language, record)
                for report, record in zip(reports, records)
                if record is not None and report.path in digests
            ]
            try:
                cache.store(rows, scorer_key)
            except Exception as error:  # noqa: BLE001 - a cache that cannot be written costs speed only
                self.warnings.append(f"result cache not updated: {error}")

    def _score_files(
        self,
        reports: list[FileReport],
        shown: Any,
        scorer: Scorer,
        statistics: ScoringStatistics,
        tally: _Tally,
    ) -> list[dict[str, Any] | None]:
        """Scores compiled files; keeps per file its score and the objects worth showing, and
        returns what the cache should remember of each (None: not cacheable)."""
        import numpy as np

        objects: list[MalwiObject] = []
        keys: list[str] = []
        owners: list[int] = []
        findings: list[FileFinding] = []
        file_warnings: list[list[str]] = []
        for index, report in enumerate(reports):
            finding = FileFinding(shown(report.path), report.language, report.status, report.reason)
            finding.object_count = len(report.objects)
            if report.status == "compiled":
                finding.analyse(report)
            findings.append(finding)
            if report.status != "compiled":
                self.warnings.append(f"{finding.path}: {report.status}, {report.reason}")
            file_warnings.append(finding.warnings(report.warnings))
            for note in file_warnings[-1]:
                self.warnings.append(f"{finding.path}: {note}")
            for obj in report.objects:
                objects.append(obj)
                keys.append(obj.to_hash())
                owners.append(index)
        self.files.extend(findings)
        tally.objects += len(objects)
        raw: np.ndarray = np.zeros(0, dtype=np.float32)
        if objects:
            raw = scorer.final(*scorer.parts(objects, keys, statistics))
            calibrated = scorer.object_probability(raw)
            owner_index = np.asarray(owners, dtype=np.int64)
            file_scores = np.zeros(len(findings), dtype=np.float32)
            np.maximum.at(file_scores, owner_index, calibrated)
            file_top = np.zeros(len(findings), dtype=np.float32)
            np.maximum.at(file_top, owner_index, raw)
            for finding, score in zip(findings, file_scores):
                finding.score = float(score)
            for i in np.nonzero(calibrated >= self.suspicious_threshold)[0]:
                findings[owners[i]].objects.append(ObjectFinding.of(objects[i], float(calibrated[i])))
            tally.top = max(tally.top, float(np.max(raw)))
        tally.hashes.update(key[:HASH_PREFIX] for key in keys)
        per_file: list[list[str]] = [[] for _ in reports]
        for owner, key in zip(owners, keys):
            per_file[owner].append(key[:HASH_PREFIX])
        records: list[dict[str, Any] | None] = []
        for index, (report, finding) in enumerate(zip(reports, findings)):
            finding.objects.sort(key=lambda o: -o.score)
            if report.status != "compiled":
                records.append(None)
                continue
            records.append(
                {
                    "score": finding.score,
                    "objects": finding.object_count,
                    "top": float(file_top[index]) if objects and per_file[index] else 0.0,
                    "hashes": sorted(set(per_file[index])),
                    "findings": [o.to_dict() for o in finding.objects],
                    "warnings": file_warnings[index],
                    **finding.engine_record(),
                }
            )
        return records

    @property
    def flagged_files(self) -> list[FileFinding]:
        return sorted((f for f in self.files if f.objects), key=lambda f: -f.score)

    @property
    def analysed_files(self) -> list[FileFinding]:
        """Files where the static engines found flows, payloads, protectors or notes."""
        return [f for f in self.files if f.analysed]

    @property
    def status(self) -> str:
        """`completed`, or `partial` when some input could not be read or parsed."""
        return "partial" if self._partial else "completed"

    def to_dict(self) -> dict[str, Any]:
        """The JSON result; it validates against `data/schemas/analysis_result_schema.json`."""
        from malwi.report.result import result_document

        return result_document(self)


def _scorer_key(bundle_path: Any, bundle: ModelBundle, suspicious_threshold: float) -> str:
    """What decides a cached file result besides its content: featurizer, model and the score
    from which objects are listed."""
    manifest = (bundle_path / "manifest.json").read_bytes()
    model = hashlib.sha256(manifest).hexdigest()[:32]
    # The compiler itself: a new malwi (or a rebuilt extension) may emit other objects, e.g.
    # decode payloads it did not decode before, with the same featurizer version.
    extension = os.stat(_malwi.__file__)
    compiler = f"{__version__}:{extension.st_size}:{extension.st_mtime_ns}"
    return f"c{compiler}:f{FEATURIZER_VERSION}:{bundle.featurizer.featurizer_id}:m{model}:s{suspicious_threshold:.6f}"


def _open_cache(report: MalwiReport) -> ResultCache | None:
    from malwi.cache import ResultCache

    try:
        return ResultCache()
    except Exception as error:  # noqa: BLE001 - an unusable cache means an uncached scan, not a failed one
        report.warnings.append(f"result cache unavailable, scanning without it: {error}")
        return None


class _Inside:
    """Archives found among a scan's files by their content (`discover`'s `archives`: a zip
    renamed `cert.crt`, a tar.gz renamed `py.typed`, a nested wheel), unpacked one level deep
    into a temporary folder that lives as long as the scan. Nothing unpacked is ever imported
    or run: its files are only compiled like the others."""

    def __init__(self) -> None:
        self.files: list[tuple[str, str]] = []
        self.skipped_by_extension = 0
        self.skipped_links = 0
        self._temporary: tempfile.TemporaryDirectory[str] | None = None
        self._count = 0

    def _folder(self) -> str:
        if self._temporary is None:
            self._temporary = tempfile.TemporaryDirectory(prefix="malwi-inside-")
        self._count += 1
        folder = os.path.join(self._temporary.name, str(self._count))
        os.mkdir(folder)
        return folder

    def unpack(
        self,
        report: MalwiReport,
        archives: list[tuple[str, str, bool]],
        shown: Callable[[str], str],
        show_as: Callable[[str, str], None],
        extensions: list[str] | None,
        limits: ExtractionLimits | None,
    ) -> None:
        """Unpacks each archive (all of them together within `limits`), lists the files found
        inside, and tells in `report.warnings` what was unpacked and what was not. An archive
        that cannot be unpacked safely leaves the report partial when it was disguised."""
        if not archives:
            return
        from malwi.errors import ArchiveError
        from malwi.sources.archive import ExtractionLimits, unpack_found

        limits = limits or ExtractionLimits()
        used_bytes = used_files = 0
        for path, kind, disguised in archives:
            name = shown(path)
            left = ExtractionLimits(
                limits.max_total_bytes - used_bytes,
                limits.max_files - used_files,
                limits.max_ratio,
                limits.ratio_grace,
            )
            if left.max_total_bytes <= 0 or left.max_files <= 0:
                report.warnings.append(
                    f"{name}: {_archive_words(path, kind, disguised)} not unpacked: the archives found in this scan "
                    "already reach the limit on unpacked size or file count"
                )
                report._partial = report._partial or disguised
                continue
            folder = self._folder()
            try:
                extraction, found_kind = unpack_found(path, folder, kind, left)
            except Exception as error:  # noqa: BLE001 - hostile bytes: whatever breaks, the package is still scanned
                shutil.rmtree(folder, ignore_errors=True)
                reason = (
                    str(error).removeprefix(f"{path}: ") if isinstance(error, ArchiveError) else repr(error)
                )
                report.warnings.append(
                    f"{name}: {_archive_words(path, kind, disguised)} not unpacked: {reason}"
                )
                report._partial = report._partial or disguised
                continue
            used_bytes += extraction.bytes
            used_files += extraction.files
            show_as(folder, name + "!")
            report.warnings.append(f"{name}: {_archive_words(path, found_kind, disguised)}, scanned inside")
            report.warnings += [f"{name}: {note}" for note in extraction.notes]
            inner = discover([folder], extensions=extensions, ignore_files=False)
            self.files += inner.files
            self.skipped_by_extension += inner.skipped_by_extension
            self.skipped_links += inner.skipped_links
            for inner_path, message in inner.errors:
                report.warnings.append(f"{shown(inner_path)}: cannot be read: {message}")
            for nested, nested_kind, _ in inner.archives:
                report.warnings.append(
                    f"{shown(nested)}: {nested_kind} archive inside an archive not unpacked (one level deep only)"
                )

    def cleanup(self) -> None:
        if self._temporary is not None:
            self._temporary.cleanup()
            self._temporary = None


def _archive_words(path: str, kind: str, disguised: bool) -> str:
    """`zip archive disguised as .crt`, or `nested zip archive` for one named as an archive."""
    if not disguised:
        return f"nested {kind} archive"
    base = os.path.basename(path)
    suffix = os.path.splitext(base)[1]
    return f"{kind} archive disguised as {suffix or base}"
