"""What changed between two releases of a package (`malwi diff OLD NEW`).

A compromised maintainer account ships a small change to a trusted package; judged as a whole,
the new release is a large benign package with a few new lines. Judged as a change, those lines
are all there is. Both sides are compiled (never from the cache: every object is needed, not
only the ones a report lists), and:

- an object of NEW is unchanged when its content (its token hash) is anywhere in OLD, so moving
  code between files is no change; otherwise it is *changed* when OLD has an object of the same
  name in the same file, else *new*;
- each changed or new object is listed with its score (when it reaches the suspicious
  threshold; below it, the model sees nothing to say), where it runs (install, import, library,
  non-shipped, from NEW's package units), its activities and the ones OLD's object of that name
  did not have, and whether it was decoded from a string literal (a new encoded payload);
- files are matched by their path inside the package, without the release's own top folder
  (`pkg-1.0/`, npm's `package/`); files added and removed are listed, and so are install
  scripts (npm lifecycle scripts) that are new or run something else;
- the change gets a verdict of its own: the package score (`PackageScore`) of the changed and
  new objects alone, weighed by where they run, against the model's thresholds. NEW's own
  verdict, judged as a whole, is reported beside it.
"""

from __future__ import annotations

import os
from typing import TYPE_CHECKING, Any

from malwi.engine.reach import object_reach

if TYPE_CHECKING:
    from malwi._malwi import MalwiObject
    from malwi.engine.inputs import Target
    from malwi.engine.pipeline import FileResult, Scanner
    from malwi.engine.verdict import PackageScore, Verdict
    from malwi.report.result import MalwiReport


class Side:
    """One release as the diff sees it: every compiled object of every file, by the file's path
    inside the package, and its report (verdicts, reachability, listed objects' scores)."""

    def __init__(self, label: str, root: str | None = None) -> None:
        self.label = label
        self.root = root  # the folder given, for a folder; None for an archive or a release
        self.objects: dict[str, list[MalwiObject]] = {}  # package path -> objects in file order
        self.shown: dict[str, str] = {}  # package path -> the path the report shows
        self.report: MalwiReport | None = None

    def observe(self, result: FileResult) -> None:
        if result.compiled is None:
            return
        source = result.source
        if source.origin.nesting:  # a member: its path inside the archive(s)
            path = "/".join(member for _, member in source.origin.nesting)
        elif self.root is not None:
            # An npm install script is compiled from a file the workspace wrote: named by its
            # manifest (`package.json#scripts.postinstall`), not by where it was written.
            real = source.shown.split("#scripts.", 1)[0] if "#scripts." in source.shown else source.path
            path = os.path.relpath(os.path.abspath(real), self.root).replace(os.sep, "/")
            if "#scripts." in source.shown:
                path += "#scripts." + source.shown.split("#scripts.", 1)[1]
        else:
            path = source.shown
        self.objects[path] = list(result.compiled.objects)
        self.shown[path] = source.shown

    def normalise(self) -> None:
        """Paths inside the package: the release's own top folder (`six-1.16.0/`, `package/`)
        removed when every file lies in one."""
        tops = {path.split("/", 1)[0] for path in self.objects if "/" in path}
        if len(tops) == 1 and all("/" in path for path in self.objects):
            cut = len(tops.pop()) + 1
            self.objects = {path[cut:]: objects for path, objects in self.objects.items()}
            self.shown = {path[cut:]: shown for path, shown in self.shown.items()}


class ChangedObject:
    """An object of NEW whose content OLD does not have."""

    __slots__ = (
        "activities",
        "added_activities",
        "decoded_from",
        "kind",
        "lines",
        "name",
        "path",
        "raw",
        "reach",
        "score",
        "status",
    )

    def __init__(self, path: str, obj: MalwiObject, status: str, before: MalwiObject | None) -> None:
        self.path = path
        self.name = obj.name
        self.kind = obj.kind
        self.lines = obj.location
        self.status = status  # new or changed
        self.activities = obj.activities()
        previous = set(before.activities()) if before is not None else set()
        self.added_activities = [a for a in self.activities if a not in previous]
        self.decoded_from = obj.decoded_from
        self.score: float | None = None  # set when the object reaches the suspicious threshold
        self.raw = 0.0
        self.reach = "library"

    def to_dict(self) -> dict[str, Any]:
        result: dict[str, Any] = {
            "path": self.path,
            "object": self.name,
            "kind": self.kind,
            "lines": list(self.lines),
            "status": self.status,
            "score": None if self.score is None else round(self.score, 4),
            "reach": self.reach,
            "activities": self.activities,
            "added_activities": self.added_activities,
        }
        if self.decoded_from:
            result["decoded_from"] = self.decoded_from
        return result


class ReleaseDiff:
    """What NEW adds to OLD, and the verdict on that change."""

    def __init__(self, old: Side, new: Side) -> None:
        self.old = old
        self.new = new
        self.objects: list[ChangedObject] = []
        self.added_files: list[str] = []
        self.removed_files: list[str] = []
        self.hooks: list[dict[str, Any]] = []  # install scripts that are new or run something else
        self.verdict = "good"
        self.maliciousness = 0.0
        self.threshold = 0.5
        self.suspicious_threshold = 0.25

    @property
    def unchanged(self) -> bool:
        return not (self.objects or self.added_files or self.removed_files or self.hooks)

    def to_dict(self) -> dict[str, Any]:
        report = self.new.report
        assert report is not None and self.old.report is not None
        new: dict[str, Any] = {
            "label": self.new.label,
            "verdict": report.verdict,
            "maliciousness": round(report.maliciousness, 4),
        }
        if report.signals:
            new["signals"] = list(report.signals)  # NEW's registry metadata signals: never the verdict
        return {
            "old": {"label": self.old.label, "verdict": self.old.report.verdict},
            "new": new,
            "change": {
                "verdict": self.verdict,
                "maliciousness": round(self.maliciousness, 4),
                "threshold": self.threshold,
                "suspicious_threshold": self.suspicious_threshold,
                "objects": len(self.objects),
            },
            "added_files": self.added_files,
            "removed_files": self.removed_files,
            "install_hooks": self.hooks,
            "objects": [o.to_dict() for o in self.objects],
            "model": dict(report.model),
        }


def _hooks(report: MalwiReport) -> dict[tuple[str, str], dict[str, Any]]:
    return {(unit.name, hook["script"]): hook for unit in report.units for hook in unit.hooks}


def _reach_by_path(side: Side) -> dict[str, str]:
    """Each file's reachability class from NEW's judged report, by package path."""
    assert side.report is not None
    by_shown = {finding.path: finding.reach for finding in side.report.files}
    return {path: by_shown.get(shown, "library") for path, shown in side.shown.items()}


def _listed(report: MalwiReport) -> dict[tuple[str, str, str], tuple[float, float]]:
    """(shown path, object name, hash) -> (score, raw) of the objects the report lists."""
    return {
        (finding.path, obj.name, obj.hash): (obj.score, obj.raw)
        for finding in report.files
        for obj in finding.objects
    }


def compare(old: Side, new: Side, score: PackageScore, verdict: Verdict) -> ReleaseDiff:
    """The change from OLD to NEW (both judged and observed)."""
    assert old.report is not None and new.report is not None
    old.normalise()
    new.normalise()
    diff = ReleaseDiff(old, new)
    diff.threshold, diff.suspicious_threshold = verdict.threshold, verdict.suspicious
    known = {obj.to_hash() for objects in old.objects.values() for obj in objects}
    reach = _reach_by_path(new)
    listed = _listed(new.report)
    for path in sorted(new.objects):
        before = {obj.name: obj for obj in old.objects.get(path, [])}
        for obj in new.objects[path]:
            digest = obj.to_hash()
            if digest in known:
                continue
            status = "changed" if obj.name in before else "new"
            changed = ChangedObject(path, obj, status, before.get(obj.name))
            changed.reach = object_reach(
                reach.get(path, "library"), obj.kind == "module" or bool(obj.decoded_from)
            )
            scored = listed.get((new.shown[path], obj.name, digest))
            if scored is not None:
                changed.score, changed.raw = scored
            diff.objects.append(changed)
    diff.added_files = sorted(set(new.objects) - set(old.objects))
    diff.removed_files = sorted(set(old.objects) - set(new.objects))
    before_hooks = _hooks(old.report)
    for key, hook in sorted(_hooks(new.report).items()):
        previous = before_hooks.get(key)
        if previous is None or previous.get("command") != hook.get("command"):
            diff.hooks.append({**hook, "status": "new" if previous is None else "changed"})
    _judge_change(diff, score, verdict)
    return diff


def _judge_change(diff: ReleaseDiff, score: PackageScore, verdict: Verdict) -> None:
    """The package score of the changed objects alone. Objects below the suspicious threshold
    are counted but cannot raise it: a package of more objects never scores higher than its
    best object alone. A new or changed install script is at least suspicious."""
    top = max((score.weigh(o.raw, o.reach) for o in diff.objects if o.score is not None), default=0.0)
    diff.maliciousness = score.package_probability(top, len(diff.objects)) if diff.objects else 0.0
    diff.verdict = verdict.of(diff.maliciousness)
    if diff.hooks and diff.verdict == "good":
        diff.verdict = "suspicious"


def judged_side(scanner: Scanner, target: Target, label: str, root: str | None = None) -> Side:
    """One release compiled and judged, its objects observed (`root`: the folder given)."""
    side = Side(label, root)
    side.report = scanner.judge(target, observe=side.observe)
    return side


__all__ = ["ChangedObject", "ReleaseDiff", "Side", "compare", "judged_side"]
