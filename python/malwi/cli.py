"""The `malwi` command line. Errors are one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import json
import os
import signal
import sys
from collections.abc import Sequence
from typing import BinaryIO, NoReturn

from malwi import dump
from malwi._malwi import DEFAULT_MAX_FILE_SIZE, FeaturizerConfig, FileReport, MalwiError, __version__
from malwi.scan import Scan, ScanOptions

EXIT_OK = 0
EXIT_ERROR = 2
FORMATS = ("tokens", "code", "json")
SIZE_UNITS = {"": 1, "b": 1, "kb": 1024, "k": 1024, "mb": 1024**2, "m": 1024**2, "gb": 1024**3, "g": 1024**3}


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parse_size(text: str) -> int:
    value = text.strip().lower()
    number = value.rstrip("kmgb")
    unit = value[len(number) :]
    try:
        size = float(number) * SIZE_UNITS[unit]
    except (ValueError, KeyError):
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (examples: 5000000, 10MB, 512KB)") from None
    if size <= 0:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return int(size)


def positive_int(text: str) -> int:
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if value < 0:
        raise argparse.ArgumentTypeError(f"must be 0 (all cores) or more: {text!r}")
    return value


def build_parser() -> Parser:
    parser = Parser(prog="malwi", description="AI malware scanner for Python and JavaScript packages.")
    parser.add_argument("--version", action="version", version=f"malwi {__version__}")
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    scan = commands.add_parser("scan", help="compile files, folders or packages into malwicode")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to scan")
    scan.add_argument("--format", "-f", choices=FORMATS, default="tokens", help="output format (default: tokens)")
    scan.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    scan.add_argument("--workers", "-w", type=positive_int, default=0, metavar="N", help="worker threads (default: all cores)")
    scan.add_argument(
        "--extensions",
        metavar="EXT[,EXT...]",
        help="only these file extensions (default: py,pyw,js,mjs,cjs,jsx,ts,mts,cts,tsx)",
    )
    scan.add_argument(
        "--max-file-size",
        type=parse_size,
        default=DEFAULT_MAX_FILE_SIZE,
        metavar="SIZE",
        help="skip larger files with a warning (default: 10MB)",
    )
    scan.add_argument("--methods", choices=("separate", "inline"), help="methods as their own objects or inside classes")
    scan.add_argument("--lambdas", choices=("separate", "inline"), help="lambdas as their own objects or inline")
    scan.add_argument("--featurizer-config", metavar="FILE", help="featurizer configuration (JSON)")
    scan.add_argument("--quiet", "-q", action="store_true", help="no warnings on stderr")
    return parser


def featurizer_config(args: argparse.Namespace) -> FeaturizerConfig:
    if args.featurizer_config:
        try:
            with open(args.featurizer_config, encoding="utf-8") as handle:
                base = FeaturizerConfig.from_json(handle.read())
        except OSError as error:
            raise UsageError(f"cannot read featurizer config: {error.strerror}: {args.featurizer_config}") from None
    else:
        base = FeaturizerConfig()
    return FeaturizerConfig(
        methods=args.methods or base.methods,
        lambdas=args.lambdas or base.lambdas,
        disabled_string_classes=base.disabled_string_classes,
        size_buckets=base.size_buckets,
        short_string_max=base.short_string_max,
        max_nesting=base.max_nesting,
    )


def warn(quiet: bool, message: str) -> None:
    if not quiet:
        print(f"malwi: warning: {message}", file=sys.stderr)


def report_problems(report: FileReport, quiet: bool) -> None:
    if report.status != "compiled":
        warn(quiet, f"{report.path}: {report.status}, {report.reason}")
    for note in report.warnings:
        warn(quiet, f"{report.path}: {note}")


def run_scan(args: argparse.Namespace, out: BinaryIO) -> int:
    missing = [path for path in args.paths if not os.path.lexists(path)]
    if missing:
        raise UsageError(f"path not found: {missing[0]}")
    extensions = [e.strip() for e in args.extensions.split(",") if e.strip()] if args.extensions else None
    options = ScanOptions(
        workers=args.workers,
        max_file_size=args.max_file_size,
        extensions=extensions,
        config=featurizer_config(args),
    )
    scan = Scan(args.paths, options)
    stream = None
    if args.format == "json":
        stream = dump.JsonStream(
            out,
            {
                "malwi_version": __version__,
                "featurizer": {"id": options.config.featurizer_id, "config": json.loads(options.config.to_json())},
            },
        )
    render = {"tokens": dump.tokens, "code": dump.code}.get(args.format)
    chunk: list[FileReport] = []

    def flush() -> None:
        if stream is not None:
            stream.write(chunk)
        elif render is not None:
            out.write(render(chunk))
        chunk.clear()

    for report in scan:
        report_problems(report, args.quiet)
        chunk.append(report)
        if len(chunk) >= 256:
            flush()
    flush()
    for path, message in scan.discovery_errors:
        warn(args.quiet, f"{path}: cannot be read: {message}")
    if stream is not None:
        stream.close({"statistics": scan.statistics.to_dict()})
    return EXIT_OK


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_ERROR
        if args.output:
            try:
                with open(args.output, "wb") as out:
                    return run_scan(args, out)
            except OSError as error:
                raise UsageError(f"cannot write {args.output}: {error.strerror}") from None
        sys.stdout.flush()
        return run_scan(args, sys.stdout.buffer)
    except UsageError as error:
        print(f"malwi: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except MalwiError as error:
        print(f"malwi: error: {error}", file=sys.stderr)
        return EXIT_ERROR
    except KeyboardInterrupt:
        print("malwi: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except BrokenPipeError:
        # The reader went away (`malwi scan ... | head`): not an error worth a message.
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return EXIT_OK
    except Exception as error:  # noqa: BLE001 - the last line of defence against tracebacks
        if os.environ.get("MALWI_DEBUG"):
            raise
        print(f"malwi: internal error: {type(error).__name__}: {error} (MALWI_DEBUG=1 shows details)", file=sys.stderr)
        return EXIT_ERROR


def run() -> None:
    """Console-script entry point: exits without tearing the interpreter down.

    A scan leaves thousands of objects behind; freeing them one by one at exit costs more than
    scanning a small package. The output is flushed first, so nothing is lost.
    """
    code = main()
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
