"""Progress bars on stderr: for downloads, long scans and research steps.

Drawn only when stderr is a terminal and the user did not ask for quiet; a redirected or piped
stderr (CI logs) never fills up with carriage returns.
"""

from __future__ import annotations

import sys
import time

WIDTH = 24


def _size(count: float) -> str:
    for unit in ("B", "KB", "MB", "GB"):
        if count < 1024 or unit == "GB":
            return f"{count:.0f} {unit}" if unit == "B" else f"{count:.1f} {unit}"
        count /= 1024
    return f"{count:.1f} GB"  # pragma: no cover - the loop always returns


class Progress:
    """`Progress("download", total, unit="bytes")`; `step(n)` as work gets done; `close()`.

    `total` may be 0 when unknown (a download without Content-Length): then only the count shows.
    """

    def __init__(
        self, label: str, total: int = 0, *, unit: str = "items", enabled: bool | None = None
    ) -> None:
        self.label = label
        self.total = total
        self.unit = unit
        self.done = 0
        self.started = time.perf_counter()
        self.enabled = sys.stderr.isatty() if enabled is None else enabled
        # The first draw waits a quarter of a second: work that finishes sooner shows no bar.
        self._drawn_at = self.started + 0.15
        self._drawn = False

    def _amount(self, value: int) -> str:
        return _size(value) if self.unit == "bytes" else f"{value:,}"

    def line(self) -> str:
        elapsed = time.perf_counter() - self.started
        if self.total > 0:
            share = min(self.done / self.total, 1.0)
            filled = int(share * WIDTH)
            bar = "█" * filled + "·" * (WIDTH - filled)
            return (
                f"{self.label} {bar} {self._amount(self.done)}/{self._amount(self.total)} ({elapsed:.0f} s)"
            )
        return f"{self.label} {self._amount(self.done)} ({elapsed:.0f} s)"

    def step(self, count: int = 1) -> None:
        self.done += count
        if not self.enabled:
            return
        now = time.perf_counter()
        # At most ten redraws a second: drawing must never cost more than the work.
        if now - self._drawn_at >= 0.1 or (self._drawn and self.total and self.done >= self.total):
            self._drawn_at = now
            self._drawn = True
            print(f"\r\x1b[2K{self.line()}", end="", file=sys.stderr, flush=True)

    def close(self) -> None:
        if self.enabled and self._drawn:
            print(f"\r\x1b[2K{self.line()}", file=sys.stderr, flush=True)

    def __enter__(self) -> Progress:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()
