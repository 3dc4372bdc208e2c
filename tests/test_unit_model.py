"""The package-unit model's training (`malwi_research.unit_model`) on tiny synthetic units:
grouped folds, tuning, exact thresholds, ONNX export against scikit-learn, and the whole step."""

from __future__ import annotations

import argparse
import copy
import hashlib
import json
from pathlib import Path
from typing import Any

import numpy as np
import onnxruntime
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from malwi_research import ResearchError, WorkFolder
from malwi_research import unit_model as um

ROOT = Path(__file__).resolve().parent.parent
SHIPPED_CONFIG = ROOT / "data" / "training" / "training_config.json"
WIDTH = 12

# Tiny networks stop before converging; that is expected here, not a failure.
pytestmark = pytest.mark.filterwarnings("ignore::sklearn.exceptions.ConvergenceWarning")


def synthetic(units: int = 300, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Features, labels, groups: a third malicious, told apart by a shifted feature 0; benign
    groups of 4 units, malicious groups of 2."""
    rng = np.random.default_rng(seed)
    labels = (np.arange(units) % 3 == 0).astype(np.int64)
    features = rng.normal(size=(units, WIDTH)).astype(np.float32)
    features[labels == 1, 0] += 2.5
    groups = np.empty(units, dtype=object)
    for label, size in ((0, 4), (1, 2)):
        where = np.flatnonzero(labels == label)
        groups[where] = [f"{label}-{position // size}" for position in range(len(where))]
    return features, labels, groups


def tiny_config() -> dict[str, Any]:
    """The shipped config with models, grids and folds small enough for a test."""
    config = copy.deepcopy(json.loads(SHIPPED_CONFIG.read_text()))
    models = config["model_configurations"]
    models["random_forest_classifier"]["params"]["n_estimators"] = 10
    models["gradient_boosting_classifier"]["params"]["n_estimators"] = 10
    models["neural_network_classifier"]["params"].update(hidden_layer_sizes=[8], max_iter=100)
    tuning = config["hyperparameter_tuning"]
    tuning.update(cv_folds=2, n_jobs=1)
    tuning["grids"] = {
        "random_forest_classifier": {"min_samples_leaf": [1, 3]},
        "gradient_boosting_classifier": {"max_depth": [1, 2]},
        "svm_classifier": {"C": [0.5, 2.0]},
        "neural_network_classifier": {"hidden_layer_sizes": [[4], [8]]},
    }
    stacking = config["ensemble_configurations"]["stacking_classifier"]
    stacking.update(cv_folds=2, final_params={"hidden_layer_sizes": [4], "max_iter": 100})
    config["evaluation_metrics"]["cross_validation"]["folds"] = 2
    return config


@pytest.fixture(scope="module")
def data() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    return synthetic()


# --- grouped folds -----------------------------------------------------------------------------


@pytest.mark.parametrize("stratified", [True, False])
def test_grouped_folds_never_split_a_group(data: Any, stratified: bool) -> None:
    _, labels, groups = data
    folds = um.grouped_folds(labels, groups, 4, seed=7, shuffle=True, stratified=stratified)
    assert len(folds) == 4
    held_out = np.concatenate([test for _, test in folds])
    assert sorted(held_out.tolist()) == list(range(len(labels)))  # each unit held out exactly once
    for train, test in folds:
        assert not set(groups[train]) & set(groups[test])
        assert len(train) + len(test) == len(labels)
        assert set(labels[test]) == {0, 1} and set(labels[train]) == {0, 1}
        if stratified:
            # A third malicious overall; stratified folds stay close to it.
            assert abs(labels[test].mean() - 1 / 3) < 0.05
    again = um.grouped_folds(labels, groups, 4, seed=7, shuffle=True, stratified=stratified)
    assert all(np.array_equal(a[1], b[1]) for a, b in zip(folds, again))  # the seed repeats it


def test_grouped_folds_refuse_what_cannot_be_split(data: Any) -> None:
    _, labels, groups = data
    with pytest.raises(ResearchError, match="at least 5 groups"):
        um.grouped_folds(labels[:8], groups[:8], 5, seed=0, shuffle=True, stratified=True)
    # Every malicious unit in one group: some fold has no malicious unit at all.
    one_group = np.where(labels == 1, "malicious", groups).astype(object)
    with pytest.raises(ResearchError, match="only one class"):
        um.grouped_folds(labels, one_group, 3, seed=0, shuffle=True, stratified=True)


# --- estimators and tuning ---------------------------------------------------------------------


def test_estimator_builds_each_model_kind() -> None:
    from sklearn.ensemble import GradientBoostingClassifier, RandomForestClassifier
    from sklearn.pipeline import Pipeline
    from sklearn.preprocessing import StandardScaler

    forest = um.estimator("random_forest_classifier", {"n_estimators": 3}, seed=5)
    assert isinstance(forest, RandomForestClassifier) and forest.random_state == 5
    assert isinstance(um.estimator("gradient_boosting_classifier", {}), GradientBoostingClassifier)
    for name in ("svm_classifier", "neural_network_classifier"):
        pipeline = um.estimator(name, {}, seed=1)
        assert isinstance(pipeline, Pipeline) and isinstance(pipeline.steps[0][1], StandardScaler)
    network = um.estimator("neural_network_classifier", {"hidden_layer_sizes": [6, 3]})
    assert network.named_steps["model"].hidden_layer_sizes == (6, 3)
    svm = um.estimator("svm_classifier", {"C": 3.0, "probability": True})
    assert svm.named_steps["model"].estimator.C == 3.0
    with pytest.raises(ValueError, match="unknown model"):
        um.estimator("naive_bayes", {})
    with pytest.raises(ValueError, match="probability"):
        um.estimator("svm_classifier", {"probability": False})
    with pytest.raises(ValueError, match="random_forest_classifier"):
        um.estimator("random_forest_classifier", {"no_such_parameter": 1})


@pytest.mark.parametrize("name", ["random_forest_classifier", "svm_classifier"])
def test_tune_picks_from_the_grid(data: Any, name: str) -> None:
    features, labels, groups = data
    config = tiny_config()
    tuned = um.tune(name, features, labels, groups, config)
    grid = config["hyperparameter_tuning"]["grids"][name]
    for key, values in grid.items():
        assert tuned.params[key] in values
    # The model's own params stay, under the grid's values.
    for key, value in config["model_configurations"][name]["params"].items():
        if key not in grid:
            assert tuned.params[key] == value
    assert tuned.candidates == 2
    assert 0.5 < tuned.cv_score <= 1.0  # feature 0 separates the classes well
    assert tuned.search_seconds >= tuned.fit_seconds >= 0
    # Refit on all units, with the chosen parameters.
    assert tuned.estimator.predict_proba(features).shape == (len(labels), 2)
    inner = tuned.estimator if name == "random_forest_classifier" else tuned.estimator[-1].estimator
    key = next(iter(grid))
    assert getattr(inner, key) == tuned.params[key]


def test_tune_refuses_an_unknown_grid_parameter(data: Any) -> None:
    features, labels, groups = data
    config = tiny_config()
    config["hyperparameter_tuning"]["grids"]["svm_classifier"] = {"depth": [1, 2]}
    with pytest.raises(ResearchError, match="'depth' is not a parameter"):
        um.tune("svm_classifier", features, labels, groups, config)


# --- thresholds and metrics, on hand-made scores -----------------------------------------------

BENIGN = [0.05, 0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.8]
MALICIOUS = [0.95, 0.8, 0.75, 0.7, 0.3]


def test_threshold_at_is_exact_with_ties() -> None:
    # Two benign units tie at the top: allowing one false positive flags neither.
    assert um.threshold_at(BENIGN, 0.1) == np.nextafter(0.8, 1.0)
    assert um.threshold_at(BENIGN, 0.0) == np.nextafter(0.8, 1.0)
    assert um.threshold_at(BENIGN, 0.2) == np.nextafter(0.7, 1.0)
    assert um.threshold_at(BENIGN, 0.25) == np.nextafter(0.7, 1.0)  # floor(2.5) = 2
    assert um.threshold_at(BENIGN, 1.0) == 0.05  # everything may be flagged
    # 0.29 x 100 is 28.999999999999996 in floating point: still 29 benign units allowed.
    hundred = np.arange(100) / 100
    threshold = um.threshold_at(hundred, 0.29)
    assert int(np.sum(hundred >= threshold)) == 29
    # float32 scores get a float32 threshold: the same units are flagged in either precision.
    scores32 = np.asarray(BENIGN, dtype=np.float32)
    threshold32 = um.threshold_at(scores32, 0.2)
    assert float(np.float32(threshold32)) == threshold32 > float(np.float32(0.7))
    assert int(np.sum(scores32 >= np.float32(threshold32))) == 2
    with pytest.raises(ValueError):
        um.threshold_at([], 0.1)


def test_evaluate_on_hand_made_scores() -> None:
    scores = np.array(BENIGN + MALICIOUS)
    labels = np.array([0] * len(BENIGN) + [1] * len(MALICIOUS))
    section = json.loads(SHIPPED_CONFIG.read_text())["evaluation_metrics"]
    section = {**section, "false_positive_rates": [0.1, 0.25], "selection_false_positive_rate": 0.2}
    result = um.evaluate(scores, labels, section)
    points = result["at_false_positive_rate"]
    assert list(points) == ["0.1", "0.25", "0.2"]
    # 0.1: nothing benign flagged, only 0.95 of the malicious; the malicious 0.8 ties the benign.
    assert points["0.1"]["recall"] == pytest.approx(1 / 5)
    assert points["0.1"]["false_positive_rate"] == 0.0
    # 0.2: both benign 0.8 flagged (2 of 10); malicious 0.95, 0.8, 0.75; 0.7 ties a benign 0.7.
    for key in ("0.2", "0.25"):
        assert points[key]["recall"] == pytest.approx(3 / 5)
        assert points[key]["false_positive_rate"] == pytest.approx(2 / 10)
        assert points[key]["false_positives"] == 2 and points[key]["true_positives"] == 3
    assert result["threshold"] == points["0.2"]["threshold"] == np.nextafter(0.7, 1.0)
    assert result["recall"] == pytest.approx(3 / 5)
    # Pairs (malicious above benign, ties half): (10 + 9 + 8 + 7.5 + 3.5) / 50.
    assert result["roc_auc"] == pytest.approx(0.76)
    # At the selection threshold: benign precision 8/10, recall 8/10; malicious 3/5 and 3/5.
    metrics = result["metrics"]
    for name in ("precision_macro", "recall_macro", "f1_macro"):
        assert metrics[name] == pytest.approx(0.7)
    for name in ("precision_weighted", "recall_weighted", "f1_weighted"):
        assert metrics[name] == pytest.approx((0.8 * 10 + 0.6 * 5) / 15)
    assert metrics["roc_auc"] == pytest.approx(0.76)
    assert (result["benign"], result["malicious"]) == (10, 5)
    with pytest.raises(ValueError, match="both"):
        um.evaluate(np.array(BENIGN), np.zeros(len(BENIGN)), section)


# --- ONNX export -------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def fitted(data: Any) -> dict[str, Any]:
    """The four model kinds and both ensembles, fitted on the synthetic units."""
    features, labels, groups = data
    config = tiny_config()
    models: dict[str, Any] = {}
    tuned = []
    for name in um.MODELS:
        params = config["model_configurations"][name]["params"]
        model = um.estimator(name, params, seed=0).fit(features, labels)
        models[name] = model
        tuned.append(um.Tuned(name, model, params, 0.0, 1, 0.0, 0.0))
    models["voting_classifier"] = um.voting_ensemble(tuned, config).fit(features, labels)
    models["stacking_classifier"] = um.stacking_ensemble(tuned, labels, groups, config).fit(features, labels)
    return models


@pytest.mark.parametrize("name", [*um.MODELS, *um.ENSEMBLES])
def test_export_matches_predict_proba(fitted: dict[str, Any], data: Any, tmp_path: Path, name: str) -> None:
    features, _, _ = data
    model = fitted[name]
    check = features[:80]
    exported = um.export_onnx(model, WIDTH, tmp_path / f"{name}.onnx", check, timing_runs=5)
    assert exported.size_bytes == (tmp_path / f"{name}.onnx").stat().st_size > 0
    assert exported.sha256 == hashlib.sha256((tmp_path / f"{name}.onnx").read_bytes()).hexdigest()
    assert exported.microseconds_per_unit > 0
    session = onnxruntime.InferenceSession(str(exported.path), providers=["CPUExecutionProvider"])
    (given,) = session.get_inputs()
    assert (given.name, given.type, given.shape[1]) == ("features", "tensor(float)", WIDTH)
    assert [output.name for output in session.get_outputs()] == [um.OUTPUT_NAME]
    # Other units than the check ran on, and a batch of one.
    other = features[80:]
    (scores,) = session.run(None, {"features": other})
    assert scores.shape == (len(other),)
    np.testing.assert_allclose(scores, model.predict_proba(other)[:, 1], atol=1e-4)
    np.testing.assert_allclose(exported.scores, model.predict_proba(check)[:, 1], atol=1e-4)
    (single,) = session.run(None, {"features": other[:1]})
    assert single.shape == (1,)


def test_export_refuses_a_disagreeing_model(
    fitted: dict[str, Any], data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(um, "ONNX_TOLERANCE", -1.0)
    with pytest.raises(ResearchError, match="differs from scikit-learn"):
        um.export_onnx(fitted["random_forest_classifier"], WIDTH, tmp_path / "m.onnx", data[0][:10])


# --- the whole step ----------------------------------------------------------------------------


def write_units(
    folder: Path, features: Any, labels: Any, groups: Any, splits: Any, names: list[str] | None = None
) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    units = len(labels)
    table = pa.table(
        {
            "package_id": [f"package-{index}" for index in range(units)],
            "split": list(splits),
            "label": pa.array(labels, type=pa.int64()),
            "group": [str(group) for group in groups],
            "ecosystem": [
                "npm" if index % 10 == 0 and labels[index] == 0 else "pypi" for index in range(units)
            ],
            "features": pa.array([list(map(float, row)) for row in features], type=pa.list_(pa.float32())),
        }
    )
    pq.write_table(table, folder / um.FEATURES_FILE)
    width = len(features[0])
    names = names if names is not None else [f"feature_{index}" for index in range(width)]
    (folder / um.NAMES_FILE).write_text(json.dumps({"names": names}))


def splits_by_group(groups: np.ndarray) -> np.ndarray:
    """60 / 20 / 20 by group, so no group crosses splits."""
    names = sorted(set(groups.tolist()))
    where = {
        name: ("train", "train", "train", "validation", "test")[index % 5] for index, name in enumerate(names)
    }
    return np.array([where[group] for group in groups], dtype=object)


def work_folder(tmp_path: Path, config: dict[str, Any]) -> WorkFolder:
    config_path = tmp_path / "config.json"
    config_path.write_text(json.dumps(config))
    work = WorkFolder(tmp_path / "work", config_path)
    work.validate()  # the tiny config is still a valid config
    return work


def test_run_end_to_end(data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(um, "TIMING_RUNS", 5)
    features, labels, groups = data
    work = work_folder(tmp_path, tiny_config())
    splits = splits_by_group(groups)
    write_units(work.root, features, labels, groups, splits)
    um.run(work, argparse.Namespace())

    folder = work.root / um.FOLDER
    report = json.loads((folder / "report.json").read_text())
    chosen = json.loads((folder / "chosen.json").read_text())
    rows = {row["name"]: row for row in report["models"]}
    assert list(rows) == [*um.MODELS, *um.ENSEMBLES]
    assert [row["kind"] for row in rows.values()] == ["classifier"] * 4 + ["ensemble"] * 2
    rates = [um.rate_key(rate) for rate in report["false_positive_rates"]]
    selection = um.rate_key(report["selection_false_positive_rate"])
    for row in rows.values():
        assert set(rates) | {selection} == set(row["recall_at_false_positive_rate"])
        assert 0.5 < row["roc_auc"] <= 1 and 0.5 < row["cv_score"] <= 1
        assert set(row["metrics"]) == set(work.config["evaluation_metrics"]["metrics"])
        assert row["fit_seconds"] >= 0 and row["onnx"]["microseconds_per_unit"] > 0
        onnx_file = folder / row["onnx"]["file"]
        assert onnx_file.stat().st_size == row["onnx"]["size_bytes"]
    assert rows["random_forest_classifier"]["params"]["min_samples_leaf"] in [1, 3]
    assert rows["voting_classifier"]["params"]["weights"] == {
        "random_forest_classifier": 2.0,
        "gradient_boosting_classifier": 2.0,
        "svm_classifier": 1.0,
        "neural_network_classifier": 1.0,
    }

    # The chosen one has the highest validation recall at the selection rate.
    best_recall = max(row["recall_at_false_positive_rate"][selection] for row in rows.values())
    picked = rows[chosen["name"]]
    assert report["chosen"] == chosen["name"]
    assert picked["recall_at_false_positive_rate"][selection] == best_recall
    tied = [row for row in rows.values() if row["recall_at_false_positive_rate"][selection] == best_recall]
    assert picked["roc_auc"] == max(row["roc_auc"] for row in tied)
    assert report["ensemble_beats_best_single"] == (picked["kind"] == "ensemble")
    assert report["best_single"] in um.MODELS and report["best_ensemble"] in um.ENSEMBLES
    assert isinstance(report["note"], str)

    # chosen.json matches the report and the file it names.
    onnx_file = folder / f"{chosen['name']}.onnx"
    assert chosen["file"] == onnx_file.name
    assert chosen["sha256"] == hashlib.sha256(onnx_file.read_bytes()).hexdigest() == picked["onnx"]["sha256"]
    assert chosen["n_features"] == WIDTH
    assert chosen["feature_names"] == [f"feature_{index}" for index in range(WIDTH)]
    assert chosen["thresholds"] == {
        key: point["threshold"] for key, point in picked["validation"]["at_false_positive_rate"].items()
    }
    assert chosen["threshold"] == chosen["thresholds"][selection]

    # The scanner's view: the ONNX file at the chosen threshold keeps the validation
    # false-positive rate within the selection rate.
    session = onnxruntime.InferenceSession(str(onnx_file), providers=["CPUExecutionProvider"])
    # It judges PyPI units only (the only malware trained on), so it is chosen on those.
    assert chosen["ecosystems"] == report["ecosystems"] == ["pypi"]
    npm = np.array([index % 10 == 0 and labels[index] == 0 for index in range(len(labels))])
    validation = (splits == "validation") & ~npm
    assert report["units"]["validation"] == int(validation.sum())
    (scores,) = session.run(None, {"features": features[validation]})
    flagged = scores >= chosen["threshold"]
    assert flagged[labels[validation] == 0].mean() <= report["selection_false_positive_rate"]
    assert flagged[labels[validation] == 1].mean() == pytest.approx(best_recall)

    # The test split: the chosen model only, at the chosen thresholds.
    test = report["test"]
    assert test["model"] == chosen["name"] and test["units"] == int(np.sum(splits == "test"))
    assert test["thresholds"] == chosen["thresholds"]
    assert set(test["at_false_positive_rate"]) == set(chosen["thresholds"])
    assert set(test["by_ecosystem"]) == {"npm", "pypi"}
    assert test["by_ecosystem"]["npm"]["malicious"] == 0
    assert test["by_ecosystem"]["npm"]["at_false_positive_rate"][selection]["recall"] is None

    # Every model and ensemble is in the model registry, as a classifier or an ensemble, with
    # its validation recall at each configured rate.
    from malwi.registry import Registry

    with Registry() as registry:
        recorded = {
            row["model_name"]: row
            for row in registry.list_models()
            if row["model_name"].startswith("malwi-unit-")
        }
        assert set(recorded) == {f"malwi-unit-{name}" for name in rows}
        for name, row in rows.items():
            entry = registry.show(recorded[f"malwi-unit-{name}"]["model_id"])
            assert entry["model_type"] == row["kind"] and entry["file_sha256"] == row["onnx"]["sha256"]
            assert entry["recall"] == pytest.approx(row["recall_at_false_positive_rate"][selection])
            assert entry["metadata"]["chosen"] == (name == chosen["name"])
            assert sorted(p["recall"] for p in entry["performance"]) == sorted(
                row["recall_at_false_positive_rate"].values()
            )


def test_run_leaves_out_a_disabled_model(data: Any, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(um, "TIMING_RUNS", 5)
    features, labels, groups = data
    config = tiny_config()
    config["model_configurations"]["svm_classifier"]["enabled"] = False
    config["model_configurations"]["gradient_boosting_classifier"]["enabled"] = False
    config["ensemble_configurations"]["stacking_classifier"]["enabled"] = False
    work = work_folder(tmp_path, config)
    write_units(work.root, features, labels, groups, splits_by_group(groups))
    um.run(work, argparse.Namespace())
    folder = work.root / um.FOLDER
    report = json.loads((folder / "report.json").read_text())
    names = [row["name"] for row in report["models"]]
    assert names == ["random_forest_classifier", "neural_network_classifier", "voting_classifier"]
    assert report["models"][-1]["params"]["members"] == names[:2]
    assert not (folder / "svm_classifier.onnx").exists()
    assert not (folder / "stacking_classifier.onnx").exists()
    assert json.loads((folder / "chosen.json").read_text())["name"] in names


def test_run_refuses_bad_features(data: Any, tmp_path: Path) -> None:
    features, labels, groups = data
    splits = splits_by_group(groups)
    work = work_folder(tmp_path, tiny_config())

    ragged = [list(row) for row in features]
    ragged[7] = ragged[7][:-1]
    write_units(work.root, ragged, labels, groups, splits)
    with pytest.raises(ResearchError, match="different lengths"):
        um.run(work, argparse.Namespace())

    write_units(work.root, features, labels, groups, splits, names=["only", "three", "names"])
    with pytest.raises(ResearchError, match="names 3"):
        um.run(work, argparse.Namespace())

    # The features were grouped by something else than the config's cross-validation groups.
    write_units(work.root, features, labels, groups, splits)
    names = json.loads((work.root / um.NAMES_FILE).read_text())
    (work.root / um.NAMES_FILE).write_text(json.dumps({**names, "group_by": ["package_name"]}))
    with pytest.raises(ResearchError, match="groups units by"):
        um.run(work, argparse.Namespace())

    # Every malicious unit outside the training split.
    one_class = np.where(labels == 1, np.where(splits == "train", "validation", splits), splits)
    write_units(work.root, features, labels, groups, one_class)
    with pytest.raises(ResearchError, match=r"train split has .* all benign"):
        um.run(work, argparse.Namespace())

    (work.root / um.FEATURES_FILE).unlink()
    with pytest.raises(ResearchError, match="missing"):
        um.run(work, argparse.Namespace())
