"""Shared helpers. Nothing here (or anywhere in the tests) imports or runs scanned code."""

from __future__ import annotations

import http.server
import os
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import pytest

ROOT = Path(__file__).resolve().parent.parent
EXAMPLES = ROOT / "examples"


def run_malwi(
    *args: str, timeout: float = 120, input: bytes | None = None, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[bytes]:
    """Runs the installed CLI exactly as a user would: `python -m malwi ...` (`env` adds to
    the environment)."""
    return subprocess.run(
        [sys.executable, "-m", "malwi", *args],
        capture_output=True,
        timeout=timeout,
        input=input,
        env={**os.environ, **env} if env else None,
    )


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory: pytest.TempPathFactory, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Each test gets an empty result cache (subprocesses inherit the variable): no test sees
    another's cached verdicts, and nothing is written to the user's cache folder."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("MALWI_CACHE_DIR", str(folder))
    # The cache's key lives outside the cache folder; never the user's own in a test.
    monkeypatch.setenv("MALWI_CONFIG_DIR", str(tmp_path_factory.mktemp("config")))
    monkeypatch.delenv("MALWI_CACHE_KEY", raising=False)
    return folder


def write_tree(root: Path, files: dict[str, str]) -> Path:
    """Writes `files` (relative path -> text) under `root`, folders included; returns `root`."""
    for name, text in files.items():
        path = root / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    return root


@pytest.fixture
def examples() -> Path:
    return EXAMPLES


class FakeRegistry(http.server.BaseHTTPRequestHandler):
    """PyPI- and npm-shaped answers from a real HTTP server on loopback.

    `routes` maps a path to `(status, body)`; status 0 drops the connection without an answer
    (a network error). Every request path is appended to `requests`."""

    # Class attributes on purpose: the server makes a handler per request, the test sets them once.
    routes: ClassVar[dict[str, tuple[int, bytes]]] = {}
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        status, body = self.routes.get(self.path, (404, b"not found"))
        if status == 0:
            self.close_connection = True
            self.connection.close()
            return
        self.send_response(status)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def registry_server(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    """A loopback registry: `$MALWI_PYPI_URL` is `<base>/pypi`, `$MALWI_NPM_URL` `<base>/npm`
    (also for `malwi` subprocesses started by the test, which inherit the environment)."""
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), FakeRegistry)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}"
    monkeypatch.setenv("MALWI_PYPI_URL", base + "/pypi")
    monkeypatch.setenv("MALWI_NPM_URL", base + "/npm")
    FakeRegistry.routes = {}
    FakeRegistry.requests = []
    yield base
    httpd.shutdown()
    httpd.server_close()
