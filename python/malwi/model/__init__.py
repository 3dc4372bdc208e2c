"""Model inference: bundles, ONNX Runtime sessions and scoring.

`load()` returns a ready Scorer and caches it, so a process scanning a thousand packages pays
for loading the model once.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path

from malwi.errors import ModelError
from malwi.model.bundle import ModelBundle
from malwi.model.runtime import DEVICES, create_session
from malwi.model.scoring import Scorer, ScoringStatistics

DEFAULT_MODEL = Path(__file__).resolve().parent.parent / "models" / "default"

__all__ = ["DEFAULT_MODEL", "DEVICES", "ModelBundle", "ModelError", "Scorer", "ScoringStatistics", "load", "model_path"]


def model_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Which model a scan uses: an explicit path, else $MALWI_MODEL, else the registry's
    active model, else the one shipped in the package."""
    if explicit:
        return Path(explicit)
    if os.environ.get("MALWI_MODEL"):
        return Path(os.environ["MALWI_MODEL"])
    from malwi.registry import active_model_path

    return active_model_path() or DEFAULT_MODEL


@lru_cache(maxsize=4)
def _load(path: Path, device: str, workers: int) -> Scorer:
    bundle = ModelBundle.load(path)
    session, used = create_session(bundle.onnx_path, device, workers)
    return Scorer(bundle, session, used, workers)


def load(path: str | os.PathLike[str] | None = None, device: str = "auto", workers: int = 0) -> Scorer:
    """A scorer for the model at `path` (see `model_path`), loaded once per process."""
    return _load(model_path(path).resolve(), device, workers)
