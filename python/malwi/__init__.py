"""malwi: an AI malware scanner for Python and JavaScript packages.

Source is parsed with tree-sitter (in Rust) and compiled into malwicode, a pseudo-bytecode in
which security-relevant names and strings are replaced by categories. Nothing scanned is ever
imported or run.
"""

from malwi._malwi import (
    DEFAULT_EXTENSIONS,
    DEFAULT_MAX_FILE_SIZE,
    FEATURIZER_VERSION,
    PATTERN_DATABASE_VERSION,
    Discovery,
    FeaturizerConfig,
    FileReport,
    LinearModel,
    MalwiObject,
    Vocabulary,
    __version__,
    categories,
    compile_files,
    compile_source,
    discover,
    ngram_features,
    reserved_tokens,
)
from malwi.errors import (
    ConfigError,
    InternalError,
    MalwiError,
    ModelError,
    ParseError,
    PathError,
    UnsupportedLanguageError,
)

# The distribution's name on PyPI (pyproject.toml): `malwi` there is another project's.
DISTRIBUTION = "malwi-scanner"

__all__ = [
    "DEFAULT_EXTENSIONS",
    "DEFAULT_MAX_FILE_SIZE",
    "DISTRIBUTION",
    "FEATURIZER_VERSION",
    "PATTERN_DATABASE_VERSION",
    "ConfigError",
    "Discovery",
    "FeaturizerConfig",
    "FileReport",
    "InternalError",
    "LinearModel",
    "MalwiError",
    "MalwiObject",
    "MalwiReport",
    "ModelError",
    "ParseError",
    "PathError",
    "UnsupportedLanguageError",
    "Vocabulary",
    "__version__",
    "categories",
    "compile_files",
    "compile_source",
    "discover",
    "ngram_features",
    "reserved_tokens",
]


def __getattr__(name: str) -> object:
    # The report pulls in numpy and the model runtime: import it only when asked for.
    if name == "MalwiReport":
        from malwi.report import MalwiReport

        return MalwiReport
    raise AttributeError(f"module 'malwi' has no attribute {name!r}")
