"""Size is not a signal: a `setup.py` that calls only `setup()` must score the same whatever the
size of the package it sits in, for packages sized like the malicious samples and like benign
releases.

The malicious training samples are mostly a `setup.py` in a tiny folder and the benign releases
are larger, so a model can learn "small package with a `setup.py`" as malware. This bench takes
packages of LIST (both labels, matched by size: the same number of each label per size bucket
where the list has them), measures each one's Python source (bytes, files), and writes a benign
twin of that size: a `setup.py` that calls only `setup()` with seeded metadata (name, version,
author, description, URL, classifiers, dependencies), and benign filler modules (copies of a
fixed list of pure-computation standard-library modules) up to the same number of bytes. The
twins are judged by the scanner with the shipped model (or `--model`), no cache; the score
distributions of the twins of malicious and of benign packages are printed per size bucket.
Nothing of the listed packages is run or copied into the twins: they are only measured
(archives unpacked with malwi's own extractor, then removed).

    python benches/setup_only_sizes.py LIST [--split test] [--per-bucket 60] [--measure 800] [--model DIR]

`LIST`: the `label split ecosystem name path` TSV that `tools/unit_sets.py` writes (PyPI rows of
`--split` are used). Prints a Markdown table and a summary line.
"""

from __future__ import annotations

import argparse
import random
import shutil
import statistics
import sys
import sysconfig
import tempfile
from pathlib import Path

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi.errors import MalwiError
from malwi.sources.archive import ExtractionLimits, unpack

# Standard-library modules that compute and format and do nothing else: no processes, files,
# network, imports by name or code execution, so the filler itself is plainly benign.
FILLER_MODULES = (
    "bisect.py",
    "calendar.py",
    "colorsys.py",
    "difflib.py",
    "fractions.py",
    "heapq.py",
    "statistics.py",
    "string.py",
    "textwrap.py",
    "graphlib.py",
    "numbers.py",
    "reprlib.py",
)
# Upper bounds (bytes of Python source) of the size buckets; the last is open.
BUCKETS = (2_000, 10_000, 100_000, 1_000_000)
SEED = 20261208


def bucket_of(size: int) -> int:
    """The index of the size bucket `size` bytes fall in."""
    return next((i for i, high in enumerate(BUCKETS) if size < high), len(BUCKETS))


def bucket_label(bucket: int) -> str:
    low = BUCKETS[bucket - 1] if bucket else 0
    return f"{low:,}–{BUCKETS[bucket]:,} B" if bucket < len(BUCKETS) else f"≥ {low:,} B"


def python_source(path: Path, scratch: Path) -> int:
    """Bytes of the `.py` files of a package folder or archive (unpacked into `scratch`)."""
    if path.is_file():
        target = scratch / "unpacked"
        target.mkdir()
        try:
            unpack(path, target, ExtractionLimits())
            return python_source(target, scratch)
        finally:
            shutil.rmtree(target, ignore_errors=True)
    return sum(f.stat().st_size for f in path.rglob("*.py") if f.is_file() and not f.is_symlink())


def setup_only(rng: random.Random, name: str) -> str:
    """A `setup.py` that calls `setup()` with the metadata a small release carries, nothing else."""
    author = rng.choice(("Ada Lovelace", "Grace Hopper", "Alan Turing", "Edsger Dijkstra", "Barbara Liskov"))
    fields = [
        f"name={name!r}",
        f"version='{rng.randint(0, 3)}.{rng.randint(0, 20)}.{rng.randint(0, 9)}'",
        f"author={author!r}",
        f"author_email='{author.split()[0].lower()}@example.org'",
        f"description='{rng.choice(('Small helpers', 'A calculator', 'Text utilities', 'Date tools'))}'",
    ]
    if rng.random() < 0.6:
        fields.append(f"url='https://example.org/{name}'")
    if rng.random() < 0.5:
        fields.append("packages=find_packages()")
    if rng.random() < 0.5:
        fields.append(
            f"install_requires={rng.sample(['requests', 'click', 'attrs', 'numpy'], rng.randint(1, 2))!r}"
        )
    if rng.random() < 0.4:
        fields.append(
            "classifiers=['Programming Language :: Python :: 3', 'License :: OSI Approved :: MIT License']"
        )
    body = ",\n    ".join(fields)
    return f"from setuptools import find_packages, setup\n\nsetup(\n    {body},\n)\n"


def write_twin(folder: Path, size: int, rng: random.Random, filler: list[tuple[str, str]]) -> None:
    name = f"pkg{rng.randrange(10**6):06d}"
    (folder / name).mkdir(parents=True)
    setup = setup_only(rng, name)
    (folder / "setup.py").write_text(setup, encoding="utf-8")
    (folder / name / "__init__.py").write_text("", encoding="utf-8")
    written, index = len(setup), 0
    while written < size:
        module, text = filler[index % len(filler)]
        (folder / name / f"part{index}_{module}").write_text(text, encoding="utf-8")
        written += len(text)
        index += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("listing", type=Path)
    parser.add_argument("--split", default="test")
    parser.add_argument(
        "--per-bucket", type=int, default=60, help="packages per label and size bucket (at most)"
    )
    parser.add_argument("--measure", type=int, default=800, help="packages of each label measured (at most)")
    parser.add_argument("--model", help="model bundle (default: the active model)")
    args = parser.parse_args()
    rows: dict[str, list[Path]] = {"benign": [], "malicious": []}
    for line in args.listing.read_text(encoding="utf-8").splitlines()[1:]:
        label, split, ecosystem, _, path = line.split("\t")
        if split == args.split and ecosystem == "pypi":
            rows[label].append(Path(path))
    rng = random.Random(SEED)
    stdlib = Path(sysconfig.get_paths()["stdlib"])
    filler = [
        (name, (stdlib / name).read_text(encoding="utf-8"))
        for name in FILLER_MODULES
        if (stdlib / name).is_file()
    ]
    if not filler:
        print(f"no filler modules found in {stdlib}", file=sys.stderr)
        return 2
    judged: dict[tuple[str, int], list[tuple[float, str]]] = {}  # (label, bucket): (score, verdict)
    with tempfile.TemporaryDirectory(prefix="malwi-sizes-") as scratch_name, Workspace() as workspace:
        scratch = Path(scratch_name)
        # Sizes first, then as many packages of each label per bucket as both labels have.
        sized: dict[tuple[str, int], list[int]] = {}
        for label, paths in rows.items():
            rng.shuffle(paths)
            for path in paths[: args.measure]:
                try:
                    size = python_source(path, scratch)
                except MalwiError as error:
                    print(f"not measured: {error}", file=sys.stderr)
                    continue
                group = sized.setdefault((label, bucket_of(size)), [])
                if len(group) < args.per_bucket:
                    group.append(size)
        with Scanner(ScanOptions(model=args.model, cache=False)) as scanner:
            for (label, bucket), sizes in sorted(sized.items()):
                other = sized.get(("benign" if label == "malicious" else "malicious", bucket), [])
                for size in sizes[: len(other)]:
                    twin = scratch / f"twin{rng.randrange(10**9)}"
                    write_twin(twin, size, rng, filler)
                    try:
                        report = scanner.judge_local(workspace, [str(twin)])
                    except MalwiError as error:
                        print(f"{twin}: {error}", file=sys.stderr)
                        continue
                    finally:
                        shutil.rmtree(twin, ignore_errors=True)
                    judged.setdefault((label, bucket), []).append((report.maliciousness, report.verdict))
    from scipy.stats import ks_2samp  # a scikit-learn dependency: the research extra has it

    print(
        "| size of the package (Python source) | twins of | count | median score | 95th percentile "
        "| highest | flagged | same distribution as the benign twins? (two-sample KS p) |"
    )
    print("|---|---|---|---|---|---|---|---|")
    for (label, bucket), twins in sorted(judged.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        values = [score for score, _ in twins]
        flagged = sum(verdict != "good" for _, verdict in twins)
        benign = [score for score, _ in judged.get(("benign", bucket), [])]
        same = f"{ks_2samp(values, benign).pvalue:.2f}" if label == "malicious" and benign else ""
        p95 = statistics.quantiles(values, n=20, method="inclusive")[-1] if len(values) > 1 else values[0]
        print(
            f"| {bucket_label(bucket)} | {label} | {len(values)} | {statistics.median(values):.3f} | "
            f"{p95:.3f} | {max(values):.3f} | {flagged} | {same} |"
        )
    every = [verdict for twins in judged.values() for _, verdict in twins]
    print(f"\n{len(every)} twins, {sum(v != 'good' for v in every)} flagged")
    return 0


if __name__ == "__main__":
    sys.exit(main())
