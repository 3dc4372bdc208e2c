"""The result cache, and configuration from `[tool.malwi]` and `.malwiignore` as the CLI sees them."""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest

import malwi
from malwi.engine.cache import ResultCache

from .conftest import EXAMPLES, FakeRegistry, run_malwi
from .tiny_model import build_tiny_bundle


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    target = tmp_path / "tree"
    shutil.copytree(EXAMPLES, target)
    return target


def scan_json(*args: str, cwd: Path | None = None, env: dict[str, str] | None = None) -> dict:
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", *args, "--format", "json"],
        capture_output=True,
        timeout=120,
        cwd=cwd,
        env={**os.environ, **(env or {})},
    )
    assert result.returncode in (0, 1), result.stderr
    return json.loads(result.stdout)


def cache_rows(private_cache: Path) -> dict[str, set[tuple[str, str]]]:
    """What the result cache holds: the (content SHA-256, language) of each file, by scorer key
    (package-unit model scores, kept beside them as `#unit` rows, are not files)."""
    with contextlib.closing(sqlite3.connect(private_cache / "results.sqlite3")) as connection:
        rows = connection.execute(
            "SELECT scorer, content_sha256, language FROM file_results WHERE language != '#unit'"
        ).fetchall()
    held: dict[str, set[tuple[str, str]]] = {}
    for scorer, digest, language in rows:
        held.setdefault(scorer, set()).add((digest, language))
    return held


def source_keys(tree: Path) -> set[tuple[str, str]]:
    """The cache key of each source file of the tree (the six examples; README.md is no source)."""
    return {
        (hashlib.sha256(Path(path).read_bytes()).hexdigest(), language)
        for path, language in malwi.discover([tree]).files
    }


def comparable(document: dict) -> dict:
    return {key: document[key] for key in ("malicious", "maliciousness", "verdict", "files", "file_info")}


def test_second_scan_comes_from_the_cache_and_says_the_same(tree: Path, private_cache: Path) -> None:
    first = scan_json(str(tree))
    second = scan_json(str(tree))
    assert (
        first["statistics"]["cached"] == 0
        and second["statistics"]["cached"] == first["statistics"]["scanned"] == 6
    )
    assert comparable(second) == comparable(first)
    assert second["statistics"]["objects_scored"] == first["statistics"]["objects_scored"]
    assert second["model"]["device"] == "cache" and first["model"]["device"] == "cpu"
    assert (private_cache / "results.sqlite3").is_file()
    # What the second scan read is what the first stored: each of the six files, under one key.
    assert len(source_keys(tree)) == 6
    assert list(cache_rows(private_cache).values()) == [source_keys(tree)]


def test_a_changed_file_is_rescanned_alone(tree: Path, private_cache: Path) -> None:
    scan_json(str(tree))
    (before,) = cache_rows(private_cache).values()
    loader = tree / "malicious-python" / "loader.py"
    loader.write_text(loader.read_text() + "\nVERSION = 2\n")
    again = scan_json(str(tree))
    assert again["statistics"]["cached"] == 5
    # The one file compiled and stored again is loader.py, by its new content.
    (after,) = cache_rows(private_cache).values()
    assert after - before == {(hashlib.sha256(loader.read_bytes()).hexdigest(), "python")}
    assert before <= after
    assert any(f["path"].endswith("loader.py") for f in again["files"])


def test_no_cache_neither_reads_nor_writes(tree: Path, private_cache: Path) -> None:
    first = scan_json(str(tree), "--no-cache")
    assert first["statistics"]["cached"] == 0 and not (private_cache / "results.sqlite3").exists()
    scan_json(str(tree))
    assert scan_json(str(tree), "--no-cache")["statistics"]["cached"] == 0


def test_another_model_misses(tree: Path, tmp_path: Path, private_cache: Path) -> None:
    scan_json(str(tree))
    tiny = build_tiny_bundle(tmp_path / "tiny")
    other = scan_json(str(tree), "--model", str(tiny))
    assert other["statistics"]["cached"] == 0 and other["model"]["name"] == "tiny-test-model"
    # Each model's results are kept apart: the same six files under two scorer keys.
    assert list(cache_rows(private_cache).values()) == [source_keys(tree)] * 2
    again = scan_json(str(tree), "--model", str(tiny))
    assert again["statistics"]["cached"] == 6
    assert again["statistics"]["scanned"] == 6 and again["model"]["device"] == "cache"


def test_a_threshold_below_the_listing_score_misses(tree: Path, tmp_path: Path) -> None:
    """Which objects a cached file lists depends on the suspicious threshold: part of the key.
    Without a unit model, --threshold is on the package score's scale, which lists objects;
    with one (the shipped model), it moves only the unit verdict, and the files stay cached."""
    tiny = str(build_tiny_bundle(tmp_path / "tiny"))
    scan_json(str(tree), "--model", tiny)
    low = scan_json(str(tree), "--model", tiny, "--threshold", "0.05")
    assert low["statistics"]["cached"] == 0
    scan_json(str(tree))
    strict = scan_json(str(tree), "--threshold", "1.0")
    assert strict["statistics"]["cached"] == 6 and strict["threshold"] == 1.0
    assert strict["verdict"] != "malicious"


def test_a_fully_cached_scan_imports_neither_numpy_nor_onnxruntime(tree: Path) -> None:
    scan_json(str(tree))
    probe = (
        "import sys; from malwi.cli import main; "
        f"code = main(['scan', {str(tree)!r}, '--quiet']); "
        "print(code, 'numpy' in sys.modules, 'onnxruntime' in sys.modules)"
    )
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, timeout=120)
    assert result.stdout.decode().split()[-3:] == ["1", "False", "False"], result.stderr


def test_concurrent_scans_share_the_cache(tree: Path, private_cache: Path) -> None:
    command = [sys.executable, "-m", "malwi", "scan", str(tree), "--format", "json", "--quiet"]
    runs = [subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE) for _ in range(3)]
    outputs = [run.communicate(timeout=180) for run in runs]
    assert [run.returncode for run in runs] == [1, 1, 1], [err for _, err in outputs]
    verdicts = {json.loads(out)["maliciousness"] for out, _ in outputs}
    assert len(verdicts) == 1
    final = scan_json(str(tree))
    assert final["statistics"]["cached"] == 6
    assert verdicts == {final["maliciousness"]}, "the cached verdict is the one all three scans gave"
    assert list(cache_rows(private_cache).values()) == [source_keys(tree)], "each file stored once, one key"


def test_an_unusable_cache_is_a_warning_not_a_failure(tree: Path, tmp_path: Path) -> None:
    blocker = tmp_path / "not-a-folder"
    blocker.write_text("a file where the cache folder should be")
    result = run_malwi("scan", str(tree), env={"MALWI_CACHE_DIR": str(blocker)})
    assert result.returncode == 1
    assert b"result cache unavailable, scanning without it" in result.stderr


def test_prune_drops_the_least_recently_used(tmp_path: Path) -> None:
    with ResultCache(tmp_path / "c.sqlite3") as cache:
        for i in range(5):
            cache.store([(f"{i:064x}", "python", {"n": i})], "scorer")
            time.sleep(0.01)
        assert cache.prune(max_rows=3) == 2
        kept = cache.lookup([(f"{i:064x}", "python") for i in range(5)], "scorer")
        assert sorted(v["n"] for v in kept.values()) == [2, 3, 4]
        assert cache.lookup([(f"{4:064x}", "python")], "other scorer") == {}


# --- configuration ------------------------------------------------------------------------------


def test_tool_malwi_settings_apply_and_the_command_line_wins(tmp_path: Path) -> None:
    project = tmp_path / "project"
    tree = project / "src"
    shutil.copytree(EXAMPLES, tree)
    (project / "pyproject.toml").write_text(
        '[project]\nname = "p"\n\n[tool.malwi]\nthreshold = 1.0\nformat = "json"\nexclude = ["malicious-javascript/"]\n'
    )
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(tree)], capture_output=True, cwd=project, timeout=120
    )
    document = json.loads(result.stdout)  # format from the config
    assert document["threshold"] == 1.0 and result.returncode == 0
    assert not any("malicious-javascript" in f["path"] for f in document["files"])
    assert document["statistics"]["skipped_ignored"] == 1
    # The one entry ignored is the malicious-javascript/ folder: the five other files are scanned.
    assert document["statistics"]["scanned"] == 5
    assert sorted(Path(f["path"]).relative_to(tree).as_posix() for f in document["files"]) == [
        "malicious-python/loader.py",
        "malicious-python/setup.py",
        "malicious-python/stealer.py",
    ]
    overridden = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(tree), "--threshold", "0.5", "-f", "text"],
        capture_output=True,
        cwd=project,
        timeout=120,
    )
    assert overridden.returncode == 1 and overridden.stdout.decode().splitlines()[-1].startswith(
        "=> malicious"
    )
    ignored = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(tree), "--no-config", "-q"],
        capture_output=True,
        cwd=project,
        timeout=120,
    )
    assert ignored.returncode == 1


def test_a_bad_setting_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "pyproject.toml").write_text("[tool.malwi]\nthreshold = 'high'\n")
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(EXAMPLES)], capture_output=True, cwd=tmp_path, timeout=120
    )
    stderr = result.stderr.decode()
    assert result.returncode == 2 and len(stderr.strip().splitlines()) == 1 and "threshold" in stderr, stderr


def test_malwiignore_of_a_scanned_folder_but_not_of_a_package_inside(tree: Path) -> None:
    (tree / ".malwiignore").write_text("malicious-javascript/\n")
    (tree / "malicious-python" / ".malwiignore").write_text("*\n")  # as if it came with the package
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(tree), "-f", "json"], capture_output=True, timeout=120
    )
    document = json.loads(result.stdout)
    paths = [f["path"] for f in document["files"]]
    assert not any("malicious-javascript" in p for p in paths)
    assert any(p.endswith("malicious-python/setup.py") for p in paths), "a nested .malwiignore hides nothing"
    assert any("malicious-python/.malwiignore: not honoured" in w for w in document["warnings"])
    assert b"not honoured" in result.stderr


def test_malwiignore_inside_an_archive_is_not_honoured(tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "pkg-1.0.tar.gz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(EXAMPLES / "malicious-python" / "setup.py", "pkg-1.0/setup.py")
        ignore = tmp_path / ".malwiignore"
        ignore.write_text("*\n")
        tar.add(ignore, "pkg-1.0/.malwiignore")
        tar.add(ignore, ".malwiignore")
    result = run_malwi("scan", str(archive), "-q")
    assert result.returncode == 1, result.stdout


def test_settings_from_inside_the_scanned_tree_are_announced(tree: Path) -> None:
    (tree / "pyproject.toml").write_text('[tool.malwi]\nexclude = ["*"]\n')
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", ".", "-f", "json"], capture_output=True, cwd=tree, timeout=120
    )
    # Nothing left to scan is an error, never a good verdict; the setting that caused it is named.
    assert result.returncode == 2 and result.stdout == b""
    assert b"inside the scanned tree; its [tool.malwi] set exclude" in result.stderr
    assert b"malwi: error: .: nothing was scanned" in result.stderr
    honest = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", ".", "--no-config", "-q"],
        capture_output=True,
        cwd=tree,
        timeout=120,
    )
    assert honest.returncode == 1


def test_project_extensions_do_not_filter_unpacked_packages(tmp_path: Path) -> None:
    import tarfile

    (tmp_path / "pyproject.toml").write_text('[tool.malwi]\nextensions = ["py"]\n')
    archive = tmp_path / "pkg-1.0.tgz"
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(EXAMPLES / "malicious-javascript" / "index.js", "package/index.js")
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(archive), "-q"],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert result.returncode == 1, result.stdout
    asked = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(archive), "-q", "--extensions", "py"],
        capture_output=True,
        cwd=tmp_path,
        timeout=120,
    )
    assert asked.returncode == 2, "an explicit --extensions still applies: nothing is left, which is an error"
    assert b"nothing was scanned" in asked.stderr


def test_a_scanned_archives_own_tool_malwi_is_not_obeyed(tmp_path: Path) -> None:
    import tarfile

    archive = tmp_path / "pkg-1.0.tar.gz"
    settings = tmp_path / "pyproject.toml"
    settings.write_text(
        '[project]\nname = "pkg"\n\n[tool.malwi]\nthreshold = 1.0\nexclude = ["*"]\nquiet = true\n'
    )
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(EXAMPLES / "malicious-python" / "setup.py", "pkg-1.0/setup.py")
        tar.add(settings, "pkg-1.0/pyproject.toml")
    settings.unlink()
    work = tmp_path / "elsewhere"
    work.mkdir()
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(archive), "-f", "json"],
        capture_output=True,
        cwd=work,
        timeout=120,
    )
    document = json.loads(result.stdout)
    assert result.returncode == 1 and document["verdict"] == "malicious"
    assert document["threshold"] < 1.0
    assert document["settings"] == {"config": None, "config_keys": [], "ignore_files": [], "exclude": []}


def test_an_explicit_config_and_the_ignores_applied_are_stated_in_the_report(
    tree: Path, tmp_path: Path
) -> None:
    config = tmp_path / "malwi.toml"
    config.write_text('[tool.malwi]\nexclude = ["malicious-javascript/"]\n')
    (tree / ".malwiignore").write_text("benign/\n")
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(tree), "-f", "json", "--config", str(config)],
        capture_output=True,
        timeout=120,
    )
    document = json.loads(result.stdout)
    assert document["settings"] == {
        "config": str(config),
        "config_keys": ["exclude"],
        "ignore_files": [str(tree / ".malwiignore")],
        "exclude": ["malicious-javascript/"],
    }
    text = run_malwi("scan", str(tree), "--config", str(config)).stdout.decode()
    assert f"settings from {config}: exclude" in text
    assert f"ignored as {tree / '.malwiignore'} says:" in text
    missing = run_malwi("scan", str(tree), "--config", str(tmp_path / "none.toml"))
    assert missing.returncode == 2 and b"none.toml" in missing.stderr and missing.stderr.count(b"\n") == 1
    (tmp_path / "empty.toml").write_text('[project]\nname = "x"\n')
    empty = run_malwi("scan", str(tree), "--config", str(tmp_path / "empty.toml"))
    assert empty.returncode == 2 and b"no [tool.malwi] table" in empty.stderr


def test_malwi_cache_shows_and_empties_the_one_cache_root(tree: Path, private_cache: Path) -> None:
    assert run_malwi("cache", "path").stdout.decode().strip() == str(private_cache)
    empty = json.loads(run_malwi("cache", "stats").stdout)
    assert empty["rows"] == 0 and empty["scorers"] == {}
    scan_json(str(tree))
    with contextlib.closing(sqlite3.connect(private_cache / "results.sqlite3")) as connection:
        held = dict(
            connection.execute("SELECT scorer, COUNT(*) FROM file_results GROUP BY scorer").fetchall()
        )
        units = connection.execute("SELECT COUNT(*) FROM file_results WHERE language = '#unit'").fetchone()[0]
    stats = json.loads(run_malwi("cache", "stats").stdout)
    assert stats["path"] == str(private_cache / "results.sqlite3")
    assert stats["scorers"] == held
    # A row per source file, and one per package unit the unit model scored.
    assert units >= 1 and stats["rows"] == len(source_keys(tree)) + units and stats["bytes"] > 0
    assert stats["newest_use"] and stats["newest_use"].startswith(time.strftime("%Y-", time.gmtime()))
    cleared = run_malwi("cache", "clear")
    assert cleared.returncode == 0 and f"cleared {stats['rows']} cached results" in cleared.stdout.decode()
    assert cache_rows(private_cache) == {}
    scan_json(str(tree))  # refilled by the next scan
    assert {scorer: len(keys) for scorer, keys in cache_rows(private_cache).items()} == {
        scorer: count for scorer, count in held.items() if not re.search(r":u[a-z_]+$", scorer)
    }


def test_the_registry_and_the_runtime_live_under_the_cache_root(
    private_cache: Path, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from malwi.engine.cache import cache_dir
    from malwi.registry import default_path

    monkeypatch.delenv("MALWI_REGISTRY", raising=False)
    assert default_path() == private_cache / "model_registry.sqlite3"
    listed = run_malwi("models", "list", env={"MALWI_REGISTRY": ""})
    assert listed.returncode == 0 and (private_cache / "model_registry.sqlite3").is_file()
    # Without MALWI_CACHE_DIR: the platform's user cache folder (XDG on Linux).
    monkeypatch.delenv("MALWI_CACHE_DIR")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    import platformdirs

    expected = tmp_path / "xdg" / "malwi" if sys.platform.startswith("linux") else None
    platform = Path(platformdirs.user_cache_dir("malwi", appauthor=False))
    assert cache_dir() == (expected or platform) == platform
    assert default_path() == platform / "model_registry.sqlite3"


def _archive(tmp_path: Path, name: str = "examples-1.0.tar.gz") -> Path:
    import tarfile

    archive = tmp_path / name
    with tarfile.open(archive, "w:gz") as tar:
        tar.add(EXAMPLES, arcname="examples-1.0")
    return archive


def _without_run_details(document: dict) -> dict:
    """A report without what differs between any two scans: its id, time and timing."""
    kept = {k: v for k, v in document.items() if k not in ("analysis_id", "timestamp")}
    skip = ("seconds", "device", "cached", "reports_cached")
    kept["statistics"] = {k: v for k, v in document["statistics"].items() if k not in skip}
    kept["model"] = {k: v for k, v in document["model"].items() if k != "device"}
    kept["results"] = json.loads(
        json.dumps(document["results"]).replace('"device": "cache"', '"device": "cpu"')
    )
    return kept


def test_an_unchanged_archive_is_answered_without_being_unpacked(tmp_path: Path, private_cache: Path) -> None:
    archive = _archive(tmp_path)
    first = scan_json(str(archive))
    assert "reports_cached" not in first["statistics"] and first["verdict"] == "malicious"
    held = cache_rows(private_cache)
    reports = {(d, lang) for keys in held.values() for d, lang in keys if lang.startswith("#report:")}
    assert [d for d, _ in reports] == [hashlib.sha256(archive.read_bytes()).hexdigest()]
    second = scan_json(str(archive))
    assert second["statistics"]["reports_cached"] == 1  # answered whole: nothing was unpacked
    assert _without_run_details(second) == _without_run_details(first)
    # Every renderer reads the restored report as it reads a fresh one.
    timing = re.compile(r"\d+\.\d+ s, (cpu|cache)|on (cpu|cache); |in \d+\.\d+ s")
    for fmt in ("text", "markdown"):
        fresh = run_malwi("scan", str(archive), "--no-cache", "--format", fmt)
        cached = run_malwi("scan", str(archive), "--format", fmt)
        assert cached.returncode == fresh.returncode == 1
        assert timing.sub("", cached.stdout.decode()) == timing.sub("", fresh.stdout.decode()), fmt
    logs = []
    for flag in ("--no-cache", "--cache-is-default"):
        log = json.loads(
            run_malwi("scan", str(archive), "--format", "sarif", *[flag][: flag == "--no-cache"]).stdout
        )
        properties = log["runs"][0]["properties"]
        properties.pop("statistics")
        properties["model"].pop("device")
        logs.append(log)
    assert logs[0] == logs[1]


def test_a_cached_archive_report_follows_the_name_it_is_given_now(
    tmp_path: Path, private_cache: Path
) -> None:
    archive = _archive(tmp_path)
    scan_json(str(archive))
    moved = tmp_path / "elsewhere" / "renamed.tgz"
    moved.parent.mkdir()
    shutil.copy(archive, moved)
    document = scan_json(str(moved))
    assert document["statistics"]["reports_cached"] == 1
    paths = [f["path"] for f in document["files"]]
    assert paths and all(p.startswith(f"{moved}/examples-1.0/") for p in paths)
    assert all(u["key"].startswith(str(moved)) for u in document["units"]) and document["input"] == [
        str(moved)
    ]


def test_a_changed_archive_or_other_settings_are_scanned_again(tmp_path: Path, private_cache: Path) -> None:
    archive = _archive(tmp_path)
    scan_json(str(archive))
    assert "reports_cached" not in scan_json(str(archive), "--threshold", "0.99")["statistics"]
    assert "reports_cached" not in scan_json(str(archive), "--max-archive-files", "999")["statistics"]
    with open(archive, "ab") as handle:
        handle.write(b"\0" * 512)  # other bytes, same members
    assert "reports_cached" not in scan_json(str(archive))["statistics"]


def test_a_report_row_that_does_not_verify_or_parse_is_rescanned(tmp_path: Path, private_cache: Path) -> None:
    archive = _archive(tmp_path)
    first = scan_json(str(archive))
    with contextlib.closing(sqlite3.connect(private_cache / "results.sqlite3")) as connection:
        connection.execute(
            "UPDATE file_results SET result = replace(result, '\"malicious\"', '\"good\"') WHERE language LIKE '#report:%'"
        )
        connection.commit()
    forged = scan_json(str(archive))
    assert (
        "reports_cached" not in forged["statistics"] and forged["verdict"] == first["verdict"] == "malicious"
    )
    assert scan_json(str(archive))["statistics"]["reports_cached"] == 1  # the row was replaced


def test_a_release_judged_before_is_not_downloaded_again(registry_server: str, private_cache: Path) -> None:
    from .test_sources import sdist, serve_pypi

    # (Not named `demo`: a package folder called demo/ is classed with examples, non-shipped.)
    stealer = sdist("helper", "1.0", body=(EXAMPLES / "malicious-python" / "stealer.py").read_bytes())
    serve_pypi("helper", "1.0", stealer)
    first = run_malwi("pypi", "helper", "1.0", "--format", "json")
    second = run_malwi("pypi", "helper", "1.0", "--format", "json")
    assert first.returncode == second.returncode == 1
    assert FakeRegistry.requests.count("/files/helper-1.0.tar.gz") == 1  # the second came from the cache
    fresh, cached = json.loads(first.stdout), json.loads(second.stdout)
    assert cached["statistics"]["reports_cached"] == 1 and cached["source"] == fresh["source"]
    assert _without_run_details(cached) == _without_run_details(fresh)
    assert run_malwi("pypi", "helper", "1.0", "--no-cache", "-q").returncode == 1
    assert FakeRegistry.requests.count("/files/helper-1.0.tar.gz") == 2


def test_a_cache_written_by_an_older_malwi_is_emptied_not_misread(tmp_path: Path) -> None:
    from malwi.engine.cache import SCHEMA_VERSION

    path = tmp_path / "results.sqlite3"
    with ResultCache(path, key=b"k" * 32):
        pass
    with contextlib.closing(sqlite3.connect(path)) as connection, connection:
        connection.execute("INSERT INTO file_results VALUES ('a' , 'python', 's', '{}', 'mac', 0)")
        connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION - 1}")
    with ResultCache(path, key=b"k" * 32) as cache:
        rows = cache.connection.execute("SELECT COUNT(*) FROM file_results").fetchone()[0]
        version = cache.connection.execute("PRAGMA user_version").fetchone()[0]
    assert (rows, version) == (0, SCHEMA_VERSION)
    assert cache.rejected == 0  # nothing was read, so nothing is reported as not verifying
