"""The exceptions malwi raises. All derive from MalwiError; all but ModelError come from the Rust extension."""

from malwi._malwi import (
    ConfigError,
    InternalError,
    MalwiError,
    ParseError,
    PathError,
    UnsupportedLanguageError,
)

__all__ = [
    "ConfigError",
    "InternalError",
    "MalwiError",
    "ModelError",
    "ParseError",
    "PathError",
    "UnsupportedLanguageError",
]


class ModelError(MalwiError):
    """A model that cannot be loaded, or does not match this malwi's featurizer or vocabulary.

    Scans fail closed on it: exit code 2, never a verdict."""
