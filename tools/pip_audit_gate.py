#!/usr/bin/env python3
"""Fails when an installed dependency has a known vulnerability that the allow list does not excuse.

Reads pip-audit's JSON report (`pip-audit -f json -o evidence/pip-audit.json`, run in the CI
virtual environment by `make evidence`). Allow-list entries (tools/pip_audit_allow.json) name a
vulnerability id or alias, optionally the package, a reason and an expiry date; an expired entry
excuses nothing.

pip-audit needs its vulnerability service. When it could not run (`make evidence` then leaves
evidence/pip-audit.error), when there is no report, or when the service answered for none (or
too few) of the dependencies -- pip-audit then reports "no known vulnerabilities" for a run that
checked nothing -- the gate prints `pip-audit gate: SKIPPED (reason)`. A skip passes (exit 0)
only with --allow-offline; without it the gate fails. Exit 2: malformed report or allow list.
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass
from datetime import date
from pathlib import Path
from typing import Any, NoReturn

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _evidence import (
    EVIDENCE,
    EXIT_FAILED,
    EXIT_OK,
    UsageError,
    allow_entries,
    die,
    display,
    load_json,
    one_line,
    resolve_input,
)

from malwi.cli import bounded

TOOL = "pip-audit gate"
DEFAULT_ALLOW = Path(__file__).resolve().parent / "pip_audit_allow.json"


@dataclass(frozen=True)
class Allowance:
    id: str
    package: str | None
    reason: str
    expires: date


@dataclass(frozen=True)
class Vulnerability:
    package: str
    version: str
    id: str
    aliases: tuple[str, ...]
    fix_versions: tuple[str, ...]

    def __str__(self) -> str:
        aliases = f" ({', '.join(self.aliases)})" if self.aliases else ""
        fix = f"fixed in {', '.join(self.fix_versions)}" if self.fix_versions else "no fix released"
        return f"{self.package} {self.version}: {self.id}{aliases}, {fix}"


class Skipped(Exception):
    """No usable vulnerability data: the reason, in one line."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        die(TOOL, f"{message} (see --help)")


def iso_date(text: str) -> date:
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


share = bounded(float, 0.0, 1.0, "must be between 0 and 1")


def build_parser() -> Parser:
    parser = Parser(prog="pip_audit_gate.py", description="Gate over pip-audit's JSON report.")
    parser.add_argument(
        "report", nargs="?", default=None, metavar="PIP_AUDIT_JSON", help="default evidence/pip-audit.json"
    )
    parser.add_argument(
        "--error-marker",
        metavar="PATH",
        help="file recording that pip-audit could not run (default: the report's .error sibling)",
    )
    parser.add_argument(
        "--allow", metavar="PATH", help=f"allow list (default {display(DEFAULT_ALLOW)}; absent: none)"
    )
    parser.add_argument(
        "--allow-offline",
        action="store_true",
        help="a skip (no vulnerability data) passes instead of failing; still printed",
    )
    parser.add_argument(
        "--max-unaudited-share",
        type=share,
        default=0.5,
        metavar="FRACTION",
        help="more dependencies than this share left unaudited means the service did not answer: skip (default 0.5)",
    )
    parser.add_argument("--today", type=iso_date, default=None, help=argparse.SUPPRESS)
    return parser


def normalize(name: str) -> str:
    return re.sub(r"[-_.]+", "-", name).lower()


def strings(value: Any, what: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if not isinstance(value, list) or not all(isinstance(item, str) for item in value):
        raise UsageError(f"malformed pip-audit report: {what} is not a list of strings")
    return tuple(value)


def read_report(
    path: Path, max_unaudited_share: float
) -> tuple[list[Vulnerability], int, list[tuple[str, str]]]:
    """The vulnerabilities found, how many dependencies were audited, and those that were not."""
    data = load_json(path, "pip-audit report")
    dependencies = data.get("dependencies") if isinstance(data, dict) else data
    if not isinstance(dependencies, list):
        raise UsageError(
            f"malformed pip-audit report: no dependencies list in {display(path)} (is it pip-audit -f json?)"
        )
    vulnerabilities: list[Vulnerability] = []
    audited = 0
    unaudited: list[tuple[str, str]] = []
    for index, entry in enumerate(dependencies):
        where = f"dependencies[{index}]"
        name = entry.get("name") if isinstance(entry, dict) else None
        if not isinstance(name, str):
            raise UsageError(f"malformed pip-audit report: {where} has no name")
        assert isinstance(entry, dict)
        if entry.get("skip_reason") is not None:
            unaudited.append((name, one_line(entry["skip_reason"], 200)))
            continue
        version, vulns = entry.get("version"), entry.get("vulns", [])
        if not isinstance(version, str) or not isinstance(vulns, list):
            raise UsageError(f"malformed pip-audit report: {where} ({name}) has no version or vulns list")
        audited += 1
        for position, vuln in enumerate(vulns):
            vuln_id = vuln.get("id") if isinstance(vuln, dict) else None
            if not isinstance(vuln_id, str):
                raise UsageError(f"malformed pip-audit report: {where}.vulns[{position}] ({name}) has no id")
            assert isinstance(vuln, dict)
            vulnerabilities.append(
                Vulnerability(
                    package=name,
                    version=version,
                    id=vuln_id,
                    aliases=strings(vuln.get("aliases"), f"{name} {vuln_id} aliases"),
                    fix_versions=strings(vuln.get("fix_versions"), f"{name} {vuln_id} fix_versions"),
                )
            )
    total = audited + len(unaudited)
    if total == 0:
        raise Skipped(f"{display(path)} lists no dependencies")
    if audited == 0:
        raise Skipped(
            f"the vulnerability service answered for none of {total} dependencies "
            f"(e.g. {unaudited[0][1]}); pip-audit's 'no known vulnerabilities' would mean nothing"
        )
    if len(unaudited) / total > max_unaudited_share:
        raise Skipped(
            f"the vulnerability service answered for only {audited} of {total} dependencies "
            f"(more than {max_unaudited_share:.0%} unaudited, e.g. {unaudited[0][1]})"
        )
    return vulnerabilities, audited, unaudited


def read_allow(path: Path, required: bool) -> list[Allowance]:
    allowances = []
    for index, entry in allow_entries(path, required):
        vuln_id, package, reason, expires = (entry.get(k) for k in ("id", "package", "reason", "expires"))
        if not isinstance(vuln_id, str) or not vuln_id.strip():
            raise UsageError(f"malformed allow list: allow[{index}] has no id")
        if package is not None and not isinstance(package, str):
            raise UsageError(f"malformed allow list: allow[{index}] ({vuln_id}) package is not a string")
        if not isinstance(reason, str) or not reason.strip():
            raise UsageError(f"malformed allow list: allow[{index}] ({vuln_id}) has no reason")
        try:
            expiry = date.fromisoformat(expires) if isinstance(expires, str) else None
        except ValueError:
            expiry = None
        if expiry is None:
            raise UsageError(f"malformed allow list: allow[{index}] ({vuln_id}) needs expires as YYYY-MM-DD")
        allowances.append(
            Allowance(vuln_id.strip(), normalize(package) if package else None, reason.strip(), expiry)
        )
    return allowances


def matches(allowance: Allowance, vulnerability: Vulnerability) -> bool:
    if allowance.package is not None and allowance.package != normalize(vulnerability.package):
        return False
    return allowance.id == vulnerability.id or allowance.id in vulnerability.aliases


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    path = resolve_input(args.report) if args.report else EVIDENCE / "pip-audit.json"
    marker = resolve_input(args.error_marker) if args.error_marker else path.with_suffix(".error")
    allow_path = resolve_input(args.allow) if args.allow else DEFAULT_ALLOW
    today = args.today or date.today()
    try:
        allowances = read_allow(allow_path, required=args.allow is not None)
        if marker.exists():
            try:
                recorded = (
                    one_line(marker.read_text(encoding="utf-8", errors="replace"), 300)
                    or "no reason recorded"
                )
            except OSError as error:
                recorded = f"marker unreadable: {error.strerror}"
            raise Skipped(f"pip-audit could not run: {recorded} ({display(marker)})")
        if not path.exists():
            raise Skipped(f"no pip-audit report: {display(path)} is missing (make evidence writes it)")
        vulnerabilities, audited, unaudited = read_report(path, args.max_unaudited_share)
    except UsageError as error:
        die(TOOL, str(error))
    except Skipped as skipped:
        print(f"{TOOL}: SKIPPED ({skipped})")
        if args.allow_offline:
            print(f"{TOOL}: --allow-offline: the skip passes; no dependency was checked for vulnerabilities")
            return EXIT_OK
        print(f"{TOOL}: FAIL: no vulnerability data (pass --allow-offline to accept a skip)")
        return EXIT_FAILED

    failing: list[Vulnerability] = []
    used: set[Allowance] = set()
    for vulnerability in sorted(vulnerabilities, key=lambda v: (normalize(v.package), v.id)):
        candidates = [a for a in allowances if matches(a, vulnerability)]
        current = next((a for a in candidates if a.expires >= today), None)
        if current is not None:
            used.add(current)
            print(f"{TOOL}: allowed until {current.expires}: {vulnerability} -- {current.reason}")
            continue
        failing.append(vulnerability)
        expired = ", ".join(sorted({str(a.expires) for a in candidates}))
        print(f"{TOOL}: {vulnerability}" + (f" (allow-list entry expired {expired})" if expired else ""))
    for allowance in allowances:
        if allowance not in used and allowance.expires >= today:
            print(f"{TOOL}: note: allow-list entry {allowance.id} matched nothing (stale?)")
    if unaudited:
        names = ", ".join(name for name, _ in unaudited[:10]) + (", ..." if len(unaudited) > 10 else "")
        print(f"{TOOL}: note: {len(unaudited)} dependency(ies) not audited: {names}")

    summary = f"{audited} dependencies audited, {len(vulnerabilities)} known vulnerability(ies), {len(failing)} not allowed"
    if failing:
        print(f"{TOOL}: FAIL: {summary}")
        return EXIT_FAILED
    print(f"{TOOL}: PASS: {summary}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
