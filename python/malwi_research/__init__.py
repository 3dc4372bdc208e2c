"""The research pipeline behind the default model: `malwi research STEP`.

It lives beside the `malwi` package, not inside it: the scanner never imports it and wheels do
not ship it. It runs from a checkout (`pip install -e '.[train]'`), where the training data and
`data/training/training_config.json` are.

download → preprocess → train-tokenizer → train → export → evaluate, all under one working folder
(`--work`, default `research-work/`). Training dependencies come with `pip install 'malwi[train]'`
and are imported only here, lazily: scanning never needs them.

Nothing scanned is installed or executed: releases are fetched as files, archives are read in
memory, and the malicious archive is never unpacked to disk.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from malwi.errors import ResearchError
from malwi.progress import Progress

__all__ = ["Progress", "ResearchError", "WorkFolder", "log", "need", "run_step"]


CONFIG_SCHEMA = Path(__file__).resolve().parents[2] / "data" / "schemas" / "training_config_schema.json"


class WorkFolder:
    """Where each step reads and writes, under the working folder."""

    def __init__(self, root: str | Path, config_path: str | Path) -> None:
        self.root = Path(root)
        self.config_path = Path(config_path)
        try:
            self.config: dict[str, Any] = json.loads(self.config_path.read_text())
        except OSError as error:
            raise ResearchError(
                f"cannot read the training config {self.config_path}: {error.strerror}"
            ) from None
        self.downloads = self.root / "downloads"
        self.objects = self.root / "objects.parquet"
        self.packages = self.root / "packages.json"
        self.tokenizer = self.root / "tokenizer.json"
        self.stage1 = self.root / "stage1.bin"
        self.stage1_meta = self.root / "stage1.json"
        self.stage2 = self.root / "stage2"
        self.training_record = self.root / "training.json"
        self.bundle = self.root / "bundle"
        self.evaluation = self.root / "evaluation"

    def validate(self) -> None:
        """The config against `data/schemas/training_config_schema.json`: an unknown or misspelt
        key is refused instead of training with a default."""
        jsonschema = need("jsonschema")
        validator = jsonschema.Draft7Validator(json.loads(CONFIG_SCHEMA.read_text()))
        error = jsonschema.exceptions.best_match(validator.iter_errors(self.config))
        if error is not None:
            where = "/".join(str(part) for part in error.absolute_path) or "(top level)"
            raise ResearchError(f"{self.config_path}: {where}: {error.message}")

    def data_path(self, key: str) -> Path:
        """A path from the config's `data` section, relative to the config's repository."""
        return self.config_relative(self.config["data"][key])

    def config_relative(self, value: str) -> Path:
        """A path named in the config: absolute, or relative to the config's repository."""
        path = Path(value)
        return (
            path if path.is_absolute() else (self.config_path.resolve().parent.parent.parent / path).resolve()
        )

    def require(self, *paths: Path) -> None:
        for path in paths:
            if not path.exists():
                raise ResearchError(f"{path} is missing: run the earlier research steps first")


def need(module: str) -> Any:
    """Imports a training dependency, or explains how to get it."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError:
        raise ResearchError(f"the research pipeline needs {module}: pip install 'malwi[train]'") from None


def log(message: str) -> None:
    print(f"[research] {message}", file=sys.stderr, flush=True)


def run_step(args: argparse.Namespace) -> int:
    work = WorkFolder(args.work, args.config)
    work.validate()
    work.root.mkdir(parents=True, exist_ok=True)
    step = args.step.replace("-", "_")
    from importlib import import_module

    module = import_module(f"malwi_research.{'tokenizer' if step == 'train_tokenizer' else step}")
    module.run(work, args)
    return 0
