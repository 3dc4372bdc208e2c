"""Where objects are scored: deduplication, stage 1, windows batched by length, stage 2.

Python handles arrays, never tokens. Ids, windows and padded batches come from the Rust
featurizer as bytes and go to ONNX Runtime as numpy arrays.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from malwi._malwi import MalwiObject
from malwi.model.bundle import ModelBundle

# A batch holds at most this many tokens (rows × padded columns) and this many windows.
BATCH_TOKENS = 16384
BATCH_ROWS = 128


@dataclass
class ScoringStatistics:
    objects: int = 0
    unique_objects: int = 0
    stage2_objects: int = 0
    windows: int = 0
    batches: int = 0
    stage1_seconds: float = 0.0
    stage2_seconds: float = 0.0
    extra: dict[str, Any] = field(default_factory=dict)


def length_batches(
    lengths: np.ndarray, max_tokens: int = BATCH_TOKENS, max_rows: int = BATCH_ROWS
) -> list[np.ndarray]:
    """Window indices grouped so that windows of similar length share a batch: little padding,
    no input padded to the model's maximum length just because one input is long."""
    order = np.argsort(lengths, kind="stable")
    batches: list[np.ndarray] = []
    start = 0
    while start < len(order):
        end = start + 1
        while (
            end < len(order)
            and end - start < max_rows
            and (end - start + 1) * lengths[order[end]] <= max_tokens
        ):
            end += 1
        batches.append(order[start:end])
        start = end
    return batches


def softmax_class(logits: np.ndarray, column: int) -> np.ndarray:
    shifted = logits - logits.max(axis=1, keepdims=True)
    exp = np.exp(shifted)
    return (exp[:, column] / exp.sum(axis=1)).astype(np.float32)  # type: ignore[no-any-return]


class Scorer:
    """Scores objects with a bundle's two stages on one ONNX Runtime session."""

    def __init__(self, bundle: ModelBundle, session: Any, device: str, workers: int = 0) -> None:
        self.bundle = bundle
        self.session = session
        self.device = device
        self.workers = workers
        inputs = {i.name for i in session.get_inputs()}
        self.feeds_mask = "attention_mask" in inputs

    def stage2(self, objects: Sequence[MalwiObject | str], statistics: ScoringStatistics) -> np.ndarray:
        """Stage-2 probability of each object: the maximum over its windows."""
        bundle = self.bundle
        encoding = bundle.vocabulary.encode(
            objects, max_length=bundle.max_length, stride=bundle.stride, max_windows=bundle.max_windows
        )
        lengths = np.frombuffer(encoding.lengths(), dtype=np.int32)
        owners = np.frombuffer(encoding.objects(), dtype=np.int32)
        window_scores = np.zeros(len(lengths), dtype=np.float32)
        for batch in length_batches(lengths):
            ids, mask, rows, columns = encoding.pack(batch.tolist())
            feeds = {"input_ids": np.frombuffer(ids, dtype=np.int64).reshape(rows, columns)}
            if self.feeds_mask:
                feeds["attention_mask"] = np.frombuffer(mask, dtype=np.int64).reshape(rows, columns)
            (logits,) = self.session.run(None, feeds)[:1]
            window_scores[batch] = softmax_class(np.asarray(logits), bundle.malicious_class)
            statistics.batches += 1
        statistics.windows += len(lengths)
        scores = np.zeros(len(objects), dtype=np.float32)
        np.maximum.at(scores, owners, window_scores)
        return scores

    def parts(
        self, items: Sequence[MalwiObject | str], keys: Sequence[str], statistics: ScoringStatistics
    ) -> tuple[np.ndarray, np.ndarray]:
        """Stage-1 and stage-2 scores per item (stage 2 is NaN where stage 1 ruled it out).
        Items with equal keys (object hashes) are scored once."""
        statistics.objects += len(items)
        first_of: dict[str, int] = {}
        unique: list[MalwiObject | str] = []
        position = np.empty(len(items), dtype=np.int64)
        for i, (item, key) in enumerate(zip(items, keys)):
            slot = first_of.get(key)
            if slot is None:
                slot = first_of[key] = len(unique)
                unique.append(item)
            position[i] = slot
        statistics.unique_objects += len(unique)
        if not unique:
            empty = np.zeros(0, dtype=np.float32)
            return empty, empty
        started = time.perf_counter()
        stage1 = np.frombuffer(self.bundle.stage1.score(unique, workers=self.workers), dtype=np.float32)
        statistics.stage1_seconds += time.perf_counter() - started
        stage2 = np.full(len(unique), np.nan, dtype=np.float32)
        candidates = np.nonzero(stage1 >= self.bundle.candidate_threshold)[0]
        if len(candidates):
            started = time.perf_counter()
            stage2[candidates] = self.stage2([unique[i] for i in candidates], statistics)
            statistics.stage2_seconds += time.perf_counter() - started
            statistics.stage2_objects += len(candidates)
        return stage1[position], stage2[position]

    def final(self, stage1: np.ndarray, stage2: np.ndarray) -> np.ndarray:
        """One score per object: stage 1 alone where stage 2 did not run, else both combined."""
        scores: np.ndarray = stage1.copy()
        ran = ~np.isnan(stage2)
        scores[ran] = combine(stage1[ran], stage2[ran], self.bundle.combine)
        return scores

    def score(
        self, objects: Sequence[MalwiObject], statistics: ScoringStatistics | None = None
    ) -> np.ndarray:
        """The probability that each object is malicious."""
        statistics = statistics if statistics is not None else ScoringStatistics()
        return self.final(*self.parts(objects, [o.to_hash() for o in objects], statistics))

    def score_tokens(self, tokens: Sequence[str], statistics: ScoringStatistics | None = None) -> np.ndarray:
        """The same for token strings (the research pipeline's stored objects)."""
        statistics = statistics if statistics is not None else ScoringStatistics()
        return self.final(*self.parts(tokens, tokens, statistics))


def combine(stage1: np.ndarray, stage2: np.ndarray, how: str) -> np.ndarray:
    if how == "mean":
        mean: np.ndarray = ((stage1 + stage2) / 2).astype(np.float32)
        return mean
    if how == "max":
        highest: np.ndarray = np.maximum(stage1, stage2)
        return highest
    return stage2
