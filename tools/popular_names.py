#!/usr/bin/env python3
"""The popular package names the `typosquat` signal compares against, made from the shared lists.

`../shared/data/benign-pypi.txt` and `benign-npm.txt` hold public package names, most
downloaded first, one a line. The first N distinct names of each (PEP 503 normalised for PyPI,
lower-cased for npm), sorted, become `python/malwi/data/popular-pypi.txt` and
`popular-npm.txt`, which ship in the wheel and `malwi.sources.signals` reads.

    python tools/popular_names.py [--top 2000] [--data ../shared/data] [--check]

`--check` writes nothing and exits 1 when the shipped lists differ from what the shared lists give.
"""

from __future__ import annotations

import argparse
import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT.parent / "shared" / "data"
OUT = ROOT / "python" / "malwi" / "data"
TOP = 2000
VALID = {
    "pypi": re.compile(r"^[a-z0-9]([a-z0-9-]*[a-z0-9])?$"),
    "npm": re.compile(r"^(@[a-z0-9][\w.-]*/)?[\w.-]+$"),
}


def normalise(ecosystem: str, name: str) -> str:
    name = name.strip().lower()
    return re.sub(r"[-_.]+", "-", name) if ecosystem == "pypi" else name


def popular(ecosystem: str, source: Path, top: int) -> list[str]:
    """The first `top` distinct valid names of a ranked list (comments and blanks skipped), sorted."""
    chosen: list[str] = []
    seen: set[str] = set()
    for line in source.read_text(encoding="utf-8").splitlines():
        raw = line.split("#", 1)[0].strip()
        # A `name==version` or `name@version` line keeps its name only (a scope's @ stays).
        raw = raw.split("==", 1)[0]
        if "@" in raw[1:]:
            raw = raw[0] + raw[1:].split("@", 1)[0]
        name = normalise(ecosystem, raw)
        if not name or name in seen or not VALID[ecosystem].match(name):
            continue
        seen.add(name)
        chosen.append(name)
        if len(chosen) >= top:
            break
    return sorted(chosen)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--top", type=int, default=TOP, help="names taken from the top of each list")
    parser.add_argument("--data", type=Path, default=DATA, help="folder with benign-pypi.txt, benign-npm.txt")
    parser.add_argument("--out", type=Path, default=OUT, help="where the popular-*.txt files go")
    parser.add_argument("--check", action="store_true", help="compare with the shipped lists, write nothing")
    args = parser.parse_args(argv)
    stale = []
    for ecosystem in ("pypi", "npm"):
        names = popular(ecosystem, args.data / f"benign-{ecosystem}.txt", args.top)
        text = "".join(name + "\n" for name in names)
        target = args.out / f"popular-{ecosystem}.txt"
        if args.check:
            if not target.is_file() or target.read_text(encoding="utf-8") != text:
                stale.append(str(target))
            continue
        args.out.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
        print(f"{target}: {len(names)} names")
    if stale:
        print("popular-names: out of date: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
