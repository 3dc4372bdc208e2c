"""A judged report as a plain record and back: what the result cache keeps for an archive.

A rescan of an unchanged wheel, sdist or tarball is answered from the cache without unpacking
it (`Scanner.judge_local`); the record holds everything the renderers and the exit code read:
the verdicts, every file's finding with its listed objects and engine results, each unit with
the objects that carry its verdict (by position, so a unit's carriers are the very objects of
its files), warnings and statistics. Not kept: the package-unit features' evidence (research
rescans; a cached report has none), and nothing about the scan's time or id, which are new.

Paths inside the record start with the archive as it was shown when judged (`dist/x.whl`);
`restore(..., shown=...)` puts the name it is given now in front instead.
"""

from __future__ import annotations

from typing import Any

from malwi.report.result import FileFinding, FileInfo, MalwiReport, ObjectFinding, UnitFinding

# Bumped whenever the record's shape changes: an older record is then a miss, never misread.
RECORD_VERSION = 2


def _file(finding: FileFinding) -> dict[str, Any]:
    return {
        "path": finding.path,
        "unit": finding.unit,
        "reach": finding.reach,
        "language": finding.language,
        "status": finding.status,
        "reason": finding.reason,
        "score": finding.score,
        "object_count": finding.object_count,
        "nesting": [list(step) for step in finding.nesting],
        "objects": [dict(o.to_dict(), score=o.score, raw=o.raw) for o in finding.objects],
        **finding.engine_record(),
    }


def _unit(unit: UnitFinding, position: dict[int, tuple[int, int]]) -> dict[str, Any]:
    return {
        "key": unit.key,
        "name": unit.name,
        "kind": unit.kind,
        "version": unit.version,
        "verdict": unit.verdict,
        "maliciousness": unit.maliciousness,
        "scored_by": unit.scored_by,
        "object_score": unit.object_score,
        "statistics": unit.statistics,
        "unscanned": unit.unscanned,
        "hooks": unit.hooks,
        "tops": unit.tops,
        "carrying": [position[id(obj)] for _, obj in unit.carrying],
        "carriers": len(unit.carriers),
    }


def to_record(report: MalwiReport, shown: str) -> dict[str, Any]:
    """`report` as a JSON-ready record; `shown` is the archive's name in its paths."""
    position = {
        id(obj): (i, j) for i, finding in enumerate(report.files) for j, obj in enumerate(finding.objects)
    }
    info = report.file_info
    return {
        "version": RECORD_VERSION,
        "shown": shown,
        "label": report.label,
        "inputs": report.inputs,
        "verdict": report.verdict,
        "malicious": report.malicious,
        "maliciousness": report.maliciousness,
        "threshold": report.threshold,
        "suspicious_threshold": report.suspicious_threshold,
        "model": report.model,
        "statistics": report.statistics,
        "warnings": report.warnings,
        "partial": report.partial,
        "source": report.source,
        "settings": report.settings,
        "file_info": {
            "name": info.name,
            "kind": info.kind,
            "size": info.size,
            "md5": info.md5,
            "sha1": info.sha1,
            "sha256": info.sha256,
            "entropy": info.entropy,
        },
        "files": [_file(f) for f in report.files],
        "units": [_unit(u, position) for u in report.units],
    }


def restore(record: dict[str, Any], shown: str) -> MalwiReport:
    """The report a record holds, its paths under the name `shown`; raises KeyError, TypeError
    or ValueError for a record that is not one this malwi wrote (the caller rescans)."""
    if record["version"] != RECORD_VERSION:
        raise ValueError(f"report record version {record['version']!r}")
    before = str(record["shown"])

    def moved(text: str) -> str:
        if before == shown:
            return text
        if text == before:
            return shown
        return shown + text[len(before) :] if text.startswith(before + "/") else text

    report = MalwiReport()
    report.label = moved(str(record["label"]))
    report.inputs = [moved(str(i)) for i in record["inputs"]]
    report.verdict = str(record["verdict"])
    report.malicious = bool(record["malicious"])
    report.maliciousness = float(record["maliciousness"])
    report.threshold = float(record["threshold"])
    report.suspicious_threshold = float(record["suspicious_threshold"])
    report.model = dict(record["model"])
    report.statistics = dict(record["statistics"])
    report.warnings = [str(w).replace(before, shown) for w in record["warnings"]]
    report.partial = bool(record["partial"])
    report.source = dict(record["source"])
    report.settings = dict(record["settings"])
    info = record["file_info"]
    report.file_info = FileInfo(moved(str(info["name"])), str(info["kind"]))
    report.file_info.size = int(info["size"])
    report.file_info.md5, report.file_info.sha1, report.file_info.sha256 = (
        info["md5"],
        info["sha1"],
        info["sha256"],
    )
    report.file_info.entropy = info["entropy"]
    for data in record["files"]:
        finding = FileFinding(
            moved(str(data["path"])), str(data["language"]), str(data["status"]), data["reason"]
        )
        finding.unit = moved(str(data["unit"]))
        finding.reach = str(data["reach"])
        finding.score = float(data["score"])
        finding.object_count = int(data["object_count"])
        finding.nesting = tuple((moved(str(a)), str(m)) for a, m in data["nesting"])
        finding.objects = [ObjectFinding.from_dict(o) for o in data["objects"]]
        for obj, kept in zip(finding.objects, data["objects"]):
            obj.reach = str(kept["reach"])
        finding.restore_engines(data)
        finding.cached = True
        report.files.append(finding)
    for data in record["units"]:
        unit = UnitFinding(moved(str(data["key"])), str(data["name"]), str(data["kind"]))
        unit.version = str(data["version"])
        unit.verdict = str(data["verdict"])
        unit.maliciousness = float(data["maliciousness"])
        unit.scored_by = str(data["scored_by"])
        unit.object_score = float(data["object_score"])
        unit.statistics = dict(data["statistics"])
        unit.unscanned = [{**item, "path": moved(str(item["path"]))} for item in data["unscanned"]]
        unit.hooks = list(data["hooks"])
        unit.tops = {str(k): float(v) for k, v in data["tops"].items()}
        unit.carrying = [(report.files[i], report.files[i].objects[j]) for i, j in data["carrying"]]
        unit.carriers = unit.carrying[: int(data["carriers"])]
        report.units.append(unit)
    return report
