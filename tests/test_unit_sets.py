"""The helpers behind the unit model's labelled sets and figures (`tools/unit_sets.py`,
`tools/unit_eval.py`): splits that never depend on the run or a name's case, and the feed
threshold that keeps a false-positive rate exactly."""

from __future__ import annotations

import math
import sys
from pathlib import Path

from hypothesis import given
from hypothesis import strategies as st

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tools"))

import unit_eval
import unit_sets


def test_splits_follow_the_name_not_its_case_and_have_the_configured_shares() -> None:
    names = [f"package-{i}" for i in range(6000)]
    assert [unit_sets.benign_split(n) for n in names] == [unit_sets.benign_split(n.upper()) for n in names]
    benign = [unit_sets.benign_split(n) for n in names]
    malicious = [unit_sets.malicious_split(n) for n in names]
    assert abs(benign.count("validation") / len(names) - 0.25) < 0.03
    assert set(benign) == {"train", "validation"} and set(malicious) == {"train", "validation", "test"}
    for split, expected in (("train", 0.6), ("validation", 0.2), ("test", 0.2)):
        assert abs(malicious.count(split) / len(names) - expected) < 0.03


@given(
    st.lists(st.floats(0.0, 1.0, width=32), min_size=1, max_size=400),
    st.sampled_from([0.001, 0.01, 0.05, 0.2]),
)
def test_the_feed_threshold_flags_at_most_the_rate_and_is_the_lowest_that_does(
    scores: list[float], rate: float
) -> None:
    threshold = unit_eval.feed_threshold(scores, rate)
    allowed = math.floor(rate * len(scores))
    flagged = sum(1 for s in scores if s >= threshold)
    assert flagged <= allowed
    # The next score down (the highest one left unflagged) would exceed the rate.
    below = max((s for s in scores if s < threshold), default=None)
    if below is not None:
        assert sum(1 for s in scores if s >= below) > allowed
