#!/usr/bin/env python3
"""The package sets the reachability weights are fitted and measured on, made reproducibly.

- Benign: releases of the long-tail lists in `../shared/data` (`benign-longtail-pypi.txt`,
  `benign-longtail-npm.txt`), only names of their evaluation share, which no model is trained on
  (`malwi_research.download.evaluation_only`), the first N of each in a seeded order, fetched with malwi's own downloader (digests checked; nothing installed).
- Malicious: folders of `malwi-samples-python-malicious.tar.xz`, unpacked into the work folder
  (live malware: only ever parsed), the first N package names in a seeded order.
- Split by package name (all versions of a name on one side): `fit.tsv` (what
  `malwi research reach-weights` fits on) and `held-pypi.tsv`, `held-npm.tsv` (measured only;
  npm has no labelled malware here, so its set is benign only).

    python tools/reach_sets.py --work DIR [--pypi 800] [--npm 400] [--malicious 1200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import lzma
import tarfile
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from malwi.sources import registries
from malwi_research.download import evaluation_only

DATA = Path(__file__).resolve().parent.parent.parent / "shared" / "data"
LIMIT = 20 << 20  # the largest release fetched


def seeded(items: list[str], salt: str) -> list[str]:
    return sorted(items, key=lambda item: hashlib.sha256(f"{salt}:{item}".encode()).hexdigest())


def held_out(name: str) -> bool:
    """Which side a package name is on: half fitted on, half held out."""
    return int(hashlib.sha256(f"reach-split:{name.lower()}".encode()).hexdigest(), 16) % 2 == 1


def fetch(ecosystem: str, count: int, work: Path) -> list[tuple[str, Path]]:
    """(package name, downloaded file) of the first `count` releases that could be fetched."""
    listed = (DATA / f"benign-longtail-{ecosystem}.txt").read_text().split()
    separator = "==" if ecosystem == "pypi" else "@"
    entries = seeded([e for e in listed if evaluation_only(e.rsplit(separator, 1)[0])], "reach")[:count]

    def one(entry: str) -> tuple[str, Path] | None:
        try:
            if ecosystem == "pypi":
                name, version = entry.split("==", 1)
                release = registries.resolve_pypi(name, version, prefer_sdist=True, max_bytes=LIMIT)
            else:
                name, version = entry.rsplit("@", 1)
                release = registries.resolve_npm(name, version)
                if release.size > LIMIT:
                    return None
            folder = work / ecosystem / hashlib.sha256(entry.encode()).hexdigest()[:12]
            folder.mkdir(parents=True, exist_ok=True)
            return name, registries.download(release, folder)
        except Exception as error:  # noqa: BLE001 - a release that cannot be fetched is left out, said
            print(f"{entry}: not fetched: {error}")
            return None

    with ThreadPoolExecutor(6) as pool:
        return [found for found in pool.map(one, entries) if found is not None]


def malicious(work: Path) -> dict[str, list[Path]]:
    """Sample folders by package name, every name, in a seeded order (`main` takes the first
    `count` of each side)."""
    root = work / "malicious"
    if not root.exists():
        with (
            lzma.open(DATA / "malwi-samples-python-malicious.tar.xz") as packed,
            tarfile.open(fileobj=packed) as tar,
        ):
            tar.extractall(root, filter="data")  # the stdlib's safe filter: no links out, no devices
    folders = sorted((root / "python" / "malicious").iterdir())
    by_name: dict[str, list[Path]] = {}
    for folder in folders:
        by_name.setdefault(folder.name.rsplit("_", 1)[0].lower(), []).append(folder)
    return {name: by_name[name] for name in seeded(list(by_name), "reach-order")}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--pypi", type=int, default=800)
    parser.add_argument("--npm", type=int, default=400)
    parser.add_argument("--malicious", type=int, default=1200, help="package names per side")
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    lines: dict[str, list[str]] = {"fit": [], "held-pypi": [], "held-npm": []}
    for name, path in fetch("pypi", args.pypi, args.work):
        lines["held-pypi" if held_out(name) else "fit"].append(f"benign\t{path}")
    lines["held-npm"] = [f"benign\t{path}" for _, path in fetch("npm", args.npm, args.work)]
    sides = {False: 0, True: 0}
    for name, folders in malicious(args.work).items():
        side = held_out(name)
        if sides[side] == args.malicious:
            continue
        sides[side] += 1
        lines["held-pypi" if side else "fit"] += [f"malicious\t{folder}" for folder in folders]
    for name, listed in lines.items():
        (args.work / f"{name}.tsv").write_text("".join(line + "\n" for line in listed))
    print(json.dumps({name: len(listed) for name, listed in lines.items()}))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
