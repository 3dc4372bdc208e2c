"""Installed environments (`malwi scan --python`): found from the layout, never by running the
interpreter, and judged distribution by distribution."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest

from malwi.cli import main
from malwi.errors import PathError
from malwi.sources.environments import site_packages

from .conftest import EXAMPLES


def distribution(site: Path, name: str, version: str, files: dict[str, str]) -> None:
    """An installed distribution: its files and a RECORD listing them (and itself)."""
    info = site / f"{name}-{version}.dist-info"
    info.mkdir(parents=True)
    (info / "METADATA").write_text(f"Metadata-Version: 2.1\nName: {name}\nVersion: {version}\n")
    for relative, text in files.items():
        (site / relative).parent.mkdir(parents=True, exist_ok=True)
        (site / relative).write_text(text)
    rows = [f"{relative},," for relative in files] + [f"{info.name}/METADATA,,", f"{info.name}/RECORD,,"]
    (info / "RECORD").write_text("\n".join(rows) + "\n")


def environment(root: Path, marker: Path, *, system: Path | None = None) -> Path:
    """A virtual environment whose `python` would leave `marker` behind if it were ever run."""
    (root / "bin").mkdir(parents=True)
    python = root / "bin" / "python"
    python.write_text(f"#!/bin/sh\ntouch {marker}\n")
    python.chmod(0o755)
    config = "include-system-site-packages = " + ("true" if system else "false") + "\n"
    if system:
        config += f"home = {system / 'bin'}\n"
    (root / "pyvenv.cfg").write_text(config + "version = 3.11.7\n")
    site = root / "lib" / "python3.11" / "site-packages"
    site.mkdir(parents=True)
    return site


@pytest.fixture
def venv(tmp_path: Path) -> tuple[Path, Path]:
    marker = tmp_path / "interpreter-ran"
    site = environment(tmp_path / "venv", marker)
    distribution(
        site, "tidy", "1.0", {"tidy/__init__.py": (EXAMPLES / "benign" / "textstats.py").read_text()}
    )
    stealer = (EXAMPLES / "malicious-python" / "stealer.py").read_text()
    distribution(site, "helper_utils", "0.3", {"helper_utils/__init__.py": stealer})
    (site / "tidy-init.pth").write_text("import os\n")
    (site / "stray.py").write_text("def unowned():\n    return 1\n")
    return tmp_path / "venv", marker


def test_the_folders_come_from_the_layout_without_running_the_interpreter(venv: tuple[Path, Path]) -> None:
    root, marker = venv
    site = root / "lib" / "python3.11" / "site-packages"
    assert site_packages(str(root / "bin" / "python")) == [str(site)]
    assert site_packages(str(root)) == [str(site)]
    assert site_packages(str(site)) == [str(site)]
    assert not marker.exists()


def test_system_site_packages_count_when_pyvenv_cfg_says_so(tmp_path: Path) -> None:
    base = tmp_path / "base"
    base_site = base / "lib" / "python3.11" / "site-packages"
    base_site.mkdir(parents=True)
    site = environment(tmp_path / "venv", tmp_path / "ran", system=base)
    assert site_packages(str(tmp_path / "venv" / "bin" / "python")) == [str(site), str(base_site)]


def test_a_folder_without_site_packages_is_one_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bin").mkdir()
    (tmp_path / "bin" / "python").write_text("")
    with pytest.raises(PathError, match="no site-packages folder below"):
        site_packages(str(tmp_path / "bin" / "python"))
    assert main(["scan", "--python", str(tmp_path / "missing")]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "missing: no such interpreter" in err


def test_an_environment_is_judged_distribution_by_distribution(
    venv: tuple[Path, Path], capsys: pytest.CaptureFixture[str]
) -> None:
    root, marker = venv
    capsys.readouterr()
    code = main(["scan", "--python", str(root / "bin" / "python"), "--format", "json", "--quiet"])
    document = json.loads(capsys.readouterr().out)
    units = {(u["kind"], u["name"]): u for u in document["units"]}
    assert units["distribution", "helper_utils"]["verdict"] == "malicious"
    assert units["distribution", "helper_utils"]["version"] == "0.3"
    assert units["distribution", "tidy"]["verdict"] == "good"
    findings = units["distribution", "helper_utils"]["findings"]
    assert {Path(f["file"]).relative_to(root).as_posix() for f in findings} == {
        "lib/python3.11/site-packages/helper_utils/__init__.py"
    }
    # The .pth file and the file no distribution owns are judged as the tree's own files.
    loose = [u for u in document["units"] if u["kind"] == "files"]
    assert len(loose) == 1 and loose[0]["statistics"]["scanned"] == 2
    assert code == 1 and document["verdict"] == "malicious"
    assert not marker.exists()
    assert os.path.isfile(root / "bin" / "python")
