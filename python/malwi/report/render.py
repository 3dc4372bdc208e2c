"""Which renderer writes which format: the one table the command line and the API consult."""

from __future__ import annotations

from collections.abc import Callable

from malwi.report.document import to_json, to_yaml
from malwi.report.markdown import to_markdown
from malwi.report.result import BatchReport, MalwiReport
from malwi.report.text import text

Result = MalwiReport | BatchReport

__all__ = [
    "FORMATS",
    "RENDERERS",
    "render",
    "text",
    "to_html",
    "to_json",
    "to_markdown",
    "to_sarif",
    "to_yaml",
]


def to_sarif(report: Result) -> str:
    from malwi.report.sarif import to_sarif as render_sarif  # the rule tables cost start-up time

    return render_sarif(report)


def to_html(report: Result) -> str:
    from malwi.report.html import to_html as render_html  # only a browser report needs its page

    return render_html(report)


RENDERERS: dict[str, Callable[[Result], str]] = {
    "text": text,
    "json": to_json,
    "yaml": to_yaml,
    "markdown": to_markdown,
    "sarif": to_sarif,
    "html": to_html,
}
FORMATS = tuple(RENDERERS)


def render(report: Result, format: str, *, quiet: bool = False) -> str:
    """The report in `format` (one of FORMATS); `quiet` shortens the text report to its verdict lines."""
    if format == "text":
        return text(report, quiet=quiet)
    return RENDERERS[format](report)
