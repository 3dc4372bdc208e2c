#!/usr/bin/env python3
"""Fails on bandit findings at or above a severity and a confidence, less an allow list.

Reads bandit's JSON report (`bandit -r python/malwi -f json -o evidence/bandit.json`). Findings
judged false positives are listed in tools/bandit_allow.json, each with its test id, the files
it covers (a glob) and why it is safe. Files bandit could not parse fail the gate too (they were
not checked). Exit 0: nothing left; 1: findings or parse errors; 2: unreadable or malformed
evidence or allow list.

    python tools/bandit_gate.py                                  # medium/medium
    python tools/bandit_gate.py --severity low --confidence low  # everything
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _evidence import (
    EVIDENCE,
    EXIT_FAILED,
    EXIT_OK,
    ROOT,
    UsageError,
    allow_entries,
    die,
    display,
    load_json,
    one_line,
    resolve_input,
)

TOOL = "bandit gate"
LEVELS = {"undefined": 0, "low": 1, "medium": 2, "high": 3}
DEFAULT_ALLOW = Path(__file__).resolve().parent / "bandit_allow.json"


@dataclass(frozen=True)
class Allowance:
    test_id: str
    path: str  # glob over repository-relative paths
    reason: str

    def covers(self, finding: Finding) -> bool:
        return finding.test_id == self.test_id and fnmatch(finding.file, self.path)


@dataclass(frozen=True)
class Finding:
    file: str
    line: int
    test_id: str
    severity: str
    confidence: str
    message: str

    def __str__(self) -> str:
        return f"{self.file}:{self.line} {self.test_id} [{self.severity}/{self.confidence}] {self.message}"


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        die(TOOL, f"{message} (see --help)")


def build_parser() -> Parser:
    parser = Parser(prog="bandit_gate.py", description="Gate over bandit's JSON report.")
    parser.add_argument(
        "report", nargs="?", default=None, metavar="BANDIT_JSON", help="default evidence/bandit.json"
    )
    parser.add_argument(
        "--severity",
        choices=("low", "medium", "high"),
        default="medium",
        help="lowest severity that fails (default medium)",
    )
    parser.add_argument(
        "--confidence",
        choices=("low", "medium", "high"),
        default="medium",
        help="lowest confidence that fails (default medium)",
    )
    parser.add_argument(
        "--allow", metavar="PATH", help=f"allow list (default {display(DEFAULT_ALLOW)}; absent: none)"
    )
    return parser


def relative(name: str) -> str:
    path = Path(name)
    if path.is_absolute():
        try:
            return path.resolve().relative_to(ROOT).as_posix()
        except ValueError:
            return path.as_posix()
    return path.as_posix().removeprefix("./")


def level(value: Any, what: str) -> str:
    if not isinstance(value, str) or value.lower() not in LEVELS:
        raise UsageError(f"malformed bandit report: {what} is {value!r}")
    return value.upper()


def read_report(path: Path) -> tuple[list[Finding], list[str]]:
    data = load_json(path, "bandit report")
    if not isinstance(data, dict) or not isinstance(data.get("results"), list):
        raise UsageError(
            f"malformed bandit report: no results list in {display(path)} (is it bandit -f json?)"
        )
    findings = []
    for index, entry in enumerate(data["results"]):
        where = f"results[{index}]"
        if not isinstance(entry, dict):
            raise UsageError(f"malformed bandit report: {where} is not an object")
        filename, line, test_id = entry.get("filename"), entry.get("line_number"), entry.get("test_id")
        if not isinstance(filename, str) or not isinstance(line, int) or not isinstance(test_id, str):
            raise UsageError(f"malformed bandit report: {where} lacks filename, line_number or test_id")
        findings.append(
            Finding(
                file=relative(filename),
                line=line,
                test_id=test_id,
                severity=level(entry.get("issue_severity"), f"{where}.issue_severity"),
                confidence=level(entry.get("issue_confidence"), f"{where}.issue_confidence"),
                message=one_line(entry.get("issue_text", ""), 200),
            )
        )
    errors = data.get("errors", [])
    if not isinstance(errors, list):
        raise UsageError("malformed bandit report: errors is not a list")
    problems = [
        f"{relative(str(e.get('filename', '?')))}: {one_line(e.get('reason', 'unknown error'), 200)}"
        if isinstance(e, dict)
        else one_line(e, 200)
        for e in errors
    ]
    return findings, problems


def read_allow(path: Path, required: bool) -> list[Allowance]:
    allowances = []
    for index, entry in allow_entries(path, required):
        test_id, glob, reason = entry.get("test_id"), entry.get("path"), entry.get("reason")
        if not isinstance(test_id, str) or not test_id.strip():
            raise UsageError(f"malformed allow list: allow[{index}] has no test_id")
        if not isinstance(glob, str) or not glob.strip():
            raise UsageError(f"malformed allow list: allow[{index}] ({test_id}) has no path")
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f"malformed allow list: allow[{index}] ({test_id} {glob}) has no reason")
        allowances.append(Allowance(test_id.strip(), glob.strip(), reason.strip()))
    return allowances


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = resolve_input(args.report) if args.report else EVIDENCE / "bandit.json"
    allow_path = resolve_input(args.allow) if args.allow else DEFAULT_ALLOW
    try:
        findings, problems = read_report(path)
        allowances = read_allow(allow_path, required=args.allow is not None)
    except UsageError as error:
        die(TOOL, str(error))

    severity, confidence = LEVELS[args.severity], LEVELS[args.confidence]
    relevant = [
        f
        for f in findings
        if LEVELS[f.severity.lower()] >= severity and LEVELS[f.confidence.lower()] >= confidence
    ]
    failing: list[Finding] = []
    used: set[Allowance] = set()
    for finding in sorted(relevant, key=lambda f: (f.file, f.line, f.test_id)):
        allowance = next((a for a in allowances if a.covers(finding)), None)
        if allowance is None:
            failing.append(finding)
        else:
            used.add(allowance)
            print(f"{TOOL}: allowed: {finding} -- {allowance.reason}")
    for finding in failing:
        print(f"{TOOL}: {finding}")
    for problem in problems:
        print(f"{TOOL}: not checked: {problem}")
    for allowance in allowances:
        if allowance not in used:
            print(
                f"{TOOL}: note: allow-list entry {allowance.test_id} {allowance.path} matched nothing (stale?)"
            )

    threshold = f"severity>={args.severity}, confidence>={args.confidence}"
    summary = (
        f"{len(findings)} finding(s) in total, {len(relevant)} at {threshold}, "
        f"{len(relevant) - len(failing)} allowed, {len(failing)} failing, {len(problems)} file(s) not parsed"
    )
    if failing or problems:
        print(f"{TOOL}: FAIL: {summary}")
        return EXIT_FAILED
    print(f"{TOOL}: PASS: {summary}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
