"""The exceptions malwi raises. All are created in the Rust extension and derive from MalwiError."""

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
    "ParseError",
    "PathError",
    "UnsupportedLanguageError",
]
