"""The scan engine, one step a module, in the order data flows through it:

    inputs ──► workspace ──► compile ──► cache ──► score ──► verdict ──► render
    inputs.py               pipeline.py (the only chunk loop)  verdict.py  malwi/report/
                            cache.py     malwi/model/

- `inputs`: folders, files, archives, releases and dependency files become `Target`s of source
  files with their origin, in a temporary `Workspace`.
- `pipeline`: a `Scanner` built once from `ScanOptions`; `scan(target)` streams `FileResult`s
  through compile (the Rust core) → cache (`cache`) → score (`malwi.model`) → file verdicts;
  `judge(target)` returns the package's `MalwiReport`.
- `verdict`: object → file → package → tree, and the one package score (`PackageScore`).

See docs/architecture.md for the whole picture.
"""

from malwi.engine.inputs import Origin, SourceFile, Target, Workspace
from malwi.engine.pipeline import FileResult, Scanner, ScanOptions, ScanStatistics
from malwi.engine.verdict import PackageScore, Verdict

__all__ = [
    "FileResult",
    "Origin",
    "PackageScore",
    "ScanOptions",
    "ScanStatistics",
    "Scanner",
    "SourceFile",
    "Target",
    "Verdict",
    "Workspace",
]
