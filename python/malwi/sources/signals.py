"""Registry metadata signals: what a release's registry page says about it, beside its code.

Computed from the JSON the fetch already read (PyPI's project or version document, npm's
packument) and the popular names shipped in `malwi/data/popular-{pypi,npm}.txt`
(`tools/popular_names.py` makes them from the shared ranked lists):

- `typosquat`: the name is one edit (two for names of 8 characters or more) from a popular name
  that is not its own, by Damerau-Levenshtein distance (optimal string alignment) over the
  normalised names, or a popular name with its separators changed, look-alike characters
  (`0`/`o`, `1`/`l`/`i`), or a prefix or suffix (`python`, `py`, `node`, `js`) added or dropped.
  Popular names shorter than 4 characters are compared by those tricks only (every short name is
  one edit from some popular one). A popular name plus one character (`requests2`) is flagged.
- `new_release`: uploaded less than 7 days ago; `first_release`: the project's first (or only)
  release.
- `no_repository`: no link to a source repository; `repository_mismatch`: every repository
  link's names (repository, owner, monorepo folder) are unlike the package's name.
- `maintainer_change`: npm: a publisher who was not a maintainer of the previous version, or
  maintainers added or removed; PyPI: the author and maintainer e-mails (names when there are
  none) differ from the previous release's, read from its version page (`fetch`, at most
  `MAX_EXTRA_REQUESTS` requests; a failed one leaves a note and no signal).

Signals are evidence for a reader and never part of a verdict: they are not validated yet.
Everything here reads untrusted JSON: a field of the wrong shape skips that signal with a note.
"""

from __future__ import annotations

import re
import urllib.parse
from collections.abc import Callable, Collection, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta, timezone
from functools import cache
from importlib import resources
from typing import Any

__all__ = [
    "KINDS",
    "PopularNames",
    "Signal",
    "distance",
    "popular_names",
    "pypi_fetcher",
    "registry_signals",
    "typosquat",
]

KINDS = (
    "typosquat",
    "new_release",
    "first_release",
    "no_repository",
    "repository_mismatch",
    "maintainer_change",
)
NEW_RELEASE_DAYS = 7
# Popular names shorter than this are matched by the naming tricks only, not by edit distance.
MIN_DISTANCE_LENGTH = 4
# Both names at least this long: two edits count, else one.
LONG_NAME = 8
# PyPI requests beyond the one that resolved the release: the project page, the previous version's.
MAX_EXTRA_REQUESTS = 2
# Hostile metadata must not bloat the report: lists and strings in evidence are bounded.
MAX_LISTED = 10
MAX_TEXT = 200

# fetch(None) is the PyPI project document, fetch(version) that version's document.
Fetch = Callable[[str | None], dict[str, Any]]


@dataclass
class Signal:
    """One fact from the registry: its kind, a sentence in plain words, and the evidence."""

    kind: str
    summary: str
    evidence: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "summary": self.summary, "evidence": dict(self.evidence)}


# ---------------------------------------------------------------------------------------------
# Names and distance


def normalise(ecosystem: str, name: str) -> str:
    """PEP 503 for PyPI (`Foo_Bar.baz` → `foo-bar-baz`), lower case for npm."""
    name = name.strip().lower()
    return re.sub(r"[-_.]+", "-", name) if ecosystem == "pypi" else name


def distance(a: str, b: str) -> int:
    """Damerau-Levenshtein distance, optimal string alignment: insertions, deletions,
    substitutions and swaps of two adjacent characters cost one each."""
    if a == b:
        return 0
    before: list[int] = []
    previous = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        current = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            value = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (a[i - 1] != b[j - 1]))
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                value = min(value, before[j - 2] + 1)
            current[j] = value
        before, previous = previous, current
    return previous[len(b)]


def edits(source: str, target: str) -> list[str]:
    """The edits of one cheapest alignment that turn `source` into `target`, in words."""
    rows, cols = len(source) + 1, len(target) + 1
    d = [[0] * cols for _ in range(rows)]
    for i in range(rows):
        d[i][0] = i
    for j in range(cols):
        d[0][j] = j
    for i in range(1, rows):
        for j in range(1, cols):
            d[i][j] = min(
                d[i - 1][j] + 1, d[i][j - 1] + 1, d[i - 1][j - 1] + (source[i - 1] != target[j - 1])
            )
            if i > 1 and j > 1 and source[i - 1] == target[j - 2] and source[i - 2] == target[j - 1]:
                d[i][j] = min(d[i][j], d[i - 2][j - 2] + 1)
    out: list[str] = []
    i, j = rows - 1, cols - 1
    while i > 0 or j > 0:
        if i > 0 and j > 0 and source[i - 1] == target[j - 1] and d[i][j] == d[i - 1][j - 1]:
            i, j = i - 1, j - 1
        elif (
            i > 1
            and j > 1
            and source[i - 1] == target[j - 2]
            and source[i - 2] == target[j - 1]
            and d[i][j] == d[i - 2][j - 2] + 1
        ):
            out.append(f'"{source[i - 2 : i]}" swapped to "{target[j - 2 : j]}"')
            i, j = i - 2, j - 2
        elif i > 0 and j > 0 and d[i][j] == d[i - 1][j - 1] + 1:
            out.append(f'"{source[i - 1]}" replaced by "{target[j - 1]}"')
            i, j = i - 1, j - 1
        elif i > 0 and d[i][j] == d[i - 1][j] + 1:
            out.append(f'"{source[i - 1]}" left out')
            i -= 1
        else:
            out.append(f'"{target[j - 1]}" added')
            j -= 1
    return out[::-1]


def _deletions(word: str) -> set[str]:
    """`word` and `word` with one character deleted."""
    return {word} | {word[:k] + word[k + 1 :] for k in range(len(word))}


def _bigrams(word: str) -> set[str]:
    return {word[k : k + 2] for k in range(len(word) - 1)}


def _limit(a: str, b: str) -> int:
    return 2 if min(len(a), len(b)) >= LONG_NAME else 1


def _differing(popular: str, name: str) -> tuple[str, str]:
    """The parts of two names that differ, by words: `mypy-boto3-ecr` and `mypy-boto3-ec2`
    differ in `ecr` and `ec2`. Empty on one side when a word was added or dropped."""
    ours, theirs = SEPARATORS.split(popular), SEPARATORS.split(name)
    head = 0
    while head < min(len(ours), len(theirs)) and ours[head] == theirs[head]:
        head += 1
    tail = 0
    while tail < min(len(ours), len(theirs)) - head and ours[-1 - tail] == theirs[-1 - tail]:
        tail += 1
    return "-".join(ours[head : len(ours) - tail]), "-".join(theirs[head : len(theirs) - tail])


def _typo(popular: str, name: str) -> tuple[str, str] | None:
    """The two strings whose edits make `name` a typo of `popular`, or None. Only the differing
    words count, and they must have 4+ characters: `mypy-boto3-ecs` is a sibling of
    `mypy-boto3-ec2`, not a typo; one edit, two when both are 8+ characters. Separators aside
    when that is closer (`django-rest-framewrok`)."""
    differing = _differing(popular, name)
    for a, b in (differing, (_skeleton(differing[0]), _skeleton(differing[1]))):
        if min(len(a), len(b)) >= MIN_DISTANCE_LENGTH and a != b and distance(a, b) <= _limit(a, b):
            return a, b
    return None


SEPARATORS = re.compile(r"[-_./@]+")
LOOK_ALIKE = str.maketrans({"0": "o", "1": "l", "i": "l"})
PREFIXES = ("python", "node", "py")
SUFFIXES = ("python", "node", "js", "py")


def _skeleton(name: str) -> str:
    return SEPARATORS.sub("", name)


def _affixes(skeleton: str) -> list[tuple[str, str, str]]:
    """(what is left, "prefix"/"suffix", the affix) for each known affix the skeleton has; what
    is left keeps at least 4 characters."""
    found = []
    for prefix in PREFIXES:
        if skeleton.startswith(prefix) and len(skeleton) - len(prefix) >= 4:
            found.append((skeleton[len(prefix) :], "prefix", prefix))
    for suffix in SUFFIXES:
        if skeleton.endswith(suffix) and len(skeleton) - len(suffix) >= 4:
            found.append((skeleton[: -len(suffix)], "suffix", suffix))
    return found


class PopularNames:
    """Popular names of one ecosystem, indexed for the `typosquat` check.

    One edit: two names within one edit share a string with at most one character deleted from
    each, so the names' one-deletion neighbourhoods are indexed. Two edits (both names 8+
    characters): an edit destroys at most 3 of a name's distinct bigrams, so a popular name
    sharing fewer than `bigrams - 6` of them cannot be that close; the few left are measured.
    The tricks: skeletons without separators, look-alike characters folded, and skeletons with
    a known prefix or suffix taken off."""

    def __init__(self, ecosystem: str, names: Iterable[str]) -> None:
        self.ecosystem = ecosystem
        self.names = {normalise(ecosystem, n) for n in names if n.strip()}
        self._near: dict[str, list[str]] = {}
        self._long: list[tuple[str, str]] = []  # (indexed form, popular name)
        self._by_bigram: dict[str, list[int]] = {}
        self._skeletons: dict[str, list[str]] = {}
        self._folded: dict[str, list[str]] = {}
        self._stripped: dict[str, list[tuple[str, str, str]]] = {}
        for name in sorted(self.names):
            skeleton = _skeleton(name)
            for form in {name, skeleton}:
                if len(form) >= MIN_DISTANCE_LENGTH:
                    for variant in _deletions(form):
                        self._near.setdefault(variant, []).append(name)
                if len(form) >= LONG_NAME:
                    for bigram in _bigrams(form):
                        self._by_bigram.setdefault(bigram, []).append(len(self._long))
                    self._long.append((form, name))
            self._skeletons.setdefault(skeleton, []).append(name)
            self._folded.setdefault(skeleton.translate(LOOK_ALIKE), []).append(name)
            for rest, where, affix in _affixes(skeleton):
                self._stripped.setdefault(rest, []).append((name, where, affix))

    def __contains__(self, name: object) -> bool:
        return isinstance(name, str) and normalise(self.ecosystem, name) in self.names

    def close(self, name: str) -> list[tuple[str, tuple[str, str]]]:
        """The popular names `name` is a typo of (`_typo`), each with the strings compared."""
        near: set[str] = set()
        for form in {name, _skeleton(name)}:
            if len(form) < MIN_DISTANCE_LENGTH:
                continue
            for variant in _deletions(form):
                near.update(self._near.get(variant, []))
            if len(form) >= LONG_NAME:
                grams = _bigrams(form)
                shared: dict[int, int] = {}
                for gram in grams:
                    for number in self._by_bigram.get(gram, []):
                        shared[number] = shared.get(number, 0) + 1
                need = len(grams) - 6
                for number, count in shared.items():
                    indexed, popular = self._long[number]
                    if count >= need and abs(len(indexed) - len(form)) <= 2:
                        near.add(popular)
        found = []
        for popular in sorted(near - {name}):
            pair = _typo(popular, name)
            if pair is not None:
                found.append((popular, pair))
        return found

    def matches(self, name: str) -> list[dict[str, Any]]:
        """The popular names `name` imitates, the most telling first: each with the trick and
        the edits."""
        name = normalise(self.ecosystem, name)
        if not name or name in self.names:
            return []
        found: dict[str, dict[str, Any]] = {}

        def add(popular: str, trick: str, detail: str, affix: str = "") -> None:
            if popular != name and popular not in found:
                found[popular] = {
                    "popular": popular,
                    "trick": trick,
                    "distance": distance(popular, name),
                    "edit": detail,
                }
                if affix:
                    found[popular]["affix"] = affix

        skeleton = _skeleton(name)
        for popular in self._skeletons.get(skeleton, []):
            add(popular, "separators", f'separators changed: "{popular}" written "{name}"')
        for popular in self._folded.get(skeleton.translate(LOOK_ALIKE), []):
            add(popular, "look-alike", f'look-alike characters: "{popular}" written "{name}"')
        for popular, (a, b) in self.close(name):
            detail = "; ".join(edits(a, b))
            if (a, b) != (popular, name):
                detail += f', comparing "{a}" with "{b}"'
            add(popular, "edit", detail)
            found[popular]["distance"] = distance(a, b)
        for rest, where, affix in _affixes(skeleton):
            for popular in self._skeletons.get(rest, []) + self._folded.get(rest.translate(LOOK_ALIKE), []):
                add(popular, f"{where} added", f'{where} "{affix}" added to "{popular}"', affix)
        for popular, where, affix in self._stripped.get(skeleton, []):
            add(popular, f"{where} dropped", f'{where} "{affix}" of "{popular}" left out', affix)
        order = {"separators": 0, "look-alike": 1, "edit": 2}
        return sorted(found.values(), key=lambda m: (order.get(m["trick"], 3), m["distance"], m["popular"]))


@cache
def popular_names(ecosystem: str) -> PopularNames:
    """The shipped list of an ecosystem's popular names (`malwi/data/popular-<ecosystem>.txt`)."""
    text = (resources.files("malwi") / "data" / f"popular-{ecosystem}.txt").read_text(encoding="utf-8")
    return PopularNames(ecosystem, text.splitlines())


COUNTS = {1: "one edit", 2: "two edits"}


def typosquat(ecosystem: str, name: str, popular: PopularNames | Collection[str]) -> list[Signal]:
    """The `typosquat` signal when `name` imitates a popular name that is not its own."""
    index = popular if isinstance(popular, PopularNames) else PopularNames(ecosystem, popular)
    found = index.matches(name)
    if not found:
        return []
    best = found[0]
    quoted = f'"{best["popular"]}"'
    trick = best["trick"]
    if trick == "edit":
        summary = f"name is {COUNTS.get(best['distance'], 'a few edits')} from popular package {quoted} ({best['edit']})"
    elif trick == "separators":
        summary = f"name is popular package {quoted} with its separators changed"
    elif trick == "look-alike":
        summary = f"name is popular package {quoted} written with look-alike characters"
    elif trick.endswith("added"):
        summary = f'name is popular package {quoted} with the {trick.split()[0]} "{best["affix"]}" added'
    else:
        summary = f'name is popular package {quoted} without its {trick.split()[0]} "{best["affix"]}"'
    evidence = {"name": normalise(ecosystem, name), **best}
    others = [m["popular"] for m in found[1 : MAX_LISTED + 1]]
    if others:
        evidence["also_near"] = others
    return [Signal("typosquat", summary, evidence)]


# ---------------------------------------------------------------------------------------------
# The whole set


def registry_signals(
    ecosystem: str,
    metadata: dict[str, Any] | None,
    version: str,
    *,
    popular: PopularNames | Collection[str] | None = None,
    name: str | None = None,
    now: datetime | None = None,
    fetch: Fetch | None = None,
    notes: list[str] | None = None,
) -> list[Signal]:
    """The signals of one release from its registry metadata: for PyPI the project document
    (`/pypi/NAME/json`) or the version's (`/pypi/NAME/VERSION/json`), for npm the packument.
    Without metadata only the name is judged (`typosquat`). `fetch` reads more PyPI documents
    (the project's release list, the previous version's metadata): at most two requests; without
    it the signals that need them are left out. Whatever goes wrong is a line in `notes`."""
    now = now or datetime.now(timezone.utc)
    notes = notes if notes is not None else []
    document = metadata if isinstance(metadata, dict) else {}
    name = name or _document_name(ecosystem, document)
    signals: list[Signal] = []
    if name:
        index = popular_names(ecosystem) if popular is None else popular
        signals += _guarded("typosquat", notes, lambda: typosquat(ecosystem, name, index))
    if document and ecosystem == "pypi":
        signals += _guarded(
            "pypi metadata", notes, lambda: _pypi(name or "", document, version, now, fetch, notes)
        )
    elif document and ecosystem == "npm":
        signals += _guarded("npm metadata", notes, lambda: _npm(name or "", document, version, now))
    return signals


def _guarded(what: str, notes: list[str], compute: Callable[[], list[Signal]]) -> list[Signal]:
    try:
        return compute()
    except (AttributeError, TypeError, ValueError, KeyError, IndexError) as error:
        notes.append(
            f"signals: {what} not read: unexpected registry metadata ({type(error).__name__}: {error})"
        )
        return []


def _document_name(ecosystem: str, document: dict[str, Any]) -> str:
    if ecosystem == "pypi":
        info = document.get("info")
        return str(info.get("name") or "") if isinstance(info, dict) else ""
    return str(document.get("name") or "")


def pypi_fetcher(index_url: str, name: str) -> Fetch:
    """Reads a PyPI project's documents from `index_url` (`https://pypi.org/pypi`)."""
    from malwi.sources.registries import fetch_json

    base = index_url.rstrip("/")
    quoted = urllib.parse.quote(name, safe="")

    def fetch(version: str | None) -> dict[str, Any]:
        if version is None:
            return fetch_json(f"{base}/{quoted}/json")
        return fetch_json(f"{base}/{quoted}/{urllib.parse.quote(version, safe='')}/json")

    return fetch


class _Budget:
    """`fetch` allowed `MAX_EXTRA_REQUESTS` times; a failure is a note, never an exception."""

    def __init__(self, fetch: Fetch | None, notes: list[str]) -> None:
        self.fetch = fetch
        self.notes = notes
        self.left = MAX_EXTRA_REQUESTS

    def __call__(self, version: str | None, why: str) -> dict[str, Any] | None:
        if self.fetch is None:
            return None
        what = f"version {version}" if version else "the project page"
        if self.left <= 0:
            self.notes.append(
                f"signals: {why} not checked: {what} not fetched (at most {MAX_EXTRA_REQUESTS} extra requests)"
            )
            return None
        self.left -= 1
        try:
            document = self.fetch(version)
        except Exception as error:  # noqa: BLE001 - a signal is advisory: whatever the fetch raises, no signal
            self.notes.append(f"signals: {why} not checked: {what} could not be fetched: {error}")
            return None
        if not isinstance(document, dict):
            self.notes.append(f"signals: {why} not checked: {what} is not a JSON object")
            return None
        return document


# ---------------------------------------------------------------------------------------------
# Times


def _when(value: object) -> datetime | None:
    """An ISO 8601 time from the registry (`2024-05-01T12:00:00.000Z`), in UTC; None if unreadable."""
    if not isinstance(value, str) or not value:
        return None
    text = value.strip().replace("Z", "+00:00").replace("z", "+00:00")
    # Python 3.10 reads only 3 or 6 fractional digits.
    text = re.sub(r"\.(\d+)", lambda m: "." + (m.group(1) + "000000")[:6], text, count=1)
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        return None
    return moment.replace(tzinfo=timezone.utc) if moment.tzinfo is None else moment.astimezone(timezone.utc)


def _iso(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).isoformat(timespec="seconds").replace("+00:00", "Z")


def _age_signals(
    version: str, uploaded: datetime | None, timeline: list[tuple[datetime, str]], now: datetime
) -> list[Signal]:
    """`new_release` and `first_release` from this version's upload time and the project's
    releases ordered by their first upload."""
    signals = []
    if uploaded is not None:
        age = now - uploaded
        if age < timedelta(days=NEW_RELEASE_DAYS):
            days = max(age.total_seconds(), 0.0) / 86400
            signals.append(
                Signal(
                    "new_release",
                    f"released {days:.1f} days ago (less than {NEW_RELEASE_DAYS} days)",
                    {"uploaded": _iso(uploaded), "age_days": round(days, 2)},
                )
            )
    if timeline and timeline[0][1] == version:
        count = len(timeline)
        summary = (
            "the project's only release"
            if count == 1
            else f"the project's first release ({count - 1} more since)"
        )
        signals.append(
            Signal("first_release", summary, {"releases": count, "first_uploaded": _iso(timeline[0][0])})
        )
    return signals


def _previous(version: str, timeline: list[tuple[datetime, str]]) -> str | None:
    """The release uploaded last before `version`."""
    versions = [v for _, v in timeline]
    if version not in versions:
        return None
    position = versions.index(version)
    return versions[position - 1] if position > 0 else None


# ---------------------------------------------------------------------------------------------
# PyPI


def _pypi_uploaded(files: object) -> datetime | None:
    if not isinstance(files, list):
        return None
    times = [
        t
        for f in files
        if isinstance(f, dict)
        for t in [_when(f.get("upload_time_iso_8601") or f.get("upload_time"))]
        if t is not None
    ]
    return min(times) if times else None


def _pypi_timeline(releases: dict[str, Any]) -> list[tuple[datetime, str]]:
    """Versions with files, by their first upload (a version without files was never released)."""
    timeline = []
    for version, files in releases.items():
        uploaded = _pypi_uploaded(files)
        if uploaded is not None:
            timeline.append((uploaded, str(version)))
    return sorted(timeline)


def _pypi(
    name: str, document: dict[str, Any], version: str, now: datetime, fetch: Fetch | None, notes: list[str]
) -> list[Signal]:
    budget = _Budget(fetch, notes)
    info = document.get("info") if isinstance(document.get("info"), dict) else {}
    assert isinstance(info, dict)
    # The document's `info` is this version's when it is the version's page or the latest's.
    own = info if str(info.get("version") or "") == version else None
    releases = document.get("releases") if isinstance(document.get("releases"), dict) else None
    if releases is None:
        project = budget(None, "first_release and maintainer_change")
        if project is not None and isinstance(project.get("releases"), dict):
            releases = project["releases"]
    timeline = _pypi_timeline(releases) if releases else []
    files = releases.get(version) if releases else (document.get("urls") if own is not None else None)
    signals = _age_signals(version, _pypi_uploaded(files), timeline, now)
    signals += _repository_signals(name, _pypi_links(own or info), "pypi")
    previous = _previous(version, timeline)
    if previous is not None and fetch is not None:
        if own is None:
            notes.append(
                f"signals: maintainer_change not checked: the registry gave no metadata of {version} itself"
            )
        else:
            earlier = budget(previous, "maintainer_change")
            earlier_info = earlier.get("info") if earlier is not None else None
            if isinstance(earlier_info, dict):
                signals += _pypi_maintainers(own, earlier_info, previous)
    return signals


EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
NOBODY = {"", "unknown", "none", "null", "n/a", "-"}


def _pypi_people(info: dict[str, Any]) -> tuple[set[str], set[str]]:
    """The e-mails and names of a version's author and maintainer fields, lower-cased."""
    emails: set[str] = set()
    names: set[str] = set()
    for key in ("author_email", "maintainer_email"):
        text = str(info.get(key) or "")
        emails |= {e.lower() for e in EMAIL.findall(text)}
        # `Jane Doe <jane@example.org>, Joe <joe@example.org>`: the names before the addresses.
        names |= {m.strip().strip('"').lower() for m in re.findall(r"([^,<>]+)<[^>]*>", text)}
    for key in ("author", "maintainer"):
        text = EMAIL.sub("", str(info.get(key) or ""))
        names |= {part.strip().strip('"<>').lower() for part in re.split(r",|;|\band\b", text)}
    return emails, {n for n in names if n not in NOBODY}


def _pypi_maintainers(own: dict[str, Any], earlier: dict[str, Any], previous: str) -> list[Signal]:
    now_emails, now_names = _pypi_people(own)
    old_emails, old_names = _pypi_people(earlier)
    if now_emails and old_emails:
        before, after, what = old_emails, now_emails, "e-mails"
    elif now_names and old_names:
        before, after, what = old_names, now_names, "names"
    else:
        return []
    if before == after:
        return []
    added, removed = sorted(after - before), sorted(before - after)
    words = []
    if added:
        words.append("added " + ", ".join(_short(a) for a in added[:3]))
    if removed:
        words.append("removed " + ", ".join(_short(r) for r in removed[:3]))
    return [
        Signal(
            "maintainer_change",
            f"author and maintainer {what} changed since {_short(previous)}: {'; '.join(words)}",
            {
                "previous_version": _short(previous),
                "compared": what,
                "before": _listed(before),
                "after": _listed(after),
                "added": _listed(added),
                "removed": _listed(removed),
            },
        )
    ]


def _pypi_links(info: dict[str, Any]) -> list[tuple[str, str]]:
    """(label, URL) of a version's project URLs and home page."""
    links: list[tuple[str, str]] = []
    urls = info.get("project_urls")
    if isinstance(urls, dict):
        links += [
            (str(label), str(url)) for label, url in urls.items() if isinstance(url, str) and url.strip()
        ]
    for key, label in (("home_page", "Home-page"), ("download_url", "Download-URL")):
        value = info.get(key)
        if isinstance(value, str) and value.strip() and value.strip().upper() != "UNKNOWN":
            links.append((label, value))
    return links


# ---------------------------------------------------------------------------------------------
# npm


def _npm(name: str, packument: dict[str, Any], version: str, now: datetime) -> list[Signal]:
    versions = packument.get("versions") if isinstance(packument.get("versions"), dict) else {}
    times = packument.get("time") if isinstance(packument.get("time"), dict) else {}
    assert isinstance(versions, dict) and isinstance(times, dict)
    timeline = sorted((t, str(v)) for v in versions for t in [_when(times.get(v))] if t is not None)
    signals = _age_signals(version, _when(times.get(version)), timeline, now)
    this = versions.get(version) if isinstance(versions.get(version), dict) else {}
    assert isinstance(this, dict)
    repository = this.get("repository") or packument.get("repository")
    signals += _repository_signals(name, _npm_links(repository), "npm")
    previous = _previous(version, timeline)
    earlier = versions.get(previous) if previous is not None else None
    if isinstance(earlier, dict) and previous is not None:
        signals += _npm_maintainers(this, earlier, previous)
    return signals


def _npm_person(entry: object) -> str:
    if isinstance(entry, dict):
        return str(entry.get("name") or entry.get("email") or "").strip().lower()
    if isinstance(entry, str):
        return entry.split("<", 1)[0].strip().lower()  # the old `name <email>` form
    return ""


def _npm_maintainers(this: dict[str, Any], earlier: dict[str, Any], previous: str) -> list[Signal]:
    def people(release: dict[str, Any]) -> set[str]:
        listed = release.get("maintainers")
        return {p for p in map(_npm_person, listed if isinstance(listed, list) else []) if p}

    publisher, previous_publisher = _npm_person(this.get("_npmUser")), _npm_person(earlier.get("_npmUser"))
    now, before = people(this), people(earlier)
    # Another maintainer publishing is routine in a team; a publisher the previous version did not list is not.
    stranger = bool(publisher and previous_publisher and publisher not in before | {previous_publisher})
    changed = bool(now and before and now != before)
    if not stranger and not changed:
        return []
    added, removed = sorted(now - before), sorted(before - now)
    words = []
    if stranger:
        words.append(f'published by "{_short(publisher)}", not a maintainer of {_short(previous)}')
    if changed:
        listed = []
        if added:
            listed.append("added " + ", ".join(_short(a) for a in added[:3]))
        if removed:
            listed.append("removed " + ", ".join(_short(r) for r in removed[:3]))
        words.append(f"maintainers changed since {_short(previous)}: {'; '.join(listed)}")
    return [
        Signal(
            "maintainer_change",
            "; ".join(words),
            {
                "previous_version": _short(previous),
                "publisher": _short(publisher),
                "previous_publisher": _short(previous_publisher),
                "maintainers_added": _listed(added),
                "maintainers_removed": _listed(removed),
            },
        )
    ]


def _npm_links(repository: object) -> list[tuple[str, str]]:
    """npm's `repository`: `"github:owner/repo"`, `"owner/repo"`, a URL, or `{url, directory}`."""
    if isinstance(repository, str) and repository.strip():
        return [("repository", repository)]
    if isinstance(repository, dict) and isinstance(repository.get("url"), str) and repository["url"].strip():
        url = repository["url"]
        folder = repository.get("directory")
        if isinstance(folder, str) and folder.strip("/"):
            url = url.rstrip("/") + "#directory=" + folder.strip("/")
        return [("repository", url)]
    return []


# ---------------------------------------------------------------------------------------------
# Repository links

FORGES = {
    "github.com",
    "gitlab.com",
    "bitbucket.org",
    "codeberg.org",
    "git.sr.ht",
    "gitee.com",
    "sourceforge.net",
    "launchpad.net",
    "foss.heptapod.net",
    "salsa.debian.org",
}
SHORTHANDS = {"github": "github.com", "gitlab": "gitlab.com", "bitbucket": "bitbucket.org"}
# Paths on a forge that are not a repository (`github.com/sponsors/x` is a funding link).
GROUPED = {"gitlab.com", "salsa.debian.org", "foss.heptapod.net"}
NOT_OWNERS = {"sponsors", "orgs", "users", "marketplace", "features", "apps", "topics", "site", "about"}
SOURCE_LABELS = {"source", "sources", "sourcecode", "repository", "repo", "code", "git", "github", "gitlab"}
# Name words too generic to tie a package to a repository.
GENERIC = {"python", "node", "the", "core"}


@dataclass
class _Link:
    url: str
    host: str
    names: list[str]  # the repository, its owner and groups, a monorepo folder: what may resemble the package


def _forge(label: str, url: str) -> _Link | None:
    """A link to a repository on a known forge (or a self-hosted GitLab, Gitea, Forgejo),
    with the names in its path; None for anything else."""
    text = url.strip()
    folder = ""
    if "#directory=" in text:
        text, folder = text.split("#directory=", 1)
    shorthand = re.match(r"^(github|gitlab|bitbucket):([\w.-]+/[\w./-]+)$", text)
    if shorthand:
        host, path = SHORTHANDS[shorthand.group(1)], shorthand.group(2)
    elif re.match(r"^[\w.-]+/[\w.-]+$", text) and label == "repository":
        host, path = "github.com", text  # npm's `owner/repo`
    else:
        text = re.sub(r"^git\+", "", text)
        scp = re.match(r"^[\w.-]+@([\w.-]+):(?!//)(.+)$", text)  # git@github.com:owner/repo.git
        if scp:
            host, path = scp.group(1).lower(), scp.group(2)
        else:
            try:
                parsed = urllib.parse.urlsplit(text if "//" in text else "https://" + text)
                host = (parsed.hostname or "").lower()
            except ValueError:
                return None
            path = parsed.path
    host = host.removeprefix("www.")
    if host not in FORGES and host.split(".", 1)[0] not in ("gitlab", "gitea", "forgejo", "codeberg"):
        return None
    segments = [s for s in path.split("/") if s]
    names: list[str] = []
    if host == "sourceforge.net":
        if len(segments) >= 2 and segments[0] in ("projects", "p"):
            names = [segments[1]]
    elif host == "launchpad.net":
        if segments and not segments[0].startswith("~"):
            names = [segments[0]]
    elif len(segments) < 2 or segments[0].lower() in NOT_OWNERS:
        names = []
    elif host in GROUPED or host.startswith("gitlab."):
        # GitLab nests groups: `group/subgroup/repo/-/tree/main/packages/x`.
        cut = segments.index("-") if "-" in segments else len(segments)
        project, inner = segments[:cut], segments[cut + 1 :]
        if len(project) >= 2:
            names = [project[-1], *project[:-1]]
            if len(inner) > 2 and inner[0] in ("tree", "blob"):
                folder = folder or inner[-1]
    else:
        names = [segments[1], segments[0]]
        if len(segments) > 4 and segments[2] in ("tree", "blob", "src"):
            folder = folder or segments[-1]  # past the branch: a monorepo's folder
    if not names:
        return None
    names[0] = names[0].removesuffix(".git")
    if folder:
        names.append(folder.rstrip("/").rsplit("/", 1)[-1])
    return _Link(url.split("#directory=", 1)[0], host, [n.lstrip("~") for n in names if n.lstrip("~")])


def _tokens(name: str) -> list[str]:
    """A name's words: split at separators and camelCase, lower-cased."""
    words = re.findall(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+", re.sub(r"[-_./@~ ]+", " ", name))
    return [w.lower() for w in words]


def _forms(name: str) -> set[str]:
    skeleton = _skeleton(name.lower())
    return {skeleton} | {rest for rest, _, _ in _affixes(skeleton)}


def _nearly_in(needle: str, haystack: str) -> bool:
    """Whether `needle` occurs in `haystack` with at most one edit (exactly for short needles)."""
    if needle in haystack:
        return True
    if len(needle) < 5:
        return False
    previous = [0] * (len(haystack) + 1)
    for i, char in enumerate(needle, 1):
        current = [i] + [0] * len(haystack)
        for j, other in enumerate(haystack, 1):
            current[j] = min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (char != other))
        previous = current
    return min(previous) <= 1


def resembles(package: str, names: list[str]) -> bool:
    """Whether any of a repository link's names resembles the package name: the same after
    separators and a known prefix or suffix are dropped, one inside the other, or a word of 4+
    characters of one found (within an edit) in the other. Lenient on purpose: a mismatch is
    only said when nothing relates them."""
    ours = _forms(package)
    our_skeleton = _skeleton(package.lower())
    our_words = [w for w in _tokens(package) if len(w) >= 4 and w not in GENERIC]
    for name in names:
        theirs = _forms(name)
        if ours & theirs:
            return True
        if any((len(a) >= 3 and a in b) or (len(b) >= 3 and b in a) for a in ours for b in theirs):
            return True
        skeleton = _skeleton(name.lower())
        their_words = [w for w in _tokens(name) if len(w) >= 4 and w not in GENERIC]
        if any(_nearly_in(w, skeleton) for w in our_words) or any(
            _nearly_in(w, our_skeleton) for w in their_words
        ):
            return True
    return False


def _repository_signals(name: str, links: list[tuple[str, str]], ecosystem: str) -> list[Signal]:
    forges = [link for label, url in links if (link := _forge(label, url)) is not None]
    labelled = [
        url
        for label, url in links
        if re.sub(r"[^a-z]", "", label.lower()) in SOURCE_LABELS
        and url.strip().lower().startswith(("http", "git"))
    ]
    if not forges:
        # npm's `repository` is a repository link wherever it points; PyPI's labelled source URL too.
        if (ecosystem == "npm" and links) or labelled:
            return []
        shown = [_short(url) for _, url in links[:MAX_LISTED]]
        summary = (
            "no link to a source repository"
            if not links
            else f"no link to a source repository among its {len(links)} project URLs"
        )
        return [Signal("no_repository", summary, {"urls": shown})]
    if not name:
        return []
    package = name.split("/", 1)[1] if name.startswith("@") and "/" in name else name
    scope = name[1:].split("/", 1)[0] if name.startswith("@") else ""
    if any(resembles(package, link.names) or (scope and resembles(scope, link.names)) for link in forges):
        return []
    first = forges[0]
    return [
        Signal(
            "repository_mismatch",
            f'repository link {_short(first.url)} does not resemble the name "{_short(name)}"',
            {
                "repository": _short(first.url),
                "repositories": [_short(f.url) for f in forges[:MAX_LISTED]],
                "name": _short(name),
            },
        )
    ]


def _short(value: object) -> str:
    text = str(value)
    return text if len(text) <= MAX_TEXT else text[: MAX_TEXT - 1] + "…"


def _listed(values: Iterable[str]) -> list[str]:
    return [_short(v) for v in sorted(values)[:MAX_LISTED]]
