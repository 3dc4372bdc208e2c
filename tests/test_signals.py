"""Registry metadata signals (`malwi.sources.signals`): each signal on synthetic registry JSON,
the distance they rest on, and `malwi pypi`/`npm`, dependency scans and `diff` reporting them
against the loopback registry without the verdict or the exit code moving."""

from __future__ import annotations

import base64
import hashlib
import json
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import jsonschema
import pytest
from hypothesis import given
from hypothesis import strategies as st

from malwi.errors import RegistryError
from malwi.sources.signals import (
    MAX_EXTRA_REQUESTS,
    PopularNames,
    Signal,
    distance,
    edits,
    popular_names,
    registry_signals,
    resembles,
    typosquat,
)
from tests.conftest import ROOT, FakeRegistry, run_malwi
from tests.test_sources import MALICIOUS, sdist, tar_bytes

SCHEMA = json.loads((ROOT / "data" / "schemas" / "analysis_result_schema.json").read_text())
NOW = datetime(2025, 6, 1, 12, 0, tzinfo=timezone.utc)
POPULAR_PYPI = [
    "requests",
    "urllib3",
    "boto3",
    "python-dateutil",
    "mypy-boto3-ec2",
    "djangorestframework",
    "six",
]
POPULAR_NPM = ["lodash", "cross-env", "@babel/core", "react", "ms", "chalk"]


def iso(moment: datetime) -> str:
    return moment.isoformat().replace("+00:00", "Z")


def kinds(signals: list[Signal]) -> list[str]:
    return [s.kind for s in signals]


def one(signals: list[Signal], kind: str) -> Signal:
    found = [s for s in signals if s.kind == kind]
    assert len(found) == 1, signals
    return found[0]


# --- names ---------------------------------------------------------------------------------------


def squat(name: str, ecosystem: str = "pypi") -> dict[str, Any] | None:
    popular = POPULAR_PYPI if ecosystem == "pypi" else POPULAR_NPM
    found = typosquat(ecosystem, name, popular)
    return found[0].evidence if found else None


def test_a_swapped_letter_is_one_edit_from_the_popular_name() -> None:
    (signal,) = typosquat("pypi", "reqeusts", POPULAR_PYPI)
    assert signal.kind == "typosquat"
    assert signal.summary == 'name is one edit from popular package "requests" ("ue" swapped to "eu")'
    assert signal.evidence["popular"] == "requests" and signal.evidence["distance"] == 1
    assert signal.evidence["trick"] == "edit" and signal.evidence["name"] == "reqeusts"


def test_the_popular_name_itself_is_no_typosquat_whatever_its_spelling() -> None:
    for name in ("requests", "Requests", "python_dateutil", "Python.DateUtil", "six"):
        assert squat(name) is None, name
    assert squat("@babel/core", "npm") is None and squat("lodash", "npm") is None
    assert squat("my-own-tool") is None


def test_a_popular_name_plus_one_character_is_flagged() -> None:
    # Decided: `requests2` gets the signal. A popular name with one character more is the most
    # common typosquat shape; forks named that way get it too, which is why it is a signal.
    evidence = squat("requests2")
    assert evidence is not None and evidence["popular"] == "requests" and evidence["edit"] == '"2" added'
    assert squat("urlib3") == {
        "name": "urlib3",
        "popular": "urllib3",
        "trick": "edit",
        "distance": 1,
        "edit": '"l" left out',
    }


def test_two_edits_count_for_long_names_only() -> None:
    assert squat("djangorestframewrk") is not None  # 18 characters: one left out
    evidence = squat("djangorestfarmewrok")
    assert evidence is not None and evidence["distance"] == 2
    assert squat("urlllib33") is None  # two edits from urllib3, which is shorter than 8
    # Separators aside when that is closer.
    evidence = squat("django-rest-framewrok")
    assert evidence is not None and evidence["popular"] == "djangorestframework"


def test_siblings_that_differ_in_a_short_word_are_not_typos() -> None:
    assert squat("mypy-boto3-ecr") is None  # `ecr` vs `ec2`: another service, not a typo
    assert squat("mp", "npm") is None  # shorter than 4: only the tricks below count


def test_naming_tricks() -> None:
    assert squat("cross_env", "npm") == {
        "name": "cross_env",
        "popular": "cross-env",
        "trick": "separators",
        "distance": 1,
        "edit": 'separators changed: "cross-env" written "cross_env"',
    }
    look_alike = squat("b0t03")
    assert look_alike is not None and look_alike["popular"] == "boto3" and look_alike["trick"] == "look-alike"
    prefixed = squat("python-requests")
    assert prefixed is not None and prefixed["trick"] == "prefix added" and prefixed["affix"] == "python"
    dropped = squat("dateutil")
    assert (
        dropped is not None
        and dropped["popular"] == "python-dateutil"
        and dropped["trick"] == "prefix dropped"
    )
    suffixed = squat("reactjs", "npm")
    assert suffixed is not None and suffixed["popular"] == "react" and suffixed["trick"] == "suffix added"
    scoped = squat("@babel/cores", "npm")
    assert scoped is not None and scoped["popular"] == "@babel/core"
    (signal,) = typosquat("pypi", "python-requests", POPULAR_PYPI)
    assert signal.summary == 'name is popular package "requests" with the prefix "python" added'


def test_the_shipped_popular_lists() -> None:
    pypi, npm = popular_names("pypi"), popular_names("npm")
    assert 1000 <= len(pypi.names) <= 5000 and 1000 <= len(npm.names) <= 5000
    assert {"requests", "urllib3", "boto3", "numpy"} <= pypi.names and "Requests" in pypi
    assert {"lodash", "chalk", "@babel/core"} <= npm.names
    assert all(name == name.lower() for name in pypi.names | npm.names)
    text = (ROOT / "python" / "malwi" / "data" / "popular-pypi.txt").read_text()
    assert text.splitlines() == sorted(text.splitlines())
    assert typosquat("pypi", "reqeusts", pypi)[0].evidence["popular"] == "requests"
    assert typosquat("npm", "lodahs", npm)[0].evidence["popular"] == "lodash"
    assert typosquat("pypi", "requests", pypi) == []


def test_the_lists_are_what_the_tool_makes_from_the_shared_lists(tmp_path: Path) -> None:
    import sys

    sys.path.insert(0, str(ROOT / "tools"))
    try:
        import popular_names as tool
    finally:
        sys.path.remove(str(ROOT / "tools"))
    (tmp_path / "benign-pypi.txt").write_text("Foo_Bar\nfoo-bar\n\n# a comment\nsix==1.16.0\nbad name\n")
    (tmp_path / "benign-npm.txt").write_text("@Scope/Pkg@1.0.0\nleft-pad\nms\n")
    assert tool.main(["--data", str(tmp_path), "--out", str(tmp_path / "out"), "--top", "2"]) == 0
    assert (tmp_path / "out" / "popular-pypi.txt").read_text() == "foo-bar\nsix\n"
    assert (tmp_path / "out" / "popular-npm.txt").read_text() == "@scope/pkg\nleft-pad\n"
    shared = ROOT.parent / "shared" / "data" / "benign-pypi.txt"
    if shared.is_file():
        assert tool.main(["--check"]) == 0, "python tools/popular_names.py regenerates the shipped lists"


def test_distance_examples() -> None:
    assert distance("requests", "reqeusts") == 1  # a swap is one edit
    assert distance("ca", "abc") == 3  # optimal string alignment: no edit of a swapped pair
    assert distance("", "abc") == 3 and distance("kitten", "sitting") == 3
    assert edits("requests", "requests2") == ['"2" added']
    assert edits("kitten", "sitting") == ['"k" replaced by "s"', '"e" replaced by "i"', '"g" added']


WORDS = st.text(alphabet="abcde-1", max_size=9)


@given(WORDS, WORDS)
def test_distance_properties(a: str, b: str) -> None:
    d = distance(a, b)
    assert d == distance(b, a)
    assert (d == 0) == (a == b)
    assert abs(len(a) - len(b)) <= d <= max(len(a), len(b))
    assert len(edits(a, b)) == d


@given(st.text(alphabet="abcdefgh-_.", min_size=1, max_size=14))
def test_the_index_finds_what_brute_force_finds(name: str) -> None:
    popular = ["abcdefgh", "abcd", "hgfedcba", "ab-cd-ef", "aabbccdd", "abc"]
    index = PopularNames("npm", popular)
    found = {p for p, _ in index.close(name)}
    from malwi.sources.signals import _typo

    assert found == {p for p in popular if p != name and _typo(p, name) is not None}


# --- release age ------------------------------------------------------------------------------


def pypi_project(
    name: str,
    versions: dict[str, datetime | None],
    info: dict[str, Any] | None = None,
    latest: str | None = None,
) -> dict[str, Any]:
    """A PyPI project document: `versions` maps each version to its upload time (None: no files)."""
    releases = {
        version: []
        if when is None
        else [{"filename": f"{name}-{version}.tar.gz", "upload_time_iso_8601": iso(when)}]
        for version, when in versions.items()
    }
    latest = latest or list(versions)[-1]
    return {
        "info": {"name": name, "version": latest, **(info or {})},
        "releases": releases,
        "urls": releases[latest],
    }


GITHUB = {"project_urls": {"Source": "https://github.com/psf/requests"}}


def test_new_release_and_first_release() -> None:
    document = pypi_project("requests", {"1.0": NOW - timedelta(days=2, hours=12)}, GITHUB)
    signals = registry_signals("pypi", document, "1.0", popular=POPULAR_PYPI, now=NOW)
    assert kinds(signals) == ["new_release", "first_release"]
    assert signals[0].evidence == {"uploaded": "2025-05-30T00:00:00Z", "age_days": 2.5}
    assert signals[0].summary == "released 2.5 days ago (less than 7 days)"
    assert signals[1].evidence == {"releases": 1, "first_uploaded": "2025-05-30T00:00:00Z"}
    assert signals[1].summary == "the project's only release"


def test_an_old_release_of_a_long_project_has_no_age_signal() -> None:
    versions = {"0.9": NOW - timedelta(days=400), "0.9.1": None, "1.0": NOW - timedelta(days=30)}
    document = pypi_project("requests", versions, GITHUB)
    assert registry_signals("pypi", document, "1.0", popular=POPULAR_PYPI, now=NOW) == []
    # The first of several is said, with how many followed; a version without files never counts.
    first = registry_signals("pypi", pypi_project("requests", versions, GITHUB, latest="0.9"), "0.9", now=NOW)
    assert one(first, "first_release").summary == "the project's first release (1 more since)"
    assert registry_signals("pypi", document, "1.0", now=NOW + timedelta(days=-29)) != []  # a day old


def test_npm_release_age() -> None:
    packument = npm_packument(
        "left-pad",
        {"1.0.0": NOW - timedelta(days=90), "1.1.0": NOW - timedelta(hours=6)},
        repo="stevemao/left-pad",
    )
    signals = registry_signals("npm", packument, "1.1.0", popular=POPULAR_NPM, now=NOW)
    assert kinds(signals) == ["new_release"] and signals[0].evidence["age_days"] == 0.25
    first = registry_signals("npm", packument, "1.0.0", popular=POPULAR_NPM, now=NOW)
    assert kinds(first) == ["first_release"] and first[0].evidence["releases"] == 2


# --- repository links -------------------------------------------------------------------------


def repository_kinds(name: str, info: dict[str, Any]) -> list[str]:
    document = {"info": {"name": name, "version": "1.0", **info}, "urls": []}
    return kinds(registry_signals("pypi", document, "1.0", popular=[], now=NOW))


def test_no_repository() -> None:
    assert repository_kinds("tool", {}) == ["no_repository"]
    assert repository_kinds("tool", {"home_page": "https://tool.example.org", "project_urls": None}) == [
        "no_repository"
    ]
    assert repository_kinds("tool", {"project_urls": {"Funding": "https://github.com/sponsors/someone"}}) == [
        "no_repository"
    ]
    signal = registry_signals(
        "pypi", {"info": {"name": "tool", "version": "1", "home_page": "https://x.example"}}, "1", popular=[]
    )[0]
    assert signal.evidence == {"urls": ["https://x.example"]}
    assert signal.summary == "no link to a source repository among its 1 project URLs"
    # A labelled source link counts wherever it is hosted.
    assert repository_kinds("tool", {"project_urls": {"Source Code": "https://hg.example.org/tool"}}) == []


def test_a_matching_repository_link_is_no_signal() -> None:
    assert repository_kinds("requests", GITHUB) == []
    assert repository_kinds("requests", {"home_page": "https://github.com/psf/requests/"}) == []
    for name, url in (
        ("google-cloud-storage", "https://github.com/googleapis/python-storage"),
        ("PyYAML", "https://github.com/yaml/pyyaml"),
        ("msgpack", "https://github.com/msgpack/msgpack-python"),
        ("azure-storage-blob", "https://github.com/Azure/azure-sdk-for-python/tree/main/sdk/storage"),
        ("types-requests", "https://github.com/python/typeshed"),
        ("pytest-cov", "git+https://github.com/pytest-dev/pytest-cov.git"),
        ("jinja2", "https://github.com/pallets/jinja/issues"),
        ("tool", "https://gitlab.com/group/sub/tool/-/tree/main"),
    ):
        assert repository_kinds(name, {"project_urls": {"Repository": url}}) == [], (name, url)


def test_a_repository_link_unlike_the_name() -> None:
    info = {
        "project_urls": {"Homepage": "https://github.com/psf/requests", "Docs": "https://x.readthedocs.io"}
    }
    (signal,) = registry_signals(
        "pypi", {"info": {"name": "colorsys-helper", "version": "1.0", **info}}, "1.0", popular=[], now=NOW
    )
    assert signal.kind == "repository_mismatch"
    assert signal.evidence == {
        "repository": "https://github.com/psf/requests",
        "repositories": ["https://github.com/psf/requests"],
        "name": "colorsys-helper",
    }
    assert resembles("colorsys-helper", ["requests", "psf"]) is False


def npm_packument(
    name: str,
    times: dict[str, datetime],
    repo: object = None,
    people: dict[str, tuple[str, list[str]]] | None = None,
) -> dict[str, Any]:
    """An npm packument: `people` maps a version to (publisher, maintainers)."""
    versions: dict[str, Any] = {}
    for version in times:
        entry: dict[str, Any] = {"name": name, "version": version}
        if repo is not None:
            entry["repository"] = repo
        if people and version in people:
            publisher, maintainers = people[version]
            entry["_npmUser"] = {"name": publisher, "email": f"{publisher}@example.org"}
            entry["maintainers"] = [{"name": m, "email": f"{m}@example.org"} for m in maintainers]
        versions[version] = entry
    return {
        "name": name,
        "dist-tags": {"latest": list(times)[-1]},
        "versions": versions,
        "time": {"created": iso(min(times.values())), **{v: iso(t) for v, t in times.items()}},
    }


OLD = {"1.0.0": NOW - timedelta(days=300), "1.1.0": NOW - timedelta(days=200)}


def test_npm_repository_forms() -> None:
    def signals(name: str, repo: object) -> list[str]:
        return kinds(registry_signals("npm", npm_packument(name, OLD, repo), "1.1.0", popular=[], now=NOW))

    assert signals("left-pad", None) == ["no_repository"]
    assert signals("left-pad", "") == ["no_repository"]
    for repo in (
        "stevemao/left-pad",
        "github:stevemao/left-pad",
        "git+https://github.com/stevemao/left-pad.git",
        "git@github.com:stevemao/left-pad.git",
        {"type": "git", "url": "https://github.com/stevemao/left-pad"},
        "git+https://git.example.org/left-pad.git",  # not a known forge: a link, not judged
    ):
        assert signals("left-pad", repo) == [], repo
    babel = {"type": "git", "url": "https://github.com/babel/babel.git", "directory": "packages/babel-core"}
    assert signals("@babel/core", babel) == []
    assert signals("@types/node", {"url": "https://github.com/DefinitelyTyped/DefinitelyTyped.git"}) == []
    assert signals("left-pad", "github:someone/crypto-wallet") == ["repository_mismatch"]


# --- maintainers ------------------------------------------------------------------------------


def test_npm_publisher_who_was_no_maintainer() -> None:
    people = {"1.0.0": ("alice", ["alice", "bob"]), "1.1.0": ("mallory", ["alice", "bob"])}
    packument = npm_packument("left-pad", OLD, "stevemao/left-pad", people)
    (signal,) = registry_signals("npm", packument, "1.1.0", popular=[], now=NOW)
    assert signal.kind == "maintainer_change"
    assert signal.summary == 'published by "mallory", not a maintainer of 1.0.0'
    assert signal.evidence == {
        "previous_version": "1.0.0",
        "publisher": "mallory",
        "previous_publisher": "alice",
        "maintainers_added": [],
        "maintainers_removed": [],
    }


def test_npm_maintainers_changed_and_routine_publishing() -> None:
    routine = {"1.0.0": ("alice", ["alice", "bob"]), "1.1.0": ("bob", ["alice", "bob"])}
    packument = npm_packument("left-pad", OLD, "stevemao/left-pad", routine)
    assert registry_signals("npm", packument, "1.1.0", popular=[], now=NOW) == []
    changed = {"1.0.0": ("alice", ["alice", "bob"]), "1.1.0": ("alice", ["alice", "eve"])}
    packument = npm_packument("left-pad", OLD, "stevemao/left-pad", changed)
    (signal,) = registry_signals("npm", packument, "1.1.0", popular=[], now=NOW)
    assert signal.summary == "maintainers changed since 1.0.0: added eve; removed bob"
    assert signal.evidence["maintainers_added"] == ["eve"] and signal.evidence["maintainers_removed"] == [
        "bob"
    ]
    # The first version has nothing to compare with.
    assert registry_signals("npm", packument, "1.0.0", popular=[], now=NOW) == [
        Signal(
            "first_release",
            "the project's first release (1 more since)",
            {"releases": 2, "first_uploaded": iso(OLD["1.0.0"])},
        )
    ]


class Pages:
    """A stand-in for the PyPI fetch: documents by version (None: the project page)."""

    def __init__(self, pages: dict[str | None, dict[str, Any] | Exception]) -> None:
        self.pages = pages
        self.asked: list[str | None] = []

    def __call__(self, version: str | None) -> dict[str, Any]:
        self.asked.append(version)
        page = self.pages.get(version, RegistryError(f"{version}: HTTP 404", status=404))
        if isinstance(page, Exception):
            raise page
        return page


def version_page(name: str, version: str, **info: Any) -> dict[str, Any]:
    return {"info": {"name": name, "version": version, **GITHUB, **info}, "urls": []}


TIMES = {"2.30.0": NOW - timedelta(days=300), "2.31.0": NOW - timedelta(days=100)}


def test_pypi_author_change_from_the_previous_version_page() -> None:
    project = pypi_project("requests", TIMES, {**GITHUB, "author_email": "Kenneth <me@kennethreitz.org>"})
    pages = Pages({"2.30.0": version_page("requests", "2.30.0", author_email="me@kennethreitz.org")})
    assert registry_signals("pypi", project, "2.31.0", popular=[], now=NOW, fetch=pages) == []
    assert pages.asked == ["2.30.0"]
    pages = Pages(
        {"2.30.0": version_page("requests", "2.30.0", author="Kenneth", author_email="k@old.example")}
    )
    (signal,) = registry_signals("pypi", project, "2.31.0", popular=[], now=NOW, fetch=pages)
    assert signal.kind == "maintainer_change"
    assert (
        signal.summary
        == "author and maintainer e-mails changed since 2.30.0: added me@kennethreitz.org; removed k@old.example"
    )
    assert signal.evidence["before"] == ["k@old.example"] and signal.evidence["after"] == [
        "me@kennethreitz.org"
    ]


def test_pypi_version_page_reads_the_project_page_too_within_the_budget() -> None:
    page = version_page("requests", "2.31.0", maintainer="Nate", maintainer_email="")
    pages = Pages(
        {
            None: pypi_project("requests", TIMES),
            "2.30.0": version_page("requests", "2.30.0", maintainer="Seth"),
        }
    )
    notes: list[str] = []
    (signal,) = registry_signals("pypi", page, "2.31.0", popular=[], now=NOW, fetch=pages, notes=notes)
    assert signal.evidence["compared"] == "names" and signal.evidence["added"] == ["nate"]
    assert pages.asked == [None, "2.30.0"] and len(pages.asked) <= MAX_EXTRA_REQUESTS and notes == []
    # Without a fetch (dependency scans) nothing more is asked and nothing is said of it.
    assert registry_signals("pypi", page, "2.31.0", popular=[], now=NOW, notes=notes) == [] and notes == []


def test_a_failed_fetch_is_a_note_never_an_error() -> None:
    project = pypi_project("requests", TIMES, GITHUB)
    notes: list[str] = []
    pages = Pages(
        {"2.30.0": RegistryError("https://pypi.example/requests/2.30.0/json: network error: refused")}
    )
    assert registry_signals("pypi", project, "2.31.0", popular=[], now=NOW, fetch=pages, notes=notes) == []
    assert notes == [
        "signals: maintainer_change not checked: version 2.30.0 could not be fetched: "
        "https://pypi.example/requests/2.30.0/json: network error: refused"
    ]
    notes.clear()
    broken = Pages({"2.30.0": ValueError("not JSON")})
    assert registry_signals("pypi", project, "2.31.0", popular=[], now=NOW, fetch=broken, notes=notes) == []
    assert "could not be fetched: not JSON" in notes[0]


def test_metadata_of_the_wrong_shape_skips_signals_with_a_note() -> None:
    for document in (
        {"info": {"name": "requests", "version": "1.0", "project_urls": ["x"]}, "releases": {"1.0": "x"}},
        {"info": "not an object", "releases": None},
        {
            "info": {"name": "requests", "version": "1.0", "author_email": 5},
            "releases": {"1.0": [{"upload_time_iso_8601": 7}]},
        },
    ):
        notes: list[str] = []
        signals = registry_signals("pypi", document, "1.0", popular=POPULAR_PYPI, now=NOW, notes=notes)
        assert all(s.kind in ("no_repository", "typosquat") for s in signals), signals
    npm_notes: list[str] = []
    weird = {"name": "lodash", "versions": {"1.0.0": ["x"]}, "time": {"1.0.0": "yesterday"}, "repository": 5}
    assert kinds(registry_signals("npm", weird, "1.0.0", popular=POPULAR_NPM, notes=npm_notes)) == [
        "no_repository"
    ]
    # No metadata at all (a lockfile's URL): the name alone.
    assert kinds(registry_signals("npm", None, "1.0.0", name="lodahs", popular=POPULAR_NPM)) == ["typosquat"]


def test_signal_documents_validate() -> None:
    signals = registry_signals(
        "pypi", pypi_project("reqeusts", {"1.0": NOW}), "1.0", popular=POPULAR_PYPI, now=NOW
    )
    assert kinds(signals) == ["typosquat", "new_release", "first_release", "no_repository"]
    schema = {**SCHEMA["definitions"]["signal"], "definitions": SCHEMA["definitions"]}
    for signal in signals:
        jsonschema.validate(signal.to_dict(), schema)
        json.dumps(signal.to_dict())


# --- end to end -------------------------------------------------------------------------------


def serve_pypi_project(name: str, data: bytes, versions: dict[str, datetime], **info: Any) -> None:
    """Project and version pages of a PyPI project whose latest version has `data` as its sdist."""
    latest = list(versions)[-1]
    filename = f"{name}-{latest}.tar.gz"
    files: dict[str, list[dict[str, Any]]] = {}
    for version, when in versions.items():
        files[version] = [
            {
                "packagetype": "sdist",
                "filename": f"{name}-{version}.tar.gz",
                "url": f"../../../files/{name}-{version}.tar.gz",
                "size": len(data),
                "digests": {"sha256": hashlib.sha256(data).hexdigest()},
                "upload_time_iso_8601": iso(when),
            }
        ]
        page = {"info": {"name": name, "version": version, **info}, "urls": files[version]}
        FakeRegistry.routes[f"/pypi/{name}/{version}/json"] = (200, json.dumps(page).encode())
    project = {"info": {"name": name, "version": latest, **info}, "urls": files[latest], "releases": files}
    FakeRegistry.routes[f"/pypi/{name}/json"] = (200, json.dumps(project).encode())
    FakeRegistry.routes[f"/files/{filename}"] = (200, data)


def scan_json(*args: str) -> tuple[int, dict[str, Any], str]:
    result = run_malwi(*args, "--no-cache", "--format", "json")
    assert result.returncode in (0, 1), result.stderr
    document = json.loads(result.stdout)
    jsonschema.validate(document, SCHEMA, format_checker=jsonschema.FormatChecker())
    return result.returncode, document, result.stderr.decode()


def same_verdict(a: dict[str, Any], b: dict[str, Any]) -> None:
    assert (a["verdict"], a["malicious"], a["maliciousness"]) == (
        b["verdict"],
        b["malicious"],
        b["maliciousness"],
    )


@pytest.mark.parametrize(
    "body", [b"def hello():\n    return 'hello'\n", MALICIOUS], ids=["benign", "malicious"]
)
def test_malwi_pypi_reports_signals_and_they_change_no_verdict(registry_server: str, body: bytes) -> None:
    now = datetime.now(timezone.utc)
    # The same bytes twice: a squatting name one day old with no repository, and an old project
    # with a fitting repository link and no signal at all.
    data = sdist("reqeusts", "1.0", body)
    serve_pypi_project("reqeusts", data, {"1.0": now - timedelta(days=1)})
    serve_pypi_project(
        "zqxv-tool",
        data,
        {"0.9": now - timedelta(days=400), "1.0": now - timedelta(days=300)},
        project_urls={"Source": "https://github.com/example/zqxv-tool"},
        author_email="dev@example.org",
    )
    flagged_code, flagged, _ = scan_json("pypi", "reqeusts")
    clean_code, clean, _ = scan_json("pypi", "zqxv-tool")
    assert [s["kind"] for s in flagged["signals"]] == [
        "typosquat",
        "new_release",
        "first_release",
        "no_repository",
    ]
    assert flagged["signals"][0]["evidence"]["popular"] == "requests"
    assert "signals" not in clean
    assert flagged_code == clean_code == (1 if body is MALICIOUS else 0)
    same_verdict(flagged, clean)
    assert "/pypi/zqxv-tool/0.9/json" in FakeRegistry.requests  # the previous version's authors, compared
    text = run_malwi("pypi", "reqeusts", "--no-cache").stdout.decode()
    lines = text.splitlines()
    source = next(i for i, line in enumerate(lines) if line.startswith("reqeusts==1.0 from pypi"))
    assert (
        lines[source + 1]
        == 'signal typosquat: name is one edit from popular package "requests" ("ue" swapped to "eu")'
    )
    assert lines[source + 2].startswith("signal new_release: released 1.0 days ago")
    # SARIF keeps them as run properties, never as results: the same results with and without.
    logs = [
        json.loads(run_malwi("pypi", name, "--format", "sarif").stdout)["runs"][0]
        for name in ("reqeusts", "zqxv-tool")
    ]
    assert [s["kind"] for s in logs[0]["properties"]["signals"]] == [s["kind"] for s in flagged["signals"]]
    assert "signals" not in logs[1]["properties"]
    assert [r["ruleId"] for r in logs[0]["results"]] == [r["ruleId"] for r in logs[1]["results"]]


def serve_npm_packument(name: str, data: bytes, packument: dict[str, Any]) -> None:
    integrity = "sha512-" + base64.b64encode(hashlib.sha512(data).digest()).decode()
    for version, entry in packument["versions"].items():
        tarball = f"/tarballs/{name}-{version}.tgz"
        entry["dist"] = {"tarball": tarball, "integrity": integrity}
        FakeRegistry.routes[tarball] = (200, data)
    FakeRegistry.routes[f"/npm/{name}"] = (200, json.dumps(packument).encode())


def test_malwi_npm_and_diff_report_a_new_publisher(
    registry_server: str, capsys: pytest.CaptureFixture[str]
) -> None:
    from malwi.cli import main

    data = tar_bytes(
        [
            ("package/package.json", b'{"name": "lodahs", "version": "1.1.0"}'),
            ("package/index.js", b"module.exports = 1;\n"),
        ]
    )
    people = {"1.0.0": ("alice", ["alice"]), "1.1.0": ("mallory", ["alice"])}
    serve_npm_packument("lodahs", data, npm_packument("lodahs", OLD, "github:alice/lodahs", people))
    code, document, _ = scan_json("npm", "lodahs")
    assert code == 0 and document["verdict"] == "good"
    assert [s["kind"] for s in document["signals"]] == ["typosquat", "maintainer_change"]
    assert document["signals"][1]["evidence"]["publisher"] == "mallory"
    capsys.readouterr()
    assert main(["diff", "npm:lodahs@1.0.0..1.1.0", "--format", "json", "--quiet"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert [s["kind"] for s in diff["new"]["signals"]] == ["typosquat", "maintainer_change"]
    assert diff["change"]["verdict"] == "good"


def test_dependency_scans_report_signals_from_what_they_fetched(registry_server: str, tmp_path: Path) -> None:
    now = datetime.now(timezone.utc)
    serve_pypi_project(
        "reqeusts",
        sdist("reqeusts", "1.0"),
        {"0.1": now - timedelta(days=90), "1.0": now - timedelta(days=60)},
    )
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("reqeusts==1.0\n")
    FakeRegistry.requests.clear()
    code, document, _ = scan_json("scan", "--requirements", str(requirements))
    (package,) = document["results"]["packages"]
    assert code == 0 and package["verdict"] == "good"
    assert [s["kind"] for s in package["signals"]] == ["typosquat", "no_repository"]
    # The version page it resolved from, no more: the previous version's page is not read.
    assert [r for r in FakeRegistry.requests if r.startswith("/pypi/")] == ["/pypi/reqeusts/1.0/json"]


def test_signals_that_break_are_a_warning_and_the_release_keeps_its_metadata_out_of_reports(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    import malwi.sources.signals as module
    from malwi.engine.inputs import release_signals
    from malwi.sources.registries import Release

    release = Release(
        "npm", "lodahs", "1.0.0", "lodahs-1.0.0.tgz", "http://x/l.tgz", "", metadata={"name": "lodahs"}
    )
    assert "metadata" not in release.to_dict() and "index_url" not in release.to_dict()
    signals, warnings = release_signals(release)
    assert [s["kind"] for s in signals] == ["typosquat", "no_repository"] and warnings == []

    def broken(*args: object, **kwargs: object) -> list[Signal]:
        raise RuntimeError("boom")

    monkeypatch.setattr(module, "registry_signals", broken)
    assert release_signals(release) == (
        [],
        ["lodahs@1.0.0: registry signals not computed: RuntimeError: boom"],
    )


def test_renderers_show_signals_escaped() -> None:
    from malwi.report.render import render
    from malwi.report.result import MalwiReport

    report = MalwiReport()
    report.label = "evil==1.0"
    report.source = {"ecosystem": "pypi", "name": "evil", "version": "1.0", "filename": "evil-1.0.tar.gz"}
    report.signals = [
        {"kind": "repository_mismatch", "summary": 'repository link x\n=> good <script> "y"', "evidence": {}}
    ]
    lines = render(report, "text").splitlines()
    assert lines[1] == "evil==1.0 from pypi (evil-1.0.tar.gz)"
    assert lines[2].startswith("signal repository_mismatch: repository link x\\n=> good")
    assert not any(line.startswith("=> good <script>") for line in lines)
    assert "signal" not in render(report, "text", quiet=True)
    page = render(report, "html")
    assert "Registry signals" in page and "<script> " not in page and "&lt;script&gt;" in page
    document = json.loads(render(report, "json"))
    assert document["signals"] == report.signals
    report.signals = []
    assert "signals" not in json.loads(render(report, "json"))
