"""`malwi research unit-model`: the classical package-unit model that decides the verdict.

Input: `unit_features.parquet` (one row per package unit: `package_id`, `split`, `label`,
`group`, `ecosystem`, `features`) and `unit_features.json` (`{"names": [...]}`), both under the
working folder.

1. Every enabled model of `model_configurations` is tuned by grid search
   (`hyperparameter_tuning`) on the training units, with folds that never split a `group`.
2. The enabled ensembles of `ensemble_configurations` are built from the tuned models: soft
   voting, and stacking whose internal folds are grouped the same way.
3. Each model and ensemble gets a cross-validated score on the training units
   (`evaluation_metrics.cross_validation`), is exported to ONNX, checked against scikit-learn in
   ONNX Runtime, timed there, and scored on the validation units of the ecosystems it will
   judge (those with malicious training units; the scanner leaves the others to the package
   score): recall at each configured false-positive rate, ROC AUC, and the configured metrics
   at the selection rate.
4. The one with the highest validation recall at `selection_false_positive_rate` is chosen
   (ties: higher ROC AUC, then the cheaper one to score). Its thresholds come from the benign
   validation scores of the ONNX model itself, so the scanner flags exactly what was measured.
   The test units are scored once, for the chosen model only, and never take part in choosing.

Writes `unit_model/report.json`, `unit_model/<name>.onnx` for every model and ensemble, and
`unit_model/chosen.json`. The scanner needs only ONNX Runtime, never scikit-learn.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from malwi.model.bundle import sha256_file
from malwi.model.runtime import create_session
from malwi_research import ResearchError, WorkFolder, log, need
from malwi_research.export import threshold_at

MODELS = (
    "random_forest_classifier",
    "gradient_boosting_classifier",
    "svm_classifier",
    "neural_network_classifier",
)
ENSEMBLES = ("voting_classifier", "stacking_classifier")
SPLITS = ("train", "validation", "test")
FEATURES_FILE = "unit_features.parquet"
NAMES_FILE = "unit_features.json"
FOLDER = "unit_model"
INPUT_NAME = "features"
OUTPUT_NAME = "malicious_probability"
# The chosen model's file name inside a bundle (`ship`).
SHIPPED_FILE = "unit_model.onnx"
# Recent enough for every converter used here, and loadable by every ONNX Runtime the scanner
# accepts (onnxruntime >= 1.17 runs opset 20), not only by the 1.32 this was trained with.
OPSET = {"": 20, "ai.onnx.ml": 3}
# ONNX Runtime must reproduce scikit-learn's probability to this much (it computes in float32).
ONNX_TOLERANCE = 1e-4
TIMING_WARMUP = 10
TIMING_RUNS = 200
# Probability calibration of the SVM (what `SVC(probability=True)` did inside, before 1.9
# deprecated it): Platt scaling over this many internal folds.
SVM_CALIBRATION_FOLDS = 5
# Where a configured model's own parameters sit inside the estimator `estimator()` builds.
PARAMETER_PREFIX = {
    "random_forest_classifier": "",
    "gradient_boosting_classifier": "",
    "svm_classifier": "model__estimator__",
    "neural_network_classifier": "model__",
}

Labels = npt.NDArray[np.int64]
Matrix = npt.NDArray[np.float32]
Folds = list[tuple[npt.NDArray[np.int64], npt.NDArray[np.int64]]]


@dataclass(frozen=True)
class Units:
    """Package units, one row each, in the order of the features file."""

    package_ids: npt.NDArray[np.object_]
    splits: npt.NDArray[np.object_]
    labels: Labels
    groups: npt.NDArray[np.object_]
    ecosystems: npt.NDArray[np.object_]
    features: Matrix
    names: list[str]

    def __len__(self) -> int:
        return len(self.labels)

    def select(self, split: str) -> Units:
        return self._where(self.splits == split)

    def of_ecosystems(self, ecosystems: Sequence[str]) -> Units:
        return self._where(np.isin(self.ecosystems, list(ecosystems)))

    def _where(self, chosen: npt.NDArray[np.bool_]) -> Units:
        return Units(
            self.package_ids[chosen],
            self.splits[chosen],
            self.labels[chosen],
            self.groups[chosen],
            self.ecosystems[chosen],
            self.features[chosen],
            self.names,
        )


@dataclass(frozen=True)
class Tuned:
    name: str
    estimator: Any
    params: dict[str, Any]
    cv_score: float
    candidates: int
    search_seconds: float
    fit_seconds: float


@dataclass(frozen=True)
class Exported:
    path: Path
    size_bytes: int
    sha256: str
    microseconds_per_unit: float
    max_difference: float
    # The ONNX model's own malicious-class probabilities for the check features.
    scores: npt.NDArray[np.float32]


def load_units(features_path: Path, names_path: Path) -> Units:
    """The features file, checked: a malformed one stops here with what is wrong, not later
    inside scikit-learn."""
    parquet = need("pyarrow.parquet")
    compute = need("pyarrow.compute")
    columns = ["package_id", "split", "label", "group", "ecosystem", "features"]
    try:
        table = parquet.read_table(features_path)
    except OSError as error:
        raise ResearchError(f"cannot read {features_path}: {error}") from None
    missing = [column for column in columns if column not in table.column_names]
    if missing:
        raise ResearchError(f"{features_path} lacks the columns {', '.join(missing)}")
    if table.num_rows == 0:
        raise ResearchError(f"{features_path} has no package units")
    try:
        names = json.loads(names_path.read_text())["names"]
    except (OSError, ValueError, KeyError, TypeError) as error:
        raise ResearchError(f'{names_path} must be {{"names": [feature names]}}: {error}') from None
    if not isinstance(names, list) or not all(isinstance(name, str) for name in names):
        raise ResearchError(f"{names_path}: `names` must be a list of strings")

    for column in columns[:-1]:
        if table.column(column).null_count:
            raise ResearchError(f"{features_path}: `{column}` has empty values")
    vectors = table.column("features").combine_chunks()
    kind = vectors.type
    types = need("pyarrow").types
    if not (types.is_list(kind) or types.is_large_list(kind) or types.is_fixed_size_list(kind)):
        raise ResearchError(f"{features_path}: `features` must be a list of floats per unit, not {kind}")
    if vectors.null_count:
        raise ResearchError(f"{features_path}: {vectors.null_count} units have no feature vector")
    lengths = np.asarray(compute.list_value_length(vectors).to_numpy(zero_copy_only=False))
    if np.any(lengths != lengths[0]):
        shown = ", ".join(str(int(length)) for length in np.unique(lengths)[:5])
        raise ResearchError(
            f"{features_path}: feature vectors of different lengths ({shown}): every unit needs the same features"
        )
    width = int(lengths[0])
    if width != len(names):
        raise ResearchError(
            f"{features_path}: vectors of {width} features, but {names_path} names {len(names)}"
        )
    values = vectors.flatten()
    if values.null_count:
        raise ResearchError(f"{features_path}: feature vectors with missing values")
    features = np.asarray(values.to_numpy(zero_copy_only=False), dtype=np.float32).reshape(-1, width)
    if not np.all(np.isfinite(features)):
        raise ResearchError(f"{features_path}: feature values that are NaN or infinite")

    labels = np.asarray(table.column("label").to_numpy(), dtype=np.int64)
    if not np.isin(labels, (0, 1)).all():
        raise ResearchError(f"{features_path}: `label` must be 0 (benign) or 1 (malicious)")
    splits = np.asarray(table.column("split").to_pylist(), dtype=object)
    unknown = sorted(set(splits.tolist()) - set(SPLITS))
    if unknown:
        raise ResearchError(f"{features_path}: unknown splits {unknown}; expected {', '.join(SPLITS)}")
    return Units(
        package_ids=np.asarray(table.column("package_id").to_pylist(), dtype=object),
        splits=splits,
        labels=labels,
        groups=np.asarray([str(group) for group in table.column("group").to_pylist()], dtype=object),
        ecosystems=np.asarray(table.column("ecosystem").to_pylist(), dtype=object),
        features=features,
        names=names,
    )


def _plain(value: Any) -> Any:
    """JSON lists become tuples (`hidden_layer_sizes`), as scikit-learn expects."""
    return tuple(_plain(item) for item in value) if isinstance(value, list) else value


def estimator(name: str, params: dict[str, Any], seed: int | None = None) -> Any:
    """The unfitted scikit-learn estimator of a configured model. The SVM and the network see
    standardized features (both are scale-sensitive); trees do not need it. `seed` fills
    `random_state` where `params` leave it out, so runs repeat."""
    preprocessing = need("sklearn.preprocessing")
    pipeline = need("sklearn.pipeline")
    params = {key: _plain(value) for key, value in params.items()}
    if seed is not None:
        params.setdefault("random_state", seed)
    try:
        if name == "random_forest_classifier":
            return need("sklearn.ensemble").RandomForestClassifier(**params)
        if name == "gradient_boosting_classifier":
            return need("sklearn.ensemble").GradientBoostingClassifier(**params)
        if name == "svm_classifier":
            # Scores must be probabilities (they are thresholded and averaged in ensembles).
            # scikit-learn 1.9 deprecates `SVC(probability=True)` for exactly this wrapper.
            if not params.pop("probability", True):
                raise ValueError("svm_classifier needs `probability: true`: its scores must be probabilities")
            model = need("sklearn.calibration").CalibratedClassifierCV(
                need("sklearn.svm").SVC(**params),
                method="sigmoid",
                cv=SVM_CALIBRATION_FOLDS,
                ensemble=False,
            )
        elif name == "neural_network_classifier":
            model = need("sklearn.neural_network").MLPClassifier(**params)
        else:
            raise ValueError(f"unknown model {name!r}; expected one of {', '.join(MODELS)}")
    except TypeError as error:
        raise ValueError(f"{name}: {error}") from None
    return pipeline.Pipeline([("scale", preprocessing.StandardScaler()), ("model", model)])


def grouped_folds(
    labels: npt.ArrayLike, groups: npt.ArrayLike, folds: int, seed: int, shuffle: bool, stratified: bool
) -> Folds:
    """Cross-validation folds that never put units of one group on both sides. Every fold must
    hold both classes on both sides: a fold without malicious units has no ROC AUC, and a
    stacking member trained on one class has no probability for the other."""
    model_selection = need("sklearn.model_selection")
    labels = np.asarray(labels)
    groups = np.asarray(groups)
    distinct = len(np.unique(groups))
    if distinct < folds:
        raise ResearchError(f"{folds} cross-validation folds need at least {folds} groups, not {distinct}")
    random_state = seed if shuffle else None
    if stratified:
        splitter = model_selection.StratifiedGroupKFold(
            n_splits=folds, shuffle=shuffle, random_state=random_state
        )
    else:
        try:
            splitter = model_selection.GroupKFold(n_splits=folds, shuffle=shuffle, random_state=random_state)
        except TypeError:
            raise ResearchError("shuffled GroupKFold needs scikit-learn >= 1.6") from None
    with warnings.catch_warnings():
        # Too few members of a class for the folds is caught below, with the fold named.
        warnings.simplefilter("ignore", UserWarning)
        result = [
            (np.asarray(train, dtype=np.int64), np.asarray(test, dtype=np.int64))
            for train, test in splitter.split(np.zeros((len(labels), 1)), labels, groups)
        ]
    for number, (train, test) in enumerate(result, 1):
        for side, indices in (("training", train), ("held-out", test)):
            if len(np.unique(labels[indices])) < 2:
                raise ResearchError(
                    f"cross-validation fold {number} of {folds} has only one class on its {side} side: "
                    "too few malicious (or benign) groups for that many folds"
                )
    return result


def _cross_validation(config: dict[str, Any]) -> dict[str, Any]:
    section: dict[str, Any] = config["evaluation_metrics"]["cross_validation"]
    return section


def _folds(labels: Labels, groups: npt.NDArray[np.object_], folds: int, config: dict[str, Any]) -> Folds:
    """Grouped folds with the configured stratification, shuffling and seed."""
    cross_validation = _cross_validation(config)
    return grouped_folds(
        labels,
        groups,
        folds,
        seed=cross_validation["seed"],
        shuffle=cross_validation["shuffle"],
        stratified=cross_validation["stratified"],
    )


def tune(
    name: str, features: Matrix, labels: Labels, groups: npt.NDArray[np.object_], config: dict[str, Any]
) -> Tuned:
    """Grid search of one model over `hyperparameter_tuning.grids[name]` (the grid overrides
    the model's `params`), on grouped folds; the best candidate is refit on all given units."""
    tuning = config["hyperparameter_tuning"]
    if tuning["method"] != "grid":
        raise ResearchError(f"hyperparameter_tuning.method {tuning['method']!r} is not supported (grid)")
    params = dict(config["model_configurations"][name]["params"])
    base = estimator(name, params, seed=config["seed"])
    prefix = PARAMETER_PREFIX[name]
    known = base.get_params(deep=True)
    grid: dict[str, list[Any]] = {}
    for key, values in tuning["grids"].get(name, {}).items():
        if prefix + key not in known:
            raise ResearchError(
                f"hyperparameter_tuning.grids.{name}: {key!r} is not a parameter of the model"
            )
        grid[prefix + key] = [_plain(value) for value in values]
    folds = _folds(labels, groups, tuning["cv_folds"], config)
    search = need("sklearn.model_selection").GridSearchCV(
        base,
        grid,
        scoring=tuning["scoring"],
        cv=folds,
        n_jobs=tuning["n_jobs"],
        refit=True,
        error_score="raise",
    )
    candidates = math.prod(len(values) for values in grid.values())
    log(f"unit model: tuning {name}: {candidates} candidates x {len(folds)} grouped folds")
    started = time.perf_counter()
    search.fit(features, labels)
    seconds = time.perf_counter() - started
    best = {key.removeprefix(prefix): value for key, value in search.best_params_.items()}
    merged = {key: _plain(value) for key, value in params.items()} | best
    log(f"unit model: {name}: {tuning['scoring']} {search.best_score_:.4f} with {best or 'the defaults'}")
    return Tuned(
        name=name,
        estimator=search.best_estimator_,
        params=merged,
        cv_score=float(search.best_score_),
        candidates=candidates,
        search_seconds=seconds,
        fit_seconds=float(search.refit_time_),
    )


def voting_ensemble(tuned: Sequence[Tuned], config: dict[str, Any]) -> Any:
    """Soft voting over the tuned models (unfitted copies with their best parameters)."""
    section = config["ensemble_configurations"]["voting_classifier"]
    if section["voting"] != "soft":
        raise ResearchError("voting_classifier.voting must be soft: the unit model's score is a probability")
    weights = np.array([float(section["weights"].get(member.name, 1.0)) for member in tuned])
    if not weights.sum() > 0:
        raise ResearchError("voting_classifier.weights of the enabled models are all 0")
    clone = need("sklearn.base").clone
    return need("sklearn.ensemble").VotingClassifier(
        [(member.name, clone(member.estimator)) for member in tuned],
        voting=section["voting"],
        weights=weights,
        n_jobs=config["hyperparameter_tuning"]["n_jobs"],
        # skl2onnx converts only the unflattened form; it changes `transform`, not the probability.
        flatten_transform=False,
    )


def stacking_ensemble(
    tuned: Sequence[Tuned], labels: Labels, groups: npt.NDArray[np.object_], config: dict[str, Any]
) -> Any:
    """Stacking over the tuned models, for training on exactly `labels`/`groups`: the final
    network learns from out-of-fold member probabilities, and those folds are grouped, so no
    member has seen a group whose probability it supplies."""
    section = config["ensemble_configurations"]["stacking_classifier"]
    clone = need("sklearn.base").clone
    return need("sklearn.ensemble").StackingClassifier(
        [(member.name, clone(member.estimator)) for member in tuned],
        final_estimator=estimator(section["final_estimator"], section["final_params"], seed=config["seed"]),
        cv=_folds(labels, groups, section["cv_folds"], config),
        passthrough=section["passthrough"],
        stack_method="predict_proba",
        n_jobs=config["hyperparameter_tuning"]["n_jobs"],
    )


def _copy_builder(model: Any) -> Callable[[npt.NDArray[np.int64]], Any]:
    """For cross-validation: an unfitted copy of a tuned model, whatever the fold."""
    clone = need("sklearn.base").clone

    def build(_train: npt.NDArray[np.int64]) -> Any:
        return clone(model)

    return build


def _ensemble_builder(
    name: str, tuned: Sequence[Tuned], labels: Labels, groups: npt.NDArray[np.object_], config: dict[str, Any]
) -> Callable[[npt.NDArray[np.int64]], Any]:
    """For cross-validation: the ensemble for one fold; stacking gets grouped folds of that
    fold's own training units."""

    def build(train: npt.NDArray[np.int64]) -> Any:
        if name == "voting_classifier":
            return voting_ensemble(tuned, config)
        return stacking_ensemble(tuned, labels[train], groups[train], config)

    return build


def cross_validated_score(
    build: Callable[[npt.NDArray[np.int64]], Any],
    features: Matrix,
    labels: Labels,
    groups: npt.NDArray[np.object_],
    config: dict[str, Any],
) -> float:
    """Mean `hyperparameter_tuning.scoring` over `evaluation_metrics.cross_validation` folds.
    `build(training_indices)` gives the unfitted estimator for one fold (stacking needs its own
    grouped folds inside each fold's training units)."""
    scorer = need("sklearn.metrics").get_scorer(config["hyperparameter_tuning"]["scoring"])
    scores = []
    for train, test in _folds(labels, groups, _cross_validation(config)["folds"], config):
        model = build(train).fit(features[train], labels[train])
        scores.append(float(scorer(model, features[test], labels[test])))
    return float(np.mean(scores))


def rate_key(rate: float) -> str:
    """A false-positive rate as a JSON key: `0.001`, `0.01`."""
    return repr(float(rate))


def operating_point(scores: npt.ArrayLike, labels: npt.ArrayLike, threshold: float) -> dict[str, Any]:
    """Recall and false-positive rate when units scoring >= `threshold` are flagged (`None`
    where the units have no malicious, or no benign, ones)."""
    scores = np.asarray(scores, dtype=np.float64)
    labels = np.asarray(labels)
    flagged = scores >= threshold
    malicious, benign = labels == 1, labels == 0
    return {
        "threshold": threshold,
        "recall": float(flagged[malicious].mean()) if malicious.any() else None,
        "false_positive_rate": float(flagged[benign].mean()) if benign.any() else None,
        "true_positives": int(np.sum(flagged & malicious)),
        "false_positives": int(np.sum(flagged & benign)),
    }


def evaluate(scores: npt.ArrayLike, labels: npt.ArrayLike, evaluation: dict[str, Any]) -> dict[str, Any]:
    """Validation figures of one model's scores (`evaluation`: the `evaluation_metrics`
    section): the threshold and recall at each configured false-positive rate (and the
    selection rate), ROC AUC, and the configured metrics at the selection threshold."""
    sklearn_metrics = need("sklearn.metrics")
    scores = np.asarray(scores)
    labels = np.asarray(labels)
    if scores.shape != labels.shape:
        raise ValueError(f"{scores.shape[0]} scores for {labels.shape[0]} labels")
    if not (labels == 0).any() or not (labels == 1).any():
        raise ValueError("evaluation needs both benign and malicious units")
    benign = scores[labels == 0]
    selection = float(evaluation["selection_false_positive_rate"])
    rates = list(dict.fromkeys([*map(float, evaluation["false_positive_rates"]), selection]))
    points = {rate_key(rate): operating_point(scores, labels, threshold_at(benign, rate)) for rate in rates}
    chosen = points[rate_key(selection)]
    flagged = (np.asarray(scores, dtype=np.float64) >= chosen["threshold"]).astype(np.int64)
    roc_auc = float(sklearn_metrics.roc_auc_score(labels, scores))
    metrics: dict[str, float] = {}
    for name in evaluation["metrics"]:
        if name == "roc_auc":
            metrics[name] = roc_auc
            continue
        kind, _, average = name.partition("_")
        measure = {
            "precision": sklearn_metrics.precision_score,
            "recall": sklearn_metrics.recall_score,
            "f1": sklearn_metrics.f1_score,
        }.get(kind)
        if measure is None or average not in ("macro", "weighted"):
            raise ValueError(f"unknown metric {name!r}")
        metrics[name] = float(measure(labels, flagged, average=average, zero_division=0))
    return {
        "units": int(labels.size),
        "benign": int(benign.size),
        "malicious": int(labels.size - benign.size),
        "roc_auc": roc_auc,
        "selection_false_positive_rate": selection,
        "threshold": chosen["threshold"],
        "recall": chosen["recall"],
        "at_false_positive_rate": points,
        "metrics": metrics,
    }


def _malicious_output(model: Any, onnx: Any, classes: Sequence[Any]) -> None:
    """Leaves one output, the malicious-class probability `[units]`, and drops the rest of
    the graph (the predicted label) that only fed the other outputs."""
    if list(classes) != [0, 1]:
        raise ResearchError(f"the unit model must be trained on classes 0 and 1, not {list(classes)}")
    graph = model.graph
    probabilities = next((output for output in graph.output if output.name == "probabilities"), None)
    if probabilities is None:
        raise ResearchError(
            f"skl2onnx gave no `probabilities` output: {[output.name for output in graph.output]}"
        )
    column = "malicious_class_column"
    graph.initializer.append(onnx.numpy_helper.from_array(np.array(1, dtype=np.int64), column))
    graph.node.append(
        onnx.helper.make_node(
            "Gather", [probabilities.name, column], [OUTPUT_NAME], axis=1, name="malicious_class"
        )
    )
    del graph.output[:]
    graph.output.append(onnx.helper.make_tensor_value_info(OUTPUT_NAME, onnx.TensorProto.FLOAT, [None]))
    subgraphs = any(
        attribute.type in (onnx.AttributeProto.GRAPH, onnx.AttributeProto.GRAPHS)
        for node in graph.node
        for attribute in node.attribute
    )
    if subgraphs:
        return  # names used inside a subgraph are not listed as node inputs: keep everything
    needed = {OUTPUT_NAME}
    kept = []
    for node in reversed(graph.node):
        if any(output in needed for output in node.output):
            kept.append(node)
            needed.update(node.input)
    del graph.node[:]
    graph.node.extend(reversed(kept))
    initializers = [initializer for initializer in graph.initializer if initializer.name in needed]
    del graph.initializer[:]
    graph.initializer.extend(initializers)


def export_onnx(
    fitted_estimator: Any,
    n_features: int,
    path: Path,
    check_features: npt.ArrayLike,
    timing_runs: int = TIMING_RUNS,
) -> Exported:
    """The fitted estimator as ONNX: input `features` float32 `[units, n_features]`, output
    `malicious_probability` float32 `[units]`. Loaded the way the scanner loads models, run on
    `check_features` (the validation units) and refused unless it agrees with
    `predict_proba(...)[:, 1]` within `ONNX_TOLERANCE`. The cost is the median time to score
    one unit alone, on one thread, over `timing_runs` runs."""
    onnx = need("onnx")
    skl2onnx = need("skl2onnx")
    data_types = need("skl2onnx.common.data_types")
    check = np.ascontiguousarray(check_features, dtype=np.float32)
    if check.ndim != 2 or check.shape[0] == 0 or check.shape[1] != n_features:
        raise ValueError(
            f"the ONNX check needs units of {n_features} features, not an array of {check.shape}"
        )
    with warnings.catch_warnings():
        # skl2onnx reads the SVM's deprecated `probA_` even when it is unused.
        warnings.filterwarnings("ignore", message="Attribute `prob", category=FutureWarning)
        model = skl2onnx.to_onnx(
            fitted_estimator,
            initial_types=[(INPUT_NAME, data_types.FloatTensorType([None, n_features]))],
            options={id(fitted_estimator): {"zipmap": False}},
            target_opset=OPSET,
        )
    _malicious_output(model, onnx, fitted_estimator.classes_)
    onnx.checker.check_model(model)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(model.SerializeToString())

    session, _ = create_session(path, "cpu", threads=1)
    scores = np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: check})[0], dtype=np.float32)
    expected = fitted_estimator.predict_proba(check)[:, 1]
    difference = float(np.max(np.abs(scores.astype(np.float64) - expected)))
    if not difference <= ONNX_TOLERANCE:
        raise ResearchError(
            f"{path.name}: ONNX Runtime differs from scikit-learn by up to {difference:.2e} (allowed {ONNX_TOLERANCE:g})"
        )
    one = check[:1]
    for _ in range(TIMING_WARMUP):
        session.run([OUTPUT_NAME], {INPUT_NAME: one})
    times = []
    for _ in range(max(1, timing_runs)):
        started = time.perf_counter_ns()
        session.run([OUTPUT_NAME], {INPUT_NAME: one})
        times.append(time.perf_counter_ns() - started)
    return Exported(
        path=path,
        size_bytes=path.stat().st_size,
        sha256=sha256_file(path),
        microseconds_per_unit=statistics.median(times) / 1000,
        max_difference=difference,
        scores=scores,
    )


def choose(rows: Sequence[dict[str, Any]]) -> dict[str, Any]:
    """The highest validation recall at the selection rate; ties: higher ROC AUC, then the
    cheaper to score, then the name (so the choice never depends on the order)."""
    return min(
        rows,
        key=lambda row: (
            -row["validation"]["recall"],
            -row["validation"]["roc_auc"],
            row["onnx"]["microseconds_per_unit"],
            row["name"],
        ),
    )


def _test_report(
    units: Units, scores: npt.NDArray[np.float32], thresholds: dict[str, float], sklearn_metrics: Any
) -> dict[str, Any]:
    """The chosen model on the test units, at the thresholds chosen on validation."""

    def figures(chosen: npt.NDArray[np.bool_]) -> dict[str, Any]:
        labels = units.labels[chosen]
        both = len(np.unique(labels)) == 2
        return {
            "units": int(chosen.sum()),
            "benign": int(np.sum(labels == 0)),
            "malicious": int(np.sum(labels == 1)),
            "roc_auc": float(sklearn_metrics.roc_auc_score(labels, scores[chosen])) if both else None,
            "at_false_positive_rate": {
                key: operating_point(scores[chosen], labels, threshold)
                for key, threshold in thresholds.items()
            },
        }

    everything = np.ones(len(units), dtype=bool)
    return {
        **figures(everything),
        "by_ecosystem": {
            ecosystem: figures(units.ecosystems == ecosystem)
            for ecosystem in sorted(set(units.ecosystems.tolist()))
        },
    }


def _json_default(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (tuple, np.ndarray)):
        return list(value)
    raise TypeError(f"{type(value).__name__} is not JSON")


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(json.dumps(document, indent=2, default=_json_default) + "\n")


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    """Tunes, combines, compares and exports; writes `unit_model/report.json`, the ONNX files
    and `unit_model/chosen.json` (see the module's docstring)."""
    config = work.config
    evaluation = config["evaluation_metrics"]
    features_path, names_path = work.root / FEATURES_FILE, work.root / NAMES_FILE
    work.require(features_path, names_path)
    units = load_units(features_path, names_path)
    group_by = evaluation["cross_validation"]["group_by"]
    declared = json.loads(names_path.read_text()).get("group_by")
    if declared is not None and list(declared) != list(group_by):
        raise ResearchError(
            f"{names_path} groups units by {declared}, the config's cross_validation.group_by is {group_by}"
        )
    train, validation, test = (units.select(split) for split in SPLITS)
    # The model will judge only units of the ecosystems it saw malware of (`ship`), so it is
    # chosen, and its thresholds set, on validation units of those ecosystems alone.
    judged = sorted(set(train.ecosystems[train.labels == 1].tolist()))
    validation = validation.of_ecosystems(judged)
    for part, split in ((train, "train"), (validation, "validation")):
        if len(np.unique(part.labels)) < 2:
            raise ResearchError(
                f"the {split} split has {len(part)} units"
                + (f", all {'malicious' if part.labels.any() else 'benign'}" if len(part) else "")
                + ": the unit model needs both classes there"
            )
    enabled = [name for name in MODELS if config["model_configurations"][name]["enabled"]]
    if not enabled:
        raise ResearchError("model_configurations enables no model")
    ensembles = [name for name in ENSEMBLES if config["ensemble_configurations"][name]["enabled"]]
    if ensembles and len(enabled) < 2:
        raise ResearchError(f"the ensembles {', '.join(ensembles)} need at least two enabled models")
    log(
        f"unit model: {len(train)} training, {len(validation)} validation, {len(test)} test units "
        f"of {units.features.shape[1]} features; models {', '.join(enabled)}; ensembles {', '.join(ensembles) or 'none'}"
    )
    folder = work.root / FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    X, y, groups = train.features, train.labels, train.groups
    n_features = X.shape[1]

    rows: list[dict[str, Any]] = []

    def finish(
        name: str, kind: str, fitted: Any, build: Callable[[npt.NDArray[np.int64]], Any], row: dict[str, Any]
    ) -> None:
        log(f"unit model: {name}: cross-validating, exporting, scoring validation units")
        cv_score = cross_validated_score(build, X, y, groups, config)
        exported = export_onnx(fitted, n_features, folder / f"{name}.onnx", validation.features)
        # The ONNX model's own scores: the thresholds are what the scanner will compare against.
        figures = evaluate(exported.scores, validation.labels, evaluation)
        rows.append(
            {
                "name": name,
                "kind": kind,
                **row,
                "cv_score": cv_score,
                "recall_at_false_positive_rate": {
                    key: point["recall"] for key, point in figures["at_false_positive_rate"].items()
                },
                "roc_auc": figures["roc_auc"],
                "metrics": figures["metrics"],
                "validation": figures,
                "onnx": {
                    "file": exported.path.name,
                    "size_bytes": exported.size_bytes,
                    "sha256": exported.sha256,
                    "microseconds_per_unit": round(exported.microseconds_per_unit, 2),
                    "max_difference_from_sklearn": exported.max_difference,
                },
                "exported": exported,
            }
        )
        log(
            f"unit model: {name}: validation recall {figures['recall']:.4f} at FPR {figures['selection_false_positive_rate']}, "
            f"ROC AUC {figures['roc_auc']:.4f}, {exported.microseconds_per_unit:.1f} us per unit"
        )

    tuned: list[Tuned] = []
    for name in enabled:
        result = tune(name, X, y, groups, config)
        tuned.append(result)
        finish(
            name,
            "classifier",
            result.estimator,
            _copy_builder(result.estimator),
            {
                "params": result.params,
                "tuning_score": result.cv_score,
                "candidates": result.candidates,
                "search_seconds": round(result.search_seconds, 3),
                "fit_seconds": round(result.fit_seconds, 3),
            },
        )

    members = [member.name for member in tuned]
    for name in ensembles:
        section = config["ensemble_configurations"][name]
        if name == "voting_classifier":
            model = voting_ensemble(tuned, config)
            params: dict[str, Any] = {
                "members": members,
                "voting": section["voting"],
                "weights": dict(zip(members, model.weights.tolist())),
            }
        else:
            model = stacking_ensemble(tuned, y, groups, config)
            params = {
                "members": members,
                "final_estimator": section["final_estimator"],
                "final_params": section["final_params"],
                "cv_folds": section["cv_folds"],
                "passthrough": section["passthrough"],
            }
        log(f"unit model: fitting {name} over {', '.join(members)}")
        started = time.perf_counter()
        model.fit(X, y)
        seconds = time.perf_counter() - started
        finish(
            name,
            "ensemble",
            model,
            _ensemble_builder(name, tuned, y, groups, config),
            {
                "params": params,
                "tuning_score": None,
                "candidates": None,
                "search_seconds": None,
                "fit_seconds": round(seconds, 3),
            },
        )

    chosen = choose(rows)
    exported_chosen: Exported = chosen["exported"]
    for row in rows:
        del row["exported"]
    singles = [row for row in rows if row["kind"] == "classifier"]
    combined = [row for row in rows if row["kind"] == "ensemble"]
    best_single = choose(singles)
    best_ensemble = choose(combined) if combined else None
    beats = chosen["kind"] == "ensemble"
    selection = float(evaluation["selection_false_positive_rate"])
    thresholds = {
        key: point["threshold"] for key, point in chosen["validation"]["at_false_positive_rate"].items()
    }

    test_report: dict[str, Any] | None = None
    if len(test):
        session, _ = create_session(exported_chosen.path, "cpu", threads=1)
        test_scores = np.asarray(session.run([OUTPUT_NAME], {INPUT_NAME: test.features})[0], dtype=np.float32)
        test_report = _test_report(test, test_scores, thresholds, need("sklearn.metrics"))
    else:
        log("unit model: no test units: the test report is empty")

    if beats:
        note = f"{chosen['name']} (an ensemble) beats the best single model, {best_single['name']}"
    elif best_ensemble is None:
        note = f"no ensemble was enabled; the best single model is {best_single['name']}"
    else:
        note = (
            f"no ensemble beat the best single model: {best_single['name']} (recall "
            f"{best_single['validation']['recall']:.4f}) against {best_ensemble['name']} (recall "
            f"{best_ensemble['validation']['recall']:.4f}) at a false-positive rate of {selection}"
        )
    chosen_document = {
        "name": chosen["name"],
        "kind": chosen["kind"],
        "file": exported_chosen.path.name,
        "sha256": exported_chosen.sha256,
        "size_bytes": exported_chosen.size_bytes,
        "input": INPUT_NAME,
        "output": OUTPUT_NAME,
        "opset": OPSET,
        "n_features": n_features,
        "feature_names": units.names,
        "ecosystems": judged,
        "flagged_when": "score >= threshold",
        "selection_false_positive_rate": selection,
        "threshold": chosen["validation"]["threshold"],
        "thresholds": thresholds,
    }
    report = {
        "units": {split: len(part) for split, part in zip(SPLITS, (train, validation, test))},
        "ecosystems": judged,
        "n_features": n_features,
        "cross_validation": {
            "tuning_folds": config["hyperparameter_tuning"]["cv_folds"],
            "evaluation_folds": evaluation["cross_validation"]["folds"],
            "stratified": evaluation["cross_validation"]["stratified"],
            "shuffle": evaluation["cross_validation"]["shuffle"],
            "seed": evaluation["cross_validation"]["seed"],
            "group_by": group_by,
            "scoring": config["hyperparameter_tuning"]["scoring"],
        },
        "false_positive_rates": evaluation["false_positive_rates"],
        "selection_false_positive_rate": selection,
        "models": rows,
        "chosen": chosen["name"],
        "best_single": best_single["name"],
        "best_ensemble": best_ensemble["name"] if best_ensemble else None,
        "ensemble_beats_best_single": beats,
        "note": note,
        "test": {"model": chosen["name"], "thresholds": thresholds, **(test_report or {})},
    }
    _write_json(folder / "report.json", report)
    _write_json(folder / "chosen.json", chosen_document)
    log(f"unit model: chose {chosen['name']}; {note}; wrote {folder / 'report.json'}")
    register(
        work, rows, chosen["name"], folder, getattr(args, "registry", None), getattr(args, "model", None)
    )
    if getattr(args, "into", None):
        ship(work, folder / "chosen.json", Path(args.into), getattr(args, "model", None))
        log(f"unit model: {chosen['name']} written into the bundle {args.into}")


def register(
    work: WorkFolder,
    rows: Sequence[dict[str, Any]],
    chosen: str,
    folder: Path,
    registry_path: str | None,
    model: str | None = None,
) -> list[str]:
    """Records every model and ensemble of the run in the model registry (`model_type`
    classifier or ensemble, status testing; validation figures at each configured rate), keyed
    by its ONNX file's digest. Returns the model ids."""
    from malwi.model import model_path
    from malwi.model.bundle import ModelBundle
    from malwi.registry import Registry

    described = json.loads((work.root / NAMES_FILE).read_text())
    objects = ModelBundle.load(model_path(model or described.get("model")).resolve())
    version = time.strftime("%Y.%m.%d")
    ids = []
    with Registry(registry_path) as registry:
        for row in rows:
            model_id = f"malwi-unit-{version}-{row['name']}-{row['onnx']['sha256'][:8]}"
            validation = row["validation"]
            registry.register_model(
                model_id=model_id,
                model_name=f"malwi-unit-{row['name']}",
                model_type=row["kind"],
                version=version,
                file_path=str((folder / row["onnx"]["file"]).resolve()),
                file_size=row["onnx"]["size_bytes"],
                file_sha256=row["onnx"]["sha256"],
                # The unit features are made from this object model's scores.
                featurizer_id=objects.featurizer.featurizer_id,
                vocabulary_hash=objects.vocabulary.hash,
                threshold=validation["threshold"],
                recall=validation["recall"],
                false_positive_rate=validation["at_false_positive_rate"][
                    rate_key(validation["selection_false_positive_rate"])
                ]["false_positive_rate"],
                training_config={
                    key: work.config[key] for key in ("model_configurations", "ensemble_configurations")
                },
                metadata={
                    "params": row["params"],
                    "chosen": row["name"] == chosen,
                    "cv_score": row["cv_score"],
                },
            )
            with registry.connection:
                registry.connection.execute("DELETE FROM model_performance WHERE model_id = ?", (model_id,))
            for point in validation["at_false_positive_rate"].values():
                registry.record_performance(
                    model_id=model_id,
                    dataset_name="validation",
                    level="package",
                    recall=point["recall"],
                    false_positive_rate=point["false_positive_rate"],
                    roc_auc=row["roc_auc"],
                    threshold=point["threshold"],
                    inference_time_ms=row["onnx"]["microseconds_per_unit"] / 1000,
                )
            ids.append(model_id)
    log(f"unit model: {len(ids)} models recorded in {registry.path}")
    return ids


def ship(work: WorkFolder, chosen_path: Path, into: Path, model: str | None = None) -> None:
    """Writes a copy of the object-model bundle the features were scanned with (`model`, else the
    one `unit-features` recorded) into `into`, carrying the chosen unit model: its ONNX file (digest-covered),
    feature names and extractor settings, and its thresholds: malicious at the selection
    false-positive rate, suspicious at the highest configured rate."""
    import shutil

    from malwi.engine.unit_features import UnitFeatures
    from malwi.model import model_path
    from malwi.model.bundle import pin_if_shipped
    from malwi_research.export import write_manifest

    chosen = json.loads(chosen_path.read_text())
    described = json.loads((work.root / NAMES_FILE).read_text())
    settings = described.get("feature_extractors") or work.config["feature_extractors"]
    if UnitFeatures(settings).names != chosen["feature_names"]:
        raise ResearchError(
            f"{chosen_path}: the chosen model's features are not those this malwi extracts with {NAMES_FILE}'s settings"
        )
    # It judges only units of the ecosystems it saw malware of (`run`): trained on Python
    # malware alone, it would call every npm package good.
    ecosystems = list(chosen["ecosystems"])
    source = model_path(model or described.get("model")).resolve()
    if into.resolve() != source:
        if into.exists():
            shutil.rmtree(into)
        shutil.copytree(source, into)
    shutil.copy(chosen_path.parent / chosen["file"], into / SHIPPED_FILE)
    highest = max(chosen["thresholds"], key=float)
    suspicious = min(float(chosen["thresholds"][highest]), float(chosen["threshold"]))
    manifest = json.loads((into / "manifest.json").read_text(encoding="utf-8"))
    manifest["unit_model"] = {
        "file": SHIPPED_FILE,
        "name": chosen["name"],
        "kind": chosen["kind"],
        "input": chosen["input"],
        "output": chosen["output"],
        "feature_names": chosen["feature_names"],
        "feature_extractors": settings,
        "ecosystems": ecosystems,
        "threshold": float(chosen["threshold"]),
        "suspicious_threshold": suspicious,
        "selection_false_positive_rate": chosen["selection_false_positive_rate"],
        "suspicious_false_positive_rate": float(highest),
        "thresholds": chosen["thresholds"],
        "sha256": chosen["sha256"],
    }
    write_manifest(into, manifest)
    pin_if_shipped(into)
