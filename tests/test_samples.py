"""Real malicious samples from the shared archive: unpacked into a temp dir and only parsed.

The archive is live malware. It is opened read-only, a fixed selection of members is extracted
with tarfile's `data` filter into pytest's temporary directory, and the files are only compiled.
"""

from __future__ import annotations

import os
import tarfile
from pathlib import Path

import pytest

import malwi

ARCHIVE = Path(
    os.environ.get(
        "MALWI_SAMPLES",
        Path(__file__).resolve().parent.parent.parent / "shared/data/malwi-samples-python-malicious.tar.xz",
    )
)
SAMPLE_COUNT = 120


@pytest.fixture(scope="module")
def samples(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    if not ARCHIVE.exists():
        pytest.skip(f"sample archive not present at {ARCHIVE} (set MALWI_SAMPLES)")
    target = tmp_path_factory.mktemp("samples")
    with tarfile.open(ARCHIVE) as archive:
        members = [m for m in archive.getmembers() if m.isfile() and m.name.endswith(".py")]
        step = max(1, len(members) // SAMPLE_COUNT)
        chosen = members[::step][:SAMPLE_COUNT]
        archive.extractall(target, members=chosen, filter="data")
    return sorted(target.rglob("*.py"))


def test_real_samples_compile_and_show_behaviour(samples: list[Path]) -> None:
    reports = malwi.compile_files(samples, workers=2)
    assert len(reports) == len(samples) >= SAMPLE_COUNT // 2
    assert [r.path for r in reports] == [str(path) for path in samples], "a report per sample, in order"
    failed = [r.path for r in reports if r.status == "failed"]
    assert not failed
    categories = {name for name, _ in malwi.categories()}
    with_behaviour = sum(
        any(token in categories for obj in r.objects for token in obj.tokens()) for r in reports
    )
    # Malicious files almost always touch a categorized API (process, network, exec, ...).
    assert with_behaviour / len(reports) > 0.8
