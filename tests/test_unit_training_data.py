"""From labelled packages to a shipped unit model: `malwi research unit-features` (scan, one row
per unit, payload families grouped) and `unit_model.ship` (the chosen model into a bundle).

The packages are defanged examples copied into temporary folders: only ever parsed."""

from __future__ import annotations

import argparse
import json
import shutil
from pathlib import Path

import pyarrow.parquet as pq
import pytest

from malwi.engine.unit_features import UnitFeatures
from malwi.model.bundle import ModelBundle
from malwi.report import MalwiReport
from malwi_research import ResearchError, WorkFolder
from malwi_research import unit_features as uf
from malwi_research import unit_model as um

from .conftest import EXAMPLES
from .conftest import write_tree as write
from .tiny_model import UNIT_FEATURE_SETTINGS, UNIT_MODEL_FILE, add_unit_model, build_tiny_bundle

ROOT = Path(__file__).resolve().parent.parent
CONFIG = ROOT / "data" / "training" / "training_config.json"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def listing(tmp_path: Path) -> Path:
    """Two benign packages (one of them two units), and the same malicious payload under two
    names: one payload family."""
    write(
        tmp_path / "calc",
        {
            "setup.py": "from setuptools import setup\nsetup(name='calc')\n",
            "calc/__init__.py": "def add(a, b):\n    return a + b\n",
        },
    )
    write(
        tmp_path / "mono",
        {
            "a/pyproject.toml": '[project]\nname = "mono-a"\nversion = "1"\n',
            "a/a.py": "X = 1\n",
            "b/package.json": json.dumps({"name": "mono-b", "version": "1.0.0", "main": "i.js"}),
            "b/i.js": "module.exports = 1;\n",
        },
    )
    for name in ("evil-one", "evil-two"):
        shutil.copytree(EXAMPLES / "malicious-python", tmp_path / name)
    rows = [
        ("benign", "train", "pypi", "calc", tmp_path / "calc"),
        ("benign", "validation", "npm", "mono", tmp_path / "mono"),
        ("malicious", "train", "pypi", "evil-one", tmp_path / "evil-one"),
        ("malicious", "test", "pypi", "evil-two", tmp_path / "evil-two"),
        ("malicious", "train", "pypi", "missing", tmp_path / "not-there"),
    ]
    path = tmp_path / "units.tsv"
    path.write_text("\t".join(uf.FIELDS) + "\n" + "".join("\t".join(map(str, r)) + "\n" for r in rows))
    return path


def test_unit_features_scans_each_package_into_rows_with_groups(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = WorkFolder(tmp_path / "work", CONFIG)
    work.root.mkdir()
    scratch = tmp_path / "scratch"
    scratch.mkdir()
    monkeypatch.setenv("TMPDIR", str(scratch))  # where the worker processes unpack
    args = argparse.Namespace(packages=str(listing(tmp_path)), model=str(tiny), processes=2)
    uf.run(work, args)
    left = [p.name for p in scratch.iterdir() if p.name.startswith("malwi-")]
    assert left == [], "the workers leave no temporary folders behind"
    table = pq.read_table(work.root / "unit_features.parquet").to_pylist()
    described = json.loads((work.root / "unit_features.json").read_text())
    names = UnitFeatures(work.config["feature_extractors"]).names
    assert described["names"] == names and all(len(row["features"]) == len(names) for row in table)
    assert [line.split(":")[0] for line in described["not_scanned"]] == [str(tmp_path / "not-there")]
    by_name: dict[str, list[dict]] = {}
    for row in table:
        by_name.setdefault(row["name"], []).append(row)
    assert sorted(by_name) == ["calc", "evil-one", "evil-two", "mono"]
    # Every unit of a benign package is a row; a malicious package gives its worst unit.
    assert sorted(row["unit"] for row in by_name["mono"]) == ["mono-a", "mono-b"]
    assert [len(by_name[n]) for n in ("calc", "evil-one", "evil-two")] == [1, 1, 1]
    assert {row["label"] for n in ("calc", "mono") for row in by_name[n]} == {0}
    evil = [by_name["evil-one"][0], by_name["evil-two"][0]]
    assert [row["label"] for row in evil] == [1, 1] and [row["split"] for row in evil] == ["train", "test"]
    assert {row["object_model_verdict"] for row in evil} == {"malicious"}
    # The same payload under two names is one family: never on both sides of a fold.
    assert evil[0]["group"] == evil[1]["group"] != by_name["calc"][0]["group"]
    install = names.index("scores.install.top1")
    assert evil[0]["features"][install] > 0.9 and by_name["calc"][0]["features"][install] < 0.5


def test_a_listing_without_its_header_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "units.tsv"
    path.write_text("benign\ttrain\tpypi\tcalc\t/x\n")
    with pytest.raises(ResearchError, match="the first line must be the header"):
        uf.read_listing(path)


def chosen_model(work: WorkFolder, tiny: Path) -> Path:
    """A chosen.json as `unit-model` writes it, for a logistic unit model over the features."""
    scratch = add_unit_model(build_tiny_bundle(work.root / "scratch"), {"scores.install.top1": 20.0}, -10.0)
    folder = work.root / um.FOLDER
    folder.mkdir(parents=True)
    shutil.copy(scratch / UNIT_MODEL_FILE, folder / "logistic.onnx")
    names = UnitFeatures(UNIT_FEATURE_SETTINGS).names
    (work.root / um.NAMES_FILE).write_text(
        json.dumps({"names": names, "feature_extractors": UNIT_FEATURE_SETTINGS, "model": str(tiny)})
    )
    chosen = {
        "name": "logistic",
        "kind": "classifier",
        "file": "logistic.onnx",
        "sha256": "not-checked-here",
        "input": um.INPUT_NAME,
        "output": um.OUTPUT_NAME,
        "feature_names": names,
        "ecosystems": ["pypi"],
        "selection_false_positive_rate": 0.005,
        "threshold": 0.8,
        "thresholds": {"0.001": 0.9, "0.005": 0.8, "0.01": 0.6},
    }
    path = folder / "chosen.json"
    path.write_text(json.dumps(chosen))
    return path


def test_ship_writes_a_bundle_whose_unit_model_decides(tmp_path: Path, tiny: Path) -> None:
    work = WorkFolder(tmp_path / "work", CONFIG)
    work.root.mkdir()
    into = tmp_path / "shipped"
    um.ship(work, chosen_model(work, tiny), into)
    bundle = ModelBundle.load(into)
    assert bundle.unit_model is not None and bundle.unit_model.name == "logistic"
    # Malicious at the selection rate's threshold, suspicious at the highest rate's.
    assert (bundle.unit_model.threshold, bundle.unit_model.suspicious_threshold) == (0.8, 0.6)
    assert (
        UNIT_MODEL_FILE in bundle.manifest["files"] and bundle.threshold == ModelBundle.load(tiny).threshold
    )
    # Only Python malware was trained on: npm units stay with the package score.
    assert bundle.unit_model.ecosystems == ("pypi",)
    shutil.copytree(EXAMPLES / "malicious-python", tmp_path / "evil")
    report = MalwiReport.create(input_path=str(tmp_path / "evil"), silent=True, model=into)
    assert report.verdict == "malicious" and report.units[0].scored_by == "unit_model"
    shutil.copytree(EXAMPLES / "malicious-javascript", tmp_path / "evil-js")
    report = MalwiReport.create(input_path=str(tmp_path / "evil-js"), silent=True, model=into)
    assert {u.scored_by for u in report.units} == {"package_score"}


def test_ship_refuses_a_model_trained_on_other_features(tmp_path: Path, tiny: Path) -> None:
    work = WorkFolder(tmp_path / "work", CONFIG)
    work.root.mkdir()
    chosen = chosen_model(work, tiny)
    document = json.loads(chosen.read_text())
    document["feature_names"] = document["feature_names"][:-1]
    chosen.write_text(json.dumps(document))
    with pytest.raises(ResearchError, match="not those this malwi extracts"):
        um.ship(work, chosen, tmp_path / "shipped")
    assert not (tmp_path / "shipped").exists()


def test_a_rerun_scans_only_what_the_table_lacks(
    tmp_path: Path, tiny: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    work = WorkFolder(tmp_path / "work", CONFIG)
    work.root.mkdir()
    listed = listing(tmp_path)
    args = argparse.Namespace(packages=str(listed), model=str(tiny), processes=1)
    uf.run(work, args)
    first = pq.read_table(work.root / uf.FEATURES).to_pylist()
    write(tmp_path / "late", {"setup.py": "from setuptools import setup\nsetup(name='late')\n"})
    with open(listed, "a") as handle:
        handle.write(f"benign\ttrain\tpypi\tlate\t{tmp_path / 'late'}\n")
    scanned: list[str] = []
    original = uf._scanned

    def recording(rows: list, *rest: object) -> object:
        scanned.extend(row["name"] for row in rows)
        return original(rows, *rest)

    monkeypatch.setattr(uf, "_scanned", recording)
    uf.run(work, args)
    # The package that could not be scanned is tried again; the others are kept as they were.
    assert sorted(scanned) == ["late", "missing"]
    second = pq.read_table(work.root / uf.FEATURES).to_pylist()
    assert [r for r in second if r["name"] != "late"] == first
    assert {r["name"] for r in second} == {"calc", "mono", "evil-one", "evil-two", "late"}

    # Another object model extracts other scores: everything is scanned again.
    scanned.clear()
    other = build_tiny_bundle(tmp_path / "other", threshold=0.6)
    (other / "stage1.bin").write_bytes(b"\x00" * 1020 + b"\x00\x00\x80\x3f")
    from .tiny_model import write_manifest

    manifest = json.loads((other / "manifest.json").read_text())
    write_manifest(other, manifest)
    uf.run(work, argparse.Namespace(packages=str(listed), model=str(other), processes=1))
    assert sorted(scanned) == ["calc", "evil-one", "evil-two", "late", "missing", "mono"]
