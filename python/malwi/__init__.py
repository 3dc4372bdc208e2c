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
    MalwiObject,
    __version__,
    categories,
    compile_files,
    compile_source,
    discover,
    reserved_tokens,
)
from malwi.errors import (
    ConfigError,
    InternalError,
    MalwiError,
    ParseError,
    PathError,
    UnsupportedLanguageError,
)

__all__ = [
    "DEFAULT_EXTENSIONS",
    "DEFAULT_MAX_FILE_SIZE",
    "FEATURIZER_VERSION",
    "PATTERN_DATABASE_VERSION",
    "ConfigError",
    "Discovery",
    "FeaturizerConfig",
    "FileReport",
    "InternalError",
    "MalwiError",
    "MalwiObject",
    "ParseError",
    "PathError",
    "UnsupportedLanguageError",
    "__version__",
    "categories",
    "compile_files",
    "compile_source",
    "discover",
    "reserved_tokens",
]
