"""Package-unit features (`malwi.engine.unit_features`): what the scan knows, one vector per unit."""

from __future__ import annotations

import base64
import json
import math
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from malwi.engine.unit_features import (
    ACTIVITIES,
    MAX_KEPT_SCORES,
    SCORE_FLOOR,
    FileSummary,
    UnitEvidence,
    UnitFeatures,
)
from malwi.report.result import FileFinding

from .test_reach import PAYLOAD, scan
from .test_units import BENIGN_PY, write
from .tiny_model import build_tiny_bundle

SETTINGS = json.loads(Path("data/training/training_config.json").read_text())["feature_extractors"]


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_bundle(tmp_path_factory.mktemp("model") / "tiny")


def named(features: UnitFeatures, vector: list[float]) -> dict[str, float]:
    return dict(zip(features.names, vector, strict=True))


def test_a_payload_in_setup_py_shows_as_install_time_scores_and_activities(
    tmp_path: Path, tiny: Path
) -> None:
    write(
        tmp_path / "pkg", {"setup.py": PAYLOAD, "pkg/__init__.py": BENIGN_PY, "tests/test_pkg.py": BENIGN_PY}
    )
    unit = scan([tmp_path / "pkg"], tiny).units[0]
    features = UnitFeatures(SETTINGS)
    assert unit.evidence is not None
    values = named(features, features.vector(unit.evidence))
    # The payload's function runs at install time: it is called from setup.py's top level, and
    # its objects are install-time objects whatever their kind.
    assert values["scores.install.top1"] >= 0.5
    assert values["scores.install.top1"] == pytest.approx(unit.tops["install"], abs=1e-6)
    assert values["activity.install.PROCESS_MANAGEMENT"] == 1.0
    assert values["activity.install.NETWORK_HTTP_REQUEST"] == 1.0
    assert values["activity.library.PROCESS_MANAGEMENT"] == 0.0
    assert values["structure.install_code"] == 1.0 and values["structure.python"] == 1.0
    assert values["structure.javascript"] == 0.0
    # Benign arithmetic in the shipped module and the tests adds nothing dangerous.
    assert values["scores.non-shipped.at_least_0.5"] == 0.0
    assert not any(v for k, v in values.items() if k.startswith("activity.non-shipped."))


def test_benign_filler_does_not_change_a_units_features(tmp_path: Path, tiny: Path) -> None:
    """Size is not a signal: the same payload alone and inside a package of harmless modules."""
    write(tmp_path / "alone", {"setup.py": PAYLOAD})
    filler = {f"alone/mod{i}.py": BENIGN_PY for i in range(30)}
    write(
        tmp_path / "padded",
        {"setup.py": PAYLOAD, **{k.replace("alone", "padded"): v for k, v in filler.items()}},
    )
    features = UnitFeatures(SETTINGS)
    alone = named(features, features.vector(scan([tmp_path / "alone"], tiny).units[0].evidence))  # type: ignore[arg-type]
    padded = named(features, features.vector(scan([tmp_path / "padded"], tiny).units[0].evidence))  # type: ignore[arg-type]
    different = {k for k in features.names if alone[k] != pytest.approx(padded[k], abs=1e-6)}
    # Only what the filler itself is: shipped import-time code, scoring low.
    assert different <= {"structure.import_code"} | {
        k for k in features.names if k.startswith(("scores.import.", "scores.library."))
    }
    assert all(padded[k] < SETTINGS["object_scores"]["thresholds"][1] for k in different if ".top" in k)


def test_a_unit_answered_from_the_cache_has_the_same_features(tmp_path: Path, tiny: Path) -> None:
    from malwi.engine.cache import ResultCache

    write(tmp_path / "pkg", {"setup.py": PAYLOAD, "pkg/__init__.py": BENIGN_PY})
    features = UnitFeatures(SETTINGS)
    with ResultCache(tmp_path / "cache.sqlite3") as cache:
        first = scan([tmp_path / "pkg"], tiny, cache)
        second = scan([tmp_path / "pkg"], tiny, cache)
    assert all(f.cached for f in second.files)
    assert features.vector(second.units[0].evidence) == features.vector(first.units[0].evidence)  # type: ignore[arg-type]


def test_install_hooks_flows_payloads_and_protection_are_counted() -> None:
    finding = FileFinding("pkg/index.js", "javascript")
    finding.flows = [{"object": "f", "source": "environment", "sink": "network"}]
    # As the engine writes chains: steps joined by " > ", not a list.
    finding.payloads = [
        {"object": "<payload>", "chain": "base64 > zlib"},
        {"object": "<payload>", "chain": "hex (truncated)"},
    ]
    finding.protection = {"is_protected": True, "confidence": 0.75}
    evidence = UnitEvidence()
    finding.reach = "install"
    evidence.files = [(FileSummary(([0.9, 0.3], []), (["PROCESS_MANAGEMENT"], [])), finding)]
    evidence.hooks = [
        {"script": "postinstall", "runs": ["index.js"], "inline_code": 0, "evidence": ["downloads"]}
    ]
    features = UnitFeatures(SETTINGS)
    values = named(features, features.vector(evidence))
    assert values["flow.environment.network"] == 1.0 and values["flow.credentials.network"] == 0.0
    assert values["flows.running_code"] == pytest.approx(0.6931, abs=1e-4)  # log1p(1)
    assert values["payloads.max_depth"] == 2.0  # layers, not the chain's length in characters
    assert values["protection.max_confidence"] == 0.75
    assert values["hooks.scripts"] > 0 and values["hooks.files_run"] > 0 and values["hooks.inline_code"] == 0
    assert values["scores.install.top1"] == 0.9 and values["scores.install.top2"] == 0.3
    assert values["scores.install.top3"] == 0.0
    assert values["structure.javascript"] == 1.0


def test_code_run_from_a_plain_string_is_scored_but_not_counted_as_a_payload(
    tmp_path: Path, tiny: Path
) -> None:
    # Test suites exec snippets; the units the model learned from never counted them.
    write(
        tmp_path / "pkg",
        {
            "setup.py": "from setuptools import setup\nsetup(name='pkg')\n",
            "pkg/__init__.py": BENIGN_PY,
            "tests/test_snippets.py": "exec(\"import os\\nvalue = os.path.join('a', 'b')\")\n",
        },
    )
    unit = scan([tmp_path / "pkg"], tiny).units[0]
    assert unit.evidence is not None
    chains = [p["chain"] for _, f in unit.evidence.files for p in f.payloads]
    assert chains == ["code string"]  # decoded and scored like any code
    features = UnitFeatures(SETTINGS)
    values = named(features, features.vector(unit.evidence))
    assert values["payloads.other_code"] == values["payloads.running_code"] == 0.0
    # An encoded payload beside it still counts.
    (tmp_path / "pkg" / "tests" / "test_blob.py").write_text(
        "import base64\nexec(base64.b64decode('aW1wb3J0IG9zCnByaW50KG9zLmdldGN3ZCgpKQ=='))\n"
    )
    unit = scan([tmp_path / "pkg"], tiny).units[0]
    assert unit.evidence is not None
    values = named(features, features.vector(unit.evidence))
    assert values["payloads.other_code"] > 0.0 and values["payloads.running_code"] == 0.0


def test_settings_are_checked() -> None:
    with pytest.raises(ValueError, match="thresholds"):
        UnitFeatures({"object_scores": {"top_k": 3, "thresholds": [0.001]}})
    with pytest.raises(ValueError, match="top_k"):
        UnitFeatures({"object_scores": {"top_k": 0, "thresholds": [0.5]}})


@pytest.mark.parametrize(
    "record",
    [
        {"scores": [[2.0], []], "activities": [[], []]},
        {"scores": [[0.5]], "activities": [[], []]},
        {"scores": [[], []], "activities": [["NOT_A_CATEGORY"], []]},
        {"scores": [[0.001], []], "activities": [[], []]},
        {"scores": "x", "activities": [[], []]},
        {"activities": [[], []]},
        # Written before literal statistics existed: rescanned, never read as "no literals".
        {"scores": [[], []], "activities": [[], []]},
        {
            "scores": [[], []],
            "activities": [[], []],
            "literals": {"bytes": [-1] + [0] * 15, "windows": [[0] * 32] * 3},
        },
        {
            "scores": [[], []],
            "activities": [[], []],
            "literals": {"bytes": [0] * 16, "windows": [[0] * 32] * 2},
        },
        {
            "scores": [[], []],
            "activities": [[], []],
            "literals": {"bytes": [0.5] + [0] * 15, "windows": [[0] * 32] * 3},
        },
    ],
)
def test_a_summary_from_the_cache_that_is_not_what_malwi_writes_is_refused(record: dict[str, Any]) -> None:
    with pytest.raises((KeyError, TypeError, ValueError)):
        FileSummary.from_record(record)


scores = st.lists(st.floats(min_value=SCORE_FLOOR, max_value=1.0), max_size=20).map(
    lambda s: sorted(s, reverse=True)
)
activities = st.lists(st.sampled_from(ACTIVITIES), max_size=5, unique=True)
reaches = st.sampled_from(["install", "import", "library", "non-shipped"])


@settings(max_examples=60, deadline=None)
@given(
    files=st.lists(st.tuples(reaches, scores, scores, activities, activities), max_size=6),
    filler=st.integers(min_value=1, max_value=20),
)
def test_adding_harmless_files_never_changes_the_vector(files: list[Any], filler: int) -> None:
    """A file with no score above the floor and no activity is invisible (whatever its class)."""
    features = UnitFeatures(SETTINGS)
    evidence = UnitEvidence()
    for reach, module, other, module_activities, other_activities in files:
        summary = FileSummary((module, other), (module_activities, other_activities))
        finding = FileFinding("f.py", "python")
        finding.reach = reach
        evidence.files.append((summary, finding))
        assert FileSummary.from_record(summary.to_record()).to_record() == summary.to_record()
    before = features.vector(evidence)
    for _ in range(filler):
        filler_file = FileFinding("filler.py", "python")
        filler_file.reach = "library"
        evidence.files.append((FileSummary(), filler_file))
    after = features.vector(evidence)
    assert len(after) == len(features.names)
    changed = {n for n, a, b in zip(features.names, before, after, strict=True) if a != b}
    assert changed <= {"structure.python"}  # a unit with no file before gains its language


def test_a_summary_keeps_the_highest_scores_only() -> None:
    import numpy as np

    from malwi.engine.unit_features import summarize_files

    class Obj:
        def __init__(self, kind: str) -> None:
            self.kind, self.decoded_from = kind, None

        def activities(self) -> list[str]:
            return ["NETWORK_SOCKET"] if self.kind == "module" else []

    class Report:
        objects = [Obj("module")] + [Obj("function") for _ in range(MAX_KEPT_SCORES + 10)]
        literal_bytes = (0,) * 6 + (5,) + (0,) * 9
        literal_windows = ((0,) * 32,) * 3

    raw = np.array(
        [0.5] + [0.001] * 5 + [0.02 + i / 1000 for i in range(MAX_KEPT_SCORES + 5)], dtype=np.float32
    )
    (summary,) = summarize_files([Report()], raw)  # type: ignore[list-item]
    module, other = summary.scores
    assert module == [pytest.approx(0.5)]
    assert len(other) == MAX_KEPT_SCORES and other == sorted(other, reverse=True)
    assert min(other) > 0.02  # the lowest were dropped, and those under the floor never kept
    assert summary.activities == (["NETWORK_SOCKET"], [])
    assert summary.literal_bytes == list(Report.literal_bytes)


# A stand-in for packed bytes (every byte value, scrambled; deterministic), base64-encoded as a
# packed payload is: about six bits per character, and no code when decoded.
PACKED = base64.b64encode(bytes((i * 167 + (i >> 3)) % 256 for i in range(3000))).decode()
PROSE = "the quick brown fox jumps over the lazy dog, and then it keeps on running. " * 50


def _setup_with(blob: str) -> str:
    return f"from setuptools import setup\nBLOB = {blob!r}\nsetup(name='pkg')\n"


def test_a_file_report_counts_the_bytes_of_its_string_literals_decoded_code_included(tmp_path: Path) -> None:
    from malwi._malwi import BYTE_BINS, ENTROPY_WINDOWS, compile_files

    plain = tmp_path / "plain.py"
    plain.write_text("a = 'abcd'\nb = \"ef\"\nc = a + b\n")
    inner = base64.b64encode(b"print('hello')\n").decode()
    layered = tmp_path / "layered.py"
    layered.write_text(f"import base64\nexec(base64.b64decode('{inner}'))\n")
    packed = tmp_path / "packed.py"
    packed.write_text(f"BLOB = '{PACKED}'\n")
    reports = {Path(r.path).name: r for r in compile_files([plain, layered, packed], workers=1)}
    assert sum(reports["plain.py"].literal_bytes) == 6
    # 'a'..'f' are 0x61..0x66: all in the high nibble 6.
    assert reports["plain.py"].literal_bytes[6] == 6 and len(reports["plain.py"].literal_bytes) == BYTE_BINS
    # The outer literal and the decoded code's own 'hello'.
    assert sum(reports["layered.py"].literal_bytes) == len(inner) + len("hello")
    windows = reports["packed.py"].literal_windows
    assert [sum(w) for w in windows] == [len(PACKED) // size for size in ENTROPY_WINDOWS]
    # base64 of packed bytes: close to six bits per character in every 256-byte window.
    assert all(bucket >= 22 for bucket, n in enumerate(windows[1]) if n)


def test_packed_bytes_in_install_code_show_as_high_entropy_windows(tmp_path: Path, tiny: Path) -> None:
    write(tmp_path / "packed", {"setup.py": _setup_with(PACKED), "pkg/__init__.py": BENIGN_PY})
    write(tmp_path / "prose", {"setup.py": _setup_with(PROSE), "pkg/__init__.py": BENIGN_PY})
    features = UnitFeatures(SETTINGS)
    packed = named(features, features.vector(scan([tmp_path / "packed"], tiny).units[0].evidence))  # type: ignore[arg-type]
    prose = named(features, features.vector(scan([tmp_path / "prose"], tiny).units[0].evidence))  # type: ignore[arg-type]
    assert packed["literals.entropy256.high.running_code"] > 2.0  # log1p of about 15 windows
    assert packed["literals.entropy256.high.other_code"] == 0.0
    assert packed["literals.entropy1024.max"] >= 5.75
    assert prose["literals.entropy256.high.running_code"] == 0.0
    assert prose["literals.entropy256.max"] <= 4.5
    for values in (packed, prose):
        shares = [values[f"literals.bytes.bin{i}"] for i in range(16)]
        assert sum(shares) == pytest.approx(1.0)
    # Base64 is mostly letters (0x41-0x7a); prose is mostly lowercase letters and spaces.
    assert packed["literals.bytes.bin4"] + packed["literals.bytes.bin5"] > 0.3
    assert prose["literals.bytes.bin2"] > 0.1 and prose["literals.bytes.bin4"] < 0.05


def test_literals_of_tests_and_examples_are_left_out(tmp_path: Path, tiny: Path) -> None:
    """Test fixtures are data (hashes, keys, recorded responses): not what ships."""
    write(
        tmp_path / "pkg",
        {
            "setup.py": "from setuptools import setup\nsetup(name='pkg')\n",
            "pkg/__init__.py": BENIGN_PY,
            "tests/test_blob.py": f"BLOB = {PACKED!r}\n",
        },
    )
    features = UnitFeatures(SETTINGS)
    values = named(features, features.vector(scan([tmp_path / "pkg"], tiny).units[0].evidence))  # type: ignore[arg-type]
    assert not any(v for k, v in values.items() if k.startswith("literals.entropy"))


def test_literal_extractors_are_computed_only_when_enabled() -> None:
    """A model trained before them (its settings have no `enabled`) gets the vector it knows."""
    old = {
        "object_scores": SETTINGS["object_scores"],
        "byte_histogram": {"bins": 16, "of": "string_literals"},
    }
    assert not any(n.startswith("literals.") for n in UnitFeatures(old).names)
    coarse = {
        "object_scores": SETTINGS["object_scores"],
        "byte_histogram": {"enabled": True, "bins": 4, "of": "string_literals"},
        "entropy_features": {"enabled": True, "window_sizes": [256], "high_entropy_bits": 4.5},
    }
    features = UnitFeatures(coarse)
    assert [n for n in features.names if n.startswith("literals.")] == [
        "literals.bytes.bin0",
        "literals.bytes.bin1",
        "literals.bytes.bin2",
        "literals.bytes.bin3",
        "literals.entropy256.max",
        "literals.entropy256.high.running_code",
        "literals.entropy256.high.other_code",
    ]
    finding = FileFinding("setup.py", "python")
    finding.reach = "install"
    windows = [[0] * 32, [0] * 32, [0] * 32]
    windows[1][17] = 3  # 4.25 bits: under the threshold
    windows[1][18] = 2  # 4.5 bits: at it
    summary = FileSummary(([], []), ([], []), [1, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1], windows)
    evidence = UnitEvidence()
    evidence.files = [(summary, finding)]
    values = named(features, features.vector(evidence))
    # Bins of four nibbles each: 0x00-0x3f, 0x40-0x7f, ...
    assert [values[f"literals.bytes.bin{i}"] for i in range(4)] == [0.25, 0.5, 0.0, 0.25]
    assert values["literals.entropy256.max"] == 4.75  # the top bucket's upper edge
    assert values["literals.entropy256.high.running_code"] == pytest.approx(math.log1p(2))
    assert values["literals.entropy256.high.other_code"] == 0.0


def test_payload_depth_counts_layers_and_a_model_trained_before_keeps_what_it_learned() -> None:
    finding = FileFinding("setup.py", "python")
    finding.reach = "install"
    finding.payloads = [{"object": "<payload>", "chain": "base64 > zlib > xor"}]
    evidence = UnitEvidence()
    evidence.files = [(FileSummary(), finding)]
    layers = UnitFeatures(SETTINGS)
    assert named(layers, layers.vector(evidence))["payloads.max_depth"] == 3.0
    # The settings of a model trained before `payload_depth`: the chain text's length.
    legacy = UnitFeatures({"object_scores": SETTINGS["object_scores"]})
    assert named(legacy, legacy.vector(evidence))["payloads.max_depth"] == len("base64 > zlib > xor")
    with pytest.raises(ValueError, match="payload_depth"):
        UnitFeatures({"object_scores": SETTINGS["object_scores"], "payload_depth": "bytes"})


@pytest.mark.parametrize(
    ("section", "setting", "message"),
    [
        ("byte_histogram", {"enabled": True, "bins": 5, "of": "string_literals"}, "bins"),
        (
            "entropy_features",
            {"enabled": True, "window_sizes": [100], "high_entropy_bits": 5.0},
            "window_sizes",
        ),
        (
            "entropy_features",
            {"enabled": True, "window_sizes": [64], "high_entropy_bits": 5.1},
            "high_entropy_bits",
        ),
        (
            "entropy_features",
            {"enabled": True, "window_sizes": [64], "high_entropy_bits": 0},
            "high_entropy_bits",
        ),
    ],
)
def test_literal_settings_are_checked(section: str, setting: dict[str, Any], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        UnitFeatures({"object_scores": SETTINGS["object_scores"], section: setting})
