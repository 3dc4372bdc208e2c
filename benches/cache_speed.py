"""What the result cache buys: the first scan of a tree (empty cache, filled as it goes) against
a second scan of the unchanged tree, and a scan with `--no-cache`, end to end as a user runs
them (`malwi scan DIR --format json`), paired by round, medians reported. Then the same tree as
a `.tar.gz`: its cached rescan (answered whole from the cache, not unpacked) against the cached
rescan of the folder, in the same rounds.

Each round starts from an empty cache folder. Python may write bytecode, as it does for an
installed package (a development shell often sets PYTHONDONTWRITEBYTECODE, which would charge
every run for compiling malwi's own modules).

    python benches/cache_speed.py [--rounds 5] [--dir DIR]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

from model_speed import stdlib_copy  # the same corpus (benches/ is the script's folder)


def timed(command: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    result = subprocess.run(command, capture_output=True, env=env)
    seconds = time.perf_counter() - start
    if result.returncode not in (0, 1):
        sys.exit(f"{' '.join(command)} failed: {result.stderr.decode(errors='replace').strip()}")
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--dir", help="tree to scan (default: the stdlib's top-level modules, copied)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        corpus = Path(args.dir) if args.dir else stdlib_copy(Path(scratch))
        command = [sys.executable, "-m", "malwi", "scan", str(corpus), "--format", "json", "--quiet"]
        env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
        timed([sys.executable, "-m", "malwi", "--version"], env)  # bytecode written, files in the page cache
        first, second, uncached = [], [], []
        for round_ in range(args.rounds):
            env["MALWI_CACHE_DIR"] = str(Path(scratch) / f"cache{round_}")
            first.append(timed(command, env))
            second.append(timed(command, env))
            uncached.append(timed([*command, "--no-cache"], env))
        files = sum(1 for p in corpus.rglob("*") if p.is_file())
        print(f"corpus: {corpus} ({files} files), {args.rounds} rounds, medians")
        print(f"first scan (empty cache)   {statistics.median(first):7.3f} s")
        print(f"second scan (cached)       {statistics.median(second):7.3f} s")
        print(f"scan with --no-cache       {statistics.median(uncached):7.3f} s")
        ratios = [a / b for a, b in zip(first, second)]
        print(
            f"first / second             {statistics.median(ratios):7.1f}x (per round: {', '.join(f'{r:.1f}' for r in ratios)})"
        )
        ratios = [a / b for a, b in zip(uncached, second)]
        print(f"no-cache / second          {statistics.median(ratios):7.1f}x")

        archive = Path(scratch) / f"{corpus.name}.tar.gz"
        with tarfile.open(archive, "w:gz") as tar:
            tar.add(corpus, arcname=corpus.name)
        archived = [*command[:4], str(archive), *command[5:]]
        folder_cached, archive_cached = [], []
        for round_ in range(args.rounds):
            env["MALWI_CACHE_DIR"] = str(Path(scratch) / f"archive-cache{round_}")
            timed(command, env)
            timed(archived, env)
            folder_cached.append(timed(command, env))
            archive_cached.append(timed(archived, env))
        print(
            f"archive ({archive.stat().st_size:,} bytes) cached rescan {statistics.median(archive_cached):7.3f} s"
        )
        print(f"folder cached rescan       {statistics.median(folder_cached):7.3f} s")
        ratios = [a / b for a, b in zip(archive_cached, folder_cached)]
        print(f"archive / folder (cached)  {statistics.median(ratios):7.2f}x")


if __name__ == "__main__":
    main()
