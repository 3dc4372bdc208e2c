"""Progress bars: drawn on stderr only when enabled, never for work that ends at once."""

from __future__ import annotations

import pytest

from malwi import progress
from malwi.progress import Progress

from .conftest import EXAMPLES, run_malwi


class Clock:
    def __init__(self) -> None:
        self.now = 100.0

    def __call__(self) -> float:
        return self.now


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> Clock:
    fake = Clock()
    monkeypatch.setattr(progress.time, "perf_counter", fake)
    return fake


def test_a_long_download_draws_a_bar_and_ends_the_line(
    clock: Clock, capsys: pytest.CaptureFixture[str]
) -> None:
    with Progress("requests==2.0", 4 * 1024 * 1024, unit="bytes", enabled=True) as bar:
        for _ in range(4):
            clock.now += 1.0
            bar.step(1024 * 1024)
    err = capsys.readouterr().err
    assert err.count("\r") >= 4 and err.endswith("\n")
    assert "requests==2.0 ████████████████████████ 4.0 MB/4.0 MB (4 s)" in err


def test_quick_work_and_disabled_bars_draw_nothing(clock: Clock, capsys: pytest.CaptureFixture[str]) -> None:
    with Progress("scan", 3, enabled=True) as bar:
        bar.step(3)  # done before the first draw is due
    with Progress("scan", 3, enabled=False) as bar:
        clock.now += 10
        bar.step(3)
    assert capsys.readouterr().err == ""


def test_unknown_total_shows_the_count(clock: Clock) -> None:
    bar = Progress("download", 0, unit="bytes", enabled=False)
    clock.now += 2
    bar.step(2048)
    assert bar.line() == "download 2.0 KB (2 s)"


def test_no_bar_when_stderr_is_not_a_terminal() -> None:
    result = run_malwi("scan", str(EXAMPLES))
    assert b"\r" not in result.stderr and b"\x1b[" not in result.stderr
