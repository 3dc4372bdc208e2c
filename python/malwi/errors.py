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
    "ArchiveError",
    "ConfigError",
    "DependencyFileError",
    "InternalError",
    "MalwiError",
    "ModelError",
    "ParseError",
    "PathError",
    "RegistryError",
    "UnsupportedLanguageError",
]


class ModelError(MalwiError):
    """A model that cannot be loaded, or does not match this malwi's featurizer or vocabulary.

    Scans fail closed on it: exit code 2, never a verdict."""


class ArchiveError(MalwiError):
    """An archive that cannot be unpacked safely, or at all (see `malwi.sources.archive`)."""


class RegistryError(MalwiError):
    """A package that cannot be found, fetched or verified (see `malwi.sources.registries`)."""


class DependencyFileError(MalwiError):
    """A dependency file that cannot be read or parsed (see `malwi.sources.dependencies`)."""
