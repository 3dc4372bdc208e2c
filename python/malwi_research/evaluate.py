"""`malwi research evaluate`: how the shipped bundle does on the test packages.

Test packages were never used for training, for the vocabulary, or for calibration and the
threshold (both come from validation packages). Scores go through the scanner's own path:
stage 1, candidates, the int8 ONNX stage 2, calibration. Reported at object, file and package
level: precision, recall, F1, false-positive rate and ROC AUC at the shipped threshold; benign
`setup.py` files on their own (the shortcut the design warns about); npm packages on their own
(there is no labelled JavaScript malware, so only their false-positive rate is known).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import time
from collections import defaultdict
from pathlib import Path
from typing import Any

import numpy as np

from malwi.model.bundle import MANIFEST, ModelBundle
from malwi.model.runtime import create_session
from malwi.model.scoring import Scorer, ScoringStatistics
from malwi.registry import Registry
from malwi_research import WorkFolder, log, need
from malwi_research.export import package_maxima, write_manifest
from malwi_research.export import package_scores as scores_of_packages
from malwi_research.train import load_objects


def metrics(labels: np.ndarray, scores: np.ndarray, threshold: float) -> dict[str, Any]:
    sklearn_metrics = need("sklearn.metrics")
    predicted = scores >= threshold
    positives, negatives = labels == 1, labels == 0
    true_positive = int(np.sum(predicted & positives))
    false_positive = int(np.sum(predicted & negatives))
    precision = true_positive / max(1, int(predicted.sum()))
    recall = true_positive / max(1, int(positives.sum()))
    both = len(np.unique(labels)) == 2
    return {
        "count": len(labels),
        "positives": int(positives.sum()),
        "precision": round(precision, 4),
        "recall": round(recall, 4),
        "f1": round(2 * precision * recall / max(1e-12, precision + recall), 4),
        "false_positive_rate": round(false_positive / max(1, int(negatives.sum())), 4),
        "false_positives": false_positive,
        "roc_auc": round(float(sklearn_metrics.roc_auc_score(labels, scores)), 4) if both else None,
    }


def grouped_max(keys: list[str], scores: np.ndarray) -> dict[str, float]:
    best: dict[str, float] = defaultdict(float)
    for key, score in zip(keys, scores.tolist()):
        if score > best[key]:
            best[key] = score
    return best


def plot_curves(labels: np.ndarray, scores: np.ndarray, threshold: float, path: Any) -> None:
    matplotlib = need("matplotlib")
    matplotlib.use("Agg")
    pyplot = need("matplotlib.pyplot")
    sklearn_metrics = need("sklearn.metrics")
    fpr, tpr, _ = sklearn_metrics.roc_curve(labels, scores)
    precision, recall, _ = sklearn_metrics.precision_recall_curve(labels, scores)
    figure, (roc, pr) = pyplot.subplots(1, 2, figsize=(11, 4.5))
    roc.plot(fpr, tpr)
    roc.set_xscale("log")
    roc.set_xlim(1e-3, 1)
    chosen = scores >= threshold
    roc.scatter(
        [np.mean(chosen[labels == 0])], [np.mean(chosen[labels == 1])], color="red", label="shipped threshold"
    )
    roc.set_xlabel("false-positive rate (benign packages, log scale)")
    roc.set_ylabel("recall (malicious packages)")
    roc.set_title("ROC, test packages")
    roc.legend(loc="lower right")
    pr.plot(recall, precision)
    pr.set_xlabel("recall")
    pr.set_ylabel("precision")
    pr.set_title("precision-recall, test packages")
    figure.tight_layout()
    figure.savefig(path, dpi=110)


def run(work: WorkFolder, args: argparse.Namespace) -> None:
    work.require(work.bundle, work.objects)
    bundle = ModelBundle.load(work.bundle)
    session, device = create_session(bundle.onnx_path, "cpu", 0)
    scorer = Scorer(bundle, session, device)
    test = load_objects(work, ("test",))
    packages = {p["id"]: p for p in json.loads(work.packages.read_text())["packages"]}
    statistics = ScoringStatistics()
    started = time.perf_counter()
    raw = scorer.score_tokens(test["tokens"], statistics)
    seconds = time.perf_counter() - started
    score = bundle.package_score
    calibrated = np.array([score.of_object(r) for r in raw.tolist()], dtype=np.float64)
    threshold = bundle.threshold
    labels = np.array(test["label"], dtype=np.int8)

    file_keys = [f"{p}\0{f}" for p, f in zip(test["package_id"], test["file_path"])]
    file_best = grouped_max(file_keys, calibrated)
    file_label = dict(zip(file_keys, test["label"]))
    package_ids, package_top, package_objects, package_labels = package_maxima(test, raw)
    package_scores = scores_of_packages(score, package_top, package_objects)
    ecosystem = np.array([packages[p]["ecosystem"] for p in package_ids])

    setup_keys = [k for k in file_best if k.endswith("setup.py") and file_label[k] == 0]
    setup_scores = np.array([file_best[k] for k in setup_keys], dtype=np.float32)
    npm = ecosystem == "npm"
    pypi = ~npm
    results: dict[str, Any] = {
        "model": {
            "name": bundle.name,
            "version": bundle.version,
            "threshold": threshold,
            "package_score": bundle.package_score.method,
        },
        # Which packages were held out, as a digest: two runs compare only on the same ones.
        "test_set": {
            "packages": len(package_ids),
            "malicious": int(np.sum(package_labels == 1)),
            "sha256": hashlib.sha256("\n".join(sorted(package_ids)).encode()).hexdigest(),
        },
        "object": metrics(labels, calibrated, threshold),
        "file": metrics(
            np.array([file_label[k] for k in file_best], dtype=np.int8),
            np.array(list(file_best.values()), dtype=np.float32),
            threshold,
        ),
        "package": metrics(package_labels, package_scores, threshold),
        "package_pypi": metrics(package_labels[pypi], package_scores[pypi], threshold),
        "package_npm_benign": metrics(package_labels[npm], package_scores[npm], threshold),
        "benign_setup_py": {
            "files": len(setup_scores),
            "median_score": round(float(np.median(setup_scores)), 4) if len(setup_scores) else None,
            "share_at_or_above_threshold": round(float(np.mean(setup_scores >= threshold)), 4)
            if len(setup_scores)
            else None,
        },
        "throughput": {
            "objects": statistics.objects,
            "unique_objects": statistics.unique_objects,
            "stage2_objects": statistics.stage2_objects,
            "windows": statistics.windows,
            "stage2_seconds": round(statistics.stage2_seconds, 2),
            "windows_per_second_cpu": round(statistics.windows / max(1e-9, statistics.stage2_seconds), 1),
            "stage1_objects_per_second": round(
                statistics.unique_objects / max(1e-9, statistics.stage1_seconds), 1
            ),
            "seconds": round(seconds, 2),
        },
    }
    # Which benign packages cross the threshold, and which malicious ones stay under it: the
    # cases to read before trusting the numbers.
    flagged = package_scores >= threshold
    results["benign_packages_flagged"] = [
        {"package": p, "score": round(float(s), 4)}
        for p, s, f, label in zip(package_ids, package_scores, flagged, package_labels)
        if f and label == 0
    ]
    results["malicious_packages_missed"] = sorted(
        p for p, f, label in zip(package_ids, flagged, package_labels) if not f and label == 1
    )
    work.evaluation.mkdir(parents=True, exist_ok=True)
    (work.evaluation / "evaluation.json").write_text(json.dumps(results, indent=1) + "\n")
    plot_curves(package_labels, package_scores, threshold, work.evaluation / "curves.png")
    for level in ("object", "file", "package"):
        m = results[level]
        log(
            f"{level:<8} n={m['count']:<7} recall {m['recall']:.4f} precision {m['precision']:.4f} "
            f"FPR {m['false_positive_rate']:.4f} F1 {m['f1']:.4f} AUC {m['roc_auc']}"
        )
    log(
        f"npm benign packages: {results['package_npm_benign']['count']}, FPR {results['package_npm_benign']['false_positive_rate']:.4f}"
    )
    log(f"benign setup.py: {results['benign_setup_py']}")
    log(f"benign packages flagged: {results['benign_packages_flagged']}")
    log(f"malicious packages missed: {len(results['malicious_packages_missed'])}")
    log(f"throughput: {results['throughput']}")
    # The test figures travel in the manifest (an installed copy registers them from there), into
    # the work bundle and the registered copy of it.
    for level in ("object", "file", "package"):
        results[level]["inference_time_ms"] = round(1000 * seconds / max(1, results[level]["count"]), 4)
    test_metrics = {
        key: results[key]
        for key in (
            "test_set",
            "object",
            "file",
            "package",
            "package_pypi",
            "package_npm_benign",
            "benign_setup_py",
        )
    }
    model_id_file = work.root / "model_id"
    with Registry(args.registry) as registry:
        bundles = [work.bundle]
        if model_id_file.exists():
            shipped = Path(registry.show(model_id_file.read_text().strip())["file_path"])
            if shipped.resolve() != work.bundle.resolve() and (shipped / MANIFEST).is_file():
                bundles.append(shipped)
        for directory in bundles:
            manifest = json.loads((directory / MANIFEST).read_text())
            manifest.setdefault("metrics", {})["test"] = test_metrics
            write_manifest(directory, manifest)
        if model_id_file.exists():
            registry.register_bundle(bundles[-1])
    log(f"-> {work.evaluation}")
