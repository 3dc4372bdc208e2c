"""The SQLite model registry: every training run, its metrics and its lineage.

The tables come from `data/models/model_registry_config.toml` (compiled into the extension as
`REGISTRY_CONFIG`). `malwi research` records into it; `malwi models` lists, shows and activates.
"""

from __future__ import annotations

import json
import os
import sqlite3
import sys
from pathlib import Path
from typing import Any

from malwi._malwi import REGISTRY_CONFIG
from malwi.errors import ModelRegistryError
from malwi.model.bundle import MANIFEST, SHIPPED_MODEL, sha256_file

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover - exercised on Python 3.10 only
    import tomli as tomllib

CONFIG = tomllib.loads(REGISTRY_CONFIG)
TABLES = [table["name"] for table in CONFIG["tables"]]


def default_path() -> Path:
    """`$MALWI_REGISTRY`, else the registry file under malwi's cache root (`cache_dir()`)."""
    if os.environ.get("MALWI_REGISTRY"):
        return Path(os.environ["MALWI_REGISTRY"])
    from malwi.engine.cache import cache_dir

    return cache_dir() / str(CONFIG["registry"]["file_name"])


def active_model_path(path: Path | None = None) -> Path | None:
    """The directory of the active model, when a registry exists and names one that exists."""
    path = path or default_path()
    if not path.is_file():
        return None
    with Registry(path) as registry:
        active = registry.connection.execute(
            "SELECT file_path, metadata FROM model_registry WHERE status = 'active' ORDER BY updated_at DESC LIMIT 1"
        ).fetchone()
    if not active or not Path(active[0]).is_dir():
        return None
    folder = Path(active[0])
    try:
        recorded = json.loads(active[1] or "{}").get("manifest_sha256")
    except (ValueError, AttributeError):
        recorded = None
    # The manifest binds every model file; the registry binds the manifest as it was registered.
    # The package's own model is bound by the digest pinned beside it instead (checked at load):
    # an upgrade of malwi replaces it, and must not leave the registry refusing every scan.
    shipped = folder.resolve() == SHIPPED_MODEL
    if recorded is not None and not shipped and sha256_file(folder / MANIFEST) != recorded:
        raise ModelRegistryError(
            f"the active model's manifest {folder / MANIFEST} changed since it was registered "
            "(edited or corrupt); register it again or activate another model"
        )
    return folder


class Registry:
    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else default_path()
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            # Concurrent runs (a scan and a training) may share the file: wait for locks.
            self.connection = sqlite3.connect(self.path, timeout=30)
        except (OSError, sqlite3.Error) as error:
            raise ModelRegistryError(f"cannot open the model registry {self.path}: {error}") from None
        self.connection.row_factory = sqlite3.Row
        self.connection.execute("PRAGMA foreign_keys = ON")
        with self.connection:
            for table in CONFIG["tables"]:
                self.connection.execute(table["ddl"])

    def __enter__(self) -> Registry:
        return self

    def __exit__(self, *exc: object) -> None:
        self.connection.close()

    def register_model(self, **fields: Any) -> None:
        for key in ("training_config", "metadata"):
            if key in fields and not isinstance(fields[key], str | type(None)):
                fields[key] = json.dumps(fields[key], sort_keys=True)
        columns = ", ".join(fields)
        marks = ", ".join("?" for _ in fields)
        updates = ", ".join(f"{c} = excluded.{c}" for c in fields if c != "model_id")
        with self.connection:
            self.connection.execute(
                f"INSERT INTO model_registry ({columns}) VALUES ({marks}) "  # nosec B608 - names fixed in code, values bound
                f"ON CONFLICT (model_id) DO UPDATE SET {updates}, "
                "updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now')",
                list(fields.values()),
            )

    def _insert(self, table: str, fields: dict[str, Any]) -> None:
        for key in ("config", "test_config"):
            if key in fields and not isinstance(fields[key], str | type(None)):
                fields[key] = json.dumps(fields[key], sort_keys=True)
        with self.connection:
            self.connection.execute(
                f"INSERT INTO {table} ({', '.join(fields)}) VALUES ({', '.join('?' for _ in fields)})",  # nosec B608 - names fixed in code
                list(fields.values()),
            )

    def record_training(self, **fields: Any) -> None:
        self._insert("training_history", fields)

    def record_performance(self, **fields: Any) -> None:
        self._insert("model_performance", fields)

    def add_version(self, model_name: str, version: str, model_id: str, **fields: Any) -> None:
        with self.connection:
            self.connection.execute(
                "INSERT OR REPLACE INTO model_versions (model_name, version, model_id, parent_version, change_notes) "
                "VALUES (?, ?, ?, ?, ?)",
                (model_name, version, model_id, fields.get("parent_version"), fields.get("change_notes")),
            )

    def register_bundle(
        self,
        directory: str | os.PathLike[str],
        *,
        status: str | None = None,
        change_notes: str | None = None,
        model_name: str = "malwi",
        model_type: str = "ensemble",
        logs_path: str | None = None,
    ) -> str:
        """Records a model bundle from its manifest, the one source of what a model is: the model
        row, its training run (once), its validation and test figures (replaced by the
        manifest's current ones) and its version. `status=None` keeps a registered model's
        status. Returns the model id."""
        directory = Path(directory).resolve()
        manifest = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))
        model_id: str = manifest["model_id"]
        metrics = manifest.get("metrics", {})
        validation = metrics.get("validation", {})
        test = metrics.get("test", {})
        headline = test.get("package") or validation
        training = manifest.get("training", {})
        files = manifest.get("files", {})
        fields: dict[str, Any] = {
            "model_id": model_id,
            "model_name": model_name,
            "model_type": model_type,
            "version": manifest["version"],
            "file_path": str(directory),
            "file_size": sum((directory / name).stat().st_size for name in files),
            "file_sha256": files.get(manifest["stage2"]["file"]),
            "featurizer_id": manifest["featurizer"]["id"],
            "vocabulary_hash": manifest["vocabulary"]["hash"],
            "threshold": manifest["threshold"],
            "precision": headline.get("precision"),
            "recall": headline.get("recall"),
            "f1_score": headline.get("f1"),
            "false_positive_rate": headline.get("false_positive_rate"),
            "training_config": training.get("config"),
            "metadata": {"metrics": metrics, "manifest_sha256": sha256_file(directory / MANIFEST)},
        }
        if status is not None:
            fields["status"] = status
        self.register_model(**fields)
        with self.connection:
            self.connection.execute("DELETE FROM model_performance WHERE model_id = ?", (model_id,))
        if validation:
            self.record_performance(
                model_id=model_id,
                dataset_name="validation",
                level="package",
                dataset_size=validation.get("packages"),
                positives=validation.get("malicious_packages"),
                recall=validation.get("recall"),
                false_positive_rate=validation.get("false_positive_rate"),
                roc_auc=validation.get("roc_auc"),
                threshold=manifest["threshold"],
            )
        for level in ("object", "file", "package"):
            if level in test:
                figures = test[level]
                self.record_performance(
                    model_id=model_id,
                    dataset_name="test",
                    level=level,
                    dataset_size=figures.get("count"),
                    positives=figures.get("positives"),
                    precision=figures.get("precision"),
                    recall=figures.get("recall"),
                    f1_score=figures.get("f1"),
                    false_positive_rate=figures.get("false_positive_rate"),
                    roc_auc=figures.get("roc_auc"),
                    threshold=manifest["threshold"],
                    inference_time_ms=figures.get("inference_time_ms"),
                    test_config={"split": "test"},
                )
        recorded = self.connection.execute(
            "SELECT 1 FROM training_history WHERE model_id = ? AND started_at = ?",
            (model_id, training.get("started_at")),
        ).fetchone()
        if training.get("started_at") and not recorded:
            self.record_training(
                model_id=model_id,
                started_at=training["started_at"],
                finished_at=training.get("finished_at"),
                duration_seconds=training.get("seconds"),
                epochs=training.get("epochs"),
                final_loss=training.get("final_loss"),
                device=training.get("device"),
                status="completed",
                config=training.get("config"),
                logs_path=logs_path,
            )
        self.add_version(model_name, manifest["version"], model_id, change_notes=change_notes)
        return model_id

    def register_shipped(self) -> None:
        """Registers the models shipped inside the package ([initialization] in the config) the
        first time a registry meets them: a fresh install lists its model, metrics and training run."""
        package = Path(__file__).resolve().parent
        for entry in CONFIG.get("initialization", {}).get("default_models", []):
            directory = package / entry["path"]
            try:
                model_id = json.loads((directory / "manifest.json").read_text(encoding="utf-8"))["model_id"]
            except (OSError, ValueError, KeyError):
                continue  # a source tree without a trained model
            known = self.connection.execute(
                "SELECT metadata FROM model_registry WHERE model_id = ?", (model_id,)
            ).fetchone()
            if known is not None:
                try:
                    recorded = json.loads(known[0] or "{}").get("manifest_sha256")
                except (ValueError, AttributeError):
                    recorded = None
                if recorded != sha256_file(directory / "manifest.json"):
                    # The package's model changed with an upgrade (same object model, a new
                    # manifest): its row follows, keeping its status.
                    self.register_bundle(
                        directory,
                        change_notes="shipped in the package (updated)",
                        model_name=entry["model_name"],
                        model_type=entry["model_type"],
                    )
                continue
            has_active = self.connection.execute(
                "SELECT 1 FROM model_registry WHERE status = 'active'"
            ).fetchone()
            self.register_bundle(
                directory,
                status="testing" if has_active else "active",
                change_notes="shipped in the package",
                model_name=entry["model_name"],
                model_type=entry["model_type"],
            )

    def list_models(self) -> list[dict[str, Any]]:
        rows = self.connection.execute(
            "SELECT model_id, model_name, version, status, threshold, recall, false_positive_rate, created_at, file_path "
            "FROM model_registry ORDER BY created_at, id"
        )
        return [dict(row) for row in rows]

    def show(self, model_id: str) -> dict[str, Any]:
        row = self.connection.execute(
            "SELECT * FROM model_registry WHERE model_id = ?", (model_id,)
        ).fetchone()
        if row is None:
            raise ModelRegistryError(f"no model {model_id!r} in {self.path}")
        model = dict(row)
        for key in ("training_config", "metadata"):
            if model.get(key):
                model[key] = json.loads(model[key])
        query = "SELECT * FROM {} WHERE model_id = ? ORDER BY id"
        model["performance"] = [
            dict(r) for r in self.connection.execute(query.format("model_performance"), (model_id,))
        ]
        model["training_history"] = [
            dict(r) for r in self.connection.execute(query.format("training_history"), (model_id,))
        ]
        model["versions"] = [
            dict(r) for r in self.connection.execute(query.format("model_versions"), (model_id,))
        ]
        return model

    def compare(self, first: str, second: str) -> list[tuple[str, str, str, str]]:
        """`(what, first, second, change)` rows: the held-out figures of two models side by side,
        and whether they were measured on the same test packages (the digest `evaluate` records)."""
        models = [self.show(first), self.show(second)]
        metrics = [(m.get("metadata") or {}).get("metrics") or {} for m in models]
        tests = [m.get("test") or {} for m in metrics]
        validations = [m.get("validation") or {} for m in metrics]
        digests = [t.get("test_set", {}).get("sha256") for t in tests]
        same = (
            "unknown (a model evaluated before test-set digests)"
            if None in digests
            else ("yes" if digests[0] == digests[1] else "NO: the figures are not comparable")
        )
        rows: list[tuple[str, str, str, str]] = [
            ("version", models[0]["version"], models[1]["version"], ""),
            ("featurizer", models[0]["featurizer_id"], models[1]["featurizer_id"], ""),
            (
                "threshold",
                _figure(models[0]["threshold"]),
                _figure(models[1]["threshold"]),
                _change(models[0]["threshold"], models[1]["threshold"]),
            ),
        ]
        counts = [
            f"{t['test_set']['packages']:,} ({t['test_set']['sha256'][:12]})" if "test_set" in t else "–"
            for t in tests
        ]
        rows.append(("test packages (digest)", counts[0], counts[1], f"same packages: {same}"))
        names = {
            "precision": "precision",
            "recall": "recall",
            "f1": "F1",
            "false_positive_rate": "FPR",
            "roc_auc": "ROC AUC",
        }
        for level in ("package", "file", "object"):
            for key, name in names.items():
                values = [t.get(level, {}).get(key) for t in tests]
                rows.append(
                    (
                        f"test {level} {name}",
                        _figure(values[0]),
                        _figure(values[1]),
                        _change(values[0], values[1]),
                    )
                )
        for key, name in (("recall", "recall"), ("false_positive_rate", "FPR"), ("roc_auc", "ROC AUC")):
            values = [v.get(key) for v in validations]
            rows.append(
                (
                    f"validation package {name}",
                    _figure(values[0]),
                    _figure(values[1]),
                    _change(values[0], values[1]),
                )
            )
        return rows

    def activate(self, model_id: str) -> None:
        """Makes `model_id` the model scans use; the previously active one becomes deprecated."""
        model = self.show(model_id)
        if not Path(model["file_path"]).is_dir():
            raise ModelRegistryError(f"model {model_id!r} has no files at {model['file_path']}")
        with self.connection:
            self.connection.execute(
                "UPDATE model_registry SET status = 'deprecated', updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                "WHERE status = 'active' AND model_id != ?",
                (model_id,),
            )
            self.connection.execute(
                "UPDATE model_registry SET status = 'active', updated_at = strftime('%Y-%m-%dT%H:%M:%SZ', 'now') "
                "WHERE model_id = ?",
                (model_id,),
            )
            self.connection.execute("UPDATE model_versions SET is_current = (model_id = ?)", (model_id,))


def _figure(value: Any) -> str:
    return "–" if value is None else f"{value:.4f}"


def _change(before: Any, after: Any) -> str:
    return "" if before is None or after is None else f"{after - before:+.4f}"
