"""Verdicts on a real tree: several large benign projects and one small malicious package dropped
among them. The injected package must be flagged and named, every benign project must stay good,
for each of many different malicious packages.

The benign projects are sdists fetched from PyPI (digests checked) and unpacked with malwi's own
extractor; the malicious packages are folders of the shared sample archive (live malware: only
copied and parsed, never run). A sample that has no manifest gets a two-line `pyproject.toml`
naming it, so that it is a package of its own (as it is when published). The benign projects are
scanned once and then answered from the result cache (a fresh one in the work folder).

    python benches/tree_injection.py --work DIR --malicious LIST [--count 20]
        [--projects django flask requests pip]

`LIST` has one `malicious<TAB>folder` line per sample (the format of `malwi research
reach-weights`); the first `--count` distinct package names are used, in the list's order.
Prints a Markdown table and, at the end, the summary line.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

from malwi.sources import registries
from malwi.sources.archive import ExtractionLimits, unpack

MANIFESTS = ("setup.py", "pyproject.toml", "setup.cfg", "package.json")


def fetch_projects(names: list[str], work: Path) -> Path:
    """The projects' latest sdists, unpacked under `work/tree/<name>` (once)."""
    tree = work / "tree"
    for name in names:
        folder = tree / name
        if folder.exists():
            continue
        release = registries.resolve_pypi(name, prefer_sdist=True)
        (work / "downloads").mkdir(parents=True, exist_ok=True)
        downloaded = registries.download(release, work / "downloads")
        folder.mkdir(parents=True)
        unpack(downloaded, folder, ExtractionLimits())
    return tree


def samples(listing: Path, count: int) -> list[Path]:
    chosen: dict[str, Path] = {}
    for line in listing.read_text(encoding="utf-8").splitlines():
        label, _, path = line.partition("\t")
        if label != "malicious":
            continue
        name = Path(path).name.rsplit("_", 1)[0].lower()
        chosen.setdefault(name, Path(path))
        if len(chosen) == count:
            break
    return list(chosen.values())


def scan(tree: Path, env: dict[str, str]) -> dict:  # type: ignore[type-arg]
    result = subprocess.run(
        [sys.executable, "-m", "malwi", "scan", str(tree), "-f", "json", "--fail-on", "malicious"],
        capture_output=True,
        env=env,
        timeout=1800,
    )
    if result.returncode not in (0, 1):
        raise SystemExit(f"scan failed ({result.returncode}): {result.stderr.decode()[-500:]}")
    return json.loads(result.stdout)  # type: ignore[no-any-return]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--work", required=True, type=Path)
    parser.add_argument("--malicious", required=True, type=Path, help="malicious<TAB>folder lines")
    parser.add_argument("--count", type=int, default=20)
    parser.add_argument("--projects", nargs="+", default=["django", "flask", "requests", "pip"])
    args = parser.parse_args()
    args.work.mkdir(parents=True, exist_ok=True)
    tree = fetch_projects(args.projects, args.work)
    env = {**os.environ, "MALWI_CACHE_DIR": str(args.work / "cache")}
    baseline = scan(tree, env)
    print(f"benign tree alone: {baseline['verdict']}; units:")
    for unit in baseline["units"]:
        print(
            f"  {unit['key']}: {unit['verdict']} {unit['maliciousness']:.2f} ({unit['statistics']['files']} files)"
        )
    print()
    print("| injected package | its verdict | score | named in the summary | benign units not good |")
    print("|---|---|---|---|---|")
    found = clean = 0
    chosen = samples(args.malicious, args.count)
    for sample in chosen:
        injected = tree / "vendor" / sample.name
        shutil.rmtree(tree / "vendor", ignore_errors=True)
        shutil.copytree(sample, injected)
        if not any((injected / m).exists() for m in MANIFESTS):
            (injected / "pyproject.toml").write_text(f'[project]\nname = "{sample.name}"\n')
        document = scan(tree, env)
        units = {u["key"]: u for u in document["units"]}
        mine = next((u for k, u in units.items() if k.endswith(f"vendor/{sample.name}")), None)
        others = [u for k, u in units.items() if u is not mine and u["verdict"] != "good"]
        flagged = mine is not None and mine["verdict"] == "malicious"
        summary = subprocess.run(
            [sys.executable, "-m", "malwi", "scan", str(tree), "-q"],
            capture_output=True,
            env=env,
            timeout=1800,
        ).stdout.decode()
        named = mine is not None and mine["name"] in summary.splitlines()[0]
        found += flagged
        clean += not others
        print(
            f"| {sample.name} | {mine['verdict'] if mine else 'no unit'} | "
            f"{mine['maliciousness']:.2f} | {'yes' if named else 'no'} | "
            f"{', '.join(u['key'] + ' ' + u['verdict'] for u in others) or 'none'} |"
            if mine
            else f"| {sample.name} | no unit | | | |"
        )
    shutil.rmtree(tree / "vendor", ignore_errors=True)
    print()
    print(
        f"{found} of {len(chosen)} injected packages flagged malicious; in {clean} of {len(chosen)} trees every benign unit good"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
