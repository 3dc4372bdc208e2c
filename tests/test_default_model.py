"""The model shipped in the package: it loads, matches this malwi, and gets the examples right.

If the emitter changes (new featurizer version) this fails until the model is retrained: a model
must never score tokens it was not trained on.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import malwi
from malwi.model import DEFAULT_MODEL, ModelBundle

from .conftest import EXAMPLES


def test_default_model_matches_this_malwi() -> None:
    bundle = ModelBundle.load(DEFAULT_MODEL)  # digests, featurizer id and vocabulary hash checked
    manifest = bundle.manifest
    assert manifest["featurizer"]["version"] == malwi.FEATURIZER_VERSION
    assert 0 < bundle.suspicious_threshold <= bundle.threshold < 1
    size = sum((DEFAULT_MODEL / name).stat().st_size for name in manifest["files"])
    assert size <= 30 * 1024 * 1024, "all model files together stay within 30 MB"
    unknown = bundle.vocabulary.id("[UNK]")
    # Flow and protector tokens are emitted only when the model's featurizer switches them on.
    switched = {"FLOW_": bundle.featurizer.flow_tokens, "PROTECTOR_": bundle.featurizer.protector_tokens}
    emitted = [
        t for t in malwi.reserved_tokens() if all(on or not t.startswith(p) for p, on in switched.items())
    ]
    missing = [t for t in emitted if bundle.vocabulary.id(t) == unknown]
    assert not missing, f"reserved tokens outside the vocabulary: {missing}"


def scan(path: str) -> subprocess.CompletedProcess[bytes]:
    return subprocess.run(
        [sys.executable, "-m", "malwi", "scan", path, "-f", "json"], capture_output=True, timeout=120
    )


def test_defanged_malicious_python_examples_are_malicious() -> None:
    result = scan(str(EXAMPLES / "malicious-python"))
    assert result.returncode == 1, result.stderr
    report = json.loads(result.stdout)
    assert report["verdict"] == "malicious"
    activities = {a for f in report["files"] for o in f["objects"] for a in o["activities"]}
    assert "PROCESS_MANAGEMENT" in activities


def test_benign_examples_are_good() -> None:
    result = scan(str(EXAMPLES / "benign"))
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["verdict"] == "good"


def test_a_fresh_registry_lists_the_shipped_model_with_its_training_run(tmp_path: Path) -> None:
    manifest = json.loads((DEFAULT_MODEL / "manifest.json").read_text())
    env = {**os.environ, "MALWI_REGISTRY": str(tmp_path / "registry.sqlite3")}

    def models(*a):
        return subprocess.run(
            [sys.executable, "-m", "malwi", "models", *a], capture_output=True, timeout=60, env=env
        )

    listed = models("list")
    assert (
        listed.returncode == 0
        and manifest["model_id"].encode() in listed.stdout
        and b"active" in listed.stdout
    )
    shown = json.loads(models("show", manifest["model_id"]).stdout)
    assert (
        shown["training_history"][0]["status"] == "completed" and shown["training_history"][0]["epochs"] >= 1
    )
    levels = {(p["dataset_name"], p["level"]) for p in shown["performance"]}
    assert {("validation", "package"), ("test", "object"), ("test", "file"), ("test", "package")} <= levels
    again = models("list").stdout.splitlines()
    assert len(again) == len(listed.stdout.splitlines()), "registered once"
    assert again == listed.stdout.splitlines(), "the same models, listed the same way"
    (line,) = [line for line in again if manifest["model_id"].encode() in line]
    assert b"active" in line, "the shipped model is listed once, as the active one"
