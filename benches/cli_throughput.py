"""The issue's targets, measured as a user meets them.

Wall time of `malwi scan DIR --format tokens --workers N -o /dev/null` (process start, imports and
output included) on the standard library's top-level modules, interleaved round by round with
tree-sitter's parse-only time for the same files (in this process, so without any start-up).
The machine is noisy: rounds are paired and medians quoted.

    python benches/cli_throughput.py [--rounds 15] [--dir DIR]
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

from malwi import _malwi


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rounds", type=int, default=15)
    parser.add_argument("--dir", help="corpus (default: the stdlib's top-level modules, copied)")
    args = parser.parse_args()

    with tempfile.TemporaryDirectory() as scratch:
        if args.dir:
            corpus = Path(args.dir)
        else:
            corpus = Path(scratch) / "stdlib"
            corpus.mkdir()
            for path in Path(sysconfig.get_paths()["stdlib"]).glob("*.py"):
                shutil.copy(path, corpus)
        files = sorted(str(p) for p in corpus.glob("*.py"))
        size = sum(Path(f).stat().st_size for f in files)
        malwi_cli = [sys.executable, "-m", "malwi"]
        print(f"corpus: {len(files)} files, {size / 1e6:.2f} MB; {args.rounds} paired rounds")

        cli: dict[int, list[float]] = {1: [], 2: []}
        parse: dict[int, list[float]] = {1: [], 2: []}
        for _ in range(args.rounds):
            for workers in (1, 2):
                start = time.perf_counter()
                subprocess.run(
                    [
                        *malwi_cli,
                        "scan",
                        str(corpus),
                        "--format",
                        "tokens",
                        "--workers",
                        str(workers),
                        "-o",
                        "/dev/null",
                    ],
                    check=True,
                )
                cli[workers].append(time.perf_counter() - start)
                start = time.perf_counter()
                _malwi.parse_files(files, workers=workers)
                parse[workers].append(time.perf_counter() - start)

        for workers in (1, 2):
            c, p = statistics.median(cli[workers]), statistics.median(parse[workers])
            paired = statistics.median(pp / cc for pp, cc in zip(parse[workers], cli[workers]))
            print(
                f"workers={workers}: malwi scan {size / c / 1e6:.2f} MB/s (median {c:.3f} s), "
                f"parse-only {size / p / 1e6:.2f} MB/s (median {p:.3f} s), "
                f"scan/parse throughput {p / c:.2f} (median of paired ratios {paired:.2f})"
            )
        speedup = statistics.median(a / b for a, b in zip(cli[1], cli[2]))
        print(f"2 workers vs 1 worker (malwi scan, median of paired ratios): {speedup:.2f}x")

        peak = subprocess.run(
            ["/usr/bin/time", "-f", "%M", *malwi_cli, "scan", str(corpus), "-f", "tokens", "-o", "/dev/null"],
            capture_output=True,
            text=True,
        )
        if peak.returncode == 0:
            print(
                f"peak RSS of malwi scan on the corpus: {int(peak.stderr.strip().splitlines()[-1]) / 1024:.0f} MB"
            )


if __name__ == "__main__":
    main()
