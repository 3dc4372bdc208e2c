#!/usr/bin/env python3
"""Fails when a ratio measured in one benchmark run falls below its floor.

Absolute times vary with the machine; the ratio of two things timed in one run varies much
less, the more so when they alternate: benches/test_ratios.py times each pair in turn (compile
against tree-sitter's parse-only of the same files, 2 workers against 1, a cached rescan
against a cold scan, int8 against fp32) and records the median ratio in the benchmark's
`extra_info["ratio"]`. This gate reads pytest-benchmark's JSON
(`--benchmark-json=evidence/benchmarks.json`) and the rules (`benches/ratios.json`): each rule
names a benchmark and needs its ratio at least `min` (a floor below what the suite measures,
so that noise passes and a regression does not); `target` is printed beside it. A rule whose
benchmark is missing fails, unless the rule is `optional` (then it says it was not measured).
Writes evidence/bench_gate.json. Exit 0: every floor held; 1: one did not; 2: unusable
evidence or rules.

    python tools/bench_gate.py [evidence/benchmarks.json] [--rules benches/ratios.json]
"""

from __future__ import annotations

import argparse
import math
import sys
from pathlib import Path
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _evidence import (
    EVIDENCE,
    EXIT_FAILED,
    EXIT_OK,
    ROOT,
    UsageError,
    die,
    display,
    load_json,
    resolve_input,
    resolve_output,
    write_json,
)

TOOL = "benchmark gate"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        die(TOOL, f"{message} (see --help)")


def build_parser() -> Parser:
    parser = Parser(prog="bench_gate.py", description="Floors on ratios of benchmarks of one run.")
    parser.add_argument("benchmarks", nargs="?", default=None, metavar="BENCHMARK_JSON")
    parser.add_argument("--rules", default=str(ROOT / "benches" / "ratios.json"), metavar="RULES_JSON")
    parser.add_argument("--output", default=str(EVIDENCE / "bench_gate.json"), metavar="JSON")
    return parser


def ratios_of(data: Any, where: Path) -> dict[str, float]:
    """Benchmark name -> the ratio it recorded (benchmarks without one are left out)."""
    entries = data.get("benchmarks") if isinstance(data, dict) else None
    if not isinstance(entries, list):
        raise UsageError(f"malformed benchmark report: no benchmarks list in {display(where)}")
    found: dict[str, float] = {}
    for entry in entries:
        name = entry.get("name") if isinstance(entry, dict) else None
        extra = entry.get("extra_info") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise UsageError(f"malformed benchmark report: an entry of {display(where)} has no name")
        ratio = extra.get("ratio") if isinstance(extra, dict) else None
        if ratio is None:
            continue
        if (
            not isinstance(ratio, int | float)
            or isinstance(ratio, bool)
            or not math.isfinite(ratio)
            or ratio <= 0
        ):
            raise UsageError(f"malformed benchmark report: {name} has ratio {ratio!r}")
        found[name] = float(ratio)
    return found


def rules_of(data: Any, where: Path) -> list[dict[str, Any]]:
    rules = data.get("ratios") if isinstance(data, dict) else None
    if not isinstance(rules, list) or not rules:
        raise UsageError(f"malformed rules: no ratios list in {display(where)}")
    for index, rule in enumerate(rules):
        ok = (
            isinstance(rule, dict)
            and all(isinstance(rule.get(key), str) for key in ("name", "benchmark"))
            and isinstance(rule.get("min"), int | float)
            and rule["min"] > 0
        )
        if not ok:
            raise UsageError(f"malformed rules: ratio {index} needs name, benchmark (strings) and min > 0")
    return rules


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report = resolve_input(args.benchmarks) if args.benchmarks else EVIDENCE / "benchmarks.json"
    rules_path = resolve_input(args.rules)
    try:
        measured = ratios_of(load_json(report, "benchmark report"), report)
        rules = rules_of(load_json(rules_path, "rules"), rules_path)
    except UsageError as error:
        die(TOOL, str(error))
    failed = False
    results = []
    for rule in rules:
        ratio = measured.get(rule["benchmark"])
        if ratio is None:
            optional = bool(rule.get("optional"))
            verdict = "NOT MEASURED" if optional else "FAIL"
            print(f"{TOOL}: {rule['name']}: {rule['benchmark']} not in the report: {verdict}")
            failed |= not optional
            results.append({**rule, "ratio": None, "verdict": verdict.lower()})
            continue
        verdict = "PASS" if ratio >= rule["min"] else "FAIL"
        target = f", target {rule['target']}" if "target" in rule else ""
        print(f"{TOOL}: {rule['name']}: {ratio:.2f}x (minimum {rule['min']}{target}): {verdict}")
        failed |= verdict == "FAIL"
        results.append({**rule, "ratio": round(ratio, 4), "verdict": verdict.lower()})
    write_json(resolve_output(args.output), {"report": display(report), "ratios": results})
    return EXIT_FAILED if failed else EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
