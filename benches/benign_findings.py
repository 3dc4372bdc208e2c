"""What a person is asked to look at on benign packages: per package its verdict and the number
of objects its report lists (the objects that carry a flagged package's verdict), and the
number of SARIF results. Targets: median 0 objects listed, at most 3 for a flagged benign
package, at most 10 SARIF results for a large framework.

    python benches/benign_findings.py LIST [--model DIR] [--sarif PATH...]

`LIST` has one `benign<TAB>path` line per package (folders or archives; nothing is run). Each
`--sarif PATH` is also scanned with `--format sarif` and its results counted.
"""

from __future__ import annotations

import argparse
import json
import statistics
import subprocess
import sys
from collections import Counter
from pathlib import Path

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi.errors import MalwiError


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("listing", type=Path)
    parser.add_argument("--model", help="model bundle (default: the active model)")
    parser.add_argument("--sarif", nargs="*", default=[], help="also count SARIF results for these")
    args = parser.parse_args()
    packages = [
        line.split("\t", 1)[1]
        for line in args.listing.read_text(encoding="utf-8").splitlines()
        if line.startswith("benign\t")
    ]
    listed: list[int] = []
    flagged: list[tuple[str, str, int]] = []
    verdicts: Counter[str] = Counter()
    with Workspace() as workspace, Scanner(ScanOptions(model=args.model)) as scanner:
        for package in packages:
            try:
                target = workspace.local([package])
                report = scanner.judge(target)
                workspace.discard(target)
            except MalwiError:
                continue  # nothing to scan (a wheel of data files): not a package a person reads
            carriers = sum(len(unit.carriers) for unit in report.units)
            listed.append(carriers)
            verdicts[report.verdict] += 1
            if report.verdict in ("malicious", "suspicious"):
                flagged.append((Path(package).name, report.verdict, carriers))
    print(f"{len(listed)} benign packages: {dict(verdicts)}")
    print(
        f"objects listed per package: median {statistics.median(listed):g}, mean {statistics.mean(listed):.2f}"
    )
    most = max((c for _, _, c in flagged), default=0)
    print(f"flagged packages: {len(flagged)}; objects listed for a flagged package: at most {most}")
    for path in args.sarif:
        command = [
            sys.executable,
            "-m",
            "malwi",
            "scan",
            path,
            "-f",
            "sarif",
            "--no-cache",
            "--fail-on",
            "malicious",
        ]
        if args.model:
            command += ["--model", args.model]
        result = subprocess.run(command, capture_output=True, timeout=3600)
        results = json.loads(result.stdout)["runs"][0]["results"]
        levels = Counter(r["level"] for r in results)
        print(f"SARIF {Path(path).name}: {len(results)} results {dict(levels)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
