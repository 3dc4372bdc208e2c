"""`malwi batch`: packages judged on a local Ray cluster (2 CPUs, started by the command), rows
streamed, one failure an error row, resumable. Archives are built from the shipped (defanged)
examples; registry releases come from the loopback registry."""

from __future__ import annotations

import json
import tarfile
from pathlib import Path
from typing import Any

import pytest

from malwi.batch import BatchItem, done_inputs, parse_list
from malwi.errors import ConfigError

from .conftest import EXAMPLES, FakeRegistry, run_malwi
from .test_sources import sdist, serve_pypi


def archive(path: Path, folder: Path) -> Path:
    with tarfile.open(path, "w:gz") as tar:
        tar.add(folder, arcname=folder.name)
    return path


def rows(out: Path) -> dict[str, dict[str, Any]]:
    found = [json.loads(line) for line in out.read_text().splitlines()]
    assert len(found) == len({r["input"] for r in found}), "each package once"
    return {r["input"]: r for r in found}


def test_the_list_names_releases_and_archives(tmp_path: Path) -> None:
    archive(tmp_path / "local.tar.gz", EXAMPLES / "benign")
    listing = tmp_path / "list.txt"
    listing.write_text(
        "# packages\nsix\nsix==1.16.0\npypi:requests==2.32.3\nnpm:left-pad@1.3.0\nnpm:@types/node\n"
        "npm:@scope/pkg@2.0.0\nlocal.tar.gz  \nsix\n"
    )
    items = parse_list(listing)
    described = [(i.ecosystem, i.name, i.version, Path(i.path).name if i.path else "") for i in items]
    assert described == [
        ("pypi", "six", None, ""),
        ("pypi", "six", "1.16.0", ""),
        ("pypi", "requests", "2.32.3", ""),
        ("npm", "left-pad", "1.3.0", ""),
        ("npm", "@types/node", None, ""),
        ("npm", "@scope/pkg", "2.0.0", ""),
        ("", "", None, "local.tar.gz"),
    ]
    assert [i.ecosystem for i in parse_list(listing, "npm")][:2] == ["npm", "npm"]
    for bad, where in (
        ("six==\n", "list.txt:1"),
        ("ok\nmissing.tar.gz\n", "list.txt:2"),
        ("two words\n", "list.txt:1"),
    ):
        listing.write_text(bad)
        with pytest.raises(ConfigError, match=where):
            parse_list(listing)


def test_a_batch_on_a_local_ray_cluster(tmp_path: Path, registry_server: str) -> None:
    bad = EXAMPLES / "malicious-python"
    archive(tmp_path / "evil-1.0.tar.gz", bad)
    archive(tmp_path / "tidy-1.0.tar.gz", EXAMPLES / "benign")
    (tmp_path / "broken-1.0.tar.gz").write_bytes(archive(tmp_path / "whole.tar.gz", bad).read_bytes()[:200])
    serve_pypi("demo", "1.0", sdist())
    listing = tmp_path / "list.txt"
    listing.write_text("evil-1.0.tar.gz\ntidy-1.0.tar.gz\nbroken-1.0.tar.gz\ndemo==1.0\nnot-there==9.9\n")
    out = tmp_path / "out.jsonl"
    result = run_malwi("batch", str(listing), "-o", str(out), "--ray-cpus", "2", "--no-cache", timeout=300)
    assert result.returncode == 1, result.stderr  # a malicious package
    found = rows(out)
    assert set(found) == {
        "evil-1.0.tar.gz",
        "tidy-1.0.tar.gz",
        "broken-1.0.tar.gz",
        "demo==1.0",
        "not-there==9.9",
    }
    assert found["evil-1.0.tar.gz"]["verdict"] == "malicious" and found["evil-1.0.tar.gz"]["findings"]
    assert found["tidy-1.0.tar.gz"]["verdict"] == "good" and found["tidy-1.0.tar.gz"]["findings"] == []
    assert found["demo==1.0"]["status"] == "ok" and found["demo==1.0"]["name"] == "demo"
    assert found["demo==1.0"]["digest"].startswith("sha256:")
    assert "/files/demo-1.0.tar.gz" in FakeRegistry.requests
    assert found["broken-1.0.tar.gz"]["status"] == "error" and found["broken-1.0.tar.gz"]["error"]
    assert found["not-there==9.9"]["status"] == "error" and "not-there" in found["not-there==9.9"]["error"]
    assert "5 packages judged" in result.stderr.decode() and "2 errors" in result.stderr.decode()

    # Run again: every row is there, nothing is judged again; the outcome is still OUT's.
    before = out.read_text()
    again = run_malwi("batch", str(listing), "-o", str(out), "--ray-cpus", "2", timeout=300)
    assert again.returncode == 1 and out.read_text() == before
    assert "0 packages judged" in again.stderr.decode() and "5 done before" in again.stderr.decode()
    retried = run_malwi(
        "batch", str(listing), "-o", str(out), "--ray-cpus", "1", "--retry-errors", timeout=300
    )
    assert retried.returncode == 1 and "2 packages judged" in retried.stderr.decode()
    done, kept = done_inputs(out, retry_errors=False)
    assert len(kept) == 7 and done == set(found)


def test_parquet_rows_and_resume(tmp_path: Path) -> None:
    import pyarrow.parquet as pq

    archive(tmp_path / "evil-1.0.tar.gz", EXAMPLES / "malicious-python")
    listing = tmp_path / "list.txt"
    listing.write_text("evil-1.0.tar.gz\n")
    out = tmp_path / "out.parquet"
    assert run_malwi("batch", str(listing), "-o", str(out), "--ray-cpus", "1", timeout=300).returncode == 1
    archive(tmp_path / "tidy-1.0.tar.gz", EXAMPLES / "benign")
    listing.write_text("evil-1.0.tar.gz\ntidy-1.0.tar.gz\n")
    assert run_malwi("batch", str(listing), "-o", str(out), "--ray-cpus", "1", timeout=300).returncode == 1
    table = pq.read_table(out).to_pylist()
    assert [(r["input"], r["verdict"]) for r in table] == [
        ("evil-1.0.tar.gz", "malicious"),
        ("tidy-1.0.tar.gz", "good"),
    ]
    assert json.loads(table[0]["findings"]) and not out.with_name("out.parquet.part").exists()


def test_an_item_knows_its_line() -> None:
    assert repr(BatchItem("six==1.0", "pypi", "six", "1.0")) == "BatchItem('six==1.0')"
