"""`malwi batch` on a local Ray cluster: packages per second with 1 CPU and with 2, paired by
round (each round runs both, alternating which goes first), medians reported.

The packages are archives of the standard library's top-level modules, a dozen modules each
(taken round the corpus), judged without the result cache; the time is the whole command (Ray's start,
one model load per actor, the judging).

    python benches/ray_throughput.py [--rounds 3] [--packages 64]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from conftest import stdlib_files  # benches/ is the script's folder


def packages(folder: Path, count: int) -> Path:
    """`count` archives of a dozen stdlib modules each, the modules taken round the corpus."""
    files = stdlib_files()
    lines = []
    for index in range(count):
        archive = folder / f"stdlib-part{index}-1.0.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            for offset in range(12):
                name = files[(index * 12 + offset) % len(files)]
                tar.add(name, arcname=f"stdlib-part{index}-1.0/{Path(name).name}")
        lines.append(archive.name)
    listing = folder / "list.txt"
    listing.write_text("\n".join(lines) + "\n")
    return listing


def timed(listing: Path, cpus: int, out: Path) -> float:
    out.unlink(missing_ok=True)
    command = [sys.executable, "-m", "malwi", "batch", str(listing), "-o", str(out), "--ray-cpus", str(cpus)]
    started = time.perf_counter()
    result = subprocess.run([*command, "--no-cache", "--quiet"], capture_output=True)
    seconds = time.perf_counter() - started
    if result.returncode not in (0, 1):
        sys.exit(f"malwi batch failed: {result.stderr.decode(errors='replace').strip()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--packages", type=int, default=64)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        listing = packages(Path(scratch), args.packages)
        single = Path(scratch) / "single.txt"
        single.write_text(listing.read_text().splitlines()[0] + "\n")
        out = Path(scratch) / "out.jsonl"
        one, two, start_one, start_two = [], [], [], []
        for round_ in range(args.rounds):
            order = (1, 2) if round_ % 2 == 0 else (2, 1)
            for cpus in order:
                (one if cpus == 1 else two).append(timed(listing, cpus, out))
                # The fixed cost: Ray's start, the actors' model loads, one package.
                (start_one if cpus == 1 else start_two).append(timed(single, cpus, out))
        rate = [args.packages / s for s in one], [args.packages / s for s in two]
        print(f"{args.packages} packages, {args.rounds} rounds, medians")
        print(f"--ray-cpus 1: {statistics.median(one):6.1f} s, {statistics.median(rate[0]):5.2f} packages/s")
        print(f"--ray-cpus 2: {statistics.median(two):6.1f} s, {statistics.median(rate[1]):5.2f} packages/s")
        ratios = [a / b for a, b in zip(one, two)]
        print(
            f"2 CPUs / 1 CPU: {statistics.median(ratios):.2f}x (per round: {', '.join(f'{r:.2f}' for r in ratios)})"
        )
        fixed = statistics.median(start_one), statistics.median(start_two)
        print(
            f"a one-package batch (Ray's start, model loads): {fixed[0]:.1f} s with 1 CPU, {fixed[1]:.1f} s with 2"
        )
        steady = [(a - f1) / (b - f2) for a, b, f1, f2 in zip(one, two, start_one, start_two)]
        print(f"2 CPUs / 1 CPU without that fixed cost: {statistics.median(steady):.2f}x")


if __name__ == "__main__":
    main()
