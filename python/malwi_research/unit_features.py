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

Resumable: a package already in the folder's table, scanned with the same object model (file
digests) and feature settings, is kept, not scanned again (`--rescan` scans everything).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import multiprocessing.util
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from malwi_research import Progress, ResearchError, WorkFolder, log, need

FIELDS = ("label", "split", "ecosystem", "name", "path")
LABELS = {"benign": 0, "malicious": 1}
FEATURES = "unit_features.parquet"
DESCRIPTION = "unit_features.json"
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

    workspace = _WORKER["workspace"] = Workspace().__enter__()
    # Its temporary folders go when the worker exits (a pool worker never runs `atexit`).
    multiprocessing.util.Finalize(workspace, workspace.__exit__, args=(None, None, None), exitpriority=10)
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
        if "group" in result:  # kept from an earlier run: still with what it was grouped with
            parent[find(f"earlier:{result['group']}")] = find(name)
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
        pool.close()
        pool.join()  # workers exit on their own and clean up, before `with` would kill them


def object_model_digests(bundle: str) -> dict[str, str]:
    """What the features depend on in a bundle: the digests of its files, less the unit model's
    (a shipped unit model does not change what a scan extracts)."""
    from malwi.model.bundle import ModelBundle

    loaded = ModelBundle.load(bundle)
    unit_file = loaded.unit_model.file if loaded.unit_model is not None else None
    return {name: digest for name, digest in loaded.manifest.get("files", {}).items() if name != unit_file}


def earlier_rows(work: WorkFolder, described: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """The rows of an earlier run in this working folder, by package path, when it extracted the
    same features with the same object model; else none (everything is scanned)."""
    parquet = need("pyarrow.parquet")
    table, document = work.root / FEATURES, work.root / DESCRIPTION
    if not (table.exists() and document.exists()):
        return {}
    earlier = json.loads(document.read_text(encoding="utf-8"))
    if any(earlier.get(key) != described[key] for key in ("names", "feature_extractors", "object_model")):
        log("unit-features: the earlier table was made with other features or another model: rescanning")
        return {}
    kept: dict[str, list[dict[str, Any]]] = {}
    for row in parquet.read_table(table).to_pylist():
        kept.setdefault(row["path"], []).append(row)
    return kept


def _recalled(row: Listed, rows: list[dict[str, Any]]) -> dict[str, Any] | None:
    """An earlier run's result for `row`, when it had the same label (a relabelled package is
    scanned again); its old group joins the packages it was grouped with before."""
    if any(old["label"] != LABELS[row["label"]] for old in rows):
        return None
    units = [
        {
            "unit": old["unit"],
            "features": old["features"],
            "object_model_score": old["object_model_score"],
            "object_model_verdict": old["object_model_verdict"],
            "hashes": list(old.get("hashes") or ()),
        }
        for old in rows
    ]
    return {"row": row, "units": units, "group": rows[0]["group"]}


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    from malwi.engine.unit_features import UnitFeatures
    from malwi.model import model_path

    pyarrow = need("pyarrow")
    parquet = need("pyarrow.parquet")
    settings = work.config["feature_extractors"]
    names = UnitFeatures(settings).names
    listing = read_listing(Path(args.packages))
    bundle = str(model_path(args.model).resolve())
    described = {"names": names, "feature_extractors": settings, "object_model": object_model_digests(bundle)}
    kept = {} if getattr(args, "rescan", False) else earlier_rows(work, described)
    results: list[dict[str, Any]] = []
    failed: list[str] = []
    wanted = []
    for row in listing:
        recalled = _recalled(row, kept[row["path"]]) if row["path"] in kept else None
        if recalled is None:
            wanted.append(row)
        else:
            results.append(recalled)
    if kept:
        log(f"unit-features: {len(results)} packages kept from the earlier table, {len(wanted)} to scan")
    with Progress("unit-features", len(wanted)) as bar:
        for result in _scanned(wanted, bundle, settings, max(1, args.processes)) if wanted else ():
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
            "hashes",
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
            columns["hashes"].append(list(unit["hashes"]))
            columns["features"].append([float(v) for v in unit["features"]])
    table = pyarrow.table(columns)
    parquet.write_table(table, work.root / FEATURES)
    document = {
        **described,
        "group_by": work.config["evaluation_metrics"]["cross_validation"]["group_by"],
        "model": bundle,
        "listing": str(args.packages),
        "packages": len(listing),
        "not_scanned": failed,
    }
    (work.root / DESCRIPTION).write_text(json.dumps(document, indent=1) + "\n", encoding="utf-8")
    for line in failed[:20]:
        log(f"not scanned: {line}")
    log(
        f"unit-features: {table.num_rows} units from {len(results)} packages "
        f"({len(failed)} not scanned, {len(set(groups.values()))} groups) -> {work.root / FEATURES}"
    )
