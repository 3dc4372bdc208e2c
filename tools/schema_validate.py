#!/usr/bin/env python3
"""Validates JSON artifacts (pattern databases, analysis results) against their JSON Schemas.

    python tools/schema_validate.py                      # every pattern DB under data/patterns/
    python tools/schema_validate.py result.json db.json  # schema picked by content
    python tools/schema_validate.py --schema data/schemas/analysis_result_schema.json --input result.json
    python tools/schema_validate.py --pattern-db data/patterns/pattern_database.json --result result.json

Without a schema, one is picked by content: an object with `categories` and `version` is a
pattern database, one with `analysis_id` an analysis result; failing both, a `$schema` that names
a local file is used. Formats are checked (uuid, date-time, ...). Writes a JSON report to
evidence/schema_validation.json (--report PATH). Exit 0: all valid; 1: any invalid; 2: usage
error (missing file, bad JSON, unusable schema).
"""

from __future__ import annotations

import argparse
import re
import sys
from dataclasses import dataclass, field
from datetime import date, datetime, timezone
from pathlib import Path
from typing import Any, NoReturn
from uuid import UUID

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
    one_line,
    resolve_input,
    resolve_output,
    write_json,
)

TOOL = "schema_validate"
SCHEMAS = ROOT / "data" / "schemas"
PATTERN_DB_SCHEMA = SCHEMAS / "pattern_database_schema.json"
RESULT_SCHEMA = SCHEMAS / "analysis_result_schema.json"
PATTERN_DIR = ROOT / "data" / "patterns"
DEFAULT_REPORT = EVIDENCE / "schema_validation.json"
SHOWN_ERRORS = 5

RFC3339 = re.compile(
    r"^(\d{4})-(\d{2})-(\d{2})[Tt ](\d{2}):(\d{2}):(\d{2})(\.\d+)?([Zz]|([+-])(\d{2}):(\d{2}))$"
)


@dataclass
class Job:
    path: Path
    schema: Path | None  # None: pick by content
    selected_by: str  # explicit | --pattern-db | --result | content | $schema | default
    instance: Any = None


@dataclass
class Outcome:
    file: str
    schema: str
    selected_by: str
    valid: bool
    error_count: int
    errors: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "file": self.file,
            "schema": self.schema,
            "schema_selected_by": self.selected_by,
            "valid": self.valid,
            "error_count": self.error_count,
            "errors_truncated": self.error_count > len(self.errors),
            "errors": self.errors,
        }


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        die(TOOL, f"{message} (see --help)")


def build_parser() -> Parser:
    parser = Parser(
        prog="schema_validate.py",
        description="Validate JSON artifacts against JSON Schemas (draft-07); writes a JSON report.",
    )
    parser.add_argument(
        "files", nargs="*", metavar="FILE", help="artifacts; schema from --schema or picked by content"
    )
    parser.add_argument(
        "--input", action="append", default=[], metavar="FILE", help="an artifact, as FILE (repeatable)"
    )
    parser.add_argument("--schema", metavar="SCHEMA", help="the schema for FILE and --input artifacts")
    parser.add_argument(
        "--pattern-db",
        action="append",
        default=[],
        metavar="FILE",
        help=f"a pattern DB ({display(PATTERN_DB_SCHEMA)})",
    )
    parser.add_argument(
        "--result",
        action="append",
        default=[],
        metavar="FILE",
        help=f"an analysis result ({display(RESULT_SCHEMA)})",
    )
    parser.add_argument(
        "--report", metavar="PATH", help=f"where the JSON report goes (default {display(DEFAULT_REPORT)})"
    )
    parser.add_argument(
        "--max-errors", type=int, default=50, metavar="N", help="errors kept per file in the report"
    )
    return parser


def pointer(parts: Any) -> str:
    """A JSON pointer (RFC 6901) to a location; the document itself is ''."""
    return "".join("/" + str(part).replace("~", "~0").replace("/", "~1") for part in parts)


def is_date_time(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    match = RFC3339.match(instance)
    if match is None:
        return False
    year, month, day, hour, minute, second = (int(match.group(i)) for i in range(1, 7))
    try:
        datetime(year, month, day, hour, minute, min(second, 59), tzinfo=timezone.utc)
    except ValueError:
        return False
    if match.group(9) is not None and (int(match.group(10)) > 23 or int(match.group(11)) > 59):
        return False
    return second <= 60


def is_date(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    if not re.fullmatch(r"\d{4}-\d{2}-\d{2}", instance):
        return False
    try:
        date.fromisoformat(instance)
    except ValueError:
        return False
    return True


def is_uuid(instance: object) -> bool:
    if not isinstance(instance, str):
        return True
    try:
        UUID(instance)
    except ValueError:
        return False
    return len(instance) == 36 and all(instance[position] == "-" for position in (8, 13, 18, 23))


class Validation:
    """Loads schemas once and validates instances with formats checked."""

    def __init__(self) -> None:
        try:
            import jsonschema  # type: ignore[import-untyped]
            from jsonschema import validators
        except ImportError:
            raise UsageError("the jsonschema package is not installed (pip install '.[test]')") from None
        self.jsonschema: Any = jsonschema
        self.validators: Any = validators
        self.cache: dict[Path, Any] = {}
        self.formats: list[str] = []

    def validator(self, schema_path: Path) -> Any:
        key = schema_path.resolve()
        if key in self.cache:
            return self.cache[key]
        schema = load_json(schema_path, "schema")
        if not isinstance(schema, (dict, bool)):
            raise UsageError(f"schema is not a JSON object: {display(schema_path)}")
        cls = self.validators.validator_for(schema, default=self.jsonschema.Draft7Validator)
        try:
            cls.check_schema(schema)
        except self.jsonschema.SchemaError as error:
            where = pointer(error.absolute_path) or "(root)"
            raise UsageError(
                f"not a valid JSON Schema: {display(schema_path)}: {where}: {one_line(error.message, 160)}"
            ) from None
        checker = self.jsonschema.FormatChecker(formats=())
        checker.checkers = dict(cls.FORMAT_CHECKER.checkers)
        # Our own stdlib checks, so these formats are enforced without optional extras
        # (jsonschema only checks date-time when rfc3339-validator is installed).
        checker.checks("date-time")(is_date_time)
        checker.checks("date")(is_date)
        checker.checks("uuid")(is_uuid)
        self.formats = sorted(checker.checkers)
        validator = cls(schema, format_checker=checker)
        self.cache[key] = validator
        return validator

    def check(self, job: Job, max_errors: int) -> Outcome:
        assert job.schema is not None
        validator = self.validator(job.schema)
        try:
            found = list(validator.iter_errors(job.instance))
        except RecursionError:
            raise
        # e.g. a $ref that does not resolve: a broken schema, not an invalid artifact
        except Exception as error:  # noqa: BLE001
            raise UsageError(
                f"cannot validate {display(job.path)} against {display(job.schema)}: "
                f"{type(error).__name__}: {one_line(error, 160)}"
            ) from None
        errors = sorted(
            found, key=lambda e: (list(map(str, e.absolute_path)), list(map(str, e.absolute_schema_path)))
        )
        kept = [
            {
                "path": pointer(error.absolute_path),
                "schema_path": pointer(error.absolute_schema_path),
                "message": one_line(error.message, 300),
            }
            for error in errors[: max(max_errors, 0)]
        ]
        return Outcome(display(job.path), display(job.schema), job.selected_by, not errors, len(errors), kept)


def pick_schema(job: Job) -> None:
    """Chooses the schema of an artifact named without one, from its content."""
    instance = job.instance
    if isinstance(instance, dict):
        if "categories" in instance and "version" in instance:
            job.schema, job.selected_by = PATTERN_DB_SCHEMA, "content"
            return
        if "analysis_id" in instance:
            job.schema, job.selected_by = RESULT_SCHEMA, "content"
            return
        declared = instance.get("$schema")
        if isinstance(declared, str) and not re.match(r"^[a-z][a-z0-9+.-]*://", declared):
            local = (job.path.parent / declared).resolve()
            if local.is_file():
                job.schema, job.selected_by = local, "$schema"
                return
    raise UsageError(
        f"cannot tell which schema applies to {display(job.path)} (neither a pattern DB with "
        "categories+version nor a result with analysis_id); name it with --schema, --pattern-db or --result"
    )


def collect(args: argparse.Namespace) -> list[Job]:
    explicit = resolve_input(args.schema) if args.schema else None
    plain = [*args.files, *args.input]
    if explicit is not None and not plain:
        raise UsageError("--schema applies to FILE and --input artifacts, and none was given")
    jobs = [Job(resolve_input(f), explicit, "explicit" if explicit else "content") for f in plain]
    jobs += [Job(resolve_input(f), PATTERN_DB_SCHEMA, "--pattern-db") for f in args.pattern_db]
    jobs += [Job(resolve_input(f), RESULT_SCHEMA, "--result") for f in args.result]
    if not jobs:
        found = sorted(PATTERN_DIR.rglob("*.json")) if PATTERN_DIR.is_dir() else []
        if not found:
            raise UsageError(
                f"nothing to validate: no artifacts named and no pattern DB under {display(PATTERN_DIR)}"
            )
        jobs = [Job(path, PATTERN_DB_SCHEMA, "default") for path in found]
    for job in jobs:
        job.instance = load_json(job.path, "artifact")
        if job.schema is None:
            pick_schema(job)
        elif not job.schema.exists():
            raise UsageError(f"schema not found: {display(job.schema)} (for {display(job.path)})")
    return jobs


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    report_path = resolve_output(args.report) if args.report else DEFAULT_REPORT
    try:
        validation = Validation()
        jobs = collect(args)
        outcomes = [validation.check(job, args.max_errors) for job in jobs]
    except UsageError as error:
        die(TOOL, str(error))
    except RecursionError:
        die(TOOL, "an artifact or schema is nested too deeply to validate")

    for outcome in outcomes:
        if outcome.valid:
            print(f"{TOOL}: OK {outcome.file} ({outcome.schema})")
            continue
        print(f"{TOOL}: INVALID {outcome.file} ({outcome.schema}): {outcome.error_count} error(s)")
        shown_errors = outcome.errors[:SHOWN_ERRORS]
        for shown in shown_errors:
            print(f"  {shown['path'] or '(root)'}: {shown['message']}")
        # The report keeps `--max-errors` of them; say how many more it holds, and how many neither shows.
        in_report = len(outcome.errors) - len(shown_errors)
        unlisted = outcome.error_count - len(outcome.errors)
        if in_report:
            print(f"  ... {in_report} more in the report")
        if unlisted:
            print(f"  ... {unlisted} more not kept (--max-errors {len(outcome.errors)})")
    invalid = sum(not outcome.valid for outcome in outcomes)
    report = {
        "tool": "tools/schema_validate.py",
        "generated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "jsonschema_version": _version("jsonschema"),
        "formats_checked": validation.formats,
        "valid": invalid == 0,
        "files_checked": len(outcomes),
        "files_invalid": invalid,
        "files": [outcome.to_dict() for outcome in outcomes],
    }
    try:
        write_json(report_path, report)
    except OSError as error:
        die(TOOL, f"cannot write the report {report_path}: {error.strerror}")
    print(f"{TOOL}: {len(outcomes)} file(s), {invalid} invalid; report: {display(report_path)}")
    return EXIT_FAILED if invalid else EXIT_OK


def _version(package: str) -> str | None:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version(package)
    except PackageNotFoundError:
        return None


if __name__ == "__main__":
    sys.exit(main())
