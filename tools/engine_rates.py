"""How often the static engines fire on a corpus: protector detection, data flows, payloads.

Each package is one archive (`.tar.gz`, `.tgz`, `.zip`, `.whl`) or one folder; archives are
unpacked with malwi's safe extractor into a temporary folder and only compiled, never run.
The model is not used. For benign corpora the rates are false-positive rates.

    python tools/engine_rates.py --from-index W/downloads/index.json --limit 300 --ecosystem pypi
    python tools/engine_rates.py /usr/lib/python3.11 --each-subfolder
    python tools/engine_rates.py DIR_OF_ARCHIVES ... --output evidence/engine_rates.json
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import tempfile
from collections import Counter
from pathlib import Path
from typing import Any

from malwi import compile_files, discover
from malwi.errors import ArchiveError
from malwi.sources.archive import ARCHIVE_SUFFIXES, extract


def package_paths(args: argparse.Namespace) -> list[Path]:
    packages: list[Path] = []
    if args.from_index:
        index = json.loads(Path(args.from_index).read_text())
        base = Path(args.from_index).parent
        for entry in index:
            if entry.get("status") == "downloaded" and (
                not args.ecosystem or entry["ecosystem"] == args.ecosystem
            ):
                packages.append(base / entry["file"])
    for raw in args.paths:
        path = Path(raw)
        if args.each_subfolder and path.is_dir():
            packages.extend(
                sorted(p for p in path.iterdir() if p.is_dir() or p.name.endswith(ARCHIVE_SUFFIXES))
            )
        else:
            packages.append(path)
    return packages[: args.limit] if args.limit else packages


def analyse(folder: Path) -> dict[str, Any]:
    """What the engines find in one unpacked package."""
    found = discover([str(folder)])
    protectors: Counter[str] = Counter()
    flows: Counter[str] = Counter()
    evidence: list[str] = []
    payloads = 0
    protected = False
    protected_files = flow_files = 0
    for report in compile_files(found.files):
        if report.status != "compiled":
            continue
        detection = report.protection
        flow_files += any(obj.flows for obj in report.objects)
        if detection and detection.is_protected:
            protected = True
            protected_files += 1
            protectors[str(detection.protector)] += 1
            first = detection.evidence[0]
            evidence.append(f"{os.path.relpath(report.path, folder)}:{first.line}: {first.signal}")
        for obj in report.objects:
            payloads += obj.decoded_from is not None
            for flow in obj.flows:
                flows[f"{flow.source} → {flow.sink}"] += 1
                if len(evidence) < 8:
                    evidence.append(
                        f"{os.path.relpath(report.path, folder)}:{flow.sink_line}: {obj.name}: {flow.source} → {flow.sink}"
                    )
    return {
        "files": len(found.files),
        "protected_files": protected_files,
        "flow_files": flow_files,
        "protected": protected,
        "protectors": dict(protectors),
        "flows": dict(flows),
        "payload_objects": payloads,
        "evidence": evidence,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="*", help="package archives or folders")
    parser.add_argument("--from-index", help="a research workspace's downloads/index.json")
    parser.add_argument("--ecosystem", choices=["pypi", "npm"], help="with --from-index: only this registry")
    parser.add_argument("--limit", type=int, default=0, help="at most this many packages (index order)")
    parser.add_argument(
        "--each-subfolder", action="store_true", help="each subfolder of a path is one package"
    )
    parser.add_argument("--output", help="write the per-package results and the rates as JSON")
    args = parser.parse_args(argv)
    packages = package_paths(args)
    if not packages:
        print("engine_rates: no packages given", file=sys.stderr)
        return 2
    results: dict[str, Any] = {}
    for path in packages:
        try:
            if path.is_dir():
                results[path.name] = analyse(path)
            else:
                with tempfile.TemporaryDirectory(prefix="malwi-rates-") as folder:
                    extract(path, folder)
                    results[path.name] = analyse(Path(folder))
        except (ArchiveError, OSError) as error:
            results[path.name] = {"error": str(error)}
    analysed = {name: r for name, r in results.items() if "error" not in r}
    total = len(analysed)
    protected = sorted(name for name, r in analysed.items() if r["protected"])
    flowing = sorted(name for name, r in analysed.items() if r["flows"])
    with_payloads = sorted(name for name, r in analysed.items() if r["payload_objects"])
    kinds: Counter[str] = Counter()
    for r in analysed.values():
        kinds.update(dict.fromkeys(r["flows"], 1))
    summary = {
        "packages": total,
        "unreadable": len(results) - total,
        "files": sum(r["files"] for r in analysed.values()),
        "protected_files": sum(r["protected_files"] for r in analysed.values()),
        "flow_files": sum(r["flow_files"] for r in analysed.values()),
        "protector_fired": len(protected),
        "protector_rate": round(len(protected) / total, 4) if total else 0.0,
        "flow_fired": len(flowing),
        "flow_rate": round(len(flowing) / total, 4) if total else 0.0,
        "payload_fired": len(with_payloads),
        "flow_kinds_by_package": dict(kinds.most_common()),
    }
    print(json.dumps(summary, indent=1, ensure_ascii=False))
    for name in protected:
        print(f"protected: {name}: {analysed[name]['protectors']} {analysed[name]['evidence'][:2]}")
    for name in flowing:
        print(f"flows: {name}: {analysed[name]['flows']} {analysed[name]['evidence'][:3]}")
    if args.output:
        Path(args.output).write_text(
            json.dumps({"summary": summary, "packages": results}, indent=1, ensure_ascii=False)
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
