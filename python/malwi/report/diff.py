"""`malwi diff`'s report: what NEW adds to OLD, object by object, and the verdict on the change."""

from __future__ import annotations

import json
from typing import TYPE_CHECKING

from malwi._malwi import __version__
from malwi.report.escape import json_safe, shown

if TYPE_CHECKING:
    from malwi.engine.diff import ChangedObject, ReleaseDiff

REACH_WORDS = {
    "install": "at install time",
    "import": "when imported",
    "library": "when called",
    "non-shipped": "not shipped (tests, docs, build tooling)",
}


def _humane(activities: list[str]) -> str:
    return ", ".join(a.lower().replace("_", " ") for a in activities)


def _object_lines(obj: ChangedObject, suspicious: float) -> list[str]:
    first, last = obj.lines
    score = f"{obj.score:.2f}" if obj.score is not None else f"<{suspicious:.2f}"
    lines = [f"[{obj.status}] {obj.path}:{first}-{last}  {obj.name} ({obj.kind})  {score}"]
    where = REACH_WORDS.get(obj.reach, obj.reach)
    detail = [where]
    if obj.decoded_from:
        detail.append(f"decoded from a string literal ({obj.decoded_from}): a new encoded payload")
    if obj.added_activities:
        detail.append("adds: " + _humane(obj.added_activities))
    elif obj.activities:
        detail.append("does: " + _humane(obj.activities))
    lines.append("    " + "; ".join(detail))
    return lines


def diff_text(diff: ReleaseDiff) -> str:
    """Changed and new objects, worst first; files added and removed; install scripts; then
    the verdict on the change and on NEW as a whole. Names from the releases are escaped."""
    new, old = diff.new.report, diff.old.report
    assert new is not None and old is not None
    lines = [
        f"malwi {__version__} · model {new.model.get('name')} {new.model.get('version')}",
        f"{diff.old.label} → {diff.new.label}",
    ]
    # What the registry says about NEW (a new maintainer, a release hours old): beside the verdict.
    lines += [f"signal {signal.get('kind', '?')}: {signal.get('summary', '')}" for signal in new.signals]
    ordered = sorted(diff.objects, key=lambda o: (o.score is None, -(o.score or 0.0), o.path, o.lines))
    for obj in ordered:
        lines += _object_lines(obj, diff.suspicious_threshold)
    for hook in diff.hooks:
        lines.append(f"[{hook['status']} install script] {hook['script']}: {hook['command']}")
    if diff.added_files:
        lines.append(f"files added ({len(diff.added_files)}): " + ", ".join(diff.added_files[:10]))
    if diff.removed_files:
        lines.append(f"files removed ({len(diff.removed_files)}): " + ", ".join(diff.removed_files[:10]))
    if diff.unchanged:
        lines.append("no code changed")
    lines.append(
        f"=> change {diff.verdict}: maliciousness {diff.maliciousness:.2f} over {len(diff.objects)} new or changed "
        f"objects (threshold {diff.threshold:.2f}); {diff.new.label} as a whole: {new.verdict} "
        f"{new.maliciousness:.2f}, {diff.old.label}: {old.verdict} {old.maliciousness:.2f}"
    )
    return "".join(shown(line) + "\n" for line in lines)


def diff_json(diff: ReleaseDiff) -> str:
    return json_safe(json.dumps(diff.to_dict(), indent=2, ensure_ascii=False)) + "\n"
