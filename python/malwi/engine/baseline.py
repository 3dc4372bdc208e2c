"""Baselines: findings a team has reviewed, accepted so that a scan fails only on new ones.

`malwi baseline create PATH -o .malwi-baseline.json` records every object that carries a flagged
unit's verdict (`UnitFinding.carrying`, not only the few a report lists); `malwi scan PATH
--baseline FILE` accepts the findings the file holds:

- a finding is matched by its file (relative to the scan root: the git work tree holding the
  scanned path, else the scanned folder) and the object's content (its token hash and its
  occurrence number among identical objects of that file), never by line numbers, so edits
  elsewhere keep it matched and an edit to the object itself makes it new;
- a unit whose carrying objects are all accepted is judged as though they were not there: good,
  or incomplete when some of its code was not scanned (accepted findings never hide unscanned
  code). A unit with any new carrying object keeps its verdict and lists only the new objects;
- entries that matched nothing in this scan are stale, and reported, so the file can be
  refreshed.

The baseline is read only from the command line (`--baseline`), never discovered in the scanned
tree: a package cannot accept its own findings. Allow comments in code would be readable by the
code's author, which is exactly who an attacker is.
"""

from __future__ import annotations

import json
import os
from datetime import datetime, timezone
from typing import Any

from malwi._malwi import __version__
from malwi.engine.verdict import MAX_CARRIERS, worst
from malwi.errors import BaselineError
from malwi.report.result import MalwiReport, ObjectFinding, UnitFinding, occurrence_numbers

FORMAT = "malwi-baseline"
FORMAT_VERSION = 1
# A baseline is a small JSON file; anything larger is not one of ours.
MAX_BASELINE_BYTES = 64 << 20
Key = tuple[str, str]  # (file relative to the scan root, object fingerprint)


def fingerprint(obj: ObjectFinding, numbers: dict[int, int]) -> str:
    """`<token hash>:<occurrence>`: what an object is, not where its lines are."""
    return f"{obj.hash}:{numbers[id(obj)]}"


def relative_path(path: str, root: str) -> str:
    """A report path relative to the scan root, posix separators; a path that is not under it
    (an archive member's display name) as it is shown."""
    from malwi.report.sarif import is_within

    absolute = os.path.abspath(path)
    shown = os.path.relpath(absolute, root) if is_within(absolute, root) else os.path.normpath(path)
    return shown.replace(os.sep, "/")


def scan_root(report: MalwiReport) -> str:
    """The folder baseline paths are relative to: the one SARIF paths are relative to."""
    from malwi.report.sarif import source_root

    return source_root(report)


class Baseline:
    """Accepted findings, keyed by (relative file, fingerprint); `entries` keeps what the file
    says of each, to report stale ones."""

    def __init__(self, entries: list[dict[str, Any]], origin: str = "") -> None:
        self.origin = origin
        self.entries = entries
        self.keys: dict[Key, dict[str, Any]] = {(e["path"], e["fingerprint"]): e for e in entries}

    @classmethod
    def of(cls, report: MalwiReport) -> Baseline:
        """Every finding of `report`'s flagged units, as a baseline."""
        root = scan_root(report)
        numbers = occurrence_numbers(report.files)
        entries = []
        for unit in report.units:
            for file, obj in unit.carrying:
                entries.append(
                    {
                        "path": relative_path(file.path, root),
                        "fingerprint": fingerprint(obj, numbers),
                        "object": obj.name,
                        "kind": obj.kind,
                        "unit": unit.label,
                        "verdict": unit.verdict,
                        "score": round(obj.score, 4),
                    }
                )
        entries.sort(key=lambda e: (e["path"], e["fingerprint"]))
        return cls(entries)

    def to_json(self, report: MalwiReport) -> str:
        document = {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "malwi_version": __version__,
            "model": {"name": report.model.get("name"), "version": report.model.get("version")},
            "findings": self.entries,
        }
        return json.dumps(document, indent=2, ensure_ascii=False) + "\n"

    @classmethod
    def load(cls, path: str) -> Baseline:
        """Reads a baseline file; anything that is not one is a BaselineError naming the file."""
        try:
            if not os.path.isfile(path):
                raise BaselineError(f"{path}: not a baseline file (not a regular file)")
            if os.path.getsize(path) > MAX_BASELINE_BYTES:
                raise BaselineError(f"{path}: not a baseline file (over {MAX_BASELINE_BYTES >> 20} MiB)")
            with open(path, encoding="utf-8") as handle:
                document = json.load(handle)
        except OSError as error:
            raise BaselineError(f"{path}: cannot read the baseline: {error.strerror or error}") from None
        except (UnicodeDecodeError, json.JSONDecodeError) as error:
            raise BaselineError(f"{path}: not a baseline file (not JSON: {error})") from None
        if not isinstance(document, dict) or document.get("format") != FORMAT:
            raise BaselineError(f'{path}: not a baseline file (no "format": "{FORMAT}")')
        if document.get("version") != FORMAT_VERSION:
            raise BaselineError(
                f"{path}: baseline version {document.get('version')!r}; this malwi reads version {FORMAT_VERSION}"
            )
        findings = document.get("findings")
        if not isinstance(findings, list):
            raise BaselineError(f'{path}: not a baseline file ("findings" is not a list)')
        for index, entry in enumerate(findings):
            if not (
                isinstance(entry, dict)
                and isinstance(entry.get("path"), str)
                and isinstance(entry.get("fingerprint"), str)
            ):
                raise BaselineError(f'{path}: finding {index} needs a "path" and a "fingerprint" string')
        return cls(findings, origin=path)

    def apply(self, report: MalwiReport) -> None:
        """Accepts the findings this baseline holds: see the module docstring. Sets each
        accepted unit's `baselined`, the report's verdict and score from what is left, and
        `report.baseline` (the file, what was accepted, and the stale entries)."""
        root = scan_root(report)
        numbers = occurrence_numbers(report.files)
        matched: set[Key] = set()
        accepted = units = 0
        for unit in report.units:
            new = []
            for file, obj in unit.carrying:
                key = (relative_path(file.path, root), fingerprint(obj, numbers))
                if key in self.keys:
                    matched.add(key)
                    unit.accepted.append((file, obj))
                else:
                    new.append((file, obj))
            known = len(unit.accepted)
            accepted += known
            if not known:
                continue
            if new:
                unit.carriers = new[:MAX_CARRIERS]
                continue
            units += 1
            _accept(unit, known)
        judged = [u for u in report.units if u.baselined is None]
        report.verdict = worst(u.verdict for u in report.units)
        report.maliciousness = max((u.maliciousness for u in judged), default=0.0)
        report.malicious = report.verdict == "malicious"
        stale = [entry for key, entry in self.keys.items() if key not in matched]
        report.baseline = {
            "file": self.origin,
            "accepted_findings": accepted,
            "accepted_units": units,
            "stale": [
                {"path": e["path"], "fingerprint": e["fingerprint"], "object": e.get("object", "")}
                for e in stale
            ],
        }


def _accept(unit: UnitFinding, findings: int) -> None:
    """A unit whose every finding is accepted: judged without them."""
    unit.baselined = {"findings": findings, "verdict": unit.verdict}
    unit.verdict = "incomplete" if unit.unscanned else "good"
    unit.carriers = []
