"""`malwi research export`: the bundle the scanner ships and loads.

1. Stage 2 to ONNX (dynamic batch and sequence axes), int8 dynamic quantization for CPU, and a
   check that the quantized model agrees with the trained one.
2. The stage-1 candidate threshold: the stage-1 score that keeps `candidate_recall` of the
   validation malicious packages in play for stage 2.
3. Calibration on whole validation packages (never test packages): each package score of the
   config (the highest object score, or that maximum weighed by package size) Platt-scaled,
   thresholded at the target false-positive rate on benign validation packages; the one with
   the higher validation recall ships. The suspicious threshold sits at a higher rate.
4. `manifest.json` with the sha256 of each file, featurizer id and config, vocabulary hash,
   thresholds and validation metrics; the run is recorded in the model registry.
"""

from __future__ import annotations

import argparse
import json
import math
import shutil
import time
from array import array
from pathlib import Path
from typing import Any

import numpy as np

from malwi._malwi import FEATURIZER_VERSION, FeaturizerConfig, Vocabulary, __version__
from malwi.engine.verdict import PACKAGE_SCORES, PackageScore
from malwi.model.bundle import FORMAT, MANIFEST, ModelBundle, pin_if_shipped, sha256_file
from malwi.model.runtime import create_session
from malwi.model.scoring import Scorer, ScoringStatistics
from malwi.registry import Registry
from malwi_research import ResearchError, WorkFolder, log, need
from malwi_research.train import load_objects, stage1_model

ONNX_FILE = "model.int8.onnx"
# Benign validation object scores, for size-adjusted package scores (ascending little-endian float32).
BENIGN_SCORES_FILE = "benign_scores.f32"


def export_onnx(work: WorkFolder, target: Path) -> dict[str, Any]:
    torch = need("torch")
    transformers = need("transformers")
    quantization = need("onnxruntime.quantization")
    model = transformers.DistilBertForSequenceClassification.from_pretrained(work.stage2)
    model.eval()
    fp32 = work.root / "model.fp32.onnx"
    ids = torch.randint(5, model.config.vocab_size, (2, 24))
    mask = torch.ones_like(ids)
    axes = {0: "batch", 1: "sequence"}
    torch.onnx.export(
        model,
        (ids, mask),
        str(fp32),
        input_names=["input_ids", "attention_mask"],
        output_names=["logits"],
        dynamic_axes={"input_ids": axes, "attention_mask": axes, "logits": {0: "batch"}},
        opset_version=int(work.config["export"]["opset"]),
        dynamo=False,
    )
    quantization.quantize_dynamic(str(fp32), str(target), weight_type=quantization.QuantType.QInt8)
    # The quantized model must agree with the trained one on real windows.
    onnxruntime = need("onnxruntime")
    session = onnxruntime.InferenceSession(str(target), providers=["CPUExecutionProvider"])
    check = torch.randint(5, model.config.vocab_size, (16, 128))
    check_mask = torch.ones_like(check)
    check_mask[8:, 64:] = 0
    with torch.no_grad():
        expected = torch.softmax(model(input_ids=check, attention_mask=check_mask).logits, dim=1)[
            :, 1
        ].numpy()
    (logits,) = session.run(None, {"input_ids": check.numpy(), "attention_mask": check_mask.numpy()})
    got = np.exp(logits[:, 1]) / np.exp(logits).sum(axis=1)
    drift = float(np.max(np.abs(expected - got)))
    log(
        f"ONNX: fp32 {fp32.stat().st_size / 1e6:.1f} MB, int8 {target.stat().st_size / 1e6:.1f} MB, max probability drift {drift:.4f}"
    )
    if drift > 0.1:
        raise ResearchError(f"the int8 model drifts {drift:.3f} from the trained one")
    return {"fp32_bytes": fp32.stat().st_size, "int8_bytes": target.stat().st_size, "int8_max_drift": drift}


def package_maxima(
    objects: dict[str, list[Any]], scores: np.ndarray
) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """Highest object score per package, its number of objects, and the package labels."""
    best: dict[str, float] = {}
    count: dict[str, int] = {}
    labels: dict[str, int] = {}
    for package, label, score in zip(objects["package_id"], objects["label"], scores.tolist()):
        best[package] = max(best.get(package, 0.0), score)
        count[package] = count.get(package, 0) + 1
        labels[package] = label
    ids = sorted(best)
    return (
        ids,
        np.array([best[i] for i in ids], dtype=np.float32),
        np.array([count[i] for i in ids], dtype=np.int64),
        np.array([labels[i] for i in ids], dtype=np.int8),
    )


def package_scores(
    score: PackageScore, top: np.ndarray, counts: np.ndarray, *, raw: bool = False
) -> np.ndarray:
    """Each package's score (or its uncalibrated form) by `PackageScore`, the scanner's own
    definition: what research measures is what a scan reports."""
    rule = score.package_raw if raw else score.package_probability
    return np.array([rule(t, c) for t, c in zip(top.tolist(), counts.tolist())], dtype=np.float64)


def fit_package_calibration(
    method: str,
    benign_objects: np.ndarray,
    top: np.ndarray,
    counts: np.ndarray,
    labels: np.ndarray,
    target: float,
    suspicious: float,
) -> dict[str, Any]:
    """Platt scaling of one package-score method on validation packages, the threshold at the
    target false-positive rate, and what that threshold gives on validation."""
    sklearn_linear = need("sklearn.linear_model")
    sklearn_metrics = need("sklearn.metrics")
    benign = array("f", benign_objects.astype("<f4").tobytes())
    raw = package_scores(PackageScore(method, 1.0, 0.0, benign), top, counts, raw=True)
    platt = sklearn_linear.LogisticRegression(C=1e4)
    platt.fit(raw.reshape(-1, 1), labels)
    a, b = float(platt.coef_[0][0]), float(platt.intercept_[0])
    try:
        fitted = PackageScore(method, a, b, benign)
    except ValueError as error:  # a slope of 0 or less: higher scores would not mean more malicious
        raise ResearchError(f"package score {method}: calibration failed: {error}") from None
    calibrated = package_scores(fitted, top, counts)
    threshold = threshold_at(calibrated[labels == 0], target)
    predicted = calibrated >= threshold
    return {
        "a": a,
        "b": b,
        "threshold": threshold,
        "suspicious_threshold": min(threshold, threshold_at(calibrated[labels == 0], suspicious)),
        "packages": len(labels),
        "malicious_packages": int(labels.sum()),
        "recall": float(predicted[labels == 1].mean()),
        "false_positive_rate": float(predicted[labels == 0].mean()),
        "roc_auc": float(sklearn_metrics.roc_auc_score(labels, raw)),
    }


def threshold_at(benign_scores: Any, false_positive_rate: float) -> float:
    """The lowest threshold at which at most `false_positive_rate` of the benign packages (or
    package units) are flagged (flagged: score >= threshold). Used for the package calibration
    here and for the package-unit models (`malwi_research.unit_model`).

    With k = floor(rate x benign) false positives allowed, the threshold sits just above the
    (k+1)-th highest benign score: the next value representable in the scores' own precision,
    so a float32 comparison in the scanner flags the same packages. Benign scores tied with that
    one are not flagged, even those inside the first k: flagging one would flag all of them.
    """
    scores = np.asarray(benign_scores)
    if scores.size == 0:
        raise ValueError("a false-positive threshold needs benign scores")
    if not 0 <= false_positive_rate <= 1:
        raise ValueError(f"a false-positive rate is within [0, 1], not {false_positive_rate}")
    dtype = np.float32 if scores.dtype == np.float32 else np.float64
    ordered = np.sort(scores.astype(dtype))[::-1]
    # The epsilon keeps e.g. 0.29 x 100 (28.999999999999996 in floating point) at 29.
    allowed = math.floor(false_positive_rate * len(ordered) + 1e-9)
    if allowed >= len(ordered):
        return float(ordered[-1])
    return float(np.nextafter(ordered[allowed], dtype(np.inf)))


def write_manifest(bundle: Path, manifest: dict[str, Any]) -> None:
    files = [manifest["stage2"]["file"], manifest["vocabulary"]["file"], manifest["stage1"]["file"]]
    files += (
        [manifest["calibration"]["benign_object_scores"]]
        if "benign_object_scores" in manifest["calibration"]
        else []
    )
    files += [manifest["unit_model"]["file"]] if "unit_model" in manifest else []
    manifest["files"] = {name: sha256_file(bundle / name) for name in files}
    (bundle / MANIFEST).write_text(json.dumps(manifest, indent=1) + "\n")


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    work.require(work.stage2, work.tokenizer, work.stage1, work.training_record)
    sklearn_metrics = need("sklearn.metrics")
    config = work.config
    bundle = work.bundle
    if bundle.exists():
        shutil.rmtree(bundle)
    bundle.mkdir(parents=True)
    onnx_stats = export_onnx(work, bundle / ONNX_FILE)
    shutil.copy(work.tokenizer, bundle / "tokenizer.json")
    shutil.copy(work.stage1, bundle / "stage1.bin")
    featurizer = FeaturizerConfig(**config["featurizer"])
    packages = json.loads(work.packages.read_text())
    if packages["featurizer_id"] != featurizer.featurizer_id:
        raise ResearchError(
            "the objects were compiled with another featurizer configuration: rerun preprocess"
        )
    vocabulary = Vocabulary(work.tokenizer.read_text())
    stage1_meta = json.loads(work.stage1_meta.read_text())
    validation = load_objects(work, ("validation",))

    # Stage-1 candidates: keep `candidate_recall` of validation malicious packages for stage 2.
    stage1 = np.frombuffer(stage1_model(work).score(validation["tokens"]), dtype=np.float32)
    _, package_stage1, _, labels = package_maxima(validation, stage1)
    malicious_top = np.sort(package_stage1[labels == 1])
    recall = float(config["stage1"]["candidate_recall"])
    candidate = float(min(0.5, malicious_top[int(np.floor((1 - recall) * len(malicious_top)))]))
    log(
        f"stage-1 candidate threshold {candidate:.4f} keeps {np.mean(malicious_top >= candidate):.4f} of validation malicious packages"
    )

    manifest: dict[str, Any] = {
        "format": FORMAT,
        "name": "malwi-default",
        "version": time.strftime("%Y.%m.%d", time.gmtime()),
        "created_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "malwi_version": __version__,
        "featurizer": {
            "id": featurizer.featurizer_id,
            "version": FEATURIZER_VERSION,
            "config": json.loads(featurizer.to_json()),
        },
        "vocabulary": {"file": "tokenizer.json", "hash": vocabulary.hash, "size": len(vocabulary)},
        "windows": {
            "max_length": int(config["windows"]["max_length"]),
            "stride": int(config["windows"]["stride"]),
            "max_windows": int(config["windows"]["max_windows_per_object"]),
        },
        "stage1": {
            "file": "stage1.bin",
            "bits": stage1_meta["bits"],
            "max_order": stage1_meta["max_order"],
            "bias": stage1_meta["bias"],
            "candidate_threshold": candidate,
        },
        "stage2": {
            "file": ONNX_FILE,
            "inputs": ["input_ids", "attention_mask"],
            "output": "logits",
            "malicious_class": 1,
            "combine": "stage2",
        },
        "calibration": {"method": "platt", "package_score": "max_object_score", "a": 1.0, "b": 0.0},
        "threshold": 0.5,
        "suspicious_threshold": 0.25,
    }
    write_manifest(bundle, manifest)

    # Raw validation scores through the scanner's own path (stage 1, candidates, int8 stage 2).
    loaded = ModelBundle.load(bundle)
    session, device = create_session(loaded.onnx_path, "cpu", 0)
    scorer = Scorer(loaded, session, device)
    statistics = ScoringStatistics()
    started = time.perf_counter()
    stage1_scores, stage2_scores = scorer.parts(validation["tokens"], validation["tokens"], statistics)
    raw: dict[str, np.ndarray] = {}
    for combine in ("stage2", "mean", "max"):
        loaded.combine = combine
        raw[combine] = scorer.final(stage1_scores, stage2_scores)
    seconds = time.perf_counter() - started
    log(
        f"validation scored: {statistics.unique_objects} objects, {statistics.stage2_objects} to stage 2, {statistics.windows} windows, {seconds:.0f} s"
    )
    aucs = {}
    for combine, scores in raw.items():
        _, top, _, labels = package_maxima(validation, scores)
        aucs[combine] = float(sklearn_metrics.roc_auc_score(labels, top))
    combine = max(aucs, key=lambda c: aucs[c])
    log(f"package ROC AUC on validation by combination: {aucs}; using {combine}")
    # Package scores: the plain maximum, or the maximum weighed by package size; whichever
    # reaches the higher validation recall at the target false-positive rate ships.
    scores = raw[combine]
    _, top, counts, labels = package_maxima(validation, scores)
    benign_objects = np.sort(scores[np.asarray(validation["label"]) == 0]).astype("<f4")
    target = float(config["calibration"]["target_false_positive_rate"])
    choices = {}
    suspicious = float(config["calibration"]["suspicious_false_positive_rate"])
    for method in config["calibration"]["package_scores"]:
        if method not in PACKAGE_SCORES:
            raise ResearchError(f"unknown package score {method!r} in the training config")
        choices[method] = fit_package_calibration(
            method, benign_objects, top, counts, labels, target, suspicious
        )
        log(
            f"package score {method}: validation recall {choices[method]['recall']:.4f} at FPR "
            f"{choices[method]['false_positive_rate']:.4f} (threshold {choices[method]['threshold']:.4f}), AUC {choices[method]['roc_auc']:.4f}"
        )
    method = max(choices, key=lambda m: (choices[m]["recall"], -PACKAGE_SCORES.index(m)))
    chosen = choices[method]
    metrics = {
        key: chosen[key]
        for key in ("packages", "malicious_packages", "recall", "false_positive_rate", "roc_auc")
    }
    log(f"using {method}")
    manifest["stage2"]["combine"] = combine
    manifest["calibration"].update(a=chosen["a"], b=chosen["b"], package_score=method)
    if method == "size_adjusted":
        benign_objects.tofile(bundle / BENIGN_SCORES_FILE)
        manifest["calibration"]["benign_object_scores"] = BENIGN_SCORES_FILE
    manifest["threshold"] = chosen["threshold"]
    manifest["suspicious_threshold"] = chosen["suspicious_threshold"]
    manifest["metrics"] = {"validation": metrics, "validation_package_scores": choices, "onnx": onnx_stats}
    record = json.loads(work.training_record.read_text())
    manifest["training"] = {
        "parameters": record["stage2"]["parameters"],
        "epochs": record["stage2"]["epochs"],
        "malicious_packages": record["stage2"]["malicious_packages"],
        "seconds": record["stage2"]["seconds"] + record["stage1"]["seconds"],
        "started_at": record["started_at"],
        "finished_at": record["finished_at"],
        "final_loss": record["stage2"]["history"][-1]["loss"],
        "device": "cpu",
        "config": config,
    }
    # The id travels with the bundle: the registry, here and on a fresh install, knows it by it.
    manifest["model_id"] = f"malwi-{manifest['version']}-{sha256_file(bundle / ONNX_FILE)[:8]}"
    write_manifest(bundle, manifest)
    ModelBundle.load(bundle)  # what ships must load
    destination = bundle
    if getattr(args, "into", None):
        destination = Path(args.into)
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(bundle, destination)
        pin_if_shipped(destination)  # exported into the package: its manifest is pinned there
        log(f"bundle copied to {destination}")
    with Registry(args.registry) as registry:
        model_id = registry.register_bundle(
            destination,
            status="testing",
            change_notes="trained by malwi research",
            logs_path=str(work.training_record),
        )
    (work.root / "model_id").write_text(model_id)
    log(f"registered {model_id} in {registry.path}")
