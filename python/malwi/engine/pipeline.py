"""The scan pipeline: a target's files through compile → cache → score → file verdicts.

`Scanner` is built once from `ScanOptions` (model, device, cache, limits, workers) and then scans
any number of targets: the model is loaded once, the result cache opened once. `scan(target)`
streams `FileResult`s in bounded chunks, the only chunk loop of malwi: per chunk the files are
read and hashed, answered from the cache where their content was seen before, the rest compiled
in parallel by the Rust core, their objects scored, and each file judged (`engine.verdict`).
`judge(target)` consumes a scan into the package's `MalwiReport`.

Without a model (`ScanOptions(score=False)`: `--format tokens|code`, `--no-model`) the same loop
only compiles, and each result carries the compiled objects for the dump renderers.
"""

from __future__ import annotations

import hashlib
import json
import math
import os
import time
from collections.abc import Callable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

from malwi import _malwi
from malwi._malwi import (
    DEFAULT_MAX_FILE_SIZE,
    FEATURIZER_VERSION,
    HARD_FILE_LIMIT,
    FeaturizerConfig,
    FileBatch,
    FileReport,
    __version__,
    compile_files,
    read_files,
)
from malwi.engine.reach import ReachFile
from malwi.engine.unit_features import FileSummary, summarize_files
from malwi.engine.verdict import UnitTally, Verdict, judge_files, worst
from malwi.errors import NothingScanned
from malwi.report.record import restore, to_record
from malwi.report.result import FileFinding, FileInfo, MalwiReport, ObjectFinding

if TYPE_CHECKING:
    from pathlib import Path

    from malwi.engine.cache import ResultCache
    from malwi.engine.inputs import SourceFile, Target, Workspace
    from malwi.model.bundle import ModelBundle
    from malwi.model.scoring import Scorer, ScoringStatistics
    from malwi.model.unit_model import UnitModel
    from malwi.sources.registries import Release

__all__ = ["FileResult", "ScanOptions", "ScanStatistics", "Scanner"]

# A chunk holds at most this many files and this many bytes of source: memory stays bounded on
# a monorepo, while rayon keeps every worker busy inside a chunk.
CHUNK_FILES = 256
CHUNK_BYTES = 64 << 20
# Object hashes are kept per file as 64-bit prefixes: enough to count distinct objects.
HASH_PREFIX = 16


class ScanOptions:
    """How scans run; one Scanner is built from them. `model`: a bundle folder (default: the
    active or shipped model); `score=False` only compiles, with `featurizer` (the model's own
    featurizer is used when scoring). `threshold`: the verdict threshold (default: the model's);
    `cache`: True for the user's result cache, or a ResultCache."""

    __slots__ = (
        "cache",
        "device",
        "featurizer",
        "max_file_size",
        "model",
        "progress",
        "score",
        "threshold",
        "workers",
    )

    def __init__(
        self,
        *,
        model: str | os.PathLike[str] | None = None,
        score: bool = True,
        device: str = "auto",
        workers: int = 0,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        threshold: float | None = None,
        cache: bool | ResultCache = False,
        featurizer: FeaturizerConfig | None = None,
        progress: bool = False,
    ) -> None:
        self.model = model
        self.score = score
        self.device = device
        self.workers = usable_workers(workers)
        self.max_file_size = max_file_size
        self.threshold = threshold
        self.cache = cache
        self.featurizer = featurizer
        self.progress = progress


def cpu_count() -> int:
    """The cores this process may run on."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0)) or 1
    return os.cpu_count() or 1


def usable_workers(requested: int) -> int:
    """Threads for compiling and inference: 0 is all cores; more than the cores there are is
    clamped to them (thousands of threads hang the inference runtime, a million crash it)."""
    return 0 if requested <= 0 else min(requested, cpu_count())


class ScanStatistics:
    """What one scan saw and did."""

    __slots__ = (
        "bytes",
        "cached",
        "compiled",
        "device",
        "failed",
        "files",
        "objects",
        "objects_scored",
        "objects_stage2",
        "seconds",
        "skipped",
        "skipped_by_extension",
        "skipped_ignored",
        "skipped_links",
        "windows",
    )

    def __init__(self, target: Target) -> None:
        self.files = len(target.files)  # the files chosen for compiling
        self.compiled = self.skipped = self.failed = self.cached = 0
        self.skipped_by_extension = target.skipped_by_extension
        self.skipped_links = target.skipped_links
        self.skipped_ignored = target.skipped_ignored
        self.objects = self.objects_scored = self.objects_stage2 = self.windows = self.bytes = 0
        self.seconds = 0.0
        self.device = "cache"

    def count(self, status: str) -> None:
        if status == "compiled":
            self.compiled += 1
        elif status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1

    def report_dict(self) -> dict[str, Any]:
        """The verdict report's statistics (`files` counts every entry seen, chosen or not)."""
        return {
            "files": self.files + self.skipped_by_extension + self.skipped_links + self.skipped_ignored,
            "scanned": self.compiled,
            "skipped": self.skipped,
            "skipped_by_extension": self.skipped_by_extension,
            "skipped_links": self.skipped_links,
            "skipped_ignored": self.skipped_ignored,
            "failed": self.failed,
            "cached": self.cached,
            "objects": self.objects,
            "objects_scored": self.objects_scored,
            "objects_stage2": self.objects_stage2,
            "windows": self.windows,
            "bytes": self.bytes,
            "seconds": round(self.seconds, 3),
            "device": self.device,
        }

    def dump_dict(self) -> dict[str, Any]:
        """The model-free dump's statistics (`files` counts the files compiled or tried)."""
        return {
            "files": self.files,
            "compiled": self.compiled,
            "skipped": self.skipped,
            "failed": self.failed,
            "skipped_by_extension": self.skipped_by_extension,
            "skipped_links": self.skipped_links,
            "skipped_ignored": self.skipped_ignored,
            "objects": self.objects,
            "bytes": self.bytes,
            "seconds": self.seconds,
        }


class FileResult:
    """One file through the pipeline. `compiled` is the Rust core's report (objects included)
    when the file was compiled in this scan; `finding` the file's verdict when scored; `tops`
    the highest raw score of its module-level and of its other objects, `hashes` its distinct
    objects (for the package score), `imports` the modules it imports (for reachability)."""

    __slots__ = (
        "cached",
        "compiled",
        "digest",
        "finding",
        "hashes",
        "imports",
        "index",
        "size",
        "source",
        "summary",
        "tops",
        "warnings",
    )

    def __init__(self, source: SourceFile) -> None:
        self.source = source
        self.compiled: FileReport | None = None
        self.finding: FileFinding | None = None
        self.warnings: list[str] = []  # repairs, decoding limits: "path: what"
        self.tops = (0.0, 0.0)
        self.summary = FileSummary()  # what the package-unit features need of the file
        self.hashes: list[str] = []
        self.imports: list[str] = []
        self.digest: str | None = None
        self.size = 0
        self.cached = False
        self.index = 0  # in its chunk's FileBatch


class Scan:
    """One target's scan, iterable in chunks of results; `statistics` fill in as it goes."""

    def __init__(self, scanner: Scanner, target: Target) -> None:
        self.scanner = scanner
        self.target = target
        self.statistics = ScanStatistics(target)
        self.scoring: ScoringStatistics | None = None

    def chunks(self) -> Iterator[list[FileResult]]:
        started = time.perf_counter()
        from malwi.progress import Progress

        files = self.target.files
        with Progress("scan", len(files), unit="files", enabled=self.scanner.options.progress) as bar:
            for chunk in _chunked(files, self.scanner.options.max_file_size):
                results = self.scanner._scan_chunk(chunk, self)
                self.statistics.seconds = time.perf_counter() - started
                bar.step(len(chunk))
                yield results
        self.statistics.seconds = time.perf_counter() - started

    def __iter__(self) -> Iterator[FileResult]:
        for chunk in self.chunks():
            yield from chunk


def _chunked(files: list[SourceFile], max_file_size: int) -> Iterator[list[SourceFile]]:
    """Consecutive files, at most CHUNK_FILES and (by their size on disk) CHUNK_BYTES a chunk."""
    chunk: list[SourceFile] = []
    size = 0
    for file in files:
        try:
            # Files over the size limit are compiled in windows, up to the hard limit.
            length = min(os.path.getsize(file.path), max(max_file_size, HARD_FILE_LIMIT))
        except OSError:
            length = 0  # the compiler reports why it cannot be read
        if chunk and (len(chunk) >= CHUNK_FILES or size + length > CHUNK_BYTES):
            yield chunk
            chunk, size = [], 0
        chunk.append(file)
        size += length
    if chunk:
        yield chunk


def _score_value(value: Any) -> float:
    """A score read back from the cache: a finite probability, or the row is not used."""
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"score {value!r} out of range")
    return number


def _restored(
    result: FileResult, cached: dict[str, Any]
) -> tuple[FileFinding, tuple[float, float], FileSummary]:
    """A file's finding from its cache record, checked: a record that does not have this
    malwi's shape or holds scores that are not probabilities raises (the file is rescanned)."""
    finding = FileFinding(result.source.shown, result.source.language)
    finding.cached = True
    finding.score = _score_value(cached["score"])
    finding.object_count = int(cached["objects"])
    finding.objects = [ObjectFinding.from_dict(o) for o in cached["findings"]]
    for obj in finding.objects:
        obj.score = _score_value(obj.score)
    finding.restore_engines(cached)
    module_top, other_top = cached["tops"]
    if not isinstance(cached["imports"], list) or not isinstance(cached["warnings"], list):
        raise TypeError("imports and warnings are lists")
    summary = FileSummary.from_record(cached["summary"])
    return finding, (_score_value(module_top), _score_value(other_top)), summary


class Scanner:
    """Scans targets with one set of options; a context manager that closes the cache."""

    def __init__(self, options: ScanOptions | None = None) -> None:
        self.options = options if options is not None else ScanOptions()
        self.warnings: list[str] = []  # about the scanner itself (an unusable cache), once
        self.bundle: ModelBundle | None = None
        self.bundle_path: Path | None = None
        self._scorer: Scorer | None = None
        self.cache: ResultCache | None = None
        self._owns_cache = False
        self._wrote_cache = False
        self._said_unreadable = False
        self.featurizer = self.options.featurizer or FeaturizerConfig()
        if not self.options.score:
            return
        from malwi.model import load_bundle, model_path

        self.bundle_path = model_path(self.options.model).resolve()
        self.bundle = load_bundle(self.bundle_path)
        if self.options.device == "cuda":
            # Asked for explicitly: an error even when every result would come from the cache.
            from malwi.model.runtime import require_device

            require_device(self.options.device)
        self.featurizer = self.bundle.featurizer
        self.package_score = self.bundle.package_score
        # A unit judged by the package-unit model is held to its thresholds (`verdict`); one
        # judged by the package score, and the listing of objects (file step, carriers), to the
        # package score's (`listing`). Without a unit model both are the package score's.
        # --threshold sets the threshold of both scales: whichever score decides a unit.
        spec = self.bundle.unit_model
        self.unit_model: UnitModel | None = None
        chosen = self.options.threshold
        self.listing = Verdict(
            self.bundle.threshold if chosen is None else float(chosen), self.bundle.suspicious_threshold
        )
        self.verdict = (
            self.listing
            if spec is None
            else Verdict(spec.threshold if chosen is None else float(chosen), spec.suspicious_threshold)
        )
        self.scorer_key = _scorer_key(self.bundle_path, self.bundle, self.listing.suspicious)
        if self.options.cache is True:
            self.cache = self._open_cache()
            self._owns_cache = True
        elif self.options.cache:
            self.cache = self.options.cache
        if spec is not None:
            from malwi.model.unit_model import UnitModel

            self.unit_model = UnitModel(spec, self.cache, self.scorer_key)

    def __enter__(self) -> Scanner:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def close(self) -> None:
        if self.cache is not None and self._owns_cache:
            if self._wrote_cache:  # keep the cache bounded
                try:
                    self.cache.prune()
                except Exception as error:  # noqa: BLE001 - as for writes: speed only
                    self.warnings.append(f"result cache not pruned: {error}")
            self.cache.close()
            self.cache = None

    def _open_cache(self) -> ResultCache | None:
        from malwi.engine.cache import ResultCache

        try:
            return ResultCache()
        except Exception as error:  # noqa: BLE001 - an unusable cache means an uncached scan, not a failed one
            self.warnings.append(f"result cache unavailable, scanning without it: {error}")
            return None

    @property
    def scorer(self) -> Scorer:
        """The model, loaded when a file first needs it (a cached scan never does)."""
        if self._scorer is None:
            from malwi.model import load

            self._scorer = load(self.bundle_path, device=self.options.device, workers=self.options.workers)
        return self._scorer

    # -----------------------------------------------------------------------------------------

    def scan(self, target: Target) -> Scan:
        """The target's files through the pipeline, in chunks (see `Scan`)."""
        return Scan(self, target)

    def _scan_chunk(self, chunk: list[SourceFile], scan: Scan) -> list[FileResult]:
        results = [FileResult(file) for file in chunk]
        if self.bundle is None:
            self._compile(results, scan)
            return results
        # Each file is read once: its digest asks the cache, its bytes are compiled on a miss.
        batch = read_files(
            [(r.source.path, r.source.language) for r in results],
            workers=self.options.workers,
            max_file_size=self.options.max_file_size,
        )
        for index, (result, digest, size) in enumerate(zip(results, batch.digests, batch.sizes)):
            if digest is not None:
                result.digest, result.size = digest, size
                scan.statistics.bytes += size
            result.index = index
        misses = self._from_cache(results, scan) if self.cache is not None else results
        if misses:
            self._compile(misses, scan, batch)
            self._score(misses, scan)
            if self.cache is not None:
                self._store(misses)
        return results

    def _from_cache(self, results: list[FileResult], scan: Scan) -> list[FileResult]:
        """Fills in the results the cache knows; returns the others."""
        assert self.cache is not None
        keys = [(r.digest, r.source.language) for r in results if r.digest is not None]
        hits = self.cache.lookup(keys, self.scorer_key) if keys else {}
        misses = []
        unreadable = self.cache.rejected
        for result in results:
            cached = hits.get((result.digest or "", result.source.language))
            if cached is None:
                misses.append(result)
                continue
            try:
                finding, tops, summary = _restored(result, cached)
            except (KeyError, TypeError, ValueError, AttributeError):
                unreadable += 1  # authentic but not what this malwi writes: rescanned
                misses.append(result)
                continue
            result.finding = finding
            result.cached = True
            result.tops = tops
            result.summary = summary
            result.imports = [str(name) for name in cached["imports"]]
            result.hashes = cached["hashes"]
            result.warnings = [f"{finding.path}: {note}" for note in cached["warnings"]]
            scan.statistics.cached += 1
            scan.statistics.count("compiled")
            scan.statistics.objects += finding.object_count
        if unreadable and not self._said_unreadable:
            self._said_unreadable = True
            self.warnings.append(
                f"result cache: {unreadable} row(s) did not verify or could not be read; those files were scanned again"
            )
        return misses

    def _compile(self, results: list[FileResult], scan: Scan, batch: FileBatch | None = None) -> None:
        if batch is not None:
            reports = batch.compile(
                [r.index for r in results], workers=self.options.workers, config=self.featurizer
            )
        else:
            reports = compile_files(
                [(r.source.path, r.source.language) for r in results],
                workers=self.options.workers,
                max_file_size=self.options.max_file_size,
                config=self.featurizer,
            )
        for result, report in zip(results, reports):
            result.compiled = report
            shown = result.source.shown
            if report.status != "compiled":
                result.warnings.append(f"{shown}: {report.status}, {report.reason}")
            result.warnings += [f"{shown}: {note}" for note in report.warnings]
            # Where payload decoding stopped at a limit (a decoding bomb).
            result.warnings += [
                f"{shown}: line {n.lines[0]}: {n.detail}" for n in report.notes if n.kind == "decoding_limit"
            ]
            scan.statistics.count(report.status)
            scan.statistics.objects += len(report.objects)
            if self.bundle is None:
                scan.statistics.bytes += report.size

    def _score(self, results: list[FileResult], scan: Scan) -> None:
        """Scores the compiled files' objects and judges each file."""
        import numpy as np

        from malwi.model.scoring import ScoringStatistics

        reports: list[FileReport] = []
        findings: list[FileFinding] = []
        objects = []
        keys: list[str] = []
        owners: list[int] = []
        for result in results:
            report = result.compiled
            assert report is not None
            finding = FileFinding(result.source.shown, report.language, report.status, report.reason)
            finding.not_code = report.failure is not None and report.failure.kind == "not_code"
            finding.object_count = len(report.objects)
            if report.status == "compiled":
                _analyse(finding, report)
            result.finding = finding
            for obj in report.objects:
                objects.append(obj)
                keys.append(obj.to_hash())
                owners.append(len(reports))
            reports.append(report)
            findings.append(finding)
        raw = np.zeros(0, dtype=np.float32)
        if objects:
            if scan.scoring is None:
                scan.scoring = ScoringStatistics()
            raw = self.scorer.final(*self.scorer.parts(objects, keys, scan.scoring))
            scan.statistics.device = self.scorer.device
        tops = judge_files(
            reports, findings, raw, np.asarray(owners, dtype=np.int64), self.package_score, self.listing
        )
        per_file: list[list[str]] = [[] for _ in results]
        for owner, key in zip(owners, keys):
            per_file[owner].append(key[:HASH_PREFIX])
        summaries = summarize_files(reports, raw)
        for result, top, hashes, summary in zip(results, tops, per_file, summaries):
            result.tops = top
            result.summary = summary
            result.hashes = sorted(set(hashes))
            result.imports = list(result.compiled.imports) if result.compiled is not None else []

    def _store(self, results: list[FileResult]) -> None:
        """What the cache should remember of each compiled file: its verdict, not its objects."""
        assert self.cache is not None
        rows = []
        for result in results:
            finding = result.finding
            if finding is None or finding.status != "compiled" or result.digest is None:
                continue
            shown = result.source.shown
            record = {
                "score": finding.score,
                "objects": finding.object_count,
                "tops": list(result.tops),
                "summary": result.summary.to_record(),
                "imports": result.imports,
                "hashes": result.hashes,
                "findings": [o.to_dict() for o in finding.objects],
                "warnings": [w.removeprefix(f"{shown}: ") for w in result.warnings],
                **finding.engine_record(),
            }
            rows.append((result.digest, result.source.language, record))
        try:
            self.cache.store(rows, self.scorer_key)
            self._wrote_cache = self._wrote_cache or bool(rows)
        except Exception as error:  # noqa: BLE001 - a cache that cannot be written costs speed only
            self.warnings.append(f"result cache not updated: {error}")

    # -----------------------------------------------------------------------------------------

    def judge_local(
        self, workspace: Workspace, paths: Sequence[str], *, label: str | None = None, trusted: bool = True
    ) -> MalwiReport:
        """Local paths judged as one target (`Workspace.local`), what it unpacked removed after.
        One archive judged before with the same model, settings and bytes is answered from the
        result cache without being unpacked: its whole report is kept, keyed by the archive's
        SHA-256 (the record: `malwi.report.record`)."""
        archive = workspace.single_archive(paths) if self.cache is not None else None
        if archive is None:
            return self._judge_or_recall(
                workspace, None, "", lambda: workspace.local(paths, label=label, trusted=trusted)
            )
        from malwi.model.bundle import sha256_file  # the model package imports the engine

        path, shown = archive
        key = (sha256_file(path), self._report_key(workspace))
        report = self._judge_or_recall(
            workspace, key, shown, lambda: workspace.local(paths, label=label, trusted=trusted)
        )
        report.label = label or report.label
        return report

    def judge_release(self, workspace: Workspace, release: Release) -> MalwiReport:
        """A registry release fetched, verified and judged. One judged before (the same digest
        the registry publishes, which the download is checked against) is answered from the
        cache without being downloaded or unpacked."""
        from malwi.engine.inputs import release_signals
        from malwi.sources.registries import file_name

        key: tuple[str, str] | None = None
        if self.cache is not None and release.digest:
            kind, _, value = release.digest.partition(":")
            digest = value if kind == "sha256" else hashlib.sha256(release.digest.encode()).hexdigest()
            key = (digest, self._report_key(workspace))
        report = self._judge_or_recall(workspace, key, file_name(release), lambda: workspace.release(release))
        if report.statistics.get("reports_cached"):
            # Signals are of the registry now (a release ages), never kept in the record.
            report.signals, notes = release_signals(release)
            report.warnings += notes
        return report

    def _judge_or_recall(
        self, workspace: Workspace, key: tuple[str, str] | None, shown: str, target: Callable[[], Target]
    ) -> MalwiReport:
        """The report kept under `key` (an archive shown as `shown`), else the target made,
        judged, removed from the workspace and its report kept under `key`."""
        if key is not None:
            report = self._cached_report(key, shown)
            if report is not None:
                return report
        made = target()
        try:
            report = self.judge(made)
        finally:
            workspace.discard(made)
        if key is not None:
            self._keep_report(key, report, shown)
        return report

    def _keep_report(self, key: tuple[str, str], report: MalwiReport, shown: str) -> None:
        # A report with unreadable inputs may be a passing fault: judged again next time.
        if self.cache is None or report.partial:
            return
        try:
            self.cache.store([(key[0], key[1], to_record(report, shown))], self.scorer_key)
            self._wrote_cache = True
        except Exception as error:  # noqa: BLE001 - a cache that cannot be written costs speed only
            self.warnings.append(f"result cache not updated: {error}")

    def _report_key(self, workspace: Workspace) -> str:
        """The cache's `language` column for a whole archive's report: everything besides the
        bytes and the scorer that decides it (extraction limits, file choice, threshold)."""
        settings = {
            **workspace.settings_key(),
            "max_file_size": self.options.max_file_size,
            "threshold": self.verdict.threshold,
        }
        return "#report:" + hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:32]

    def _cached_report(self, key: tuple[str, str], shown: str) -> MalwiReport | None:
        assert self.cache is not None
        started = time.perf_counter()
        try:
            record = self.cache.lookup([key], self.scorer_key).get(key)
        except Exception as error:  # noqa: BLE001 - as for file rows: an unusable cache is a miss
            self.warnings.append(f"result cache not read: {error}")
            return None
        if record is None:
            return None
        try:
            report = restore(record, shown)
        except (KeyError, TypeError, ValueError, AttributeError, IndexError):
            return None  # authentic but not what this malwi writes: rescanned and replaced
        # reports_cached: the whole report came from the cache, the archive was not unpacked.
        report.statistics.update(cached=report.statistics.get("scanned", 0), device="cache", reports_cached=1)
        report.statistics["seconds"] = round(time.perf_counter() - started, 3)
        report.model["device"] = "cache"
        report.warnings += self.warnings
        self.warnings = []
        return report

    def judge(self, target: Target, observe: Callable[[FileResult], None] | None = None) -> MalwiReport:
        """The verdict on a target: each package unit's from its files (`engine.verdict`), the
        target's from its worst unit. `observe` sees each file's result as it goes (`malwi diff`
        reads the compiled objects of files it compiled)."""
        if self.bundle is None:
            raise ValueError("judging needs a model: ScanOptions(score=True)")
        scan = self.scan(target)
        report = MalwiReport()
        report.inputs = list(target.inputs)
        report.label = target.label
        report.source = dict(target.source)
        report.signals = list(target.signals)  # reported only: signals never enter the verdict
        report.threshold = self.verdict.threshold
        report.suspicious_threshold = self.verdict.suspicious
        report.model = {"name": self.bundle.name, "version": self.bundle.version, "device": "cache"}
        report.warnings = list(target.warnings)
        report.partial = target.partial
        report.settings["ignore_files"] = list(target.ignore_files)
        report.settings["exclude"] = list(target.exclude)
        tallies = {unit.key: UnitTally(unit) for unit in target.units}
        hashes: set[str] = set()
        manifest: list[tuple[str, str, int]] = []
        for result in scan:
            if observe is not None:
                observe(result)
            finding = result.finding
            assert finding is not None
            finding.unit = result.source.origin.unit
            finding.nesting = result.source.origin.nesting
            report.files.append(finding)
            report.warnings += result.warnings
            source = result.source
            # npm install scripts are compiled from files the workspace wrote (`#scripts.<name>`).
            file = ReachFile(source.path, source.language, result.imports, hook="#scripts." in source.shown)
            tallies[finding.unit].add(finding, file, result.tops, result.hashes, result.summary)
            hashes.update(result.hashes)
            if result.digest is not None:
                manifest.append((result.source.shown, result.digest, result.size))
        for path, reason in target.unscanned:
            key = target.unit_of(path)
            if key not in tallies:  # the tree's own unit, made for content outside every package
                tallies[key] = UnitTally(next(u for u in target.units if u.key == key))
            tallies[key].not_scanned(target.shown(path), reason)
        report.warnings += self.warnings
        self.warnings = []
        statistics = scan.statistics
        statistics.objects_scored = len(hashes)
        if scan.scoring is not None:
            statistics.objects_stage2 = scan.scoring.stage2_objects
            statistics.windows = scan.scoring.windows
        report.units = [
            tally.judge(self.package_score, self.verdict, self.unit_model, self.listing)
            for tally in tallies.values()
        ]
        report.verdict = worst(unit.verdict for unit in report.units)
        report.maliciousness = max((unit.maliciousness for unit in report.units), default=0.0)
        report.malicious = report.verdict == "malicious"
        report.model["device"] = statistics.device
        report.statistics = statistics.report_dict()
        report.partial = report.partial or statistics.failed > 0
        if target.archive is not None:
            report.file_info = FileInfo.of_file(target.archive, target.archive_name, "archive")
        elif len(target.inputs) == 1 and os.path.isfile(target.inputs[0]):
            report.file_info = FileInfo.of_file(target.inputs[0], target.inputs[0])
        else:
            report.file_info = FileInfo.of_manifest(report.label, manifest)
        if statistics.compiled == 0 and not any(unit.hooks for unit in target.units):
            raise NothingScanned(
                f"{report.label}: nothing was scanned ({report.statistics['files']} files seen, "
                f"{statistics.skipped_ignored} ignored, {statistics.skipped_by_extension} of other types, "
                f"{statistics.skipped + statistics.failed} not readable as code)"
            )
        return report


def _analyse(finding: FileFinding, report: FileReport) -> None:
    """Keeps what the static engines found in a compiled file, whatever the model says."""
    for obj in report.objects:
        for flow in obj.flows:
            finding.flows.append({"object": obj.name, **flow.to_dict()})
        if obj.decoded_from:
            first, last = obj.location
            finding.payloads.append(
                {
                    "object": obj.name,
                    "lines": [first, last],
                    "chain": obj.decoded_from,
                    "language": obj.language,
                    "activities": obj.activities(),
                }
            )
    finding.protection = report.protection.to_dict() if report.protection is not None else None
    finding.notes = [note.to_dict() for note in report.notes]


def _scorer_key(bundle_path: Path, bundle: ModelBundle, suspicious_threshold: float) -> str:
    """What decides a cached file result besides its content: compiler, featurizer, model and
    the score from which objects are listed."""
    manifest = (bundle_path / "manifest.json").read_bytes()
    model = hashlib.sha256(manifest).hexdigest()[:32]
    # The compiler itself: a new malwi (or a rebuilt extension) may emit other objects, e.g.
    # decode payloads it did not decode before, with the same featurizer version.
    extension = os.stat(_malwi.__file__)
    compiler = f"{__version__}:{extension.st_size}:{extension.st_mtime_ns}"
    featurizer = bundle.featurizer.featurizer_id
    return f"c{compiler}:f{FEATURIZER_VERSION}:{featurizer}:m{model}:s{suspicious_threshold:.6f}"
