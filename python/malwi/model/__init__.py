"""Model inference: bundles, ONNX Runtime sessions and scoring.

`load()` returns a ready Scorer and caches it, so a process scanning a thousand packages pays
for loading the model once.
"""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any

from malwi.errors import ModelError
from malwi.model.bundle import SHIPPED_MODEL, ModelBundle
from malwi.model.runtime import DEVICES

if TYPE_CHECKING:
    from malwi.model.scoring import Scorer, ScoringStatistics

DEFAULT_MODEL = SHIPPED_MODEL

__all__ = [
    "DEFAULT_MODEL",
    "DEVICES",
    "ModelBundle",
    "ModelError",
    "Scorer",
    "ScoringStatistics",
    "load",
    "load_bundle",
    "model_path",
]


def model_path(explicit: str | os.PathLike[str] | None = None) -> Path:
    """Which model a scan uses: an explicit path, else $MALWI_MODEL, else the registry's
    active model, else the one shipped in the package."""
    if explicit:
        return Path(explicit)
    if os.environ.get("MALWI_MODEL"):
        return Path(os.environ["MALWI_MODEL"])
    from malwi.registry import active_model_path

    return active_model_path() or DEFAULT_MODEL


def __getattr__(name: str) -> Any:
    # Scoring needs numpy; importing it only when asked keeps cached scans light.
    if name in ("Scorer", "ScoringStatistics"):
        from malwi.model import scoring

        return getattr(scoring, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


@lru_cache(maxsize=8)
def load_bundle(path: Path) -> ModelBundle:
    """The verified bundle at `path`, once per process."""
    return ModelBundle.load(path)


@lru_cache(maxsize=4)
def _load(path: Path, device: str, workers: int) -> Scorer:
    from malwi.model.runtime import create_session
    from malwi.model.scoring import Scorer

    bundle = load_bundle(path)
    session, used = create_session(bundle.onnx_path, device, workers)
    return Scorer(bundle, session, used, workers)


def load(path: str | os.PathLike[str] | None = None, device: str = "auto", workers: int = 0) -> Scorer:
    """A scorer for the model at `path` (see `model_path`), loaded once per process."""
    return _load(model_path(path).resolve(), device, workers)
