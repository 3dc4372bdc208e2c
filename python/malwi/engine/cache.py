"""The result cache: what the model said about a file, keyed by what decides it.

A key is the file's content (SHA-256), its language, the featurizer and the model (the SHA-256 of
its manifest, which pins every model file), plus the score from which objects are listed. A
second scan of an unchanged monorepo reads each file and its hash, and compiles and scores only
what changed; a new model or featurizer simply misses.

SQLite in WAL mode with a busy timeout: several malwi processes may scan at once; a cache that
cannot be opened or written is a warning, never a failed scan (the scan runs uncached).
Location: `cache_dir()`, malwi's one cache root (`$MALWI_CACHE_DIR`, else the platform's user
cache folder); `malwi cache path|stats|clear` shows and empties it.

Authenticated: whoever can write the cache could otherwise turn any verdict to good (a cache
folder restored in CI from an untrusted branch, say). Each row carries an HMAC-SHA256 of its
key and result under a per-user secret kept outside the cache folder (`$MALWI_CACHE_KEY`, else
`cache.key` in `config_dir()`, created
0600 on first use). A row that does not verify, or does not parse, is ignored and rescanned.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import sqlite3
import time
from collections.abc import Iterable, Sequence
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

FILE_NAME = "results.sqlite3"
# 2: records hold the module-level and other top scores and the file's imports. 3: rows are
# authenticated (mac). 4: file summaries hold the string-literal statistics (a row without them
# would be rescanned with a warning about rows that do not verify: dropped at once instead).
SCHEMA_VERSION = 4
KEY_FILE = "cache.key"
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
    mac TEXT NOT NULL,
    used REAL NOT NULL,
    PRIMARY KEY (content_sha256, language, scorer)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS file_results_used ON file_results (used);
"""


def cache_dir() -> Path:
    """malwi's one cache root: the result cache, the model registry (unless `$MALWI_REGISTRY`)
    and ONNX Runtime's files. `$MALWI_CACHE_DIR`, else the platform's user cache folder
    (`$XDG_CACHE_HOME/malwi` or `~/.cache/malwi` on Linux, `~/Library/Caches/malwi` on macOS,
    `%LOCALAPPDATA%\\malwi\\Cache` on Windows)."""
    if os.environ.get("MALWI_CACHE_DIR"):
        return Path(os.environ["MALWI_CACHE_DIR"])
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("malwi", appauthor=False))


def config_dir() -> Path:
    """Where the cache key lives, outside the cache: `$MALWI_CONFIG_DIR`, else the platform's
    user configuration folder (`$XDG_CONFIG_HOME/malwi` or `~/.config/malwi` on Linux)."""
    if os.environ.get("MALWI_CONFIG_DIR"):
        return Path(os.environ["MALWI_CONFIG_DIR"])
    from platformdirs import user_config_dir

    return Path(user_config_dir("malwi", appauthor=False))


def cache_key() -> bytes:
    """The secret rows are authenticated with: `$MALWI_CACHE_KEY` (a CI secret, so that a cache
    restored between runs is still trusted), else the user's key file, made on first use."""
    given = os.environ.get("MALWI_CACHE_KEY")
    if given:
        return hashlib.sha256(given.encode()).digest()
    path = config_dir() / KEY_FILE
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    path.parent.mkdir(parents=True, exist_ok=True)
    key = secrets.token_bytes(32)
    try:
        handle = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:  # another malwi made it just now
        return bytes.fromhex(path.read_text().strip())
    with os.fdopen(handle, "w") as out:
        out.write(key.hex() + "\n")
    return key


def _when(seconds: Any) -> str | None:
    if not isinstance(seconds, int | float):
        return None
    return datetime.fromtimestamp(seconds, timezone.utc).isoformat(timespec="seconds")


class ResultCache:
    """`lookup` many keys at once, `store` many rows in one transaction. `rejected` counts the
    rows `lookup` ignored because they did not verify or parse."""

    def __init__(self, path: str | os.PathLike[str] | None = None, key: bytes | None = None) -> None:
        self.key = key if key is not None else cache_key()
        self.rejected = 0
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
                f"SELECT content_sha256, language, result, mac, used FROM file_results "  # nosec B608 - only placeholders
                f"WHERE scorer = ? AND (content_sha256, language) IN (VALUES {marks})",
                [scorer, *[part for key in batch for part in key]],
            ).fetchall()
            for digest, language, result, mac, used in rows:
                record = self._verified(digest, language, scorer, result, mac)
                if record is None:
                    self.rejected += 1  # a miss: rescanned, and the row replaced
                    continue
                found[(digest, language)] = record
                if isinstance(used, int | float) and used < stale:
                    touched.append((digest, language))
        # Recency only steers pruning: refreshed at most daily, so a cached scan rarely writes.
        self._write(
            "UPDATE file_results SET used = ? WHERE content_sha256 = ? AND language = ? AND scorer = ?",
            [(now, digest, language, scorer) for digest, language in touched],
        )
        return found

    def _mac(self, digest: str, language: str, scorer: str, result: str) -> str:
        message = "\x00".join((digest, language, scorer, result)).encode("utf-8", "surrogatepass")
        return hmac.new(self.key, message, hashlib.sha256).hexdigest()

    def _verified(
        self, digest: Any, language: Any, scorer: str, result: Any, mac: Any
    ) -> dict[str, Any] | None:
        """The row's record when its MAC is this user's and it parses as an object; else None."""
        if not all(isinstance(v, str) for v in (digest, language, result, mac)):
            return None
        if not hmac.compare_digest(self._mac(digest, language, scorer, result), mac):
            return None
        try:
            record = json.loads(result)
        except ValueError:
            return None
        return record if isinstance(record, dict) else None

    def store(self, rows: Iterable[tuple[str, str, dict[str, Any]]], scorer: str) -> None:
        now = time.time()
        prepared = []
        for digest, language, result in rows:
            text = json.dumps(result, separators=(",", ":"))
            prepared.append((digest, language, scorer, text, self._mac(digest, language, scorer, text), now))
        self._write(
            "INSERT OR REPLACE INTO file_results (content_sha256, language, scorer, result, mac, used) "
            "VALUES (?, ?, ?, ?, ?, ?)",
            prepared,
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

    def stats(self) -> dict[str, Any]:
        """What the cache holds: rows, rows per scorer (compiler, featurizer and model), its
        size on disk and when rows were last used."""
        (rows,) = self.connection.execute("SELECT COUNT(*) FROM file_results").fetchone()
        scorers = self.connection.execute(
            "SELECT scorer, COUNT(*) FROM file_results GROUP BY scorer ORDER BY COUNT(*) DESC"
        ).fetchall()
        oldest, newest = self.connection.execute("SELECT MIN(used), MAX(used) FROM file_results").fetchone()
        size = sum(
            os.path.getsize(f"{self.path}{suffix}")
            for suffix in ("", "-wal", "-shm")
            if os.path.exists(f"{self.path}{suffix}")
        )
        return {
            "path": str(self.path),
            "rows": int(rows),
            "bytes": size,
            "scorers": {str(scorer): int(count) for scorer, count in scorers},
            "oldest_use": _when(oldest),
            "newest_use": _when(newest),
        }

    def clear(self) -> int:
        """Drops every row (other malwi processes may have the file open: rows go, the file
        stays) and gives the space back; returns how many rows there were."""
        (rows,) = self.connection.execute("SELECT COUNT(*) FROM file_results").fetchone()
        self._write("DELETE FROM file_results", [()])
        self.connection.execute("VACUUM")
        return int(rows)

    def close(self) -> None:
        self.connection.close()

    def __enter__(self) -> ResultCache:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
