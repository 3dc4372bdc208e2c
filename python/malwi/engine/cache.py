"""The result cache: what the model said about a file, keyed by what decides it.

A key is the file's content (SHA-256), its language, the featurizer and the model (the SHA-256 of
its manifest, which pins every model file), plus the score from which objects are listed. A
second scan of an unchanged monorepo reads each file and its hash, and compiles and scores only
what changed; a new model or featurizer simply misses.

SQLite in WAL mode with a busy timeout: several malwi processes may scan at once; a cache that
cannot be opened or written is a warning, never a failed scan (the scan runs uncached).
Location: `$MALWI_CACHE_DIR`, else `$XDG_CACHE_HOME/malwi`, else `~/.cache/malwi`.
"""

from __future__ import annotations

import json
import os
import sqlite3
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

FILE_NAME = "results.sqlite3"
# 2: records hold the module-level and other top scores and the file's imports.
SCHEMA_VERSION = 2
# Rows kept; the least recently used go first.
MAX_ROWS = 500_000
BATCH = 500
REFRESH_SECONDS = 24 * 3600

_SCHEMA = """
CREATE TABLE IF NOT EXISTS file_results (
    content_sha256 TEXT NOT NULL,
    language TEXT NOT NULL,
    scorer TEXT NOT NULL,
    result TEXT NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (content_sha256, language, scorer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_results_used ON file_results (used);
"""


def cache_dir() -> Path:
    if os.environ.get("MALWI_CACHE_DIR"):
        return Path(os.environ["MALWI_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
    return Path(base) / "malwi"


class ResultCache:
    """`lookup` many keys at once, `store` many rows in one transaction."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path else cache_dir() / FILE_NAME
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self.connection = sqlite3.connect(self.path, timeout=30, isolation_level=None)
        self.connection.execute("PRAGMA busy_timeout = 30000")
        version = self.connection.execute("PRAGMA user_version").fetchone()[0]
        if version not in (0, SCHEMA_VERSION):
            # A cache from another malwi: start over rather than misread it.
            self.connection.executescript("DROP TABLE IF EXISTS file_results;")
        self.connection.execute("PRAGMA journal_mode = WAL")
        self.connection.execute("PRAGMA synchronous = NORMAL")
        self.connection.executescript(_SCHEMA)
        self.connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")

    def lookup(self, keys: Sequence[tuple[str, str]], scorer: str) -> dict[tuple[str, str], dict[str, Any]]:
        """Cached results for (content sha256, language) pairs under one scorer key."""
        found: dict[tuple[str, str], dict[str, Any]] = {}
        now = time.time()
        stale = now - REFRESH_SECONDS
        touched: list[tuple[str, str]] = []
        wanted = sorted(set(keys))
        for start in range(0, len(wanted), BATCH):
            batch = wanted[start : start + BATCH]
            marks = ",".join("(?, ?)" for _ in batch)
            rows = self.connection.execute(
                f"SELECT content_sha256, language, result, used FROM file_results "  # nosec B608 - only placeholders
                f"WHERE scorer = ? AND (content_sha256, language) IN (VALUES {marks})",
                [scorer, *[part for key in batch for part in key]],
            ).fetchall()
            for digest, language, result, used in rows:
                found[(digest, language)] = json.loads(result)
                if used < stale:
                    touched.append((digest, language))
        # Recency only steers pruning: refreshed at most daily, so a cached scan rarely writes.
        self._write(
            "UPDATE file_results SET used = ? WHERE content_sha256 = ? AND language = ? AND scorer = ?",
            [(now, digest, language, scorer) for digest, language in touched],
        )
        return found

    def store(self, rows: Iterable[tuple[str, str, dict[str, Any]]], scorer: str) -> None:
        now = time.time()
        self._write(
            "INSERT OR REPLACE INTO file_results (content_sha256, language, scorer, result, used) VALUES (?, ?, ?, ?, ?)",
            [
                (digest, language, scorer, json.dumps(result, separators=(",", ":")), now)
                for digest, language, result in rows
            ],
        )

    def prune(self, max_rows: int = MAX_ROWS) -> int:
        """Drops the least recently used rows beyond `max_rows`; returns how many."""
        (count,) = self.connection.execute("SELECT COUNT(*) FROM file_results").fetchone()
        excess = int(count) - max_rows
        if excess > 0:
            self._write(
                "DELETE FROM file_results WHERE (content_sha256, language, scorer) IN "
                "(SELECT content_sha256, language, scorer FROM file_results ORDER BY used LIMIT ?)",
                [(excess,)],
            )
        return max(excess, 0)

    def _write(self, statement: str, rows: list[tuple[Any, ...]]) -> None:
        if not rows:
            return
        self.connection.execute("BEGIN IMMEDIATE")
        try:
            self.connection.executemany(statement, rows)
        except BaseException:
            self.connection.execute("ROLLBACK")
            raise
        self.connection.execute("COMMIT")

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
