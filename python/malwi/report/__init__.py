"""The result of a scan and its renderings; nothing here scans or decides.

- `result`: the data (`MalwiReport`, `BatchReport`, `FileFinding`, `ObjectFinding`, `FileInfo`);
  `MalwiReport.create(...)` is the API's one call, a façade over `malwi.engine`.
- renderers, one per format: `text`, `document` (JSON and YAML, the schema's contract),
  `markdown`, `sarif`, `html`; `render` maps a format name to its renderer.
- `dump`: the model-free renderings of compiled objects (`--format tokens|code`, `--no-model`).
"""

from malwi.report.result import BatchReport, FileFinding, FileInfo, MalwiReport, ObjectFinding

__all__ = ["BatchReport", "FileFinding", "FileInfo", "MalwiReport", "ObjectFinding"]
