"""Where code runs: install, import, library, non-shipped, decided from metadata, layout and the
import graph (`malwi.engine.reach`), shown in every report and weighed in the package score.

Every tree is written into a temporary folder from defanged text; nothing is imported or run.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from malwi.engine.inputs import Workspace
from malwi.engine.pipeline import Scanner, ScanOptions
from malwi.engine.reach import REACH_CLASSES, ReachFile, classify, object_reach
from malwi.engine.verdict import PackageScore
from malwi.errors import ModelError
from malwi.model.bundle import ModelBundle
from malwi.report.result import MalwiReport

from .test_units import BENIGN_JS, BENIGN_PY, write
from .tiny_model import build_tiny_bundle

# Defanged: what the tiny model weighs as malicious (a process started with a download).
PAYLOAD = (
    "import os\nimport subprocess\nimport urllib.request\n\n"
    "def run():\n"
    "    urllib.request.urlopen('http://example.invalid/x')\n"
    "    subprocess.Popen(['sh', '-c', os.environ.get('HOME')])\n\n"
    "run()\n"
)


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def classes(root: Path, imports: dict[str, list[str]], *, hooks: tuple[str, ...] = ()) -> dict[str, str]:
    """`classify` on the files under `root` with the given imports (relative path → modules)."""
    files = []
    manifests = []
    for path in sorted(root.rglob("*")):
        relative = path.relative_to(root).as_posix()
        if path.name in ("setup.py", "pyproject.toml", "package.json", "setup.cfg"):
            manifests.append(str(path))
        if path.suffix in (".py", ".js", ".pth"):
            language = "python" if path.suffix in (".py", ".pth") else "javascript"
            files.append(ReachFile(str(path), language, imports.get(relative, []), hook=relative in hooks))
    found = classify(files, manifests, str(root))
    return {os.path.relpath(path, root).replace(os.sep, "/"): reach for path, reach in found.items()}


def test_code_imported_by_setup_py_is_install_time_wherever_it_lies(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "setup.py": "",
            "tests/__init__.py": "",
            "tests/helper.py": "",
            "tests/test_api.py": "",
            "tests/conftest.py": "",
            "mypkg/__init__.py": "",
            "mypkg/core.py": "",
            "docs/conf.py": "",
        },
    )
    found = classes(
        tmp_path,
        {
            "setup.py": ["setuptools", "tests", "tests.helper"],
            "mypkg/__init__.py": [".", ".core", ".core.thing"],
        },
    )
    assert found == {
        "setup.py": "install",
        "tests/__init__.py": "install",  # importing tests.helper runs the package's __init__
        "tests/helper.py": "install",
        "tests/test_api.py": "non-shipped",
        "tests/conftest.py": "non-shipped",
        "mypkg/__init__.py": "import",
        "mypkg/core.py": "import",
        "docs/conf.py": "non-shipped",
    }


def test_a_test_helper_imported_by_shipped_code_ships(tmp_path: Path) -> None:
    write(
        tmp_path, {"setup.py": "", "mypkg/__init__.py": "", "mypkg/testing/fixtures.py": "", "tests/a.py": ""}
    )
    found = classes(tmp_path, {"mypkg/__init__.py": [".testing.fixtures"]})
    assert found["mypkg/testing/fixtures.py"] == "import"
    assert found["tests/a.py"] == "non-shipped"


def test_src_layout_backend_path_and_pth_files(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[build-system]\nrequires = []\nbuild-backend = "_build.backend"\nbackend-path = ["."]\n',
            "_build/__init__.py": "",
            "_build/backend.py": "",
            "_build/util.py": "",
            "setup.py": "",
            "src/mypkg/__init__.py": "",
            "src/mypkg/loader.py": "",
            "mypkg-hook.pth": "",
        },
    )
    found = classes(tmp_path, {"setup.py": ["mypkg.loader"], "_build/backend.py": [".util"]})
    assert found["_build/backend.py"] == "install"  # the in-tree build backend
    assert found["_build/util.py"] == "install"  # what the backend imports
    assert found["src/mypkg/loader.py"] == "install"  # found under src/
    assert found["src/mypkg/__init__.py"] == "install"
    assert found["mypkg-hook.pth"] == "install"


def test_pyproject_package_lists_decide_what_ships(tmp_path: Path) -> None:
    write(
        tmp_path,
        {
            "pyproject.toml": '[tool.setuptools.packages.find]\nexclude = ["scripts*", "internal.tools*"]\n',
            "mypkg/__init__.py": "",
            "scripts/release.py": "",
            "internal/tools/gen.py": "",
            "internal/api.py": "",
        },
    )
    found = classes(tmp_path, {})
    assert found == {
        "mypkg/__init__.py": "import",
        "scripts/release.py": "non-shipped",
        "internal/tools/gen.py": "non-shipped",
        "internal/api.py": "import",
    }
    hatch = tmp_path / "hatch"
    write(
        hatch,
        {
            "pyproject.toml": '[tool.hatch.build.targets.wheel]\npackages = ["src/lib"]\n',
            "src/lib/__init__.py": "",
            "tools/bump.py": "",
        },
    )
    assert classes(hatch, {}) == {"src/lib/__init__.py": "import", "tools/bump.py": "non-shipped"}


def test_a_package_called_like_a_test_or_demo_folder_ships(tmp_path: Path) -> None:
    # The folder name alone never decides: a package with no other code than `demo/` is `demo`.
    write(
        tmp_path / "only", {"setup.py": "", "demo/__init__.py": "", "demo/core.py": "", "demo/tests/t.py": ""}
    )
    assert classes(tmp_path / "only", {}) == {
        "setup.py": "install",
        "demo/__init__.py": "import",
        "demo/core.py": "import",
        "demo/tests/t.py": "non-shipped",  # layout still holds below the package's own folder
    }
    # Named so by pyproject.toml, next to real tests and other code.
    write(
        tmp_path / "named",
        {
            "pyproject.toml": '[project]\nname = "Examples"\n',
            "examples/__init__.py": "",
            "util/__init__.py": "",
            "tests/helper.py": "",
        },
    )
    assert classes(tmp_path / "named", {}) == {
        "examples/__init__.py": "import",
        "util/__init__.py": "import",
        "tests/helper.py": "non-shipped",
    }
    # Listed by setup.cfg.
    write(
        tmp_path / "cfg",
        {
            "setup.cfg": "[options]\npackages =\n    samples\n",
            "samples/__init__.py": "",
            "lib.py": "",
            "tests/a.py": "",
        },
    )
    assert classes(tmp_path / "cfg", {}) == {
        "samples/__init__.py": "import",
        "lib.py": "import",
        "tests/a.py": "non-shipped",
    }


def test_an_sdists_and_a_wheels_top_level_txt_and_pkg_info_say_what_is_their_own(tmp_path: Path) -> None:
    sdist = tmp_path / "sdist" / "bench-tools-1.0"
    write(
        sdist,
        {
            "setup.py": "",
            "PKG-INFO": "Metadata-Version: 2.1\nName: spec\nVersion: 1.0\n",
            "bench_tools.egg-info/top_level.txt": "bench\n",
            "bench/__init__.py": "",
            "spec/__init__.py": "",  # named by PKG-INFO
            "tests/__init__.py": "",  # neither listed nor named
            "core.py": "",
        },
    )
    found = classify(
        [
            ReachFile(str(sdist / f), "python", [])
            for f in ("setup.py", "bench/__init__.py", "spec/__init__.py", "tests/__init__.py", "core.py")
        ],
        [str(sdist / "setup.py")],
        str(tmp_path / "sdist"),
    )
    assert {os.path.relpath(p, sdist): c for p, c in found.items()} == {
        "setup.py": "install",
        os.path.join("bench", "__init__.py"): "import",
        os.path.join("spec", "__init__.py"): "import",
        os.path.join("tests", "__init__.py"): "non-shipped",
        "core.py": "import",
    }
    wheel = tmp_path / "wheel"
    write(
        wheel,
        {
            "docs-1.0.dist-info/top_level.txt": "docs\n",
            "docs-1.0.dist-info/RECORD": "",
            "docs/__init__.py": "",
            "docs/conf.py": "",
            "helpers/__init__.py": "",
        },
    )
    found = classes(wheel, {})
    assert found["docs/__init__.py"] == "import"
    assert found["docs/conf.py"] == "import"


def test_metadata_only_widens_what_ships(tmp_path: Path) -> None:
    # A package naming itself after its tests folder, or listing junk in top_level.txt, changes
    # nothing for code the layout says ships; and a test file name is a test below any own folder.
    write(
        tmp_path,
        {
            "pyproject.toml": '[project]\nname = "tests"\n',
            "x.egg-info/top_level.txt": "../../etc\nos.path\n",
            "tests/__init__.py": "",
            "tests/test_it.py": "",
            "mypkg/__init__.py": "",
        },
    )
    assert classes(tmp_path, {}) == {
        "tests/__init__.py": "import",
        "tests/test_it.py": "non-shipped",
        "mypkg/__init__.py": "import",
    }


def test_npm_entry_points_files_field_and_install_scripts(tmp_path: Path) -> None:
    manifest = {
        "name": "jsx",
        "main": "lib/index.js",
        "bin": {"jsx": "bin/cli.js"},
        "files": ["lib", "bin"],
        "scripts": {"postinstall": "node scripts/post.js"},
    }
    write(
        tmp_path,
        {
            "package.json": json.dumps(manifest),
            "lib/index.js": "",
            "lib/util.js": "",
            "lib/unused.js": "",
            "bin/cli.js": "",
            "scripts/post.js": "",
            "test/index.test.js": "",
            "gulpfile.js": "",
            "build/make.js": "",
        },
    )
    found = classes(
        tmp_path,
        {
            "lib/index.js": ["./util", "fs"],
            "scripts/post.js": ["../lib/util.js"],
            "test/index.test.js": ["../lib"],
        },
        hooks=("scripts/post.js",),
    )
    assert found == {
        "lib/index.js": "import",
        "lib/util.js": "install",  # required by the postinstall script: install wins
        "lib/unused.js": "library",
        "bin/cli.js": "import",
        "scripts/post.js": "install",
        "test/index.test.js": "non-shipped",
        "gulpfile.js": "non-shipped",
        "build/make.js": "non-shipped",  # not in `files`: never published
    }


def test_an_objects_class_follows_its_file() -> None:
    assert object_reach("import", True) == "import"
    assert object_reach("import", False) == "library"
    for reach in ("install", "library", "non-shipped"):
        assert object_reach(reach, True) == object_reach(reach, False) == reach


@settings(max_examples=60, deadline=None)
@given(
    folder=st.sampled_from(["tests", "docs", "examples", "benchmarks", "pkg", "src/pkg", "a/b/c"]),
    name=st.from_regex(r"[a-z][a-z0-9_]{0,8}", fullmatch=True),
    prefix=st.sampled_from(["", "test_"]),
)
def test_whatever_setup_py_imports_is_install_and_every_file_has_a_class(
    tmp_path_factory: pytest.TempPathFactory, folder: str, name: str, prefix: str
) -> None:
    root = tmp_path_factory.mktemp("tree")
    module = f"{folder}/{prefix}{name}.py"
    write(root, {"setup.py": "", module: "", "tests/test_other.py": ""})
    top = folder.split("/src/")[-1].removeprefix("src/")
    dotted = f"{top.replace('/', '.')}.{prefix}{name}"
    found = classes(root, {"setup.py": [dotted]})
    assert found[module] == "install"
    assert set(found.values()) <= set(REACH_CLASSES)
    assert found["tests/test_other.py"] in ("non-shipped", "install")


def scan(paths: list[Path], bundle: Path, cache: object = False) -> MalwiReport:
    with Workspace() as workspace:
        target = workspace.local([str(p) for p in paths])
        with Scanner(ScanOptions(model=bundle, cache=cache)) as scanner:  # type: ignore[arg-type]
            return scanner.judge(target)


def test_malware_moved_into_tests_and_imported_by_setup_py_is_reported_as_install_time(
    tmp_path: Path, tiny: Path
) -> None:
    write(
        tmp_path / "pkg",
        {
            "setup.py": "from setuptools import setup\nfrom tests import helper\nsetup(name='pkg')\n",
            "tests/__init__.py": "",
            "tests/helper.py": PAYLOAD,
            "pkg/__init__.py": BENIGN_PY,
        },
    )
    report = scan([tmp_path / "pkg"], tiny)
    unit = report.units[0]
    assert unit.verdict == "malicious"
    carriers = {(f.path.rsplit("pkg/", 1)[-1], o.name, o.reach) for f, o in unit.carriers}
    assert ("tests/helper.py", "run", "install") in carriers
    from malwi.report.words import reason

    file, obj = next((f, o) for f, o in unit.carriers if o.name == "run")
    assert reason(file, obj).startswith("at install time (imported by the install code)")
    from malwi.report.sarif import sarif_log

    results = sarif_log(report)["runs"][0]["results"]
    by_object = {r["properties"]["objectName"]: r for r in results}
    assert by_object["run"]["properties"]["reach"] == "install"
    assert "at install time" in by_object["run"]["message"]["text"]


def test_a_stealer_in_a_package_called_demo_is_weighed_as_shipped_code(tmp_path: Path, tiny: Path) -> None:
    # Under fitted weights that discount tests, a package whose own folder is called `demo`
    # (setup.py lists it; the sdist's egg-info says so) is still judged on its code.
    manifest = json.loads((tiny / "manifest.json").read_text())
    manifest["calibration"]["reach_weights"] = {"non-shipped": 0.1, "library": 0.8}
    fitted = build_tiny_bundle(tmp_path / "fitted", calibration=manifest["calibration"])
    write(
        tmp_path / "demo-utils-0.1",
        {
            "setup.py": "from setuptools import setup\nsetup(name='demo-utils', packages=['demo'])\n",
            "demo_utils.egg-info/top_level.txt": "demo\n",
            "demo/__init__.py": PAYLOAD,
        },
    )
    report = scan([tmp_path / "demo-utils-0.1"], fitted)
    assert report.units[0].verdict == "malicious"
    carriers = {
        (f.path.rsplit("demo-utils-0.1/", 1)[-1], f.reach, o.reach) for f, o in report.units[0].carriers
    }
    assert (
        "demo/__init__.py",
        "import",
        "library",
    ) in carriers  # the module runs on import, `run` is its function


def test_json_reports_carry_each_files_and_objects_class(tmp_path: Path, tiny: Path) -> None:
    from .conftest import run_malwi

    write(
        tmp_path / "lib",
        {
            "setup.py": "from setuptools import setup\nsetup(name='lib')\n",
            "lib/__init__.py": BENIGN_PY,
            "tests/test_lib.py": PAYLOAD,
        },
    )
    result = run_malwi("scan", str(tmp_path / "lib"), "--model", str(tiny), "--format", "json", "--no-cache")
    document = json.loads(result.stdout)
    files = {f["path"].rsplit("lib/", 1)[-1]: f for f in document["files"]}
    assert files["tests/test_lib.py"]["reach"] == "non-shipped"
    assert {o["reach"] for o in files["tests/test_lib.py"]["objects"]} == {"non-shipped"}
    unit = document["units"][0]
    assert unit["statistics"]["files_by_reach"] == {"install": 1, "import": 1, "library": 0, "non-shipped": 1}


def test_a_package_whose_only_high_scoring_code_is_in_its_tests_stays_good_with_fitted_weights(
    tmp_path: Path, tiny: Path
) -> None:
    write(
        tmp_path / "calc",
        {
            "setup.py": "from setuptools import setup\nsetup(name='calc')\n",
            "calc/__init__.py": BENIGN_PY,
            "tests/test_calc.py": PAYLOAD,
        },
    )
    neutral = scan([tmp_path / "calc"], tiny)
    assert neutral.units[0].verdict == "malicious"  # weighed like shipped code, the tests flag it
    manifest = json.loads((tiny / "manifest.json").read_text())
    fitted = tmp_path / "fitted"
    manifest["calibration"]["reach_weights"] = {"non-shipped": 0.1, "library": 0.8}
    build_tiny_bundle(fitted, calibration=manifest["calibration"])
    report = scan([tmp_path / "calc"], fitted)
    assert report.units[0].verdict == "good"
    assert report.units[0].carriers == []
    # The same payload in setup.py itself is still malicious under the same weights.
    (tmp_path / "calc" / "setup.py").write_text(PAYLOAD)
    assert scan([tmp_path / "calc"], fitted).units[0].verdict == "malicious"


@pytest.mark.parametrize(
    "weights", [{"non-shipped": 0.0}, {"install": 1.5}, {"tests": 0.5}, {"library": float("nan")}, [0.5]]
)
def test_reach_weights_out_of_range_fail_the_model_load(tmp_path: Path, tiny: Path, weights: object) -> None:
    manifest = json.loads((tiny / "manifest.json").read_text())
    manifest["calibration"]["reach_weights"] = weights
    with pytest.raises(ValueError):
        PackageScore("max_object_score", 1.0, 0.0, (), weights)  # type: ignore[arg-type]
    broken = build_tiny_bundle(tmp_path / "broken", calibration=manifest["calibration"])
    with pytest.raises(ModelError, match="reach weight"):
        ModelBundle.load(broken)


def test_a_cached_rescan_gives_the_same_classes(tmp_path: Path, tiny: Path) -> None:
    from malwi.engine.cache import ResultCache

    write(
        tmp_path / "pkg",
        {
            "setup.py": "from tests import helper\n",
            "tests/__init__.py": "",
            "tests/helper.py": PAYLOAD,
            "tests/test_more.py": BENIGN_PY,
            "index.js": BENIGN_JS,
        },
    )
    with ResultCache(tmp_path / "cache.sqlite3") as cache:
        first = scan([tmp_path / "pkg"], tiny, cache)
        second = scan([tmp_path / "pkg"], tiny, cache)
    assert all(f.cached for f in second.files)
    assert [(f.path, f.reach) for f in second.files] == [(f.path, f.reach) for f in first.files]
    reach = {f.path.rsplit("pkg/", 1)[-1]: f.reach for f in second.files}
    assert reach["tests/helper.py"] == "install"
    assert reach["tests/test_more.py"] == "non-shipped"


def test_reach_weights_are_fitted_at_the_bundles_threshold_without_losing_recall() -> None:
    from malwi_research.reach_weights import fit, measure, worst_unit_scores

    score = PackageScore("max_object_score", 10.0, -5.0)  # probability 0.5 at raw 0.5
    threshold, suspicious = 0.9, 0.5
    none = dict.fromkeys(REACH_CLASSES, 0.0)
    samples = [
        # Benign packages whose high scores sit in their tests or in library code.
        *[(0, [({**none, "non-shipped": 0.97, "import": 0.2}, 50)]) for _ in range(6)],
        (0, [({**none, "library": 0.7}, 50)]),  # suspicious, not malicious
        # Malware at install time, and one whose payload is a library function.
        *[(1, [({**none, "install": 0.99}, 3)]) for _ in range(8)],
        (1, [({**none, "library": 0.9}, 3)]),
    ]
    neutral = measure(samples, worst_unit_scores(samples, score), threshold, suspicious)
    assert neutral["benign_malicious"] == 6 and neutral["recall"] == 1.0
    found = fit(samples, score, threshold, suspicious, max_recall_loss=0.0)
    weights = found["weights"]
    assert weights["install"] == 1.0
    # Lowered until the tests are no longer even suspicious (0.97 × 0.5 < raw 0.5), not further.
    assert weights["non-shipped"] == 0.5
    assert weights["library"] >= 0.8  # the library-code malware (0.9 × 0.8 = 0.72) keeps it high
    assert found["fitted"]["recall"] == 1.0
    assert found["fitted"]["benign_malicious"] == 0
    # Of the weightings that tie, the closest to neutral: nothing pushes `import` down.
    assert weights["import"] == 1.0


def test_fitted_weights_written_into_a_bundle_are_what_a_scan_uses(tmp_path: Path, tiny: Path) -> None:
    from malwi_research.reach_weights import collect, read_listing, write_bundle

    write(
        tmp_path / "calc",
        {
            "setup.py": "from setuptools import setup\n",
            "calc/__init__.py": BENIGN_PY,
            "tests/test_calc.py": PAYLOAD,
        },
    )
    write(tmp_path / "evil", {"setup.py": PAYLOAD})
    listing = tmp_path / "packages.tsv"
    listing.write_text(f"benign\t{tmp_path / 'calc'}\nmalicious\t{tmp_path / 'evil'}\n")
    samples, names, failed = collect(read_listing(listing), tiny)
    assert failed == [] and names == [str(tmp_path / "calc"), str(tmp_path / "evil")]
    assert [label for label, _ in samples] == [0, 1]
    benign_tops = samples[0][1][0][0]
    assert benign_tops["non-shipped"] > benign_tops["import"]
    fitted = tmp_path / "fitted"
    write_bundle(
        tiny, fitted, {"install": 1.0, "import": 1.0, "library": 1.0, "non-shipped": 0.2}, {"note": "test"}
    )
    assert ModelBundle.load(fitted).package_score.reach_weights["non-shipped"] == 0.2
    assert scan([tmp_path / "calc"], fitted).units[0].verdict == "good"
    assert scan([tmp_path / "evil"], fitted).units[0].verdict == "malicious"
    with pytest.raises(Exception, match="expected 'benign<TAB>path'"):
        listing.write_text("harmless\tx\n")
        read_listing(listing)
