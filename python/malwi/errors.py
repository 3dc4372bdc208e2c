"""Every exception malwi raises, declared here once. All derive from MalwiError.

The first group is created in the Rust extension (a core error maps to exactly one of them);
the rest are raised by the Python layer. The command line prints any of them as one line and
exits with code 2.
"""

from __future__ import annotations

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
    "BaselineError",
    "ConfigError",
    "DependencyFileError",
    "InternalError",
    "MalwiError",
    "ModelError",
    "ModelRegistryError",
    "NothingScanned",
    "ParseError",
    "PathError",
    "RegistryError",
    "ResearchError",
    "UnsupportedLanguageError",
]

# ConfigError covers every configuration that cannot be used: a featurizer configuration (raised
# by the extension) and a `[tool.malwi]` table (raised by `malwi.config`).


class ModelError(MalwiError):
    """A model that cannot be loaded, or does not match this malwi's featurizer or vocabulary.

    Scans fail closed on it: exit code 2, never a verdict."""


class ModelRegistryError(MalwiError):
    """A model registry that cannot be opened, or a model id it does not hold (`malwi models`)."""


class NothingScanned(MalwiError):
    """A scan that found no code to judge: an error, never a verdict (no `good` for nothing)."""


class ArchiveError(MalwiError):
    """An archive that cannot be unpacked safely, or at all (see `malwi.sources.archive`)."""


class RegistryError(MalwiError):
    """A package that cannot be found, fetched or verified on PyPI or npm (see
    `malwi.sources.registries`). `status` is the HTTP status when the registry answered with one."""

    def __init__(self, message: str, *, status: int | None = None) -> None:
        super().__init__(message)
        self.status = status


class DependencyFileError(MalwiError):
    """A dependency file that cannot be read or parsed (see `malwi.sources.dependencies`)."""


class ResearchError(MalwiError):
    """A research step that cannot run: a missing input or training dependency (`malwi research`)."""


class BaselineError(MalwiError):
    """A baseline file that cannot be read, parsed or written (`malwi baseline`, `--baseline`)."""
