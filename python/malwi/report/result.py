"""The result of a scan, as data: what the renderers read and the API hands out.

`MalwiReport` is the verdict on one package (one scan target) with its files and objects;
`BatchReport` holds one MalwiReport per package of a dependency scan. Nothing here scans or
decides: the engine (`malwi.engine`) fills these in, the renderers (`malwi.report.text`,
`document`, `markdown`, `sarif`) only read them.

Plain classes with slots, not dataclasses: `dataclasses` imports `inspect`, which costs more
start-up time than a cached scan of a small package.
"""

from __future__ import annotations

import hashlib
import os
import uuid
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from typing import TYPE_CHECKING, Any

from malwi._malwi import DEFAULT_MAX_FILE_SIZE

if TYPE_CHECKING:
    from malwi._malwi import MalwiObject
    from malwi.engine.cache import ResultCache
    from malwi.engine.unit_features import UnitEvidence
    from malwi.sources.archive import ExtractionLimits


class ObjectFinding:
    """An object scored at or above the suspicious threshold."""

    __slots__ = (
        "activities",
        "decoded_from",
        "flows",
        "hash",
        "kind",
        "lines",
        "name",
        "raw",
        "reach",
        "score",
        "source",
    )

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
        raw: float | None = None,
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
        # The model's own score, before calibration: what the package score is made from.
        self.raw = score if raw is None else raw
        # Where the object's code runs (`malwi.engine.reach`); set when its package is judged.
        self.reach = "library"

    @classmethod
    def of(cls, obj: MalwiObject, score: float, raw: float) -> ObjectFinding:
        return cls(
            obj.name,
            obj.kind,
            obj.location,
            score,
            obj.activities(),
            obj.source_code,
            obj.to_hash(),
            obj.decoded_from,
            [flow.to_dict() for flow in obj.flows],
            raw,
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
            data.get("raw"),
        )

    def to_dict(self) -> dict[str, Any]:
        result = {
            "name": self.name,
            "kind": self.kind,
            "lines": list(self.lines),
            "score": round(self.score, 4),
            "raw": round(self.raw, 6),
            "reach": self.reach,
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
    the model says: data flows, decoded payloads, protectors and decoding notes. `path` is the
    file as the report shows it; for a file unpacked from an archive, `nesting` is the way in,
    outermost archive first: `(archive as shown, member path inside it)` per archive."""

    __slots__ = (
        "cached",
        "flows",
        "language",
        "nesting",
        "not_code",
        "notes",
        "object_count",
        "objects",
        "path",
        "payloads",
        "protection",
        "reach",
        "reason",
        "score",
        "status",
        "unit",
    )

    def __init__(self, path: str, language: str, status: str = "compiled", reason: str | None = None) -> None:
        self.path = path
        self.nesting: tuple[tuple[str, str], ...] = ()
        self.unit = ""  # the key of the package unit it belongs to
        # Where its code runs: install, import, library or non-shipped (`malwi.engine.reach`).
        self.reach = "library"
        self.language = language
        self.status = status  # compiled, skipped or failed
        self.reason = reason  # why it was skipped or failed
        # Skipped as data named like code (macOS AppleDouble metadata): its package is not
        # left incomplete for it.
        self.not_code = False
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
            "unit": self.unit,
            "reach": self.reach,
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


class UnitFinding:
    """One package unit's verdict (see `malwi.engine.units`): `key` is its folder as the report
    shows it, `name` what the package calls itself; `unscanned` lists its code that could not
    be scanned (which makes it `incomplete` unless it is malicious); `hooks` its install scripts;
    `baselined` what a baseline accepted when it held all the unit's findings: how many, and
    the verdict they gave (the unit is then good, or incomplete when some of its code was not
    scanned; `malwi.engine.baseline`)."""

    __slots__ = (
        "accepted",
        "baselined",
        "carriers",
        "carrying",
        "evidence",
        "hooks",
        "key",
        "kind",
        "maliciousness",
        "name",
        "object_score",
        "scored_by",
        "statistics",
        "tops",
        "unscanned",
        "verdict",
        "version",
    )

    def __init__(self, key: str, name: str, kind: str) -> None:
        self.key = key
        self.name = name
        self.kind = kind
        self.version = ""
        self.verdict = "good"
        self.maliciousness = 0.0
        # What decided `maliciousness`: the package-unit model, or the package score of the
        # unit's objects (`object_score`, always computed and reported beside it).
        self.scored_by = "package_score"
        self.object_score = 0.0
        self.statistics: dict[str, Any] = {}  # counts; files_by_reach a count per class
        self.unscanned: list[dict[str, str]] = []
        self.hooks: list[dict[str, Any]] = []
        # Every object that carries a flagged unit's verdict, with its file, the highest first,
        # and the few of them a report lists.
        self.carrying: list[tuple[FileFinding, ObjectFinding]] = []
        self.carriers: list[tuple[FileFinding, ObjectFinding]] = []
        # Those a baseline accepted (reported as suppressed in SARIF).
        self.accepted: list[tuple[FileFinding, ObjectFinding]] = []
        self.baselined: dict[str, Any] | None = None
        # The highest raw object score per reachability class: what the package score weighs.
        self.tops: dict[str, float] = {}
        # What the package-unit features are made of (`malwi.engine.unit_features`); not reported.
        self.evidence: UnitEvidence | None = None

    @property
    def flagged(self) -> bool:
        return self.verdict != "good"

    @property
    def label(self) -> str:
        """How a summary line names the unit: `left-pad 1.3.0`, or its folder."""
        return f"{self.name} {self.version}".strip() if self.name else self.key

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "key": self.key,
            "name": self.name,
            "version": self.version,
            "kind": self.kind,
            "verdict": self.verdict,
            "maliciousness": round(self.maliciousness, 4),
            "scored_by": self.scored_by,
            "object_score": round(self.object_score, 4),
            "statistics": self.statistics,
        }
        if self.carriers:
            result["findings"] = [
                {"file": f.path, "object": o.name, "lines": list(o.lines), "reach": o.reach}
                for f, o in self.carriers
            ]
        if self.unscanned:
            result["unscanned"] = self.unscanned
        if self.hooks:
            result["install_hooks"] = self.hooks
        if self.baselined:
            result["baselined"] = self.baselined
        return result


class FileInfo:
    """What was scanned, for the result's `file_info`: one file or archive is described by its
    bytes; a folder (or several inputs) by a manifest of its files' paths and SHA-256s."""

    __slots__ = ("entropy", "kind", "md5", "name", "sha1", "sha256", "size")

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
        """A folder described by `(shown path, sha256, size)` of each file read."""
        info = cls(name, "directory")
        # surrogateescape: a name that is not UTF-8 is hashed as the bytes the file system has
        listing = "".join(f"{digest}  {path}\n" for path, digest, _ in sorted(entries))
        manifest = listing.encode("utf-8", "surrogateescape")
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
    """The verdict on one package (everything given as one input), and why."""

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
        self.units: list[UnitFinding] = []  # its packages: the verdict is the worst one's
        self.statistics: dict[str, Any] = {}
        self.model: dict[str, Any] = {}
        self.warnings: list[str] = []
        self.file_info = FileInfo("", "directory")
        self.source: dict[str, Any] = {}
        # Registry metadata signals of a fetched release (`malwi.sources.signals`): kind, summary,
        # evidence. Reported for a reader; they never change the verdict or the exit code.
        self.signals: list[dict[str, Any]] = []
        self.partial = False  # some input could not be read or parsed
        # What `--baseline` accepted (`malwi.engine.baseline`): the file, counts, stale entries.
        self.baseline: dict[str, Any] | None = None
        # What configured the scan: the [tool.malwi] file and the keys it set, the .malwiignore
        # files honoured and the exclude patterns (a package never configures its own scan).
        self.settings: dict[str, Any] = {"config": None, "config_keys": [], "ignore_files": [], "exclude": []}

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
        ignore_files: bool = True,
        label: str | None = None,
        progress: bool = False,
        archive_limits: ExtractionLimits | None = None,
    ) -> MalwiReport:
        """Scans files, folders or archives as one package and returns the verdict: the API's
        one call. A thin façade over `malwi.engine` (`Workspace` → `Scanner.judge`), which the
        command line uses too; the model is loaded once per process.

        `silent` keeps warnings off stderr (they stay in `report.warnings`); `cache=True` uses the
        result cache in the user cache folder (or pass a ResultCache); `exclude` adds gitignore
        patterns (relative to `exclude_base`) to the `.malwiignore` at the root of each scanned
        folder, and `ignore_files=False` reads no `.malwiignore` (for untrusted trees). Archives
        given or found inside (a zip renamed `cert.crt`, a nested wheel) are unpacked safely
        within `archive_limits` and scanned with the rest."""
        from malwi.engine import Scanner, ScanOptions, Workspace

        paths = [input_path] if isinstance(input_path, str | os.PathLike) else list(input_path)
        options = ScanOptions(
            model=model,
            device=device,
            workers=workers,
            max_file_size=max_file_size,
            threshold=malicious_threshold,
            cache=cache,
            progress=progress,
        )
        with (
            Workspace(
                limits=archive_limits, extensions=extensions, exclude=exclude, exclude_base=exclude_base
            ) as workspace,
            Scanner(options) as scanner,
        ):
            report = scanner.judge_local(
                workspace, [os.fspath(p) for p in paths], label=label, trusted=ignore_files
            )
        if not silent:
            import sys

            from malwi.report.escape import shown

            for warning in report.warnings:
                print(f"malwi: warning: {shown(warning)}", file=sys.stderr)
        return report

    @property
    def flagged_files(self) -> list[FileFinding]:
        return sorted((f for f in self.files if f.objects), key=lambda f: -f.score)

    @property
    def findings(self) -> list[tuple[UnitFinding, FileFinding, ObjectFinding]]:
        """What a person should look at: the objects that carry the flagged units' verdicts,
        worst unit first. Objects of good units are never listed, however they score alone."""
        return [(unit, file, obj) for unit in self.flagged_units for file, obj in unit.carriers]

    @property
    def flagged_units(self) -> list[UnitFinding]:
        """The units that are not good, the worst first (then by score)."""
        from malwi.engine.verdict import VERDICTS

        return sorted(
            (u for u in self.units if u.flagged), key=lambda u: (VERDICTS.index(u.verdict), -u.maliciousness)
        )

    @property
    def analysed_files(self) -> list[FileFinding]:
        """Files where the static engines found flows, payloads, protectors or notes."""
        return [f for f in self.files if f.analysed]

    @property
    def status(self) -> str:
        """`completed`, or `partial` when some input could not be read or parsed."""
        return "partial" if self.partial else "completed"

    def to_dict(self) -> dict[str, Any]:
        """The JSON result; it validates against `data/schemas/analysis_result_schema.json`."""
        from malwi.report.document import result_document

        return result_document(self)


def occurrence_numbers(files: Iterable[FileFinding]) -> dict[int, int]:
    """Numbers identical objects of one file apart (1, 2, ... in line order), keyed by id():
    with an object's token hash, what SARIF fingerprints and baselines match, never lines."""
    numbers: dict[int, int] = {}
    for finding in files:
        seen: dict[str, int] = {}
        for obj in sorted(finding.objects, key=lambda o: (tuple(o.lines), o.name, o.kind)):
            seen[obj.hash] = numbers[id(obj)] = seen.get(obj.hash, 0) + 1
    return numbers


class BatchReport:
    """Several packages, each with its own verdict (dependency files): malicious when any is."""

    def __init__(self, label: str) -> None:
        self.analysis_id = str(uuid.uuid4())
        self.timestamp = datetime.now(timezone.utc).isoformat(timespec="seconds")
        self.label = label
        self.reports: list[MalwiReport] = []
        self.unresolved: list[dict[str, str]] = []
        self.failed: list[dict[str, str]] = []
        # `--since OLD`: the previous dependency files, and the pins they already had (not scanned).
        self.since: list[str] = []
        self.unchanged: list[str] = []
        self.file_info: dict[str, Any] = {}

    @property
    def malicious(self) -> bool:
        return any(r.malicious for r in self.reports)

    @property
    def maliciousness(self) -> float:
        return max((r.maliciousness for r in self.reports), default=0.0)

    @property
    def missing(self) -> int:
        """Dependencies that were not scanned: unresolved (unpinned, URLs, ...) and failed."""
        return sum(not u.get("scanned_elsewhere") for u in self.unresolved) + len(self.failed)

    @property
    def verdict(self) -> str:
        """The worst package's verdict; at least incomplete when a dependency was not scanned."""
        from malwi.engine.verdict import worst

        return worst([*(r.verdict for r in self.reports), *(["incomplete"] if self.missing else [])])

    @property
    def status(self) -> str:
        if self.failed and not self.reports:
            return "failed"
        return "partial" if self.failed or any(r.status != "completed" for r in self.reports) else "completed"

    def to_dict(self) -> dict[str, Any]:
        from malwi.report.document import batch_document

        return batch_document(self)
