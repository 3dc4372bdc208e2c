"""The `malwi` command line. Errors are one line on stderr and exit code 2, never a traceback."""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import signal
import sys
import threading
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, NoReturn, TypeVar

from malwi import DISTRIBUTION
from malwi._malwi import DEFAULT_MAX_FILE_SIZE, FeaturizerConfig, MalwiError, __version__
from malwi.config import parse_size as size_in_bytes
from malwi.report.escape import shown

if TYPE_CHECKING:
    from malwi.engine import Scanner, ScanOptions, Target, Workspace
    from malwi.engine.baseline import Baseline
    from malwi.report.result import BatchReport, MalwiReport
    from malwi.sources.archive import ExtractionLimits
    from malwi.sources.dependencies import Dependencies

N = TypeVar("N", int, float)
# Exit codes: 0 good; 1 a unit fails (malicious, or what --fail-on/--min-score add); 2 an error
# (nothing scanned included); 3 a unit is incomplete (code that could not be scanned).
EXIT_OK = 0
EXIT_MALICIOUS = 1
EXIT_ERROR = 2
EXIT_INCOMPLETE = 3
FAIL_ON = ("malicious", "suspicious", "incomplete")
REPORT_FORMATS = ("text", "json", "yaml", "markdown", "sarif", "html")
DUMP_FORMATS = ("tokens", "code")
FORMATS = REPORT_FORMATS + DUMP_FORMATS


class UsageError(Exception):
    """Bad input from the user: reported in one line, exit code 2."""


class Terminated(BaseException):
    """SIGTERM (or SIGHUP) arrived: unwinds like Ctrl-C, so temporary trees are removed."""

    def __init__(self, number: int) -> None:
        super().__init__(number)
        self.number = number


def _terminate(number: int, _frame: object) -> None:
    raise Terminated(number)


class Parser(argparse.ArgumentParser):
    def error(self, message: str) -> NoReturn:
        raise UsageError(message)


def parse_size(text: str) -> int:
    try:
        return size_in_bytes(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"not a size: {text!r} (a positive number of bytes; examples: 5000000, 10MB, 512KB)"
        ) from None


def bounded(convert: Callable[[str], N], low: N, high: N, rule: str) -> Callable[[str], N]:
    """An argparse type: a number from `convert` within [low, high] (NaN never is)."""

    def parse(text: str) -> N:
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{rule}: {text!r}")
        return value

    return parse


probability = bounded(float, 0.0, 1.0, "must be between 0 and 1")
positive_int = bounded(int, 0, sys.maxsize, "must be 0 (all cores) or more")
count = bounded(int, 1, sys.maxsize, "must be 1 or more")
ratio = bounded(float, 1.0, sys.float_info.max, "must be a finite ratio of 1 or more")


def add_report_options(command: argparse.ArgumentParser, formats: Sequence[str]) -> None:
    """Options of every command that ends in a verdict: scan, pypi, npm. Defaults are None so
    that `[tool.malwi]` in pyproject.toml can fill what the command line leaves out."""
    if formats:  # `malwi baseline create` writes one format of its own
        command.add_argument(
            "--format",
            "-f",
            choices=formats,
            help="text/json/yaml/markdown/sarif/html: the verdict report (default: text)"
            + (
                "; tokens/code: malwicode or source per object, without the model"
                if "tokens" in formats
                else ""
            ),
        )
    command.add_argument("--output", "-o", metavar="FILE", help="write the output to FILE instead of stdout")
    command.add_argument(
        "--workers", "-w", type=positive_int, metavar="N", help="worker threads (default: all cores)"
    )
    command.add_argument(
        "--threshold",
        type=probability,
        metavar="P",
        help="maliciousness at which the verdict is malicious (default: the model's)",
    )
    command.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), help="where the model runs (default: auto)"
    )
    command.add_argument(
        "--model", metavar="DIR", help="model bundle to use (default: the active or bundled model)"
    )
    command.add_argument(
        "--no-cache",
        dest="cache",
        action="store_false",
        default=None,
        help="neither read nor write the result cache",
    )
    command.add_argument(
        "--max-archive-size",
        type=parse_size,
        metavar="SIZE",
        help="refuse archives that unpack to more (default: 1GB)",
    )
    command.add_argument(
        "--max-archive-files",
        type=count,
        metavar="N",
        help="refuse archives with more files (default: 50000)",
    )
    command.add_argument(
        "--max-archive-ratio",
        type=ratio,
        metavar="R",
        help="refuse archives compressed more than R:1 (default: 200)",
    )
    command.add_argument(
        "--fail-on",
        metavar="VERDICT[,VERDICT]",
        help="verdicts of a package that fail the scan: malicious (exit 1), suspicious (exit 1), "
        "incomplete (exit 3); default: malicious,incomplete",
    )
    command.add_argument(
        "--min-score",
        type=probability,
        metavar="P",
        help="also fail (exit 1) when a package scores P or more",
    )
    command.add_argument("--no-config", action="store_true", help="ignore [tool.malwi] in pyproject.toml")
    command.add_argument(
        "--config",
        metavar="FILE",
        dest="config_file",
        help="read [tool.malwi] from this file instead of the working directory's pyproject.toml",
    )
    command.add_argument(
        "--quiet",
        "-q",
        action="store_true",
        default=None,
        help="no warnings or progress; the text report is just the verdict line",
    )


def build_parser() -> Parser:
    parser = Parser(prog="malwi", description="AI malware scanner for Python and JavaScript packages.")
    parser.add_argument(
        "--version", action="version", version=f"malwi {__version__} ({DISTRIBUTION} on PyPI)"
    )
    commands = parser.add_subparsers(dest="command", metavar="COMMAND", parser_class=Parser)
    scan = commands.add_parser(
        "scan", help="scan files, folders, archives or dependency files; exit 1 when malicious"
    )
    scan.add_argument(
        "paths",
        nargs="*",
        metavar="PATH",
        help="files, directories or archives (.tar.gz .tgz .tar.bz2 .tar .zip .whl .egg)",
    )
    scan.add_argument(
        "--requirements",
        "-r",
        action="append",
        default=[],
        metavar="FILE",
        help="scan every pinned dependency of a pip requirements file",
    )
    scan.add_argument(
        "--lockfile",
        action="append",
        default=[],
        metavar="FILE",
        help="scan every pinned dependency of a lock file, by name: package-lock.json, npm-shrinkwrap.json, "
        "yarn.lock, pnpm-lock.yaml, package.json, uv.lock, poetry.lock, Pipfile.lock or pdm.lock",
    )
    add_report_options(scan, FORMATS)
    scan.add_argument(
        "--since",
        action="append",
        default=[],
        metavar="OLD_FILE",
        help="with -r/--lockfile: the previous dependency file(s); only dependencies that are new or "
        "changed since them are scanned (the rest are listed as unchanged)",
    )
    scan.add_argument(
        "--resolve",
        action="store_true",
        help="with -r/--lockfile package.json: resolve ranges and every transitive dependency from "
        "registry metadata (pip's rules; npm's), each scanned with the chain that brought it in",
    )
    scan.add_argument(
        "--python",
        action="append",
        default=[],
        metavar="PATH",
        help="scan an installed environment, each distribution on its own: an interpreter, a virtual "
        "environment or a site-packages folder (the interpreter is never run)",
    )
    scan.add_argument(
        "--baseline",
        metavar="FILE",
        help="accept the findings recorded in FILE (malwi baseline create): fail only on new ones",
    )
    scan.add_argument(
        "--no-model",
        action="store_true",
        help="compile only; with --format json, a structured dump of all objects",
    )
    scan.add_argument(
        "--extensions",
        metavar="EXT[,EXT...]",
        help="only these file extensions (default: py,pyw,js,mjs,cjs,jsx,ts,mts,cts,tsx)",
    )
    scan.add_argument(
        "--max-file-size",
        type=parse_size,
        metavar="SIZE",
        help="skip larger files with a warning (default: 10MB)",
    )
    scan.add_argument(
        "--methods",
        choices=("separate", "inline"),
        help="methods as their own objects or inside classes (without the model)",
    )
    scan.add_argument(
        "--lambdas",
        choices=("separate", "inline"),
        help="lambdas as their own objects or inline (without the model)",
    )
    scan.add_argument(
        "--featurizer-config", metavar="FILE", help="featurizer configuration, JSON (without the model)"
    )

    for ecosystem, what in (("pypi", "PyPI (the sdist, else a wheel)"), ("npm", "npm (the tarball)")):
        fetch = commands.add_parser(
            ecosystem, help=f"fetch a release from {what}, verify its digest, scan it; nothing is installed"
        )
        fetch.add_argument("name", metavar="NAME")
        fetch.add_argument(
            "version",
            nargs="?",
            metavar="VERSION",
            help="default: the latest release" + (" (or a dist-tag)" if ecosystem == "npm" else ""),
        )
        fetch.add_argument("--keep", metavar="DIR", help="also keep the downloaded file in DIR")
        fetch.add_argument(
            "--index-url",
            metavar="URL",
            help=f"registry JSON API (default: ${'MALWI_PYPI_URL' if ecosystem == 'pypi' else 'MALWI_NPM_URL'} or the public registry)",
        )
        add_report_options(fetch, REPORT_FORMATS)

    batch = commands.add_parser(
        "batch",
        help="judge a list of packages on Ray (a local cluster or --address), rows to JSONL or Parquet",
    )
    batch.add_argument(
        "list",
        metavar="LIST",
        help="one package a line: NAME, NAME==VERSION, pypi:..., npm:NAME@VERSION, or an archive path",
    )
    batch.add_argument(
        "--output", "-o", required=True, metavar="OUT", help="rows as JSONL, or Parquet for .parquet; resumed"
    )
    batch.add_argument(
        "--ecosystem", choices=("pypi", "npm"), default="pypi", help="of bare names (default: pypi)"
    )
    batch.add_argument(
        "--address",
        metavar="ADDR",
        help="an existing Ray cluster (ray://host:10001, auto); default: a local one",
    )
    batch.add_argument(
        "--ray-cpus", type=positive_int, metavar="N", help="CPUs of the local cluster (default: all)"
    )
    batch.add_argument(
        "--actors",
        type=positive_int,
        metavar="N",
        help="judging actors, one model each (default: one per CPU)",
    )
    batch.add_argument(
        "--gpus-per-actor", type=bounded(float, 0.0, 8.0, "must be between 0 and 8"), default=0.0, metavar="G"
    )
    batch.add_argument(
        "--retry-errors", action="store_true", help="judge again the packages whose rows are errors"
    )
    batch.add_argument("--index-url", metavar="URL", help="PyPI or npm registry base URL (a mirror)")
    batch.add_argument("--model", metavar="DIR", help="model bundle (default: the active or bundled model)")
    batch.add_argument(
        "--threshold", type=probability, metavar="P", help="verdict threshold (default: the model's)"
    )
    batch.add_argument(
        "--device", choices=("auto", "cpu", "cuda"), default="auto", help="where each actor's model runs"
    )
    batch.add_argument(
        "--no-cache", dest="cache", action="store_false", help="neither read nor write the result cache"
    )
    batch.add_argument("--quiet", "-q", action="store_true", help="no progress bar or summary")

    cache = commands.add_parser("cache", help="the result cache: where it is, what it holds, empty it")
    cache_actions = cache.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    cache_actions.add_parser("path", help="print malwi's cache folder")
    cache_actions.add_parser("stats", help="rows, size and models of the result cache (JSON)")
    cache_actions.add_parser("clear", help="drop every cached result (the model registry is kept)")

    diff = commands.add_parser(
        "diff", help="what NEW adds to OLD (archives, folders or releases), with a verdict on the change"
    )
    diff.add_argument(
        "old",
        metavar="OLD",
        help="an archive or folder, or a release: pypi:NAME==VERSION, npm:NAME@VERSION; "
        "pypi:NAME==A..B or npm:NAME@A..B gives both",
    )
    diff.add_argument("new", nargs="?", metavar="NEW", help="the newer archive, folder or release")
    diff.add_argument("--index-url", metavar="URL", help="PyPI or npm registry base URL (a mirror)")
    add_report_options(diff, ("text", "json"))

    baseline = commands.add_parser(
        "baseline", help="record today's reviewed findings, so that scans fail only on new ones"
    )
    baseline_actions = baseline.add_subparsers(
        dest="action", metavar="ACTION", parser_class=Parser, required=True
    )
    create = baseline_actions.add_parser(
        "create", help="scan PATH and write every finding of its flagged packages as a baseline (JSON)"
    )
    create.add_argument("paths", nargs="+", metavar="PATH", help="what `malwi scan --baseline` will scan")
    add_report_options(create, ())

    models = commands.add_parser("models", help="the model registry: list, show, compare, activate")
    models.add_argument(
        "--registry",
        metavar="PATH",
        help="registry database (default: $MALWI_REGISTRY, else model_registry.sqlite3 in malwi's cache folder)",
    )
    actions = models.add_subparsers(dest="action", metavar="ACTION", parser_class=Parser, required=True)
    actions.add_parser("list", help="registered models")
    show = actions.add_parser("show", help="one model with its metrics, training runs and versions (JSON)")
    show.add_argument("model_id")
    compare = actions.add_parser(
        "compare", help="two models' held-out figures side by side (a Markdown table)"
    )
    compare.add_argument("first", metavar="MODEL_ID")
    compare.add_argument("second", metavar="MODEL_ID")
    activate = actions.add_parser("activate", help="make scans use this model")
    activate.add_argument("model_id")

    research = commands.add_parser(
        "research",
        help="train the models: download, preprocess, augment, train-tokenizer, train, export, evaluate, unit-features, unit-model",
    )
    research.add_argument(
        "--config",
        default="data/training/training_config.json",
        metavar="FILE",
        help="training configuration",
    )
    research.add_argument(
        "--work",
        default="research-work",
        metavar="DIR",
        help="working folder for data and models (default: research-work)",
    )
    research.add_argument("--registry", metavar="PATH", help="registry database to record runs in")
    steps = research.add_subparsers(dest="step", metavar="STEP", parser_class=Parser, required=True)
    steps.add_parser("download", help="fetch benign releases from PyPI and npm (digests checked, resumable)")
    steps.add_parser(
        "preprocess", help="compile everything into objects: a Parquet table with labels and splits"
    )
    steps.add_parser(
        "augment", help="write the JavaScript rewrites of the malicious samples (synthetic npm training data)"
    )
    steps.add_parser("train-tokenizer", help="build the closed malwicode vocabulary")
    steps.add_parser("train", help="train stage 1 (n-gram linear model) and stage 2 (DistilBERT)")
    export = steps.add_parser("export", help="ONNX export, int8 quantization, calibration, manifest")
    export.add_argument(
        "--into", metavar="DIR", help="also copy the bundle here (e.g. python/malwi/models/default)"
    )
    steps.add_parser("evaluate", help="object/file/package metrics and curves on the test packages")
    unit_features = steps.add_parser(
        "unit-features",
        help="scan listed labelled packages into W/unit_features.parquet, what unit-model trains on",
    )
    unit_features.add_argument(
        "packages", metavar="LIST", help="TSV: label split ecosystem name path (tools/unit_sets.py)"
    )
    unit_features.add_argument(
        "--model", metavar="DIR", help="the object model to scan with (default: active)"
    )
    unit_features.add_argument(
        "--processes", type=int, default=2, help="scanning processes, one thread each (default 2)"
    )
    unit_features.add_argument(
        "--rescan", action="store_true", help="scan every package, even those the folder's table has"
    )
    unit_model = steps.add_parser(
        "unit-model",
        help="tune, combine and export the package-unit models on W/unit_features.parquet; report the table",
    )
    unit_model.add_argument(
        "--into", metavar="DIR", help="write the object-model bundle with the chosen unit model here"
    )
    unit_model.add_argument(
        "--model",
        metavar="DIR",
        help="the object-model bundle the features were scanned with (default: active)",
    )
    reach = steps.add_parser(
        "reach-weights", help="fit how much each reachability class counts, on listed validation packages"
    )
    reach.add_argument("packages", metavar="LIST", help="one package per line: benign|malicious<TAB>path")
    reach.add_argument("--model", metavar="DIR", help="the bundle to fit (default: the active model)")
    reach.add_argument("--into", metavar="DIR", help="write the bundle with the fitted weights here")
    reach.add_argument("--workers", type=int, default=0, help="compile and inference threads (0: all cores)")
    reach.add_argument("--samples", metavar="DIR", help="keep the scans here (JSON) and refit from them")
    reach.add_argument(
        "--keep",
        type=float,
        default=0.5,
        metavar="SHARE",
        help="share of its margin over the threshold each caught malicious package must keep (default 0.5)",
    )
    reach.add_argument(
        "--held-out", action="append", metavar="LIST", help="also measure these packages (never fitted on)"
    )
    reach.add_argument(
        "--max-recall-loss",
        type=float,
        default=0.0,
        metavar="SHARE",
        help="recall on the malicious packages may fall by at most this much (default 0: not at all)",
    )
    return parser


# What a command uses when neither the command line nor [tool.malwi] says otherwise.
DEFAULTS: dict[str, Any] = {
    "format": "text",
    "workers": 0,
    "threshold": None,
    "device": "auto",
    "model": None,
    "cache": True,
    "quiet": False,
    "extensions": None,
    "max_file_size": DEFAULT_MAX_FILE_SIZE,
    "exclude": [],
}


def apply_settings(args: argparse.Namespace) -> None:
    """Fills what the command line left open from `[tool.malwi]` in the nearest pyproject.toml
    above the working directory, then from DEFAULTS: the command line always wins. Never from
    the scanned tree: a package must not configure its own scan (`exclude = ["*"]`)."""
    from malwi.config import find_project_config, load_project_config, merge
    from malwi.errors import ConfigError

    project = None
    if getattr(args, "config_file", None):
        if getattr(args, "no_config", False):
            raise UsageError("--config and --no-config exclude each other")
        project = load_project_config(args.config_file)
        if project.path is None:
            raise ConfigError(f"{args.config_file}: no [tool.malwi] table")
    elif not getattr(args, "no_config", False):
        project = find_project_config(os.getcwd())
    values = project.values if project is not None else {}
    args.from_config = {key for key in values if getattr(args, key, None) is None}
    for key, default in DEFAULTS.items():
        setattr(args, key, merge(getattr(args, key, None), values.get(key), default))
    args.config_notice = ""
    # The user's configuration (the working directory's project or --config), never the scanned tree's.
    args.config_path = str(project.path) if project is not None and project.path is not None else None
    if project is not None and project.path is not None and args.from_config:
        # Scanning from inside the tree being scanned: its pyproject.toml may belong to the
        # package under inspection. Used (it is usually the user's own repository), but said.
        folder = project.path.parent.resolve()
        for path in getattr(args, "paths", None) or []:
            scanned = Path(path).resolve()
            if folder == scanned or scanned in folder.parents:
                settings = ", ".join(sorted(args.from_config))
                args.config_notice = f"{project.path}: inside the scanned tree; its [tool.malwi] set {settings} (--no-config ignores it)"
                warn(args.quiet, args.config_notice)
                break
    args.progress = not args.quiet and sys.stderr.isatty()
    args.failing = fail_on(getattr(args, "fail_on", None))  # checked before anything is scanned
    if isinstance(args.extensions, str):
        args.extensions = [e.strip() for e in args.extensions.split(",") if e.strip()]
    args.exclude_base = str(project.path.parent) if project is not None and project.path is not None else None
    if args.format not in (FORMATS if args.command == "scan" else REPORT_FORMATS):
        raise UsageError(
            f"format {args.format!r} (from {project.path if project else 'settings'}) is not available here"
        )


def featurizer_config(args: argparse.Namespace) -> FeaturizerConfig:
    if args.featurizer_config:
        try:
            with open(args.featurizer_config, encoding="utf-8") as handle:
                base = FeaturizerConfig.from_json(handle.read())
        except OSError as error:
            raise UsageError(
                f"cannot read featurizer config: {error.strerror}: {args.featurizer_config}"
            ) from None
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
        print(f"malwi: warning: {shown(message)}", file=sys.stderr)


def fail(message: object) -> int:
    """The one-line error every failure ends in (names in it are escaped: they may be the
    scanned tree's), and its exit code."""
    print(f"malwi: error: {shown(str(message))}", file=sys.stderr)
    return EXIT_ERROR


def extraction_limits(args: argparse.Namespace) -> ExtractionLimits:
    from malwi.sources.archive import ExtractionLimits

    limits = ExtractionLimits()
    if getattr(args, "max_archive_size", None):
        limits.max_total_bytes = args.max_archive_size
    if getattr(args, "max_archive_files", None):
        limits.max_files = args.max_archive_files
    if getattr(args, "max_archive_ratio", None):
        limits.max_ratio = args.max_archive_ratio
    return limits


def workspace_for(args: argparse.Namespace) -> Workspace:
    """Where the command's inputs become targets, as the options and `[tool.malwi]` say."""
    from malwi.engine import Workspace

    return Workspace(
        limits=extraction_limits(args),
        extensions=args.extensions,
        extensions_from_project="extensions" in args.from_config,
        exclude=args.exclude,
        exclude_base=args.exclude_base,
        keep=getattr(args, "keep", None),
        progress=args.progress,
    )


def scan_options(args: argparse.Namespace, *, score: bool) -> ScanOptions:
    """The one place where command-line options become scan options."""
    from malwi.engine import ScanOptions
    from malwi.engine.pipeline import cpu_count

    if args.workers > cpu_count():
        warn(args.quiet, f"--workers {args.workers}: using {cpu_count()}, the cores this machine has")

    return ScanOptions(
        model=args.model,
        score=score,
        device=args.device,
        workers=args.workers,
        max_file_size=args.max_file_size,
        threshold=args.threshold,
        cache=args.cache,
        featurizer=None if score else featurizer_config(args),
        progress=args.progress,
    )


def run_scan(args: argparse.Namespace, out: BinaryIO) -> int:
    if args.python:
        from malwi.sources.environments import site_packages

        args.paths += [folder for given in args.python for folder in site_packages(given)]
    if not args.paths and not args.requirements and not args.lockfile:
        raise UsageError(
            "nothing to scan: give a PATH, --python PATH, --requirements FILE or --lockfile FILE"
        )
    if args.resolve and not args.requirements and not args.lockfile:
        raise UsageError(
            "--resolve resolves dependency files: give --requirements FILE or --lockfile package.json"
        )
    if args.since and not args.requirements and not args.lockfile:
        raise UsageError("--since compares dependency files: give --requirements FILE or --lockfile FILE")
    missing = [
        path
        for path in [*args.paths, *args.requirements, *args.lockfile, *args.since]
        if not os.path.lexists(path)
    ]
    if missing:
        raise UsageError(f"path not found: {missing[0]}")
    if args.format in REPORT_FORMATS and not args.no_model:
        if args.methods or args.lambdas or args.featurizer_config:
            raise UsageError(
                "featurizer options apply without the model only (--format tokens|code or --no-model)"
            )
        return run_report(args, out)
    if args.requirements or args.lockfile:
        raise UsageError(
            "--requirements and --lockfile end in a verdict: use a report format, not --no-model"
        )
    if args.no_model and args.format in ("text", "yaml", "markdown", "sarif", "html"):
        raise UsageError(
            f"--format {args.format} is a verdict and needs the model; without it use tokens, code or json"
        )
    return run_dump(args, out)


def run_dump(args: argparse.Namespace, out: BinaryIO) -> int:
    """`--format tokens|code` and `--no-model --format json`: compiled objects, streamed chunk by
    chunk as the pipeline yields them."""
    from malwi.engine import Scanner
    from malwi.report import dump
    from malwi.sources.archive import is_archive

    archives = [path for path in args.paths if is_archive(path)]
    if archives:
        raise UsageError(
            f"{archives[0]}: archives are unpacked for verdicts only; unpack it to dump its tokens or code"
        )
    options = scan_options(args, score=False)
    with workspace_for(args) as workspace, Scanner(options) as scanner:
        target = workspace.local(args.paths)
        for warning in target.warnings:
            warn(args.quiet, warning)
        stream = None
        if args.format == "json":
            featurizer = scanner.featurizer
            stream = dump.JsonStream(
                out,
                {
                    "malwi_version": __version__,
                    "featurizer": {
                        "id": featurizer.featurizer_id,
                        "config": json.loads(featurizer.to_json()),
                    },
                },
            )
        scan = scanner.scan(target)
        for chunk in scan.chunks():
            reports = [result.compiled for result in chunk if result.compiled is not None]
            for result in chunk:
                for warning in result.warnings:
                    warn(args.quiet, warning)
            if stream is not None:
                stream.write(reports)
            else:
                out.write(dump.tokens(reports) if args.format == "tokens" else dump.code(reports))
        if stream is not None:
            stream.close({"statistics": scan.statistics.dump_dict()})
    return EXIT_OK


def run_report(args: argparse.Namespace, out: BinaryIO) -> int:
    """Everything that ends in a verdict: local paths, archives, registry releases, dependency
    files. One target gives one report; dependency files give a batch, one report per package."""
    from malwi.engine import Scanner
    from malwi.report.render import render

    baseline = load_baseline(args)
    with workspace_for(args) as workspace, Scanner(scan_options(args, score=True)) as scanner:

        def judge(target: Target) -> MalwiReport:
            return judge_target(args, workspace, scanner, target)

        if args.command in ("pypi", "npm"):
            from malwi.sources.registries import resolve_npm, resolve_pypi

            resolve = resolve_pypi if args.command == "pypi" else resolve_npm
            release = resolve(args.name, args.version, args.index_url)
            result: MalwiReport | BatchReport = finish_report(
                args, scanner.judge_release(workspace, release), False
            )
        elif not args.requirements and not args.lockfile:
            result = judge_target(args, workspace, scanner, list(args.paths))
            if baseline is not None:
                baseline.apply(result)  # the report says what it accepted and what is stale
        else:
            result = scan_dependencies(args, workspace, judge)
    code = exit_code(result, args.failing, args.min_score)
    # Renderers escape what the scanned tree named; anything left unencodable is shown, never fatal.
    rendered = render(result, args.format, quiet=args.quiet).encode("utf-8", "backslashreplace")
    try:
        out.write(rendered)
        out.flush()
    except BrokenPipeError:
        # The reader went away (`malwi scan x | head -1`): the verdict still sets the exit code.
        _silence_stdout()
    return code


def judge_target(
    args: argparse.Namespace, workspace: Workspace, scanner: Scanner, target: Target | list[str]
) -> MalwiReport:
    """One target's report, its warnings said, with the settings that configured it; what the
    workspace unpacked for it is removed. Local paths go through `Scanner.judge_local`, where
    one unchanged archive is answered from the cache without being unpacked."""
    if isinstance(target, list):
        report, trusted = scanner.judge_local(workspace, target), True
    else:
        report, trusted = scanner.judge(target), target.trusted
        workspace.discard(target)
    return finish_report(args, report, trusted)


def finish_report(args: argparse.Namespace, report: MalwiReport, trusted: bool) -> MalwiReport:
    """A judged report's warnings said, and the settings that configured its scan."""
    for warning in report.warnings:
        warn(args.quiet, warning)
    if args.config_notice and trusted:
        report.warnings.insert(0, args.config_notice)  # said on stderr already
    if args.config_path:
        report.settings["config"] = args.config_path
        report.settings["config_keys"] = sorted(args.from_config)
    return report


def load_baseline(args: argparse.Namespace) -> Baseline | None:
    """`--baseline FILE`, read before anything is scanned. It accepts findings of the user's own
    tree, so it goes with PATHs only: a dependency's findings are not the user's to accept."""
    path = getattr(args, "baseline", None)
    if not path:
        return None
    if args.requirements or args.lockfile:
        raise UsageError(
            "--baseline accepts findings of scanned PATHs; not with --requirements or --lockfile"
        )
    from malwi.engine.baseline import Baseline

    return Baseline.load(path)


def run_baseline(args: argparse.Namespace, out: BinaryIO) -> int:
    """`malwi baseline create PATH`: every finding of the flagged packages, as a baseline file.
    Incomplete units are said: a baseline accepts findings, never unscanned code."""
    from malwi.engine import Scanner
    from malwi.engine.baseline import Baseline

    with workspace_for(args) as workspace, Scanner(scan_options(args, score=True)) as scanner:
        report = judge_target(args, workspace, scanner, list(args.paths))
    baseline = Baseline.of(report)
    out.write(baseline.to_json(report).encode("utf-8", "backslashreplace"))
    out.flush()
    units = {entry["unit"] for entry in baseline.entries}
    where = f" in {args.output}" if args.output else ""
    print(
        shown(f"malwi: baseline: {len(baseline.entries)} findings of {len(units)} packages recorded{where}"),
        file=sys.stderr,
    )
    for unit in report.units:
        if unit.verdict == "incomplete":
            warn(
                args.quiet,
                f"{unit.label}: incomplete ({len(unit.unscanned)} parts not scanned); "
                "a baseline accepts findings, never unscanned code",
            )
    return EXIT_OK


def release_pair(old: str, new: str | None) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """`malwi diff`'s two sides: ("path", PATH) or (ecosystem, name, version) each."""

    def one(spec: str) -> tuple[str, ...]:
        for ecosystem, separator in (("pypi", "=="), ("npm", "@")):
            if spec.startswith(ecosystem + ":"):
                name, found, version = spec[len(ecosystem) + 1 :].rpartition(separator)
                if not found or not name or not version or name.endswith(separator[0]):
                    raise UsageError(f"{spec}: a release is {ecosystem}:NAME{separator}VERSION")
                return (ecosystem, name, version)
        if not os.path.lexists(spec):
            raise UsageError(f"path not found: {spec}")
        return ("path", spec)

    if new is None:
        first = one(old.split("..", 1)[0] if ".." in old and ":" in old else old)
        if first[0] == "path" or ".." not in old:
            raise UsageError(
                "malwi diff needs OLD and NEW, or one release range: pypi:NAME==A..B, npm:NAME@A..B"
            )
        return first, (*first[:2], old.split("..", 1)[1])
    return one(old), one(new)


def run_diff(args: argparse.Namespace, out: BinaryIO) -> int:
    """`malwi diff OLD NEW`: both sides compiled afresh (every object counts, not only those a
    report lists), compared object by object (`malwi.engine.diff`)."""
    from malwi.engine import Scanner
    from malwi.engine.diff import compare, judged_side
    from malwi.report.diff import diff_json, diff_text

    sides = release_pair(args.old, args.new)
    options = scan_options(args, score=True)
    options.cache = False  # the cache keeps listed objects only; a diff needs them all
    with workspace_for(args) as workspace, Scanner(options) as scanner:
        judged = []
        for side in sides:
            if side[0] == "path":
                path = side[1]
                target = workspace.local([path], trusted=False)
                root = os.path.abspath(path) if os.path.isdir(path) else None
                label = path
            else:
                from malwi.sources.registries import resolve_npm, resolve_pypi

                resolve = resolve_pypi if side[0] == "pypi" else resolve_npm
                release = resolve(side[1], side[2], args.index_url)
                target, root, label = workspace.release(release), None, release.label
            judged.append(judged_side(scanner, target, label, root))
            for warning in judged[-1].report.warnings if judged[-1].report else []:
                warn(args.quiet, warning)
            workspace.discard(target)
        assert scanner.package_score is not None
        result = compare(judged[0], judged[1], scanner.package_score, scanner.listing)
    out.write(
        (diff_json(result) if args.format == "json" else diff_text(result)).encode(
            "utf-8", "backslashreplace"
        )
    )
    out.flush()
    failing = {result.verdict} & args.failing
    if "malicious" in failing or "suspicious" in failing:
        return EXIT_MALICIOUS
    if args.min_score is not None and result.maliciousness >= args.min_score:
        return EXIT_MALICIOUS
    new_report = result.new.report
    if "incomplete" in args.failing and new_report is not None and new_report.verdict == "incomplete":
        return EXIT_INCOMPLETE
    return EXIT_OK


def _silence_stdout() -> None:
    """After the reader of stdout left: later writes and the flush at exit go nowhere."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())


def fail_on(text: str | None) -> set[str]:
    """The verdicts that fail a scan, from `--fail-on malicious,incomplete`."""
    if text is None:
        return {"malicious", "incomplete"}
    chosen = {part.strip() for part in text.split(",") if part.strip()}
    unknown = chosen - set(FAIL_ON)
    if unknown or not chosen:
        raise UsageError(f"--fail-on takes {', '.join(FAIL_ON)} (comma-separated), not {text!r}")
    return chosen


def exit_code(result: MalwiReport | BatchReport, failing: set[str], min_score: float | None) -> int:
    """How a scan ends: a failing verdict (malicious, or what --fail-on/--min-score add), then
    incomplete, then a batch's packages that could not be checked; 0 when nothing fails."""
    from malwi.report.result import BatchReport

    reports = result.reports if isinstance(result, BatchReport) else [result]
    verdicts = {unit.verdict for report in reports for unit in report.units}
    if isinstance(result, BatchReport) and result.missing:
        verdicts.add("incomplete")  # a dependency that was not scanned is never good
    if "malicious" in verdicts and "malicious" in failing:
        return EXIT_MALICIOUS
    if min_score is not None and any(r.maliciousness >= min_score for r in reports):
        return EXIT_MALICIOUS
    if "suspicious" in failing and verdicts & {"malicious", "suspicious"}:
        return EXIT_MALICIOUS
    if isinstance(result, BatchReport) and result.failed:
        return EXIT_ERROR  # some dependency could not be fetched or unpacked
    if "incomplete" in failing and "incomplete" in verdicts:
        return EXIT_INCOMPLETE
    return EXIT_OK


def scan_dependencies(
    args: argparse.Namespace, workspace: Workspace, judge: Callable[[Target], MalwiReport]
) -> BatchReport:
    """Dependency files (and any PATHs given with them): one report per pinned package, the
    unpinned ones listed, the ones that cannot be fetched or unpacked recorded as failed."""
    from malwi.errors import ArchiveError, NothingScanned, RegistryError
    from malwi.report import FileInfo
    from malwi.report.result import BatchReport

    files = [*args.requirements, *args.lockfile]
    dependencies = read_dependencies(args, args.requirements, args.lockfile)
    unchanged: list[str] = []
    if args.since:
        # The previous files, read the same way (each by its name): what they pinned already
        # went through review, so only new or changed pins are fetched.
        before = read_dependencies(
            args, [p for p in args.since if not is_lock_file(p)], [p for p in args.since if is_lock_file(p)]
        )
        known = {d.identity for d in before.pinned}
        unchanged = sorted(d.label for d in dependencies.pinned if d.identity in known)
        dependencies.pinned = [d for d in dependencies.pinned if d.identity not in known]
    batch = BatchReport(", ".join([*args.paths, *files]))
    if len(files) == 1:
        batch.file_info = FileInfo.of_file(files[0]).to_dict()
    else:
        listed = [(path, FileInfo.of_file(path).sha256, os.path.getsize(path)) for path in files]
        batch.file_info = FileInfo.of_manifest(batch.label, listed).to_dict()
    batch.unresolved = [u.to_dict() for u in dependencies.unresolved]
    batch.unchanged = unchanged
    batch.since = list(args.since)
    for item in dependencies.unresolved:
        warn(args.quiet, f"not scanned: {item.requirement} ({item.origin}): {item.reason}")
    for note in dependencies.notes:
        warn(args.quiet, note)
    if args.paths:
        batch.reports.append(judge(workspace.local(args.paths)))
    for dependency, target in workspace.dependencies(dependencies.pinned):
        try:
            if isinstance(target, MalwiError):
                raise target
            batch.reports.append(judge(target))
        except (
            ArchiveError,
            RegistryError,
            NothingScanned,
        ) as error:  # one package; a broken model stops all
            batch.failed.append(
                {"package": dependency.label, "origin": dependency.origin, "error": str(error)}
            )
            warn(args.quiet, f"{dependency.label} not scanned: {error}")
    return batch


def is_lock_file(path: str) -> bool:
    from malwi.sources.dependencies import LOCK_FILES

    return os.path.basename(path) in LOCK_FILES


def read_dependencies(
    args: argparse.Namespace, requirements: list[str], lockfiles: list[str]
) -> Dependencies:
    """Dependency files as pinned releases: as they pin them, or with `--resolve` resolved
    (requirements files as pip would, `malwi.sources.resolve`; a plain package.json as npm
    would; lock files are resolved already and read as they are)."""
    from malwi.sources.dependencies import Dependencies, parse_dependency_file, parse_requirements

    dependencies = Dependencies()
    if not args.resolve:
        for path in requirements:
            parse_dependency_file(path, dependencies, kind="requirements")
        for path in lockfiles:
            parse_dependency_file(path, dependencies, kind="lockfile")
        return dependencies
    from malwi.sources.resolve import package_json_specs, requirement_lines, resolve_npm, resolve_pypi

    lines = [pair for path in requirements for pair in requirement_lines(path)]
    for path in requirements:
        dependencies.notes += parse_requirements(path).notes  # index URLs malwi does not use
    if lines:
        resolve_pypi(lines, index_url=None).merge_into(dependencies)
    for path in lockfiles:
        if os.path.basename(path) == "package.json":
            resolve_npm(package_json_specs(path), registry_url=None).merge_into(dependencies)
        else:
            parse_dependency_file(path, dependencies, kind="lockfile")
    return dependencies


def refuse_overwriting_an_input(args: argparse.Namespace) -> None:
    """`-o` must not name a file being scanned: opening it for the report would truncate it."""
    if not os.path.exists(args.output):
        return
    inputs = [*getattr(args, "paths", []), *getattr(args, "requirements", []), *getattr(args, "lockfile", [])]
    for path in inputs:
        try:
            same = os.path.samefile(path, args.output)
        except OSError:
            continue
        if same:
            raise UsageError(
                f"--output {args.output}: is the input {path}; refusing to overwrite what is scanned"
            )


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
                print(
                    f"{model['model_id']:<36} {model['version']:<12} {model['status']:<10} recall {recall} fpr {fpr}"
                )
        elif args.action == "show":
            print(json.dumps(registry.show(args.model_id), indent=2, default=str))
        elif args.action == "compare":
            rows = registry.compare(args.first, args.second)
            print(f"| | {args.first} | {args.second} | change |\n|---|---|---|---|")
            for row in rows:
                print("| " + " | ".join(row) + " |")
        else:
            registry.activate(args.model_id)
            print(f"activated {args.model_id}")
    return EXIT_OK


def run_batch(args: argparse.Namespace) -> int:
    """`malwi batch LIST -o OUT`: the packages of LIST judged on Ray (`malwi.batch`); exit 1 when
    one is malicious, else 3 when one could not be judged (its row says why), else 0."""
    from malwi.batch import parse_list
    from malwi.batch import run_batch as run_on_ray

    items = parse_list(args.list, args.ecosystem)
    out = Path(args.output)
    if out.exists() and not out.is_file():
        raise UsageError(f"--output {out}: not a file")
    options = {
        "model": args.model,
        "device": args.device,
        "workers": 1,
        "threshold": args.threshold,
        "cache": args.cache,
    }
    started = time.monotonic()
    counts = run_on_ray(
        items,
        out,
        options=options,
        address=args.address,
        cpus=args.ray_cpus,
        actors=args.actors,
        gpus_per_actor=args.gpus_per_actor,
        index_url=args.index_url,
        retry_errors=args.retry_errors,
        progress=not args.quiet and sys.stderr.isatty(),
    )
    seconds = time.monotonic() - started
    if not args.quiet:
        print(
            f"malwi batch: {counts['written']} packages judged in {seconds:.1f} s "
            f"({counts['malicious']} malicious, {counts['errors']} errors in all), {counts['skipped']} done before; {out}",
            file=sys.stderr,
        )
    if counts["malicious"]:
        return EXIT_MALICIOUS
    return EXIT_INCOMPLETE if counts["errors"] else EXIT_OK


def run_cache(args: argparse.Namespace) -> int:
    """`malwi cache path|stats|clear`: the one cache root and the result cache in it."""
    import sqlite3

    from malwi.engine.cache import FILE_NAME, ResultCache, cache_dir

    folder = cache_dir()
    if args.action == "path":
        print(folder)
        return EXIT_OK
    if args.action == "stats" and not (folder / FILE_NAME).exists():
        print(json.dumps({"path": str(folder / FILE_NAME), "rows": 0, "bytes": 0, "scorers": {}}, indent=2))
        return EXIT_OK
    try:
        with ResultCache() as results:
            if args.action == "stats":
                print(json.dumps(results.stats(), indent=2))
            else:
                print(f"cleared {results.clear()} cached results from {results.path}")
    except (OSError, sqlite3.Error) as error:
        raise UsageError(f"cache {folder / FILE_NAME}: {error}") from None
    return EXIT_OK


def run_research(args: argparse.Namespace) -> int:
    try:
        from malwi_research import run_step
    except ModuleNotFoundError as error:
        if error.name != "malwi_research":
            raise
        raise UsageError(
            "the research pipeline runs from a checkout of malwi's repository (pip install -e '.[train]'); "
            "this installation holds the scanner only"
        ) from None
    return run_step(args)


def main(argv: Sequence[str] | None = None) -> int:
    """The command line: an exit code, with every failure one line on stderr. SIGTERM and SIGHUP
    unwind the scan like Ctrl-C, so what it unpacked is removed (the handlers are put back after)."""
    previous = {}
    if threading.current_thread() is threading.main_thread():
        for number in (signal.SIGTERM, getattr(signal, "SIGHUP", None)):
            if number is not None:
                previous[number] = signal.signal(number, _terminate)
    try:
        return _main(argv)
    finally:
        for number, handler in previous.items():
            signal.signal(number, handler)


def _main(argv: Sequence[str] | None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
        if args.command is None:
            parser.print_help(sys.stderr)
            return EXIT_ERROR
        if args.command == "models":
            return run_models(args)
        if args.command == "cache":
            return run_cache(args)
        if args.command == "batch":
            return run_batch(args)
        if args.command == "research":
            return run_research(args)
        apply_settings(args)
        run = {"scan": run_scan, "baseline": run_baseline, "diff": run_diff}.get(args.command, run_report)
        if args.output:
            refuse_overwriting_an_input(args)
            try:
                out = open(args.output, "wb")  # noqa: SIM115 - closed below
            except OSError as error:
                raise UsageError(f"cannot write {args.output}: {error.strerror}") from None
            with out:
                return run(args, out)
        sys.stdout.flush()
        return run(args, sys.stdout.buffer)
    except (UsageError, MalwiError) as error:
        return fail(error)
    except KeyboardInterrupt:
        print("malwi: interrupted", file=sys.stderr)
        return 128 + signal.SIGINT
    except Terminated as stop:
        print(f"malwi: terminated ({signal.Signals(stop.number).name})", file=sys.stderr)
        return 128 + stop.number
    except BrokenPipeError:
        # The reader of a dump went away (`malwi scan --format tokens x | head`): not an error.
        _silence_stdout()
        return EXIT_OK
    except Exception as error:
        if os.environ.get("MALWI_DEBUG"):
            raise
        print(
            f"malwi: internal error: {type(error).__name__}: {shown(str(error))} (MALWI_DEBUG=1 shows details)",
            file=sys.stderr,
        )
        return EXIT_ERROR


def run() -> None:
    """Console-script entry point: exits without tearing the interpreter down.

    A scan leaves thousands of objects behind; freeing them one by one at exit costs more than
    scanning a small package. The output is flushed first, so nothing is lost.
    """
    code = main()
    for stream in (sys.stdout, sys.stderr):
        with contextlib.suppress(BrokenPipeError, ValueError):  # a reader that left, a closed stream
            stream.flush()
    os._exit(code)


if __name__ == "__main__":
    run()
