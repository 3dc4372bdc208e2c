"""A bundle's package-unit model decides unit verdicts (`malwi.model.unit_model`).

The unit models here are tiny logistic models over named unit features, so which unit is
flagged follows from the weights; the trees are defanged text, only ever parsed.
"""

from __future__ import annotations

import json
import math
import shutil
import subprocess
import sys
from pathlib import Path

import jsonschema
import pytest

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi.errors import ModelError
from malwi.model.bundle import ModelBundle, sha256_file
from malwi.report import MalwiReport

from .test_units import monorepo
from .tiny_model import UNIT_MODEL_FILE, add_unit_model, build_tiny_bundle

INSTALL_TOP = "scores.install.top1"
SCHEMA = json.loads(
    (Path(__file__).resolve().parent.parent / "data" / "schemas" / "analysis_result_schema.json").read_text()
)


def bundle_with(tmp_path: Path, name: str, weights: dict[str, float], bias: float) -> Path:
    return add_unit_model(build_tiny_bundle(tmp_path / name), weights, bias)


def scan(path: Path, model: Path) -> MalwiReport:
    return MalwiReport.create(input_path=str(path), silent=True, model=model)


def test_the_unit_model_decides_and_the_package_score_is_reported_beside_it(tmp_path: Path) -> None:
    repo = monorepo(tmp_path / "repo")
    plain = scan(repo, build_tiny_bundle(tmp_path / "plain"))
    by_install = scan(repo, bundle_with(tmp_path, "install", {INSTALL_TOP: 20.0}, -10.0))
    verdicts = {u.name: u.verdict for u in by_install.units}
    assert verdicts["helper-utils"] == "malicious"
    assert {v for n, v in verdicts.items() if n != "helper-utils"} == {"good"}
    flagged = next(u for u in by_install.units if u.name == "helper-utils")
    before = next(u for u in plain.units if u.name == "helper-utils")
    assert flagged.scored_by == "unit_model" and before.scored_by == "package_score"
    # The package score is still computed, and reported beside the unit model's score.
    assert flagged.object_score == pytest.approx(before.maliciousness)
    expected = 1 / (1 + math.exp(10 - 20 * flagged.tops["install"]))
    assert flagged.maliciousness == pytest.approx(expected, abs=1e-4)
    document = json.loads(json.dumps(by_install.to_dict()))
    jsonschema.validate(document, SCHEMA)
    assert by_install.threshold == 0.7 and document["units"][0]["scored_by"] == "unit_model"
    assert document["units"][0]["object_score"] == pytest.approx(before.maliciousness, abs=1e-4)
    # It lists the objects that would carry the package score's verdict, the highest first.
    carriers = [(f.path, o.name) for f, o in flagged.carriers]
    assert carriers and carriers[0] == (before.carriers[0][0].path, before.carriers[0][1].name)

    # A unit model that only weighs npm install scripts calls the same Python package good,
    # whatever its objects score: the verdict is the unit model's, not the package score's.
    by_hooks = scan(repo, bundle_with(tmp_path, "hooks", {"hooks.scripts": 20.0}, -10.0))
    assert {u.verdict for u in by_hooks.units} == {"good"} and by_hooks.verdict == "good"
    assert before.verdict == "malicious"


def test_a_threshold_given_on_the_command_line_is_on_the_unit_models_scale(tmp_path: Path) -> None:
    repo = monorepo(tmp_path / "repo")
    model = bundle_with(tmp_path, "install", {INSTALL_TOP: 20.0}, -10.0)
    with Workspace() as workspace, Scanner(ScanOptions(model=model, threshold=1.0)) as scanner:
        report = scanner.judge(workspace.local([str(repo)]))
    flagged = next(u for u in report.units if u.name == "helper-utils")
    # sigmoid(20 x top - 10) < 1 for every top <= 1: below a threshold of 1, above the
    # unit model's suspicious threshold (the package score's would be another scale).
    assert report.threshold == 1.0 and flagged.maliciousness < 1.0
    assert flagged.verdict == "suspicious" and report.verdict == "suspicious"


def edited(bundle: Path, change: dict) -> Path:
    manifest = json.loads((bundle / "manifest.json").read_text())
    manifest["unit_model"].update(change)
    (bundle / "manifest.json").write_text(json.dumps(manifest))
    return bundle


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"feature_names": ["scores.install.top1"]}, "features that are not"),
        ({"threshold": 1.5}, "must be a probability"),
        ({"suspicious_threshold": 0.9}, "at most its threshold"),
        ({"file": "model.onnx.copy"}, "has no digest"),
    ],
)
def test_a_unit_model_section_that_does_not_fit_fails_the_load(
    tmp_path: Path, change: dict, message: str
) -> None:
    bundle = bundle_with(tmp_path, "edited", {INSTALL_TOP: 1.0}, 0.0)
    shutil.copy(bundle / "model.onnx", bundle / "model.onnx.copy")
    with pytest.raises(ModelError, match=message):
        ModelBundle.load(edited(bundle, change))


def test_a_replaced_unit_model_file_fails_the_load(tmp_path: Path) -> None:
    bundle = bundle_with(tmp_path, "replaced", {INSTALL_TOP: 1.0}, 0.0)
    good = sha256_file(bundle / UNIT_MODEL_FILE)
    add_unit_model(build_tiny_bundle(tmp_path / "other"), {"hooks.scripts": 5.0}, 0.0)
    shutil.copy(tmp_path / "other" / UNIT_MODEL_FILE, bundle / UNIT_MODEL_FILE)
    assert sha256_file(bundle / UNIT_MODEL_FILE) != good
    with pytest.raises(ModelError, match="does not match its manifest digest"):
        ModelBundle.load(bundle)


def test_a_rescan_answered_from_the_cache_needs_no_onnxruntime_for_the_unit_model(
    tmp_path: Path, private_cache: Path
) -> None:
    repo = monorepo(tmp_path / "repo")
    model = bundle_with(tmp_path, "install", {INSTALL_TOP: 20.0}, -10.0)
    probe = (
        "import json, sys; from malwi.cli import main; "
        f"code = main(['scan', {str(repo)!r}, '--model', {str(model)!r}, '--format', 'json', '--quiet', '-o', sys.argv[1]]); "
        "units = {u['name']: (u['verdict'], u['scored_by']) for u in json.load(open(sys.argv[1]))['units']}; "
        "print(json.dumps([code, units['helper-utils'], 'numpy' in sys.modules, 'onnxruntime' in sys.modules]))"
    )

    def run() -> list:
        out = tmp_path / "report.json"
        result = subprocess.run([sys.executable, "-c", probe, str(out)], capture_output=True, timeout=180)
        return json.loads(result.stdout.decode().splitlines()[-1])

    first = run()
    assert first[:2] == [1, ["malicious", "unit_model"]] and first[2:] == [True, True]
    assert run() == [1, ["malicious", "unit_model"], False, False]


def test_a_unit_the_package_score_judges_is_held_to_its_thresholds(tmp_path: Path) -> None:
    """Files outside every package are judged by the package score, at the package score's
    thresholds, not at the unit model's (here absurdly low: 0.005)."""
    loose = tmp_path / "loose"
    loose.mkdir()
    shutil.copy(Path(__file__).resolve().parent.parent / "examples" / "benign" / "textstats.py", loose)
    model = add_unit_model(build_tiny_bundle(tmp_path / "low"), {INSTALL_TOP: 1.0}, 0.0, 0.005, 0.005)
    report = scan(loose, model)
    (unit,) = report.units
    assert unit.kind == "files" and unit.scored_by == "package_score"
    assert 0.005 <= unit.maliciousness < 0.3  # above the unit model's thresholds, below the package score's
    assert unit.verdict == "good" and report.verdict == "good"
