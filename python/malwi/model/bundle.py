"""A model bundle: the files of a trained model and the manifest that binds them together.

Loading is fail-closed. A missing file, a wrong digest, or a featurizer or vocabulary that does
not match this malwi raises ModelError; it never produces a verdict. The manifest itself is
covered too: the shipped model's by the digest pinned beside it (`SHIPPED_PIN`, written when a
bundle is exported or refitted into the package), a registered model's by the digest the
registry recorded. Every bundle's numbers are checked: thresholds, calibration and weights
finite and in range, benign score table ascending within [0, 1]; a package-unit model's
section (`malwi.model.unit_model`) matches the features this malwi extracts.
"""

from __future__ import annotations

import hashlib
import itertools
import json
import math
import sys
from array import array
from pathlib import Path
from typing import Any

from malwi._malwi import FEATURIZER_VERSION, FeaturizerConfig, LinearModel, Vocabulary
from malwi.engine.verdict import PackageScore
from malwi.errors import ModelError
from malwi.model.unit_model import UnitModelSpec, probability

MANIFEST = "manifest.json"
FORMAT = 1
SHIPPED_MODEL = Path(__file__).resolve().parent.parent / "models" / "default"
SHIPPED_PIN = SHIPPED_MODEL.parent / "default.manifest.sha256"


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def _finite(value: Any, name: str) -> float:
    number = float(value)
    if not math.isfinite(number):
        raise ValueError(f"{name} {value!r} must be finite")
    return number


def _check_score_table(scores: array[float]) -> None:
    """Ascending, within [0, 1]; a NaN anywhere breaks the ascending check."""
    if not scores:
        return
    if not (scores[0] >= 0.0 and scores[-1] <= 1.0) or not all(a <= b for a, b in itertools.pairwise(scores)):
        raise ValueError("benign_object_scores must be ascending probabilities (finite, 0 to 1)")


def check_pin(manifest_path: Path) -> None:
    """The shipped model's manifest must be the one pinned beside it."""
    try:
        pinned = SHIPPED_PIN.read_text(encoding="utf-8").strip()
    except OSError:
        raise ModelError(f"the shipped model's manifest digest ({SHIPPED_PIN}) is missing") from None
    if sha256_file(manifest_path) != pinned:
        raise ModelError(
            f"{manifest_path} does not match the digest the package shipped with (edited or corrupt)"
        )


def pin_if_shipped(directory: Path) -> None:
    """After writing a bundle: when it is the package's shipped model, pin its manifest."""
    if directory.resolve() == SHIPPED_MODEL:
        SHIPPED_PIN.write_text(sha256_file(directory / MANIFEST) + "\n", encoding="utf-8")


class ModelBundle:
    """A verified bundle: manifest, vocabulary, stage-1 model, path of the stage-2 ONNX file."""

    def __init__(self, directory: Path, manifest: dict[str, Any], pinned: bool = False) -> None:
        self.directory = directory
        self.manifest = manifest
        self.name: str = manifest["name"]
        self.version: str = manifest["version"]
        self.threshold = probability(manifest["threshold"], "threshold")
        self.suspicious_threshold = probability(manifest["suspicious_threshold"], "suspicious_threshold")
        if not 0.0 < self.suspicious_threshold <= self.threshold:
            raise ValueError(
                f"suspicious_threshold {self.suspicious_threshold} must be above 0 and at most the threshold {self.threshold}"
            )
        self.featurizer = FeaturizerConfig.from_json(json.dumps(manifest["featurizer"]["config"]))
        windows = manifest["windows"]
        self.max_length = int(windows["max_length"])
        self.stride = int(windows["stride"])
        self.max_windows = int(windows["max_windows"])
        if not (0 < self.stride <= self.max_length <= 4096 and 0 < self.max_windows <= 4096):
            raise ValueError(
                f"windows {windows!r}: stride and max_length must be 1..4096, stride at most max_length"
            )
        self.vocabulary = Vocabulary((directory / manifest["vocabulary"]["file"]).read_text(encoding="utf-8"))
        stage1 = manifest["stage1"]
        self.stage1 = LinearModel(
            (directory / stage1["file"]).read_bytes(),
            bias=_finite(stage1["bias"], "stage1.bias"),
            bits=int(stage1["bits"]),
            max_order=int(stage1["max_order"]),
        )
        self.candidate_threshold = probability(stage1["candidate_threshold"], "stage1.candidate_threshold")
        stage2 = manifest["stage2"]
        self.onnx_path = directory / stage2["file"]
        self.malicious_class = int(stage2.get("malicious_class", 1))
        self.combine: str = stage2.get("combine", "stage2")
        calibration = manifest["calibration"]
        # Every object score of the benign validation packages, ascending (little-endian float32
        # file). An `array`, not numpy: a scan answered from the result cache never imports numpy.
        scores_file = calibration.get("benign_object_scores")
        benign_scores = array("f", (directory / scores_file).read_bytes() if scores_file else b"")
        if sys.byteorder == "big":  # pragma: no cover - the file is little-endian
            benign_scores.byteswap()
        if not pinned:  # the shipped table was checked when it was pinned; this costs ~50 ms
            _check_score_table(benign_scores)
        # How object scores become the package score: checked here, so a bad calibration fails
        # the load (ValueError → ModelError), never a scan.
        self.package_score = PackageScore(
            calibration.get("package_score", "max_object_score"),
            float(calibration["a"]),
            float(calibration["b"]),
            benign_scores,
            # How much each reachability class's objects count (fitted by `malwi research
            # reach-weights`); a bundle without them weighs every class alike.
            calibration.get("reach_weights"),
        )
        # The package-unit model that decides unit verdicts, when the bundle has one; else the
        # package score above decides them.
        section = manifest.get("unit_model")
        self.unit_model = (
            UnitModelSpec(directory, section, set(manifest.get("files", {}))) if section is not None else None
        )

    @classmethod
    def load(cls, directory: str | Path) -> ModelBundle:
        directory = Path(directory)
        manifest_path = directory / MANIFEST
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
        except FileNotFoundError:
            raise ModelError(f"no model at {directory} ({MANIFEST} is missing)") from None
        except (OSError, ValueError) as error:
            raise ModelError(f"unreadable model manifest {manifest_path}: {error}") from None
        if manifest.get("format") != FORMAT:
            raise ModelError(f"model manifest format {manifest.get('format')!r} is not {FORMAT}")
        pinned = directory.resolve() == SHIPPED_MODEL
        if pinned:
            check_pin(manifest_path)
        for name, expected in manifest.get("files", {}).items():
            path = directory / name
            if not path.is_file():
                raise ModelError(f"model file missing: {path}")
            if sha256_file(path) != expected:
                raise ModelError(
                    f"model file {path} does not match its manifest digest (corrupt or replaced)"
                )
        try:
            bundle = cls(directory, manifest, pinned)
        except (KeyError, TypeError, ValueError) as error:
            raise ModelError(f"invalid model manifest {manifest_path}: {error!r}") from None
        except Exception as error:  # noqa: BLE001 - any load failure must fail closed, with its reason
            raise ModelError(f"model {directory} cannot be loaded: {error}") from None
        bundle.check_compatibility()
        return bundle

    def check_compatibility(self) -> None:
        """The model must see exactly the tokens it was trained on."""
        recorded = self.manifest["featurizer"]
        if recorded.get("version") != FEATURIZER_VERSION:
            raise ModelError(
                f"model {self.name} was trained with featurizer version {recorded.get('version')}, "
                f"this malwi emits version {FEATURIZER_VERSION}"
            )
        if recorded.get("id") != self.featurizer.featurizer_id:
            raise ModelError(
                f"model {self.name}: featurizer id {recorded.get('id')} does not match its configuration "
                f"({self.featurizer.featurizer_id})"
            )
        expected_vocabulary = self.manifest["vocabulary"]["hash"]
        if self.vocabulary.hash != expected_vocabulary:
            raise ModelError(
                f"model {self.name}: vocabulary hash {self.vocabulary.hash[:12]} does not match the manifest "
                f"({expected_vocabulary[:12]})"
            )
