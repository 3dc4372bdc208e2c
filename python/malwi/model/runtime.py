"""ONNX Runtime sessions: one per model file and device, created once per process."""

from __future__ import annotations

import os
from functools import lru_cache
from pathlib import Path
from typing import Any

from malwi.errors import ModelError

DEVICES = ("auto", "cpu", "cuda")


def onnxruntime_module() -> Any:
    """`onnxruntime`, imported so that what it writes on import (a device id and a telemetry
    database under `$XDG_CACHE_HOME/Microsoft`) lands in malwi's own cache folder, never in the
    user's home uninvited."""
    import sys

    if "onnxruntime" in sys.modules:
        return sys.modules["onnxruntime"]
    from malwi.engine.cache import cache_dir

    saved = os.environ.get("XDG_CACHE_HOME")
    os.environ["XDG_CACHE_HOME"] = str(cache_dir() / "runtime")
    try:
        import onnxruntime
    finally:
        if saved is None:
            del os.environ["XDG_CACHE_HOME"]
        else:
            os.environ["XDG_CACHE_HOME"] = saved
    onnxruntime.disable_telemetry_events()
    return onnxruntime


def available_providers() -> list[str]:
    return list(onnxruntime_module().get_available_providers())


def require_device(device: str) -> None:
    """Raises unless `device` can be used here (`cuda` needs the CUDA execution provider)."""
    if device not in DEVICES:
        raise ModelError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    if device == "cuda":
        try:
            providers = available_providers()
        except ImportError as error:
            raise ModelError(f"onnxruntime is not installed: {error}") from None
        if "CUDAExecutionProvider" not in providers:
            raise ModelError("--device cuda needs onnxruntime-gpu (pip install 'malwi[gpu]')")


@lru_cache(maxsize=8)
def create_session(path: Path, device: str, threads: int = 0) -> tuple[Any, str]:
    """Returns `(session, device used)`. `auto` takes CUDA when its provider is installed
    (`malwi[gpu]` brings onnxruntime-gpu) and loads, else the CPU."""
    if device not in DEVICES:
        raise ModelError(f"device must be one of {', '.join(DEVICES)}, not {device!r}")
    try:
        onnxruntime = onnxruntime_module()
    except ImportError as error:
        raise ModelError(f"onnxruntime is not installed: {error}") from None
    options = onnxruntime.SessionOptions()
    options.graph_optimization_level = onnxruntime.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.intra_op_num_threads = threads or (os.cpu_count() or 1)
    options.log_severity_level = 3
    providers = available_providers()
    wants_cuda = device == "cuda" or (device == "auto" and "CUDAExecutionProvider" in providers)
    require_device(device)
    chosen = ["CUDAExecutionProvider", "CPUExecutionProvider"] if wants_cuda else ["CPUExecutionProvider"]
    try:
        session = onnxruntime.InferenceSession(str(path), sess_options=options, providers=chosen)
    except Exception as error:  # noqa: BLE001 - an unloadable model is an error, never a clean verdict
        raise ModelError(f"model {path} cannot be loaded by onnxruntime: {error}") from None
    used = "cuda" if "CUDAExecutionProvider" in session.get_providers() else "cpu"
    if device == "cuda" and used != "cuda":
        raise ModelError("the CUDA execution provider did not load (check the CUDA and cuDNN libraries)")
    return session, used
