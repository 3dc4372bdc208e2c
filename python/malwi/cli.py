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
EXIT_MALICIOUS = 1
EXIT_ERROR = 2
REPORT_FORMATS = ("text", "json", "yaml", "markdown")
DUMP_FORMATS = ("tokens", "code")
FORMATS = REPORT_FORMATS + DUMP_FORMATS
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


def probability(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not 0.0 <= value <= 1.0:
        raise argparse.ArgumentTypeError(f"must be between 0 and 1: {text!r}")
    return value


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
    scan = commands.add_parser("scan", help="scan files, folders or packages; exit 1 when malicious")
    scan.add_argument("paths", nargs="+", metavar="PATH", help="files or directories to scan")
    scan.add_argument(
        "--format",
        "-f",
        choices=FORMATS,
        default="text",
        help="text/json/yaml/markdown: the verdict report (default: text); tokens/code: malwicode or "
        "source per object, without the model",
    )
    scan.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    scan.add_argument("--workers", "-w", type=positive_int, default=0, metavar="N", help="worker threads (default: all cores)")
    scan.add_argument("--threshold", type=probability, metavar="P", help="maliciousness at which the verdict is malicious (default: the model's)")
    scan.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto", help="where the model runs (default: auto)")
    scan.add_argument("--model", metavar="DIR", help="model bundle to use (default: the active or bundled model)")
    scan.add_argument("--no-model", action="store_true", help="compile only; with --format json, a structured dump of all objects")
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
    scan.add_argument("--methods", choices=("separate", "inline"), help="methods as their own objects or inside classes (without the model)")
    scan.add_argument("--lambdas", choices=("separate", "inline"), help="lambdas as their own objects or inline (without the model)")
    scan.add_argument("--featurizer-config", metavar="FILE", help="featurizer configuration, JSON (without the model)")
    scan.add_argument("--quiet", "-q", action="store_true", help="no warnings; the text report is just the verdict line")

    models = commands.add_parser("models", help="the model registry: list, show, activate")
    models.add_argument("--registry", metavar="PATH", help="registry database (default: $MALWI_REGISTRY or ~/.cache/malwi)")
    actions = models.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    actions.add_parser("list", help="registered models")
    show = actions.add_parser("show", help="one model with its metrics, training runs and versions (JSON)")
    show.add_argument("model_id")
    activate = actions.add_parser("activate", help="make scans use this model")
    activate.add_argument("model_id")

    research = commands.add_parser("research", help="train the model: download, preprocess, train-tokenizer, train, export, evaluate")
    research.add_argument("--config", default="data/training/training_config.json", metavar="FILE", help="training configuration")
    research.add_argument("--work", default="research-work", metavar="DIR", help="working folder for data and models (default: research-work)")
    research.add_argument("--registry", metavar="PATH", help="registry database to record runs in")
    steps = research.add_subparsers(dest="step", metavar="STEP", parser_class=Parser, required=True)
    steps.add_parser("download", help="fetch benign releases from PyPI and npm (digests checked, resumable)")
    steps.add_parser("preprocess", help="compile everything into objects: a Parquet table with labels and splits")
    steps.add_parser("train-tokenizer", help="build the closed malwicode vocabulary")
    steps.add_parser("train", help="train stage 1 (n-gram linear model) and stage 2 (DistilBERT)")
    export = steps.add_parser("export", help="ONNX export, int8 quantization, calibration, manifest")
    export.add_argument("--into", metavar="DIR", help="also copy the bundle here (e.g. python/malwi/models/default)")
    steps.add_parser("evaluate", help="object/file/package metrics and curves on the test packages")
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
    if args.format in REPORT_FORMATS and not args.no_model:
        if args.methods or args.lambdas or args.featurizer_config:
            raise UsageError("featurizer options apply without the model only (--format tokens|code or --no-model)")
        return run_report(args, out, extensions)
    if args.no_model and args.format in ("text", "yaml", "markdown"):
        raise UsageError(f"--format {args.format} is a verdict and needs the model; without it use tokens, code or json")
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


def run_report(args: argparse.Namespace, out: BinaryIO, extensions: list[str] | None) -> int:
    from malwi.report import MalwiReport
    from malwi.report import render

    report = MalwiReport.create(
        args.paths,
        silent=args.quiet,
        malicious_threshold=args.threshold,
        device=args.device,
        workers=args.workers,
        model=args.model,
        extensions=extensions,
        max_file_size=args.max_file_size,
    )
    text = render.text(report, quiet=args.quiet) if args.format == "text" else render.RENDERERS[args.format](report)
    out.write(text.encode())
    return EXIT_MALICIOUS if report.malicious else EXIT_OK


def run_models(args: argparse.Namespace) -> int:
    from malwi.registry import Registry

    with Registry(args.registry) as registry:
        registry.register_shipped()
        if args.action == "list":
            models = registry.list_models()
            if not models:
                print(f"no models in {registry.path}")
            for model in models:
                recall = "–" if model["recall"] is None else f"{model['recall']:.3f}"
                fpr = "–" if model["false_positive_rate"] is None else f"{model['false_positive_rate']:.3f}"
                print(f"{model['model_id']:<36} {model['version']:<12} {model['status']:<10} recall {recall} fpr {fpr}")
        elif args.action == "show":
            print(json.dumps(registry.show(args.model_id), indent=2, default=str))
        else:
            registry.activate(args.model_id)
            print(f"activated {args.model_id}")
    return EXIT_OK


def run_research(args: argparse.Namespace) -> int:
    from malwi.research import run_step

    return run_step(args)


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_ERROR
        if args.command == "models":
            return run_models(args)
        if args.command == "research":
            return run_research(args)
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
