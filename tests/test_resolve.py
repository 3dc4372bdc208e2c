"""`--resolve`: transitive resolution from registry metadata only (malwi.sources.resolve).

Every registry answer comes from the loopback FakeRegistry; nothing here downloads, builds or
runs a package. The PyPI side is checked against pip's rules, the npm side against npm's."""

from __future__ import annotations

import functools
import hashlib
import json
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from malwi.errors import DependencyFileError, RegistryError
from malwi.sources.dependencies import Dependencies
from malwi.sources.resolve import (
    UNKNOWN_SDIST,
    NpmRange,
    Resolution,
    SemVer,
    package_json_specs,
    requirement_lines,
    resolve_npm,
    resolve_pypi,
)
from tests.conftest import FakeRegistry

LINUX = {"sys_platform": "linux", "platform_system": "Linux", "os_name": "posix"}


class PyPI:
    """Synthetic PyPI JSON API pages (project, per version), PEP 658 metadata files and, when
    asked, simple JSON API pages, written into FakeRegistry.routes."""

    def __init__(self, base: str) -> None:
        self.base = base
        self.projects: dict[str, dict[str, list[dict[str, Any]]]] = {}

    def release(
        self,
        name: str,
        version: str,
        requires: list[str] | None = None,
        *,
        wheel: bool = True,
        sdist: bool = True,
        metadata: list[str] | None = None,
        metadata_body: bytes | None = None,
        simple_only_metadata: bool = False,
        yanked: bool = False,
        requires_python: str | None = None,
    ) -> None:
        files = self.projects.setdefault(name, {}).setdefault(version, [])
        if sdist:
            files.append(self._file(f"{name}-{version}.tar.gz", "sdist", yanked, requires_python))
        if wheel:
            entry = self._file(f"{name}-{version}-py3-none-any.whl", "bdist_wheel", yanked, requires_python)
            if metadata is not None:
                headers = "".join(f"Requires-Dist: {line}\n" for line in metadata)
                body = f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n{headers}\n".encode()
                digest = hashlib.sha256(body).hexdigest()
                FakeRegistry.routes[f"/files/{entry['filename']}.metadata"] = (200, metadata_body or body)
                if simple_only_metadata:
                    simple = {
                        "filename": entry["filename"],
                        "url": entry["url"],
                        "core-metadata": {"sha256": digest},
                    }
                    FakeRegistry.routes[f"/simple/{name}/"] = (200, json.dumps({"files": [simple]}).encode())
                else:
                    entry["core-metadata"] = {"sha256": digest}
            files.append(entry)
        page = {"info": {"name": name, "version": version, "requires_dist": requires}, "urls": files}
        FakeRegistry.routes[f"/pypi/{name}/{version}/json"] = (200, json.dumps(page).encode())
        releases = self.projects[name]
        project = {
            "info": {"name": name, "version": version, "requires_dist": requires},
            "releases": releases,
        }
        FakeRegistry.routes[f"/pypi/{name}/json"] = (200, json.dumps(project).encode())

    def _file(self, filename: str, kind: str, yanked: bool, requires_python: str | None) -> dict[str, Any]:
        return {
            "filename": filename,
            "packagetype": kind,
            "url": f"{self.base}/files/{filename}",
            "digests": {"sha256": "0" * 64},
            "size": 10,
            "yanked": yanked,
            "requires_python": requires_python,
        }


@pytest.fixture
def pypi(registry_server: str) -> PyPI:
    return PyPI(registry_server)


def labels(resolution: Resolution) -> list[str]:
    return [dependency.label for dependency in resolution.pinned]


def by_name(resolution: Resolution) -> dict[str, Any]:
    return {dependency.name: dependency for dependency in resolution.pinned}


def resolve(lines: list[str], **kwargs: Any) -> Resolution:
    requirements = [(line, f"requirements.txt:{number}") for number, line in enumerate(lines, 1)]
    return resolve_pypi(requirements, index_url=None, environment=kwargs.pop("environment", LINUX), **kwargs)


def file_requests() -> list[str]:
    """Requests for package files (sdists, wheels): resolution must never make one."""
    return [path for path in FakeRegistry.requests if path.endswith((".tar.gz", ".whl", ".zip", ".tgz"))]


# --- PyPI ---------------------------------------------------------------------------------------


def test_transitive_chain_with_origins(pypi: PyPI) -> None:
    pypi.release("flask", "3.0.0", ["Werkzeug>=3.0.0", "click>=8.1.3"])
    pypi.release("werkzeug", "3.0.1", ["MarkupSafe>=2.1.1"])
    pypi.release("werkzeug", "2.9.0", [])
    pypi.release("markupsafe", "2.1.5", [])
    pypi.release("click", "8.1.7", [])
    pypi.release("six", "1.16.0", [])
    resolution = resolve(["flask==3.0.0", "six"])
    assert labels(resolution) == [
        "flask==3.0.0",
        "six==1.16.0",
        "werkzeug==3.0.1",
        "click==8.1.7",
        "markupsafe==2.1.5",
    ]
    found = by_name(resolution)
    assert found["flask"].chain == ("requirements.txt:1 flask==3.0.0",)
    assert found["werkzeug"].chain == ("requirements.txt:1 flask==3.0.0", "Werkzeug>=3.0.0")
    assert found["markupsafe"].chain == (
        "requirements.txt:1 flask==3.0.0",
        "Werkzeug>=3.0.0",
        "MarkupSafe>=2.1.1",
    )
    assert found["six"].chain == ("requirements.txt:2 six",)
    assert {d.origin for d in resolution.pinned if d.name != "six"} == {"requirements.txt:1"}
    assert found["six"].origin == "requirements.txt:2"
    assert all(d.ecosystem == "pypi" and d.resolved == "" for d in resolution.pinned)
    assert resolution.unresolved == []
    assert file_requests() == []
    merged = resolution.merge_into(Dependencies())
    assert [d.label for d in merged.pinned] == labels(resolution)


def test_markers_are_evaluated_for_the_target_environment(pypi: PyPI) -> None:
    pypi.release(
        "app",
        "1.0",
        ['importlib-metadata>=1; python_version < "3.8"', 'pywin32>=300; sys_platform == "win32"', "idna"],
    )
    pypi.release("importlib-metadata", "6.0", [])
    pypi.release("pywin32", "306", [])
    pypi.release("idna", "3.6", [])
    assert labels(resolve(["app"])) == ["app==1.0", "idna==3.6"]
    assert "/pypi/pywin32/json" not in FakeRegistry.requests
    assert "/pypi/importlib-metadata/json" not in FakeRegistry.requests
    old_windows = resolve(["app"], environment={"python_version": "3.7", "sys_platform": "win32"})
    assert sorted(labels(old_windows)) == ["app==1.0", "idna==3.6", "importlib-metadata==6.0", "pywin32==306"]


def test_top_level_markers_and_non_releases(pypi: PyPI) -> None:
    pypi.release("idna", "3.6", [])
    resolution = resolve(
        [
            'pywin32; sys_platform == "win32"',
            "idna",
            "-e git+https://example.invalid/x.git#egg=x",
            "./local/folder",
            "thing @ https://example.invalid/thing.whl",
            "not a requirement!!",
        ]
    )
    assert labels(resolution) == ["idna==3.6"]
    reasons = {u.requirement: (u.origin, u.reason) for u in resolution.unresolved}
    assert reasons["-e git+https://example.invalid/x.git#egg=x"] == (
        "requirements.txt:3",
        "editable install: not a release on PyPI",
    )
    assert reasons["./local/folder"][1] == "URL or local path: not a release on PyPI"
    assert (
        reasons["thing @ https://example.invalid/thing.whl"][1] == "URL or local path: not a release on PyPI"
    )
    assert reasons["not a requirement!!"] == ("requirements.txt:6", "not a requirement pip understands")
    assert any(
        "requirements.txt:1" in note and "not for this environment" in note for note in resolution.notes
    )


def test_extras_pull_their_dependencies(pypi: PyPI) -> None:
    pypi.release(
        "requests",
        "2.31.0",
        ["idna>=2.5", 'PySocks!=1.5.7,>=1.5.6; extra == "socks"', 'chardet; extra == "use-chardet"'],
    )
    pypi.release("idna", "3.6", [])
    pypi.release("pysocks", "1.7.1", [])
    pypi.release("chardet", "5.2.0", [])
    plain = resolve(["requests==2.31.0"])
    assert labels(plain) == ["requests==2.31.0", "idna==3.6"]
    with_extra = resolve(["requests[socks]==2.31.0"])
    assert sorted(labels(with_extra)) == ["idna==3.6", "pysocks==1.7.1", "requests==2.31.0"]
    socks = by_name(with_extra)["pysocks"]
    assert socks.chain == ("requirements.txt:1 requests[socks]==2.31.0", "PySocks!=1.5.7,>=1.5.6")
    assert by_name(with_extra)["requests"].chain == ("requirements.txt:1 requests[socks]==2.31.0",)
    assert "chardet" not in by_name(with_extra)


def test_extras_of_a_transitive_dependency(pypi: PyPI) -> None:
    pypi.release("app", "1.0", ["requests[socks]>=2"])
    pypi.release("requests", "2.31.0", ["idna>=2.5", 'PySocks>=1.5.6; extra == "socks"'])
    pypi.release("idna", "3.6", [])
    pypi.release("pysocks", "1.7.1", [])
    found = by_name(resolve(["app"]))
    assert sorted(found) == ["app", "idna", "pysocks", "requests"]
    assert found["requests"].chain == ("requirements.txt:1 app", "requests[socks]>=2")
    assert found["pysocks"].chain == ("requirements.txt:1 app", "requests[socks]>=2", "PySocks>=1.5.6")
    assert found["idna"].chain == ("requirements.txt:1 app", "requests[socks]>=2", "idna>=2.5")


def test_conflict_is_one_line_naming_the_requirements(pypi: PyPI) -> None:
    pypi.release("a", "1.0", ["c<2"])
    pypi.release("b", "1.0", ["c>=2"])
    pypi.release("c", "1.5", [])
    pypi.release("c", "2.5", [])
    with pytest.raises(DependencyFileError) as caught:
        resolve(["a", "b"])
    message = str(caught.value)
    assert "\n" not in message
    assert message.startswith("requirements.txt: cannot resolve the dependencies")
    assert "c<2 (from a==1.0)" in message
    assert "c>=2 (from b==1.0)" in message


def test_no_release_matches(pypi: PyPI) -> None:
    pypi.release("c", "1.5", [])
    with pytest.raises(DependencyFileError) as caught:
        resolve(["c>=99"])
    assert "no release of c on the index satisfies c>=99 (from requirements.txt:1)" in str(caught.value)


def test_backtracking_picks_an_older_release(pypi: PyPI) -> None:
    pypi.release("a", "1.0", ["c<2"])
    pypi.release("a", "2.0", ["c>=2"])
    pypi.release("c", "1.5", [])
    pypi.release("c", "2.5", [])
    resolution = resolve(["a", "c<2"])
    assert sorted(labels(resolution)) == ["a==1.0", "c==1.5"]
    assert by_name(resolution)["c"].chain == ("requirements.txt:2 c<2",)


def test_prereleases_only_when_asked(pypi: PyPI) -> None:
    pypi.release("p", "1.0", [])
    pypi.release("p", "2.0b1", [])
    pypi.release("p", "2.0.dev3", [])
    assert labels(resolve(["p"])) == ["p==1.0"]
    assert labels(resolve(["p>=1.0"])) == ["p==1.0"]
    assert labels(resolve(["p>=2.0b1"])) == ["p==2.0b1"]
    assert labels(resolve(["p==2.0.dev3"])) == ["p==2.0.dev3"]


def test_only_prereleases_match_falls_back_like_pip(pypi: PyPI) -> None:
    pypi.release("q", "1.0", [])
    pypi.release("q", "2.0rc1", [])
    resolution = resolve(["q>=1.5"])
    assert labels(resolution) == ["q==2.0rc1"]
    assert any("only prereleases match q>=1.5" in note for note in resolution.notes)


def test_yanked_releases_only_when_pinned(pypi: PyPI) -> None:
    pypi.release("y", "1.0", [])
    pypi.release("y", "1.1", [], yanked=True)
    assert labels(resolve(["y"])) == ["y==1.0"]
    assert labels(resolve(["y>=1.0"])) == ["y==1.0"]
    assert labels(resolve(["y==1.1"])) == ["y==1.1"]


def test_invalid_versions_and_other_pythons_are_skipped(pypi: PyPI) -> None:
    pypi.release("v", "1.0", [])
    pypi.release("v", "2.0", [], requires_python=">=3.99")
    pypi.release("v", "not-a-version", [])
    assert labels(resolve(["v"])) == ["v==1.0"]
    assert labels(resolve(["v"], environment={"python_version": "4.0"})) == ["v==2.0"]


def test_sdist_without_static_metadata_is_pinned_not_built(pypi: PyPI) -> None:
    pypi.release("app", "1.0", ["legacy>=1"])
    pypi.release("legacy", "0.9", [], wheel=False)
    pypi.release("legacy", "1.2", None, wheel=False)
    resolution = resolve(["app==1.0"])
    assert labels(resolution) == ["app==1.0", "legacy==1.2"]
    [unknown] = resolution.unresolved
    assert unknown.requirement == "legacy==1.2"
    assert unknown.origin == "requirements.txt:1"
    assert unknown.reason == f"{UNKNOWN_SDIST} (via requirements.txt:1 app==1.0 → legacy>=1)"
    assert unknown.reason.startswith("dependencies unknown: sdist without static metadata; not built")
    # JSON documents, then the sdist itself for a static PKG-INFO (not served here, so the
    # dependencies stay unknown); app's wheel has no metadata file, so its simple JSON page is
    # asked for one. Nothing is built.
    assert file_requests() == ["/files/legacy-1.2.tar.gz"]
    assert FakeRegistry.requests == [
        "/pypi/app/json",
        "/simple/app/",
        "/pypi/app/1.0/json",
        "/pypi/legacy/json",
        "/pypi/legacy/1.2/json",
        "/files/legacy-1.2.tar.gz",
    ]


@pytest.mark.parametrize(
    ("headers", "found"),
    [
        ("Metadata-Version: 2.2\nRequires-Dist: dep>=2\n", True),
        ("Metadata-Version: 2.4\nDynamic: Requires-Dist\nRequires-Dist: dep>=2\n", False),
        ("Metadata-Version: 2.1\nRequires-Dist: dep>=2\n", False),  # before PEP 643: not static
    ],
)
def test_an_sdists_static_pkg_info_gives_its_dependencies(pypi: PyPI, headers: str, found: bool) -> None:
    import io
    import tarfile

    info = f"{headers}Name: legacy\nVersion: 1.2\n".encode()
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as sdist:
        member = tarfile.TarInfo("legacy-1.2/PKG-INFO")
        member.size = len(info)
        sdist.addfile(member, io.BytesIO(info))
    body = buffer.getvalue()
    pypi.release("legacy", "1.2", None, wheel=False)
    pypi.release("dep", "2.0", [])
    page = json.loads(FakeRegistry.routes["/pypi/legacy/json"][1])
    page["releases"]["1.2"][0]["digests"]["sha256"] = hashlib.sha256(body).hexdigest()
    FakeRegistry.routes["/pypi/legacy/json"] = (200, json.dumps(page).encode())
    FakeRegistry.routes["/files/legacy-1.2.tar.gz"] = (200, body)
    resolution = resolve(["legacy"])
    if found:
        assert labels(resolution) == ["legacy==1.2", "dep==2.0"] and resolution.unresolved == []
    else:
        assert labels(resolution) == ["legacy==1.2"]
        assert [u.reason.split(";")[0] for u in resolution.unresolved] == [
            "dependencies unknown: sdist without static metadata"
        ]


def test_pep658_metadata_is_preferred_over_requires_dist(pypi: PyPI) -> None:
    pypi.release("m", "1.0", ["old-dep"], metadata=["new-dep>=1", 'winonly; sys_platform == "win32"'])
    pypi.release("old-dep", "1.0", [])
    pypi.release("new-dep", "1.0", [])
    pypi.release("winonly", "1.0", [])
    resolution = resolve(["m"])
    assert labels(resolution) == ["m==1.0", "new-dep==1.0"]
    assert by_name(resolution)["new-dep"].chain == ("requirements.txt:1 m", "new-dep>=1")
    assert "/files/m-1.0-py3-none-any.whl.metadata" in FakeRegistry.requests
    assert "/pypi/m/1.0/json" not in FakeRegistry.requests
    assert "/pypi/old-dep/json" not in FakeRegistry.requests
    assert file_requests() == []


def test_pep658_metadata_advertised_by_the_simple_api(pypi: PyPI) -> None:
    pypi.release("s", "1.0", ["old-dep"], metadata=["new-dep"], simple_only_metadata=True)
    pypi.release("old-dep", "1.0", [])
    pypi.release("new-dep", "1.0", [])
    assert labels(resolve(["s"])) == ["s==1.0", "new-dep==1.0"]
    assert "/simple/s/" in FakeRegistry.requests
    assert file_requests() == []


def test_index_without_release_lists_or_per_version_pages(pypi: PyPI, registry_server: str) -> None:
    # The project page lists no `releases`: the simple JSON API's files give the versions.
    wheel = {"filename": "r-2.0-py3-none-any.whl", "url": f"{registry_server}/files/r-2.0-py3-none-any.whl"}
    sdist = {"filename": "r-1.0.tar.gz", "url": "../../files/r-1.0.tar.gz", "yanked": False}
    FakeRegistry.routes["/simple/r/"] = (200, json.dumps({"files": [wheel, sdist]}).encode())
    # No per-version page: the project page's info is 2.0's, with its requires_dist.
    FakeRegistry.routes["/pypi/r/json"] = (
        200,
        json.dumps({"info": {"name": "R", "version": "2.0", "requires_dist": ["idna"]}}).encode(),
    )
    pypi.release("idna", "3.6", [])
    resolution = resolve(["r"])
    assert labels(resolution) == ["R==2.0", "idna==3.6"]
    assert "/pypi/r/2.0/json" in FakeRegistry.requests
    older = resolve(["r<2"])
    assert labels(older) == ["R==1.0"]
    assert [u.reason for u in older.unresolved] == [UNKNOWN_SDIST]
    assert file_requests() == []


def test_metadata_file_with_a_wrong_digest_is_not_used(pypi: PyPI) -> None:
    pypi.release("t", "1.0", ["old-dep"], metadata=["new-dep"], metadata_body=b"Requires-Dist: evil\n\n")
    pypi.release("old-dep", "1.0", [])
    resolution = resolve(["t"])
    assert labels(resolution) == ["t==1.0", "old-dep==1.0"]
    assert any("does not match its sha256" in note for note in resolution.notes)


def test_wheel_release_without_any_metadata_is_dependencies_unknown(pypi: PyPI) -> None:
    pypi.release("w", "1.0", None, sdist=False)
    resolution = resolve(["w"])
    assert labels(resolution) == ["w==1.0"]
    assert [u.reason.split(":")[0] for u in resolution.unresolved] == ["dependencies unknown"]


def test_a_wheel_is_read_for_its_metadata_when_the_index_says_nothing(pypi: PyPI) -> None:
    """No PEP 658 file, requires_dist null: the wheel's own METADATA, read as a zip in memory,
    its digest checked first; a wheel whose bytes do not match is not read."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as wheel:
        wheel.writestr("w/__init__.py", "")
        wheel.writestr(
            "w-1.0.dist-info/METADATA",
            "Metadata-Version: 2.1\nName: w\nVersion: 1.0\nRequires-Dist: dep>=2\n",
        )
    body = buffer.getvalue()
    pypi.release("w", "1.0", None, sdist=False)
    pypi.release("dep", "2.1", [])
    page = json.loads(FakeRegistry.routes["/pypi/w/json"][1])
    page["releases"]["1.0"][0]["digests"]["sha256"] = hashlib.sha256(body).hexdigest()
    FakeRegistry.routes["/pypi/w/json"] = (200, json.dumps(page).encode())
    FakeRegistry.routes["/files/w-1.0-py3-none-any.whl"] = (200, body)
    resolution = resolve(["w"])
    assert labels(resolution) == ["w==1.0", "dep==2.1"] and resolution.unresolved == []
    assert by_name(resolution)["dep"].chain == ("requirements.txt:1 w", "dep>=2")

    FakeRegistry.routes["/files/w-1.0-py3-none-any.whl"] = (200, body + b"tampered")
    resolution = resolve(["w"])
    assert labels(resolution) == ["w==1.0"]
    assert [u.reason.split(":")[0] for u in resolution.unresolved] == ["dependencies unknown"]
    assert any("does not match its sha256" in note for note in resolution.notes)


def test_missing_project_is_unresolved(pypi: PyPI) -> None:
    pypi.release("app", "1.0", ["ghost>=1", "idna"])
    pypi.release("idna", "3.6", [])
    resolution = resolve(["app"])
    assert labels(resolution) == ["app==1.0", "idna==3.6"]
    [ghost] = resolution.unresolved
    assert ghost.requirement == "ghost>=1"
    assert ghost.origin == "requirements.txt:1"
    assert ghost.reason.startswith("not on the index (")
    assert ghost.reason.endswith("(via requirements.txt:1 app → ghost>=1)")


def test_work_is_bounded(pypi: PyPI) -> None:
    pypi.release("a", "1.0", ["b"])
    pypi.release("b", "1.0", ["c"])
    pypi.release("c", "1.0", [])
    assert labels(resolve(["a"], max_candidates=3)) == ["a==1.0", "b==1.0", "c==1.0"]
    with pytest.raises(DependencyFileError, match=r"^requirements.txt: .*more than 2 releases \(the limit\)"):
        resolve(["a"], max_candidates=2)


def test_cycles_resolve(pypi: PyPI) -> None:
    pypi.release("a", "1.0", ["b"])
    pypi.release("b", "1.0", ["a"])
    resolution = resolve(["a"])
    assert labels(resolution) == ["a==1.0", "b==1.0"]
    assert by_name(resolution)["b"].chain == ("requirements.txt:1 a", "b")


def test_index_url_argument_and_registry_errors(
    pypi: PyPI, registry_server: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    pypi.release("idna", "3.6", [])
    monkeypatch.setenv("MALWI_PYPI_URL", "http://127.0.0.1:9/nowhere")
    result = resolve_pypi([("idna", "r.txt:1")], index_url=registry_server + "/pypi", environment=LINUX)
    assert labels(result) == ["idna==3.6"]
    FakeRegistry.routes["/pypi/broken/json"] = (200, b"<html>")
    with pytest.raises(RegistryError, match="did not answer with JSON"):
        resolve_pypi([("broken", "r.txt:1")], index_url=registry_server + "/pypi", environment=LINUX)


def test_requirement_lines(tmp_path: Path) -> None:
    (tmp_path / "base.txt").write_text("six==1.16.0\n")
    (tmp_path / "requirements.txt").write_text(
        "# comment\n-r base.txt\nflask>=3 \\\n  --hash=sha256:abc\n-e ./local\n--index-url https://x\nidna\n"
    )
    lines = requirement_lines(tmp_path / "requirements.txt")
    assert lines == [
        ("six==1.16.0", f"{tmp_path / 'base.txt'}:1"),
        ("flask>=3", f"{tmp_path / 'requirements.txt'}:3"),
        ("-e ./local", f"{tmp_path / 'requirements.txt'}:5"),
        ("idna", f"{tmp_path / 'requirements.txt'}:7"),
    ]


# --- npm semver ---------------------------------------------------------------------------------

TABLE = [
    ("^1.2.3", "1.9.9", True),
    ("^1.2.3", "2.0.0", False),
    ("^1.2.3", "1.2.2", False),
    ("^0.2.3", "0.2.9", True),
    ("^0.2.3", "0.3.0", False),
    ("^0.0.3", "0.0.3", True),
    ("^0.0.3", "0.0.4", False),
    ("^1.2.3-beta.2", "1.2.3-beta.4", True),
    ("^1.2.3-beta.2", "1.2.3-beta.1", False),
    ("^1.2.3-beta.2", "1.2.4-beta.2", False),
    ("^1.2.3-beta.2", "1.5.0", True),
    ("^0.0.x", "0.0.5", True),
    ("^0.0", "0.1.0", False),
    ("^0.x", "0.9.0", True),
    ("^0.x", "1.0.0", False),
    ("^1.x", "1.9.0", True),
    ("~1.2.3", "1.2.9", True),
    ("~1.2.3", "1.3.0", False),
    ("~1.2", "1.2.0", True),
    ("~1", "1.9.0", True),
    ("~1", "2.0.0", False),
    ("~0.2.3-beta.2", "0.2.3-beta.3", True),
    ("~>1.2.3", "1.2.5", True),
    ("1.x", "1.5.0", True),
    ("1.x", "2.0.0", False),
    ("1.2.x", "1.2.7", True),
    ("1.2.x", "1.3.0", False),
    ("1.2.*", "1.2.0", True),
    ("1", "1.0.1", True),
    ("*", "1.0.0-beta", False),
    ("*", "9.9.9", True),
    ("", "3.0.0", True),
    ("x", "0.0.0", True),
    ("1.2.3 - 2.3.4", "2.3.4", True),
    ("1.2.3 - 2.3.4", "2.3.5", False),
    ("1.2 - 2.3.4", "1.2.0", True),
    ("1.2.3 - 2.3", "2.3.9", True),
    ("1.2.3 - 2.3", "2.4.0", False),
    ("1.2.3 - 2", "2.9.9", True),
    ("1.2.3 - 2", "3.0.0", False),
    (">1.2", "1.2.9", False),
    (">1.2", "1.3.0", True),
    (">1", "1.9.9", False),
    (">1", "2.0.0", True),
    (">=1.2", "1.2.0", True),
    ("<=1.2", "1.2.9", True),
    ("<=1.2", "1.3.0", False),
    ("<1.2", "1.1.9", True),
    ("<1.2", "1.2.0-alpha", False),
    ("<1.2.3", "1.2.3-alpha", False),
    (">=1.2.3-alpha <1.2.4", "1.2.3-beta", True),
    (">=1.2.3-alpha <1.2.4", "1.2.4-alpha", False),
    ("=1.2.3", "1.2.3", True),
    ("= 1.2.3", "1.2.3", True),
    (">= 1.2.3 < 2", "1.9.0", True),
    ("v1.2.3", "1.2.3", True),
    ("1.2.3", "1.2.3+build.5", True),
    ("1.2.3-rc.1", "1.2.3-rc.1", True),
    (">=1.0.0 <2.0.0 || >=3.0.0", "2.5.0", False),
    (">=1.0.0 <2.0.0 || >=3.0.0", "3.1.0", True),
    ("^1.0.0 || ^3.0.0-beta", "3.0.0-beta.2", True),
    ("^1.0.0 || ^3.0.0-beta", "3.1.0-beta", False),
    ("<*", "0.0.0", False),
    (">=*", "0.0.1", True),
    ("1.2.3-alpha.10", "1.2.3-alpha.10", True),
]


@pytest.mark.parametrize(("text", "version", "expected"), TABLE)
def test_npm_range_table(text: str, version: str, expected: bool) -> None:
    parsed_range = NpmRange.parse(text)
    parsed_version = SemVer.parse(version)
    assert parsed_range is not None and parsed_version is not None
    assert parsed_range.matches(parsed_version) is expected


@pytest.mark.parametrize("text", ["latest", "next", "git+https://x/y.git", "1.2.3.4", ">=a", "^", "1.2.3 -"])
def test_not_a_range(text: str) -> None:
    assert NpmRange.parse(text) is None


def test_semver_precedence() -> None:
    # The order the semver specification gives as its example.
    ordered = [
        "1.0.0-alpha",
        "1.0.0-alpha.1",
        "1.0.0-alpha.beta",
        "1.0.0-beta",
        "1.0.0-beta.2",
        "1.0.0-beta.11",
        "1.0.0-rc.1",
        "1.0.0",
        "1.0.1",
        "1.10.0",
        "2.0.0",
    ]
    parsed = [SemVer.parse(text) for text in ordered]
    assert all(p is not None for p in parsed)
    assert sorted(parsed, key=lambda v: v.sort_key()) == parsed  # type: ignore[union-attr]
    assert [str(p) for p in parsed] == ordered
    assert SemVer.parse("01.2.3x") is None
    assert SemVer.parse("1.2") is None
    assert SemVer.parse("1.2.3-" + "9" * 40) is not None  # a huge numeric identifier stays text


# A reference written from the semver/npm documentation, independent of NpmRange: versions as
# tuples, prerelease precedence by the specification's rules, and each range form's meaning
# spelled out directly.

PRERELEASES: list[tuple[int | str, ...]] = [(), ("alpha",), ("alpha", 1), ("beta",), (0,), ("rc", 1), (2,)]
Version3 = tuple[int, int, int, tuple[int | str, ...]]


def reference_compare(a: Version3, b: Version3) -> int:
    if a[:3] != b[:3]:
        return -1 if a[:3] < b[:3] else 1
    pa, pb = a[3], b[3]
    if not pa or not pb:
        return (not pa) - (not pb)  # no prerelease ranks higher
    for x, y in zip(pa, pb):
        if x == y:
            continue
        if isinstance(x, int) and isinstance(y, int):
            return -1 if x < y else 1
        if isinstance(x, int):
            return -1
        if isinstance(y, int):
            return 1
        return -1 if str(x) < str(y) else 1
    return (len(pa) > len(pb)) - (len(pa) < len(pb))


def text_of(version: Version3) -> str:
    pre = "-" + ".".join(str(part) for part in version[3]) if version[3] else ""
    return f"{version[0]}.{version[1]}.{version[2]}{pre}"


small = st.integers(min_value=0, max_value=3)
versions = st.tuples(small, small, small, st.sampled_from(PRERELEASES))
finals = st.tuples(small, small, small, st.just(()))


@st.composite
def ranges(draw: st.DrawFn) -> tuple[str, Any]:
    """(range text, predicate on Version3) for one of npm's range forms."""
    kind = draw(
        st.sampled_from(["caret", "tilde", "x-major", "x-minor", "star", "hyphen", "comparators", "or"])
    )
    if kind == "or":
        (left, lp), (right, rp) = draw(ranges()), draw(ranges())
        if "||" in left or "||" in right:
            return left, lp
        return f"{left} || {right}", lambda v: lp(v) or rp(v)
    low = draw(st.one_of(finals, versions)) if kind in ("caret", "tilde", "hyphen", "comparators") else None
    if kind == "caret":
        assert low is not None
        a, b, c, _ = low

        def caret_release(v: Version3) -> bool:
            if a:
                return v[0] == a
            if b:
                return v[0] == 0 and v[1] == b
            return v[:3] == (0, 0, c)

        return f"^{text_of(low)}", lambda v, low=low: _with_prerelease(v, low, caret_release)
    if kind == "tilde":
        assert low is not None
        return f"~{text_of(low)}", lambda v, low=low: _with_prerelease(v, low, lambda w: w[:2] == low[:2])
    if kind == "x-major":
        major = draw(small)
        return f"{major}.x", lambda v: not v[3] and v[0] == major
    if kind == "x-minor":
        major, minor = draw(small), draw(small)
        return f"{major}.{minor}.x", lambda v: not v[3] and v[:2] == (major, minor)
    if kind == "star":
        return draw(st.sampled_from(["*", "x", ""])), lambda v: not v[3]
    high = draw(finals)
    assert low is not None
    if kind == "hyphen":
        return f"{text_of(low)} - {text_of(high)}", lambda v, low=low: _with_prerelease(
            v, low, lambda w: reference_compare(w, high) <= 0
        )
    return f">={text_of(low)} <{text_of(high)}", lambda v, low=low: _with_prerelease(
        v, low, lambda w: reference_compare(w, high) < 0
    )


def _with_prerelease(v: Version3, low: Version3, upper_ok: Any) -> bool:
    """At or above `low` and within the form's upper limit; a prerelease only of low's own
    release, and only when `low` itself is a prerelease (npm's rule)."""
    if reference_compare(v, low) < 0 or not upper_ok(v):
        return False
    return not v[3] or (bool(low[3]) and v[:3] == low[:3])


@settings(max_examples=600, deadline=None)
@given(ranges(), versions)
def test_npm_ranges_match_the_reference(case: tuple[str, Any], version: Version3) -> None:
    text, expected = case
    parsed = NpmRange.parse(text)
    assert parsed is not None, text
    semver = SemVer.parse(text_of(version))
    assert semver is not None
    assert parsed.matches(semver) is bool(expected(version)), (text, text_of(version))


@settings(max_examples=300, deadline=None)
@given(versions, versions)
def test_semver_order_matches_the_reference(a: Version3, b: Version3) -> None:
    left, right = SemVer.parse(text_of(a)), SemVer.parse(text_of(b))
    assert left is not None and right is not None
    expected = reference_compare(a, b)
    assert (left < right) is (expected < 0)
    assert (left.sort_key() == right.sort_key()) is (expected == 0)
    assert sorted([a, b], key=functools.cmp_to_key(reference_compare))[0] in (a, b)


# --- npm resolution -----------------------------------------------------------------------------


def packument(base: str, name: str, versions: dict[str, dict[str, Any]], latest: str, **tags: str) -> None:
    entries = {}
    for version, fields in versions.items():
        tarball = f"{base}/npm/{name}/-/{name.split('/')[-1]}-{version}.tgz"
        entries[version] = {
            "name": name,
            "version": version,
            "dist": {"tarball": tarball, "integrity": f"sha512-{name}{version}"},
            **fields,
        }
    document = {"name": name, "dist-tags": {"latest": latest, **tags}, "versions": entries}
    path = "/npm/" + name.replace("/", "%2F")
    FakeRegistry.routes[path] = (200, json.dumps(document).encode())


def test_npm_transitive_resolution_with_chains_and_a_cycle(registry_server: str) -> None:
    base = registry_server
    packument(
        base,
        "a",
        {
            "1.0.0": {},
            "1.2.0": {
                "dependencies": {"b": "~2.1.0"},
                "optionalDependencies": {"c": "1.x || >=3"},
                "devDependencies": {"devonly": "*"},
                "peerDependencies": {"peeronly": "*"},
            },
            "2.0.0": {},
        },
        latest="2.0.0",
    )
    packument(
        base,
        "b",
        {"2.1.0": {}, "2.1.5": {"dependencies": {"a": "^1.0.0"}}, "2.1.6-beta.1": {}, "2.2.0": {}},
        latest="2.2.0",
    )
    packument(base, "c", {"1.0.0": {}, "3.0.0-rc.1": {}}, latest="1.0.0")
    packument(base, "@scope/d", {"0.1.0": {}, "0.2.0": {}}, latest="0.1.0", next="0.2.0")
    origin = "package.json dependencies.a"
    resolution = resolve_npm(
        [("a", "^1.0.0", origin), ("@scope/d", "next", "package.json dependencies.@scope/d")],
        registry_url=None,
    )
    assert labels(resolution) == ["a@1.2.0", "@scope/d@0.2.0", "b@2.1.5", "c@1.0.0"]
    found = by_name(resolution)
    assert found["a"].chain == ("package.json dependencies.a a@^1.0.0",)
    assert found["b"].chain == ("package.json dependencies.a a@^1.0.0", "b@~2.1.0")
    assert found["c"].chain == ("package.json dependencies.a a@^1.0.0", "c@1.x || >=3")
    assert found["@scope/d"].chain == ("package.json dependencies.@scope/d @scope/d@next",)
    assert found["b"].origin == origin
    assert found["b"].resolved == f"{base}/npm/b/-/b-2.1.5.tgz"
    assert found["b"].integrity == "sha512-b2.1.5"
    assert resolution.unresolved == []
    # b@2.1.5 → a@^1.0.0 is the cycle: a@1.2.0 appears once. Dev and peer deps are not read.
    assert [d.label for d in resolution.pinned].count("a@1.2.0") == 1
    assert "/npm/devonly" not in FakeRegistry.requests
    assert "/npm/peeronly" not in FakeRegistry.requests
    assert file_requests() == []


def test_npm_latest_tag_is_preferred_when_it_satisfies(registry_server: str) -> None:
    packument(registry_server, "e", {"1.0.0": {}, "1.5.0": {}, "1.9.0": {}}, latest="1.5.0")
    packument(registry_server, "f", {"1.0.0": {}, "1.1.0": {"deprecated": "broken"}}, latest="2.0.0")
    resolution = resolve_npm(
        [("e", "^1.0.0", "p e"), ("e", "1.9.x", "p e2"), ("f", "^1", "p f")], registry_url=None
    )
    assert labels(resolution) == ["e@1.5.0", "e@1.9.0", "f@1.0.0"]


def test_npm_unresolved_specs(registry_server: str) -> None:
    packument(registry_server, "real", {"1.0.0": {}, "1.4.0": {}}, latest="1.4.0")
    packument(registry_server, "g", {"1.0.0": {"dependencies": {"ghost": "^1"}}}, latest="1.0.0")
    resolution = resolve_npm(
        [
            ("alias", "npm:real@~1.0.0", "p alias"),
            ("gitdep", "github:user/repo", "p gitdep"),
            ("short", "user/repo", "p short"),
            ("tarball", "https://example.invalid/t.tgz", "p tarball"),
            ("local", "file:../local", "p local"),
            ("real", ">=5", "p real"),
            ("g", "*", "p g"),
        ],
        registry_url=registry_server + "/npm",
    )
    assert labels(resolution) == ["real@1.0.0", "g@1.0.0"]
    reasons = {u.requirement: u.reason for u in resolution.unresolved}
    assert reasons["gitdep@github:user/repo"] == "git dependency: not a registry release"
    assert reasons["short@user/repo"] == "GitHub shorthand (git dependency): not a registry release"
    assert reasons["tarball@https://example.invalid/t.tgz"] == "tarball URL: not a registry release"
    assert reasons["local@file:../local"] == "local path: not a registry release"
    assert reasons["real@>=5"] == "no release of real matches '>=5'"
    assert reasons["ghost@^1"] == "ghost is not on npm (HTTP 404) (via p g g@* → ghost@^1)"


def test_npm_work_is_bounded(registry_server: str) -> None:
    packument(registry_server, "n1", {"1.0.0": {"dependencies": {"n2": "*"}}}, latest="1.0.0")
    packument(registry_server, "n2", {"1.0.0": {"dependencies": {"n3": "*"}}}, latest="1.0.0")
    packument(registry_server, "n3", {"1.0.0": {}}, latest="1.0.0")
    assert labels(
        resolve_npm([("n1", "*", "package.json dependencies.n1")], registry_url=None, max_packages=3)
    ) == [
        "n1@1.0.0",
        "n2@1.0.0",
        "n3@1.0.0",
    ]
    with pytest.raises(DependencyFileError, match=r"^package.json: npm resolution .*more than 2 packages"):
        resolve_npm([("n1", "*", "package.json dependencies.n1")], registry_url=None, max_packages=2)


def test_package_json_specs_feed_resolve_npm(registry_server: str, tmp_path: Path) -> None:
    manifest = tmp_path / "package.json"
    manifest.write_text(
        json.dumps(
            {
                "dependencies": {"left": "^1.1.0"},
                "devDependencies": {"tool": "~0.3.0"},
                "peerDependencies": {"host": "*"},
            }
        )
    )
    specs = package_json_specs(manifest)
    assert specs == [
        ("left", "^1.1.0", f"{manifest} dependencies.left"),
        ("tool", "~0.3.0", f"{manifest} devDependencies.tool"),
    ]
    packument(registry_server, "left", {"1.0.0": {}, "1.1.3": {}, "2.0.0": {}}, latest="2.0.0")
    packument(registry_server, "tool", {"0.3.1": {}, "0.4.0": {}}, latest="0.4.0")
    resolution = resolve_npm(specs, registry_url=None)
    assert labels(resolution) == ["left@1.1.3", "tool@0.3.1"]
    assert by_name(resolution)["tool"].chain == (f"{manifest} devDependencies.tool tool@~0.3.0",)


def test_scan_resolve_lists_transitive_packages_with_their_chains(
    registry_server: str, tmp_path: Path
) -> None:
    """`malwi scan -r requirements.txt --resolve`: each resolved package judged as its own
    report, with the chain that brought it in; a malicious transitive dependency fails it."""
    from tests.conftest import EXAMPLES, run_malwi
    from tests.test_sources import sdist, serve_pypi

    serve_pypi("app", "1.0", sdist("app", "1.0"))
    serve_pypi(
        "helper", "2.0", sdist("helper", "2.0", (EXAMPLES / "malicious-python" / "stealer.py").read_bytes())
    )
    for name, version, requires in (("app", "1.0", ["helper>=2"]), ("helper", "2.0", [])):
        for route in (f"/pypi/{name}/json", f"/pypi/{name}/{version}/json"):
            page = json.loads(FakeRegistry.routes[route][1])
            page["info"]["requires_dist"] = requires
            FakeRegistry.routes[route] = (200, json.dumps(page).encode())
    requirements = tmp_path / "requirements.txt"
    requirements.write_text("app\n")
    result = run_malwi("scan", "-r", str(requirements), "--resolve", "--format", "json")
    assert result.returncode == 1, result.stderr
    document = json.loads(result.stdout)
    packages = {report["label"]: report for report in document["results"]["packages"]}
    assert set(packages) == {"app==1.0", "helper==2.0"}
    assert packages["helper==2.0"]["source"]["chain"] == [f"{requirements}:1 app", "helper>=2"]
    assert packages["helper==2.0"]["verdict"] == "malicious" and packages["app==1.0"]["verdict"] == "good"
    text = run_malwi("scan", "-r", str(requirements), "--resolve").stdout.decode()
    assert f"  via {requirements}:1 app → helper>=2" in text
    # Without --resolve an unpinned line is only listed, never guessed.
    plain = json.loads(run_malwi("scan", "-r", str(requirements), "--format", "json").stdout)
    assert plain["results"]["packages"] == []
    assert [u["requirement"] for u in plain["results"]["unresolved"]] == ["app"]
