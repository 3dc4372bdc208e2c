"""The package-unit model: the classical model (`malwi research unit-model`) that decides a unit's
verdict from what its scan found (`malwi.engine.unit_features`), run in ONNX Runtime.

A bundle carries it as its manifest's `unit_model` section (file, feature names, extractor
settings, thresholds) and its file in the manifest's digest list. Fail-closed like the rest of
the bundle: a section whose feature names differ from what this malwi extracts, thresholds out of
range, or a file not covered by a digest is a ModelError at load, never a verdict.
"""

from __future__ import annotations

import contextlib
import hashlib
import math
import struct
from pathlib import Path
from typing import TYPE_CHECKING, Any

from malwi.engine.unit_features import UnitFeatures
from malwi.errors import ModelError

if TYPE_CHECKING:
    from malwi.engine.cache import ResultCache
    from malwi.engine.unit_features import UnitEvidence

# The result cache's `language` column for a unit's score (keyed by its feature vector).
UNIT_ROW = "#unit"


def probability(value: Any, name: str) -> float:
    """`value` as a probability, or a ValueError naming the manifest field `name` (bundle checks
    of `malwi.model.bundle` use it too)."""
    number = float(value)
    if not math.isfinite(number) or not 0.0 <= number <= 1.0:
        raise ValueError(f"{name} {value!r} must be a probability (finite, 0 to 1)")
    return number


class UnitModelSpec:
    """The manifest's `unit_model` section, checked (no ONNX Runtime needed yet)."""

    def __init__(self, directory: Path, section: dict[str, Any], covered: set[str]) -> None:
        self.file = str(section["file"])
        if self.file not in covered:
            raise ValueError(f"unit_model.file {self.file!r} has no digest in the manifest's files")
        self.path = directory / self.file
        self.name = str(section["name"])
        self.input = str(section.get("input", "features"))
        self.output = str(section.get("output", "malicious_probability"))
        self.threshold = probability(section["threshold"], "unit_model.threshold")
        self.suspicious_threshold = probability(
            section["suspicious_threshold"], "unit_model.suspicious_threshold"
        )
        if not 0.0 < self.suspicious_threshold <= self.threshold:
            raise ValueError(
                f"unit_model.suspicious_threshold {self.suspicious_threshold} must be above 0 and at most "
                f"its threshold {self.threshold}"
            )
        # The ecosystems whose units it judges: those it saw malware of in training (a model
        # that never saw npm malware calls every npm package good; the package score judges
        # those instead).
        self.ecosystems = tuple(str(e) for e in section.get("ecosystems", ("pypi", "npm")))
        if not self.ecosystems or not set(self.ecosystems) <= {"pypi", "npm"}:
            raise ValueError(f"unit_model.ecosystems {list(self.ecosystems)} must name pypi and/or npm")
        self.features = UnitFeatures(section["feature_extractors"])
        names = list(section["feature_names"])
        if names != self.features.names:
            raise ValueError(
                f"unit_model was trained on {len(names)} features that are not the {len(self.features.names)} "
                "this malwi extracts (retrain it with this release)"
            )


class UnitModel:
    """A loaded unit model: `score(evidence)` is the probability the unit is malicious.

    ONNX Runtime (and numpy) are loaded at the first unit not answered by the result cache: a
    unit's score is kept there under a digest of its feature vector, so a rescan answered from
    the cache imports neither."""

    def __init__(self, spec: UnitModelSpec, cache: ResultCache | None = None, scorer_key: str = "") -> None:
        self.spec = spec
        self.cache = cache
        self.scorer_key = f"{scorer_key}:u{spec.name}"
        self._session: Any = None

    def _run(self, vector: list[float]) -> float:
        import numpy as np

        if self._session is None:
            from malwi.model.runtime import create_session

            # One thread: a unit is one row; threads would cost more than they save.
            session, _ = create_session(self.spec.path, "cpu", 1)
            inputs = [i.name for i in session.get_inputs()]
            outputs = [o.name for o in session.get_outputs()]
            if self.spec.input not in inputs or self.spec.output not in outputs:
                raise ModelError(
                    f"unit model {self.spec.path} has inputs {inputs} and outputs {outputs}, "
                    f"not {self.spec.input!r} and {self.spec.output!r}"
                )
            self._session = session
        row = np.asarray([vector], dtype=np.float32)
        result = self._session.run([self.spec.output], {self.spec.input: row})[0]
        value = float(np.asarray(result).reshape(-1)[0])
        if not math.isfinite(value):
            raise ModelError(f"unit model {self.spec.path} gave a non-finite score")
        return min(1.0, max(0.0, value))

    def score(self, evidence: UnitEvidence) -> float:
        vector = self.spec.features.vector(evidence)
        if self.cache is None:
            return self._run(vector)
        key = (hashlib.sha256(struct.pack(f"<{len(vector)}d", *vector)).hexdigest(), UNIT_ROW)
        try:
            kept = self.cache.lookup([key], self.scorer_key).get(key)
            if kept is not None:
                return probability(kept["score"], "cached unit score")
        except Exception:  # noqa: BLE001 - an unusable or corrupt row is a miss: scored again
            pass
        value = self._run(vector)
        # A cache that cannot be written costs speed only.
        with contextlib.suppress(Exception):
            self.cache.store([(key[0], key[1], {"score": value})], self.scorer_key)
        return value
