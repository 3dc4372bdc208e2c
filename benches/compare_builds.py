"""Two builds of malwi, timed against each other in one run: did a change make scans slower?

Each build is a folder to put first on PYTHONPATH (`--before` and `--after`; an empty string
means the malwi installed in this environment). Per round, both builds run each command once
on the same corpus, in alternating order; medians and the median of paired ratios
(after / before, below 1 is faster) are printed. Absolute times drift between machines and
minutes; ratios measured in the same run do not.

    python benches/compare_builds.py --before /tmp/old-malwi --after "" [--rounds 11] [--dir DIR]

Commands (all `-o /dev/null`, process start included):
- `scan json`: `malwi scan DIR --format json --no-cache`: compile, score, report with the model;
- `tokens`: `malwi scan DIR --format tokens`: compile only;
- `cached`: `malwi scan DIR --format json` with a warm result cache of the build's own.
"""

from __future__ import annotations

import argparse
import os
import shutil
import statistics
import subprocess
import sys
import sysconfig
import tempfile
import time
from pathlib import Path

COMMANDS = {
    "scan json": ["--format", "json", "--no-cache"],
    "tokens": ["--format", "tokens"],
    "cached": ["--format", "json"],
}


def run(build: str, corpus: Path, arguments: list[str], cache: Path) -> float:
    environment = {**os.environ, "MALWI_CACHE_DIR": str(cache)}
    if build:
        environment["PYTHONPATH"] = build + os.pathsep + environment.get("PYTHONPATH", "")
    started = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(corpus), *arguments, "--quiet", "-o", os.devnull],
        env=environment,
        capture_output=True,
    )
    elapsed = time.perf_counter() - started
    if result.returncode not in (0, 1):
        raise SystemExit(f"{build or 'installed'}: exit {result.returncode}: {result.stderr.decode()[-400:]}")
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--before", required=True, help="PYTHONPATH entry of the old build ('' = installed)")
    parser.add_argument("--after", required=True, help="PYTHONPATH entry of the new build ('' = installed)")
    parser.add_argument("--rounds", type=int, default=11)
    parser.add_argument("--dir", help="corpus (default: the standard library's top-level modules, copied)")
    args = parser.parse_args()
    builds = {"before": args.before, "after": args.after}
    with tempfile.TemporaryDirectory() as scratch:
        if args.dir:
            corpus = Path(args.dir)
        else:
            corpus = Path(scratch) / "stdlib"
            corpus.mkdir()
            for path in Path(sysconfig.get_paths()["stdlib"]).glob("*.py"):
                shutil.copy(path, corpus)
        caches = {name: Path(scratch) / f"cache-{name}" for name in builds}
        for name, build in builds.items():  # warm each build's own cache once
            run(build, corpus, COMMANDS["cached"], caches[name])
        size = sum(p.stat().st_size for p in corpus.rglob("*") if p.is_file())
        print(f"corpus: {corpus} ({size / 1e6:.2f} MB); {args.rounds} rounds, builds alternating")
        times: dict[tuple[str, str], list[float]] = {}
        for round_ in range(args.rounds):
            order = list(builds) if round_ % 2 == 0 else list(reversed(builds))
            for command, arguments in COMMANDS.items():
                for name in order:
                    seconds = run(builds[name], corpus, arguments, caches[name])
                    times.setdefault((command, name), []).append(seconds)
        print("| command | before (median) | after (median) | after / before (median of paired ratios) |")
        print("|---|---|---|---|")
        for command in COMMANDS:
            before, after = times[(command, "before")], times[(command, "after")]
            paired = statistics.median(a / b for a, b in zip(after, before))
            print(
                f"| {command} | {statistics.median(before):.3f} s | {statistics.median(after):.3f} s | {paired:.3f} |"
            )


if __name__ == "__main__":
    main()
