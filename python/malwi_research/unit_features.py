"""`malwi research unit-features LIST`: scan labelled packages and write the package-unit model's
training table, `W/unit_features.parquet` (+ `W/unit_features.json`: feature names, grouping,
extractor settings).

LIST is a TSV with a header: `label split ecosystem name path` (`tools/unit_sets.py` writes
one). Each package is scanned once with the scanner itself (`Workspace` + `Scanner`, object model
of the active bundle, no result cache), so the features are exactly what a scan computes
(`malwi.engine.unit_features`). Rows:

- a benign package gives one row per unit (every unit of a benign package is benign);
- a malicious package gives its worst unit (by the object model's package score): the unit the
  malice is in. A malicious sample folder is almost always one unit.

`group` keeps related packages in one cross-validation fold: the package name, and for malicious
packages also their payload family, packages that share an object scoring at least
`FAMILY_SCORE` (the same payload under another name). Scanning runs in `--processes` worker
processes, each with one single-threaded scanner (per-package work is mostly Python).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from malwi_research import Progress, ResearchError, WorkFolder, log, need

FIELDS = ("label", "split", "ecosystem", "name", "path")
LABELS = {"benign": 0, "malicious": 1}
# Objects this likely malicious, shared by two malicious packages, make them one payload family.
FAMILY_SCORE = 0.5

Listed = dict[str, str]

# This worker process's scanner, workspace and feature extractor (`_start`).
_WORKER: dict[str, Any] = {}


def read_listing(path: Path) -> list[Listed]:
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError as error:
        raise ResearchError(f"cannot read {path}: {error}") from None
    if not lines or tuple(lines[0].split("\t")) != FIELDS:
        raise ResearchError(f"{path}: the first line must be the header {' '.join(FIELDS)} (tab-separated)")
    listed = []
    for number, line in enumerate(lines[1:], 2):
        if not line.strip():
            continue
        values = line.split("\t")
        if len(values) != len(FIELDS):
            raise ResearchError(f"{path}:{number}: expected {len(FIELDS)} tab-separated fields")
        row = dict(zip(FIELDS, values))
        if row["label"] not in LABELS or row["split"] not in ("train", "validation", "test"):
            raise ResearchError(f"{path}:{number}: unknown label or split: {row['label']} {row['split']}")
        listed.append(row)
    return listed


def _start(bundle: str, settings: dict[str, Any]) -> None:
    """A worker process's scanner, workspace and extractor, made once."""
    from malwi.engine.inputs import Workspace
    from malwi.engine.pipeline import Scanner, ScanOptions
    from malwi.engine.unit_features import UnitFeatures

    _WORKER["workspace"] = Workspace().__enter__()
    _WORKER["scanner"] = Scanner(ScanOptions(model=bundle, workers=1))
    _WORKER["extractor"] = UnitFeatures(settings)


def _scan(row: Listed) -> dict[str, Any]:
    """One package's rows, or why it could not be scanned."""
    from malwi.errors import MalwiError

    workspace, scanner, extractor = (_WORKER[k] for k in ("workspace", "scanner", "extractor"))
    try:
        target = workspace.local([row["path"]])
        try:
            report = scanner.judge(target)
        finally:
            workspace.discard(target)
    except MalwiError as error:
        return {"row": row, "error": str(error)}
    units = [unit for unit in report.units if unit.evidence is not None]
    if not units:
        return {"row": row, "error": "no package unit was scanned"}
    if row["label"] == "malicious":
        units = [max(units, key=lambda unit: unit.maliciousness)]
    found = []
    for unit in units:
        hashes = sorted(
            {
                obj.hash
                for _, finding in unit.evidence.files
                for obj in finding.objects
                if obj.raw >= FAMILY_SCORE
            }
        )
        found.append(
            {
                "unit": unit.name or unit.key,
                "features": extractor.vector(unit.evidence),
                "object_model_score": unit.maliciousness,
                "object_model_verdict": unit.verdict,
                "hashes": hashes,
            }
        )
    return {"row": row, "units": found}


def groups_of(results: list[dict[str, Any]]) -> dict[int, str]:
    """Each scanned package's group: its name, joined with every malicious package it shares a
    high-scoring object with (union-find over names and object hashes)."""
    parent: dict[str, str] = {}

    def find(key: str) -> str:
        parent.setdefault(key, key)
        while parent[key] != key:
            parent[key] = parent[parent[key]]
            key = parent[key]
        return key

    for result in results:
        row = result["row"]
        name = f"name:{row['ecosystem']}:{row['name'].lower()}"
        find(name)
        if row["label"] == "malicious":
            for unit in result["units"]:
                for digest in unit["hashes"]:
                    parent[find(f"object:{digest}")] = find(name)
    return {
        index: find(f"name:{r['row']['ecosystem']}:{r['row']['name'].lower()}")
        for index, r in enumerate(results)
    }


def _scanned(
    listing: list[Listed], bundle: str, settings: dict[str, Any], processes: int
) -> Iterator[dict[str, Any]]:
    context = multiprocessing.get_context("spawn")  # no forked ONNX Runtime or Rust thread pools
    with context.Pool(processes, initializer=_start, initargs=(bundle, settings)) as pool:
        yield from pool.imap(_scan, listing, chunksize=4)


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    from malwi.engine.unit_features import UnitFeatures
    from malwi.model import model_path

    pyarrow = need("pyarrow")
    parquet = need("pyarrow.parquet")
    settings = work.config["feature_extractors"]
    names = UnitFeatures(settings).names
    listing = read_listing(Path(args.packages))
    bundle = str(model_path(args.model).resolve())
    results: list[dict[str, Any]] = []
    failed: list[str] = []
    with Progress("unit-features", len(listing)) as bar:
        for result in _scanned(listing, bundle, settings, max(1, args.processes)):
            if "error" in result:
                failed.append(f"{result['row']['path']}: {result['error']}")
            else:
                results.append(result)
            bar.step()
    if not results:
        raise ResearchError(f"none of the {len(listing)} listed packages could be scanned")
    groups = groups_of(results)
    columns: dict[str, list[Any]] = {
        key: []
        for key in (
            "package_id",
            "split",
            "label",
            "group",
            "ecosystem",
            "name",
            "path",
            "unit",
            "object_model_score",
            "object_model_verdict",
            "features",
        )
    }
    for index, result in enumerate(results):
        row = result["row"]
        for unit in result["units"]:
            columns["package_id"].append(f"{row['ecosystem']}:{row['path']}")
            columns["split"].append(row["split"])
            columns["label"].append(LABELS[row["label"]])
            columns["group"].append(groups[index])
            columns["ecosystem"].append(row["ecosystem"])
            columns["name"].append(row["name"])
            columns["path"].append(row["path"])
            columns["unit"].append(unit["unit"])
            columns["object_model_score"].append(float(unit["object_model_score"]))
            columns["object_model_verdict"].append(unit["object_model_verdict"])
            columns["features"].append([float(v) for v in unit["features"]])
    table = pyarrow.table(columns)
    parquet.write_table(table, work.root / "unit_features.parquet")
    document = {
        "names": names,
        "group_by": work.config["evaluation_metrics"]["cross_validation"]["group_by"],
        "feature_extractors": settings,
        "model": bundle,
        "listing": str(args.packages),
        "packages": len(listing),
        "not_scanned": failed,
    }
    (work.root / "unit_features.json").write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    for line in failed[:20]:
        log(f"not scanned: {line}")
    log(
        f"unit-features: {table.num_rows} units from {len(results)} packages "
        f"({len(failed)} not scanned, {len(set(groups.values()))} groups) -> {work.root / 'unit_features.parquet'}"
    )
