"""Untrusted text in reports: what a scanned package chose to call its files, objects and
strings is written by the adversary.

Human formats (text, Markdown, stderr) show it, never interpret it: newlines, terminal escapes,
other control characters, bidirectional overrides and the bytes of names that are not valid
UTF-8 become visible escapes (`\\n`, `\\x1b`, `\\u202e`, `\\xff`), so a file called
`x\\n=> good` cannot forge a verdict line or recolour the terminal. Machine formats keep the
exact text but are always well-formed: YAML and JSON escape what their grammars forbid.
"""

from __future__ import annotations

import re

__all__ = ["code_span", "fence", "json_safe", "shown", "table_cell", "yaml_string"]

# C0 and C1 controls and DEL; line and paragraph separators; bidirectional embeddings,
# overrides and isolates; zero-width characters that hide text; the surrogates that stand for
# undecodable bytes in file names (os.fsdecode) and any other lone surrogate.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff\ud800-\udfff]")
_NAMED = {"\n": "\\n", "\r": "\\r", "\t": "\\t"}


def _escape(match: re.Match[str]) -> str:
    char = match.group()
    if char in _NAMED:
        return _NAMED[char]
    point = ord(char)
    if 0xDC80 <= point <= 0xDCFF:  # a byte of a name that is not UTF-8, as os.fsdecode keeps it
        return f"\\x{point - 0xDC00:02x}"
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def shown(text: str) -> str:
    """`text` as one line a person can read, with nothing a terminal would act on."""
    return _UNSAFE.sub(_escape, text)


def table_cell(text: str) -> str:
    """Untrusted text inside a Markdown table cell: shown, with the cell separator escaped."""
    return shown(text).replace("|", "\\|")


def code_span(text: str) -> str:
    """Untrusted text as a Markdown code span that its own backticks cannot close early."""
    value = table_cell(text)
    longest = max((len(run) for run in re.findall("`+", value)), default=0)
    ticks = "`" * (longest + 1)
    pad = " " if value.startswith("`") or value.endswith("`") or not value else ""
    return f"{ticks}{pad}{value}{pad}{ticks}"


def fence(source: str) -> list[str]:
    """Untrusted source as a fenced Markdown code block: the fence is longer than any backtick
    run in it, and control characters are escaped (newlines kept as lines)."""
    lines = [shown(line) for line in source.rstrip().split("\n")]
    longest = max((len(run) for line in lines for run in re.findall("`+", line)), default=0)
    marker = "`" * max(3, longest + 1)
    return [marker, *lines, marker]


# What YAML forbids in a document even inside double quotes (YAML 1.2 "printable"), plus what
# would make a reader stumble (line separators, BOM); escaped with YAML's own escapes.
_YAML_UNSAFE = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x84\x86-\x9f\u2028\u2029\ufeff\ud800-\udfff\ufffe\uffff]"
)


def _yaml_escape(match: re.Match[str]) -> str:
    point = ord(match.group())
    return f"\\x{point:02x}" if point < 0x100 else f"\\u{point:04x}"


def yaml_string(text: str) -> str:
    """`text` as a YAML double-quoted scalar that parses back to exactly `text`."""
    body = text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n").replace("\r", "\\r")
    body = body.replace("\t", "\\t").replace("\x85", "\\N")
    return '"' + _YAML_UNSAFE.sub(_yaml_escape, body) + '"'


_SURROGATE = re.compile("[\ud800-\udfff]")


def json_safe(document: str) -> str:
    """A JSON document written with ensure_ascii=False, with lone surrogates (undecodable bytes of
    file names) as \\u escapes, so it can be written as UTF-8 and parsed back to the same text."""
    return _SURROGATE.sub(lambda m: f"\\u{ord(m.group()):04x}", document)
