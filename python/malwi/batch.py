"""Registry-scale scans on Ray (`malwi batch LIST -o OUT.jsonl`, the `malwi[ray]` extra).

One machine is not enough for a registry feed or an organisation's every dependency; Ray is
the distributed engine that spreads the work, on a local cluster (`--ray-cpus N`) or an
existing one (`--address ADDR`):

- LIST: one package a line: `NAME` or `NAME==VERSION` (PyPI; `--ecosystem npm` for npm
  names), `pypi:NAME[==VERSION]`, `npm:NAME[@VERSION]`, or the path of a local archive
  (relative to the list's folder; it must be readable where the cluster's workers run).
  Blank lines and `#` comments are skipped.
- Fetching is a Ray task per package on any CPU worker: resolve, download, digest check; the
  archive's bytes travel through Ray's object store, so no shared file system is needed.
- Judging is a pool of Ray actors, one model load each (a GPU per actor when the cluster has
  GPUs and `--gpus-per-actor` asks for it): each unpacks its archive safely, compiles and
  scores it with `Scanner.judge`, and returns one row. Compilation runs in the actors, next
  to the model: a compiled package would cost more to ship between processes than to make.
- Rows are streamed to OUT as each package finishes (JSONL, or Parquet when OUT ends in
  `.parquet`), with a progress bar. A package that fails (not found, a digest that does not
  match, an archive that cannot be unpacked, nothing to scan) is an `error` row; the batch
  goes on. Rows already in OUT are skipped when the batch is run again (`--retry-errors`
  retries the error rows), so a stopped batch resumes.

Nothing here imports Ray until a batch runs: the scanner never needs it.
"""

from __future__ import annotations

import json
import logging
import os
import tempfile
import time
from pathlib import Path
from typing import Any

from malwi.errors import ConfigError, MalwiError

__all__ = ["BatchItem", "done_inputs", "parse_list", "row_of", "run_batch"]


class BatchItem:
    """One line of LIST: a registry release (`ecosystem`, `name`, `version` or None for the
    latest) or a local archive (`path`)."""

    __slots__ = ("ecosystem", "line", "name", "path", "version")

    def __init__(
        self, line: str, ecosystem: str = "", name: str = "", version: str | None = None, path: str = ""
    ) -> None:
        self.line = line
        self.ecosystem = ecosystem
        self.name = name
        self.version = version
        self.path = path

    def __repr__(self) -> str:
        return f"BatchItem({self.line!r})"


def _release_item(line: str, spec: str, ecosystem: str) -> BatchItem:
    separator = "==" if ecosystem == "pypi" else "@"
    # An npm scope starts with @: the version separator is the last @ after the first character.
    name, found, version = (
        spec[1:].rpartition(separator) if ecosystem == "npm" else spec.rpartition(separator)
    )
    if ecosystem == "npm":
        name = spec[0] + name if found else spec
    if not found:
        name, version = spec, ""
    if not name or (found and not version) or any(c.isspace() for c in name):
        raise ConfigError(f"{line!r}: not a package: NAME, NAME{separator}VERSION or a local archive")
    return BatchItem(line, ecosystem, name, version or None)


def parse_list(path: str | os.PathLike[str], default_ecosystem: str = "pypi") -> list[BatchItem]:
    """The packages a LIST file names, in order, each once."""
    from malwi.sources.archive import ARCHIVE_SUFFIXES, is_archive

    listing = Path(path)
    try:
        text = listing.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: cannot read the package list: {error}") from None
    items: list[BatchItem] = []
    seen: set[str] = set()
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.split("#", 1)[0].strip() if not raw.lstrip().startswith(("./", "/")) else raw.strip()
        if not line or line in seen:
            continue
        seen.add(line)
        try:
            if line.startswith(("pypi:", "npm:")):
                ecosystem, _, spec = line.partition(":")
                items.append(_release_item(line, spec, ecosystem))
                continue
            local = (listing.parent / line) if not os.path.isabs(line) else Path(line)
            # A line named like an archive is a local one, never a package (names end otherwise).
            if os.sep in line or "/" in line or local.exists() or line.lower().endswith(ARCHIVE_SUFFIXES):
                if not local.is_file() or not is_archive(local):
                    raise ConfigError(f"{line!r}: not an archive malwi unpacks (or not found)")
                items.append(BatchItem(line, path=str(local.resolve())))
                continue
            items.append(_release_item(line, line, default_ecosystem))
        except ConfigError as error:
            raise ConfigError(f"{path}:{number}: {error}") from None
    return items


def row_of(item: BatchItem, report: Any, seconds: float) -> dict[str, Any]:
    """A judged package as one output row: its verdict and the few objects that carry it."""
    source = dict(report.source or {})
    return {
        "input": item.line,
        "status": "ok",
        "label": report.label,
        "ecosystem": source.get("ecosystem", ""),
        "name": source.get("name", ""),
        "version": source.get("version", ""),
        "digest": source.get("digest", "") or report.file_info.sha256,
        "verdict": report.verdict,
        "malicious": report.malicious,
        "maliciousness": round(report.maliciousness, 4),
        "files": int(report.statistics.get("scanned", 0)),
        "objects": int(report.statistics.get("objects", 0)),
        "findings": [
            {
                "unit": unit.label,
                "file": file.path,
                "object": obj.name,
                "lines": list(obj.lines),
                "reach": obj.reach,
            }
            for unit, file, obj in report.findings
        ],
        "signals": [signal.get("kind", "") for signal in getattr(report, "signals", [])],
        "seconds": round(seconds, 3),
        "error": "",
    }


def error_row(item: BatchItem, error: BaseException | str, seconds: float = 0.0) -> dict[str, Any]:
    return {
        "input": item.line,
        "status": "error",
        "label": item.line,
        "ecosystem": item.ecosystem,
        "name": item.name,
        "version": item.version or "",
        "digest": "",
        "verdict": "",
        "malicious": False,
        "maliciousness": 0.0,
        "files": 0,
        "objects": 0,
        "findings": [],
        "signals": [],
        "seconds": round(seconds, 3),
        "error": str(error) if isinstance(error, MalwiError | str) else f"{type(error).__name__}: {error}",
    }


ROW_KEYS = tuple(error_row(BatchItem(""), "").keys())


def done_inputs(out: Path, retry_errors: bool) -> tuple[set[str], list[dict[str, Any]]]:
    """What an earlier run of this batch wrote to OUT: the inputs to skip, and its rows (a
    Parquet file is rewritten with them; a JSONL file is appended to)."""
    if not out.exists():
        return set(), []
    rows: list[dict[str, Any]] = []
    if out.suffix == ".parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(out).to_pylist()
    else:
        for line in out.read_text(encoding="utf-8").splitlines():
            try:
                row = json.loads(line)
            except ValueError:
                continue  # a line cut short when the last run was stopped: that package runs again
            if isinstance(row, dict) and isinstance(row.get("input"), str):
                rows.append(row)
    latest = {row["input"]: row for row in rows}
    done = {key for key, row in latest.items() if row.get("status") == "ok" or not retry_errors}
    return done, rows


class RowWriter:
    """Rows streamed to JSONL (one line each, flushed) or Parquet (row groups as they fill)."""

    def __init__(self, out: Path, earlier: list[dict[str, Any]]) -> None:
        self.out = out
        self.parquet = out.suffix == ".parquet"
        self.pending: list[dict[str, Any]] = []
        if self.parquet:
            import pyarrow as pa
            import pyarrow.parquet as pq

            self.schema = pa.schema(
                [
                    *(
                        (key, pa.string())
                        for key in (
                            "input",
                            "status",
                            "label",
                            "ecosystem",
                            "name",
                            "version",
                            "digest",
                            "verdict",
                        )
                    ),
                    ("malicious", pa.bool_()),
                    ("maliciousness", pa.float64()),
                    ("files", pa.int64()),
                    ("objects", pa.int64()),
                    ("findings", pa.string()),  # JSON: nested rows vary in shape
                    ("signals", pa.list_(pa.string())),
                    ("seconds", pa.float64()),
                    ("error", pa.string()),
                ]
            )
            self.partial = out.with_name(out.name + ".part")
            self.writer = pq.ParquetWriter(self.partial, self.schema)
            if earlier:
                self._write_parquet(earlier)
        else:
            self.handle = open(out, "a", encoding="utf-8")  # noqa: SIM115 - closed in close()

    def _write_parquet(self, rows: list[dict[str, Any]]) -> None:
        import pyarrow as pa

        shaped = [
            {
                **{k: row.get(k) for k in ROW_KEYS},
                "findings": row["findings"]
                if isinstance(row["findings"], str)
                else json.dumps(row["findings"]),
            }
            for row in rows
        ]
        self.writer.write_table(pa.Table.from_pylist(shaped, schema=self.schema))

    def write(self, row: dict[str, Any]) -> None:
        if self.parquet:
            self.pending.append(row)
            if len(self.pending) >= 256:
                self._write_parquet(self.pending)
                self.pending = []
        else:
            self.handle.write(json.dumps(row, ensure_ascii=False) + "\n")
            self.handle.flush()

    def close(self) -> None:
        if self.parquet:
            if self.pending:
                self._write_parquet(self.pending)
            self.writer.close()
            os.replace(self.partial, self.out)
        else:
            self.handle.close()


# --- Ray ----------------------------------------------------------------------------------------


def _fetch(item: BatchItem, index_url: str | None) -> tuple[dict[str, Any], bytes, str]:
    """A registry release resolved, downloaded and checked against its digest (a Ray task):
    its description, its bytes and its file name."""
    from malwi.sources.registries import download, file_name, resolve_npm, resolve_pypi

    resolve = resolve_pypi if item.ecosystem == "pypi" else resolve_npm
    release = resolve(item.name, item.version, index_url)
    with tempfile.TemporaryDirectory(prefix="malwi-batch-") as scratch:
        path = download(release, scratch)
        data = path.read_bytes()
    described = {
        "ecosystem": release.ecosystem,
        "name": release.name,
        "version": release.version,
        "filename": release.filename,
        "url": release.url,
        "digest": release.digest,
    }
    return described, data, file_name(release)


class Judge:
    """A Ray actor: one Scanner (one model load) judging one package at a time."""

    def __init__(self, options: dict[str, Any]) -> None:
        from malwi.engine import Scanner, ScanOptions

        self.scanner = Scanner(ScanOptions(**options))
        self.scanner.scorer  # noqa: B018 - loaded now, not in the first package's time

    def judge(self, item: BatchItem, download: list[Any]) -> dict[str, Any]:
        """The package's row. `download` holds the fetch task's reference for a release (in a
        list, so that Ray hands it over unresolved and a failed download is this package's
        error row, not the actor's), nothing for a local archive."""
        import ray

        from malwi.engine import Workspace

        started = time.perf_counter()
        try:
            fetched = ray.get(download[0]) if download else None
            with Workspace() as workspace:
                if fetched is None:
                    target = workspace.archive(Path(item.path), item.line, label=item.line)
                else:
                    source, data, filename = fetched
                    archive = workspace.folder() / filename  # `file_name`: one path component
                    archive.write_bytes(data)
                    target = workspace.archive(archive, filename, label=_label(source))
                    target.source = source
                report = self.scanner.judge(target)
            return row_of(item, report, time.perf_counter() - started)
        except (MalwiError, ray.exceptions.RayTaskError) as error:
            cause = error.cause if isinstance(error, ray.exceptions.RayTaskError) and error.cause else error
            return error_row(item, cause, time.perf_counter() - started)


def _label(source: dict[str, Any]) -> str:
    separator = "==" if source["ecosystem"] == "pypi" else "@"
    return f"{source['name']}{separator}{source['version']}"


def run_batch(
    items: list[BatchItem],
    out: Path,
    *,
    options: dict[str, Any],
    address: str | None = None,
    cpus: int | None = None,
    actors: int | None = None,
    gpus_per_actor: float = 0.0,
    index_url: str | None = None,
    retry_errors: bool = False,
    progress: bool = False,
) -> dict[str, int]:
    """Runs the batch on Ray; returns counts of rows written, skipped (done before) and errors."""
    try:
        import ray
    except ModuleNotFoundError:
        raise ConfigError("malwi batch needs Ray: pip install 'malwi-scanner[ray]'") from None
    from malwi.progress import Progress

    done, earlier = done_inputs(out, retry_errors)
    todo = [item for item in items if item.line not in done]
    # What OUT holds for the packages not judged again counts toward the batch's outcome too.
    before = {row["input"]: row for row in earlier if row["input"] in done}
    counts = {
        "written": 0,
        "skipped": len(items) - len(todo),
        "errors": sum(row.get("status") == "error" for row in before.values()),
        "malicious": sum(bool(row.get("malicious")) for row in before.values()),
    }
    started_ray = not ray.is_initialized()
    if started_ray:
        if address:
            ray.init(address=address, logging_level=logging.ERROR, log_to_driver=False)
        else:
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.ERROR, log_to_driver=False)
    writer = RowWriter(out, list(before.values()) if out.suffix == ".parquet" else [])
    try:
        if todo:
            available = int(ray.cluster_resources().get("CPU", 1))  # type: ignore[no-untyped-call]
            judge = ray.remote(num_cpus=1, num_gpus=gpus_per_actor)(Judge)
            # Network-bound, and a judge waits on it while holding its CPU: it must not need one.
            fetch = ray.remote(num_cpus=0, max_retries=2)(_fetch)
            # Downloads run ahead of the judges, at most a few per judge at a time.
            queue = iter(todo)
            running: dict[Any, tuple[BatchItem, Any]] = {}

            def submit(actor: Any) -> None:
                item = next(queue, None)
                if item is not None:
                    download = [fetch.remote(item, index_url)] if item.name else []
                    running[actor.judge.remote(item, download)] = (item, actor)

            for _ in range(max(1, min(actors or available, len(todo)))):
                submit(judge.remote(options))
            with Progress("malwi batch", len(todo), enabled=progress) as bar:
                while running:
                    (ready,), _ = ray.wait(list(running), num_returns=1)
                    item, actor = running.pop(ready)
                    try:
                        row = ray.get(ready)
                    except ray.exceptions.RayError as error:  # the actor died (a crash, a lost node)
                        row = error_row(item, f"the judging worker failed: {type(error).__name__}")
                        actor = judge.remote(options)
                    counts["errors"] += row["status"] == "error"
                    counts["malicious"] += bool(row["malicious"])
                    counts["written"] += 1
                    writer.write(row)
                    bar.step()
                    submit(actor)
    finally:
        writer.close()
        if started_ray:
            ray.shutdown()
    return counts
