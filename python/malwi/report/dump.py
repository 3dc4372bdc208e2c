"""Model-free renderings of compiled objects: `tokens`, `code` and `json`.

Each renderer takes the reports of one chunk, so the CLI can stream a scan of any size. The text
dumps are rendered in Rust straight to bytes: on a large tree they are megabytes of output.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from typing import Protocol

    class Writer(Protocol):
        def write(self, data: bytes, /) -> int: ...


from malwi._malwi import FileReport, MalwiObject, render
from malwi.report.escape import json_safe


def tokens(reports: list[FileReport]) -> bytes:
    """Per object: a header line (`# path:first-last kind name`), then its token string."""
    return render(reports, "tokens")


def code(reports: list[FileReport]) -> bytes:
    """Per object: the same header line, then its source code."""
    return render(reports, "code")


def object_record(obj: MalwiObject) -> dict[str, Any]:
    start, end = obj.location
    return {
        "name": obj.name,
        "kind": obj.kind,
        "language": obj.language,
        "file_path": obj.file_path,
        "location": [start, end],
        "hash": obj.to_hash(),
        "token_count": obj.token_count,
        "tokens": obj.to_token_string(),
        "source_code": obj.source_code,
    }


def file_record(report: FileReport) -> dict[str, Any]:
    return {
        "path": report.path,
        "language": report.language,
        "size": report.size,
        "status": report.status,
        "reason": report.reason,
        "warnings": report.warnings,
        "objects": [object_record(obj) for obj in report.objects],
    }


class JsonStream:
    """Writes `{"malwi_version": ..., "files": [...], "statistics": {...}}` incrementally."""

    def __init__(self, out: Writer, head: dict[str, Any]) -> None:
        self.out = out
        self.first = True
        opening = json.dumps(head, indent=2)[:-2]  # drop the closing "\n}"
        self.out.write((opening + ',\n  "files": [').encode())

    def write(self, reports: Iterable[FileReport]) -> None:
        for report in reports:
            text = json_safe(json.dumps(file_record(report), indent=2, ensure_ascii=False))
            # split("\n"), not splitlines(): strings may hold U+2028 and other line breaks
            text = "\n".join("    " + line for line in text.split("\n"))
            self.out.write((("\n" if self.first else ",\n") + text).encode())
            self.first = False

    def close(self, tail: dict[str, Any]) -> None:
        closing = "\n  ]" if not self.first else "]"
        rest = "".join(
            f',\n  "{key}": ' + json.dumps(value, indent=2).replace("\n", "\n  ")
            for key, value in tail.items()
        )
        self.out.write((closing + rest + "\n}\n").encode())
