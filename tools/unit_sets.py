#!/usr/bin/env python3
"""The labelled packages the package-unit model is trained, chosen and tested on, made
reproducibly: `W/units.tsv`, one package a line (`label  split  ecosystem  name  path`), which
`malwi research unit-features W/units.tsv` scans.

- Benign, trained on or chosen with (`train` / `validation`, by a hash of the name): releases of
  the training share of the long-tail lists (small recent packages: most of a registry feed) and
  the latest release of popular names (large projects with tests and vendored code).
- Benign, **test only**: releases of the long-tail lists' evaluation share
  (`malwi_research.download.evaluation_only`), which nothing is trained or tuned on: the
  false-positive rate a registry feed would see.
- Malicious: every package folder of `malwi-samples-python-malicious.tar.xz` (live malware: only
  ever parsed), split 60/20/20 by package name. These samples also trained the object model, so
  recall measured on them says what the unit model adds on top of it, not how well unseen malware
  is found. And, **test only**, the hand-written defanged npm set of `data/validation/npm-malicious`.
- Malicious npm: the committed JavaScript rewrites of the Python samples
  (`data/training/synthetic-javascript`, `malwi research augment`), each in its source
  package's split and under its source's name (so grouped with it), written out under `W/synthetic-javascript`.

Downloads use malwi's own fetcher (digests checked, nothing installed) and are kept, so a rerun
fetches only what is missing.

    python tools/unit_sets.py --work DIR [--longtail-pypi 2000] [--longtail-npm 800]
        [--test-pypi 1400] [--test-npm 700] [--popular-pypi 300] [--popular-npm 200]
"""

from __future__ import annotations

import argparse
import hashlib
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from reach_sets import DATA, LIMIT, malicious, seeded

from malwi.sources import registries
from malwi_research.augment import REWRITES_FILE, materialise
from malwi_research.download import evaluation_only, names

FIELDS = ("label", "split", "ecosystem", "name", "path")
REPOSITORY = Path(__file__).resolve().parent.parent
NPM_VALIDATION = REPOSITORY / "data" / "validation" / "npm-malicious"
CONFIG = REPOSITORY / "data" / "training" / "training_config.json"


def bucket(name: str, salt: str) -> float:
    """A name's place in [0, 1), the same in every run: all versions of a name on one side."""
    digest = hashlib.sha256(f"{salt}:{name.lower()}".encode()).digest()
    return int.from_bytes(digest[:8], "big") / 2**64


def benign_split(name: str) -> str:
    return "validation" if bucket(name, "unit-benign") < 0.25 else "train"


def malicious_split(name: str) -> str:
    place = bucket(name, "unit-malicious")
    return "train" if place < 0.6 else "validation" if place < 0.8 else "test"


def fetch(jobs: list[tuple[str, str, str | None]], work: Path) -> list[tuple[str, str, Path]]:
    """(ecosystem, name, downloaded file) of each job (ecosystem, name, version or None for the
    latest) that could be fetched; the others are said and left out."""

    def one(job: tuple[str, str, str | None]) -> tuple[str, str, Path] | None:
        ecosystem, name, version = job
        tag = f"{name}=={version}" if version else name
        try:
            if ecosystem == "pypi":
                release = registries.resolve_pypi(name, version, prefer_sdist=True, max_bytes=LIMIT)
            else:
                release = registries.resolve_npm(name, version)
                if release.size > LIMIT:
                    print(f"{tag}: not fetched: {release.size} bytes")
                    return None
            folder = work / ecosystem / hashlib.sha256(f"{ecosystem}:{tag}".encode()).hexdigest()[:12]
            target = folder / release.filename
            if not (target.exists() and registries.verify_file(target, release.digest)):
                folder.mkdir(parents=True, exist_ok=True)
                target = registries.download(release, folder)
            return ecosystem, name, target
        except Exception as error:  # noqa: BLE001 - a release that cannot be fetched is left out, said
            print(f"{tag}: not fetched: {error}")
            return None

    with ThreadPoolExecutor(8) as pool:
        return [found for found in pool.map(one, jobs) if found is not None]


def longtail(ecosystem: str, evaluation: bool, count: int) -> list[tuple[str, str, str | None]]:
    """The first `count` releases of one share of a long-tail list, in a seeded order."""
    listed = (DATA / f"benign-longtail-{ecosystem}.txt").read_text().split()
    separator = "==" if ecosystem == "pypi" else "@"
    chosen: list[tuple[str, str, str | None]] = []
    for entry in seeded(listed, "unit-longtail"):
        name, _, version = entry.rpartition(separator)
        if name and evaluation_only(name) == evaluation:
            chosen.append((ecosystem, name, version))
        if len(chosen) == count:
            break
    return chosen


def npm_validation() -> list[tuple[str, str, str, str, str]]:
    """The hand-written, defanged malicious npm packages (`data/validation/npm-malicious`):
    test rows only, never trained or chosen on."""
    return [
        ("malicious", "test", "npm", folder.name, str(folder))
        for folder in sorted(NPM_VALIDATION.iterdir())
        if folder.is_dir()
    ]


def javascript_rewrites(work: Path) -> list[tuple[str, str, str, str, str]]:
    """The synthetic npm malware rows, when the configuration enables them: each rewrite in
    its source sample's split, listed under the source's name (one group with it)."""
    rewrites = json.loads(CONFIG.read_text())["data_augmentation"]["javascript_rewrites"]
    if not rewrites["enabled"]:
        return []
    found = materialise(REPOSITORY / rewrites["folder"] / REWRITES_FILE, work / "synthetic-javascript")
    return [("malicious", malicious_split(source), "npm", source, str(folder)) for source, _, folder in found]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--longtail-pypi", type=int, default=2000)
    parser.add_argument("--longtail-npm", type=int, default=800)
    parser.add_argument("--test-pypi", type=int, default=1400)
    parser.add_argument("--test-npm", type=int, default=700)
    parser.add_argument("--popular-pypi", type=int, default=300)
    parser.add_argument("--popular-npm", type=int, default=200)
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    rows: list[tuple[str, str, str, str, str]] = []
    trained = longtail("pypi", False, args.longtail_pypi) + longtail("npm", False, args.longtail_npm)
    # Popular names after the first 2,000 / 400 (those trained the object model's benign side).
    trained += [("pypi", n, None) for n in names(DATA / "benign-pypi.txt", 2000 + args.popular_pypi)[2000:]]
    trained += [("npm", n, None) for n in names(DATA / "benign-npm.txt", 400 + args.popular_npm)[400:]]
    for ecosystem, name, path in fetch(trained, args.work / "benign"):
        rows.append(("benign", benign_split(name), ecosystem, name, str(path)))
    tested = longtail("pypi", True, args.test_pypi) + longtail("npm", True, args.test_npm)
    for ecosystem, name, path in fetch(tested, args.work / "benign"):
        rows.append(("benign", "test", ecosystem, name, str(path)))
    for name, folders in malicious(args.work).items():
        rows += [("malicious", malicious_split(name), "pypi", name, str(f)) for f in folders]
    rows += javascript_rewrites(args.work)
    rows += npm_validation()
    with open(args.work / "units.tsv", "w", encoding="utf-8") as listing:
        listing.write("\t".join(FIELDS) + "\n")
        listing.writelines("\t".join(row) + "\n" for row in rows)
    counts: dict[str, int] = {}
    for label, split, ecosystem, _, _ in rows:
        key = f"{label}/{split}/{ecosystem}"
        counts[key] = counts.get(key, 0) + 1
    print(json.dumps(dict(sorted(counts.items())), indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
