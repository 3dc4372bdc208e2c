"""Scan orchestration: find the files, compile them in parallel chunks, hand reports on.

Chunks keep memory bounded on a large monorepo: a chunk's reports are rendered and dropped
before the next chunk is compiled, while rayon keeps every worker busy inside a chunk.
"""

from __future__ import annotations

import os
import time
from collections.abc import Iterator, Sequence

from malwi._malwi import (
    DEFAULT_MAX_FILE_SIZE,
    FeaturizerConfig,
    FileReport,
    compile_files,
    discover,
)

CHUNK_FILES = 512


class ScanOptions:
    """How a scan runs. (Plain classes, not dataclasses: `dataclasses` imports `inspect`, which
    costs more start-up time than a whole scan of a small package.)"""

    __slots__ = ("workers", "max_file_size", "extensions", "config", "exclude", "exclude_base")

    def __init__(
        self,
        workers: int = 0,
        max_file_size: int = DEFAULT_MAX_FILE_SIZE,
        extensions: list[str] | None = None,
        config: FeaturizerConfig | None = None,
        exclude: list[str] | None = None,
        exclude_base: str | None = None,
    ) -> None:
        self.workers = workers
        self.max_file_size = max_file_size
        self.extensions = extensions
        self.config = config if config is not None else FeaturizerConfig()
        # gitignore patterns on top of the .malwiignore files found while walking
        self.exclude = exclude
        self.exclude_base = exclude_base


class ScanStatistics:
    __slots__ = (
        "files",
        "compiled",
        "skipped",
        "failed",
        "skipped_by_extension",
        "skipped_links",
        "skipped_ignored",
        "objects",
        "bytes",
        "seconds",
    )

    def __init__(self) -> None:
        self.files = self.compiled = self.skipped = self.failed = 0
        self.skipped_by_extension = self.skipped_links = self.skipped_ignored = self.objects = self.bytes = 0
        self.seconds = 0.0

    def add(self, report: FileReport) -> None:
        self.files += 1
        self.bytes += report.size
        if report.status == "compiled":
            self.compiled += 1
            self.objects += len(report.objects)
        elif report.status == "skipped":
            self.skipped += 1
        else:
            self.failed += 1

    def to_dict(self) -> dict[str, int | float]:
        return {name: getattr(self, name) for name in self.__slots__}


class Scan:
    """An iterable scan: yields one FileReport per file; statistics fill in as it goes."""

    def __init__(self, paths: Sequence[str | os.PathLike[str]], options: ScanOptions | None = None) -> None:
        self.paths = list(paths)
        self.options = options if options is not None else ScanOptions()
        self.statistics = ScanStatistics()
        self.discovery_errors: list[tuple[str, str]] = []

    def __iter__(self) -> Iterator[FileReport]:
        started = time.perf_counter()
        found = discover(
            self.paths,
            extensions=self.options.extensions,
            exclude=self.options.exclude or None,
            exclude_base=self.options.exclude_base,
        )
        self.statistics.skipped_by_extension = found.skipped_by_extension
        self.statistics.skipped_links = found.skipped_links
        self.statistics.skipped_ignored = found.skipped_ignored
        self.discovery_errors = found.errors
        files = found.files
        for start in range(0, len(files), CHUNK_FILES):
            reports = compile_files(
                files[start : start + CHUNK_FILES],
                workers=self.options.workers,
                max_file_size=self.options.max_file_size,
                config=self.options.config,
            )
            for report in reports:
                self.statistics.add(report)
                yield report
        self.statistics.seconds = time.perf_counter() - started
