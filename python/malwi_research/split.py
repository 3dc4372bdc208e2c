"""Train/validation/test split by package name and by payload family.

The same payload is republished under many names, and a split by name alone overstates recall
more than twofold (DESIGN.md §4). Packages are grouped with a union-find over three relations,
and each group goes to one split:
- the same package name (all versions of a name);
- an identical non-trivial object (the same payload, copied);
- near-identical token content (MinHash over token 5-gram shingles, banded LSH).
"""

from __future__ import annotations

import hashlib
from collections import defaultdict
from typing import Any

import numpy as np

from malwi._malwi import ngram_features

MERSENNE = (1 << 61) - 1


class UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, item: str) -> str:
        self.parent.setdefault(item, item)
        root = item
        while self.parent[root] != root:
            root = self.parent[root]
        while self.parent[item] != root:
            self.parent[item], item = root, self.parent[item]
        return root

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def minhash_signatures(texts: list[str], shingle: int, permutations: int, seed: int) -> np.ndarray:
    """MinHash signatures (`[len(texts), permutations]`) over token shingles of one order."""
    rng = np.random.default_rng(seed)
    a = rng.integers(1, MERSENNE, size=permutations, dtype=np.uint64) % np.uint64(1 << 31) + np.uint64(1)
    b = rng.integers(0, MERSENNE, size=permutations, dtype=np.uint64)
    indices, indptr = ngram_features(texts, bits=26, min_order=shingle, max_order=shingle)
    features = np.frombuffer(indices, dtype=np.uint32).astype(np.uint64)
    offsets = np.frombuffer(indptr, dtype=np.int64)
    signatures = np.full((len(texts), permutations), np.iinfo(np.uint64).max, dtype=np.uint64)
    for row in range(len(texts)):
        shingles = np.unique(features[offsets[row] : offsets[row + 1]])
        if len(shingles):
            hashed = (shingles[:, None] * a[None, :] + b[None, :]) % np.uint64(MERSENNE)
            signatures[row] = hashed.min(axis=0)
    return signatures


def payload_groups(
    packages: list[dict[str, Any]], rows: list[dict[str, Any]], config: dict[str, Any], seed: int
) -> UnionFind:
    groups = UnionFind()
    for package in packages:
        groups.find(package["id"])
        groups.union(package["id"], f"name:{package['label']}:{package['name']}")
    minimum = int(config["minhash"]["min_tokens"])
    malicious = {p["id"] for p in packages if p["label"] == 1}
    owners: dict[str, str] = {}
    text: dict[str, list[str]] = defaultdict(list)
    for row in rows:
        if row["package_id"] not in malicious:
            continue
        text[row["package_id"]].append(row["tokens"])
        if row["token_count"] >= minimum:
            first = owners.setdefault(row["hash"], row["package_id"])
            groups.union(first, row["package_id"])
    ids = sorted(text)
    documents = [" ".join(text[i]) for i in ids]
    minhash = config["minhash"]
    signatures = minhash_signatures(documents, int(minhash["shingle"]), int(minhash["permutations"]), seed)
    bands = int(minhash["bands"])
    rows_per_band = signatures.shape[1] // bands
    for band in range(bands):
        buckets: dict[bytes, str] = {}
        part = signatures[:, band * rows_per_band : (band + 1) * rows_per_band]
        for i, package_id in enumerate(ids):
            if len(documents[i].split(" ", minimum)) <= minimum:
                continue
            key = part[i].tobytes()
            first = buckets.setdefault(key, package_id)
            groups.union(first, package_id)
    return groups


def assign_splits(
    packages: list[dict[str, Any]], rows: list[dict[str, Any]], config: dict[str, Any], seed: int
) -> dict[str, str]:
    """package id → `train|validation|test`, whole groups at a time, balanced by package count."""
    groups = payload_groups(packages, rows, config, seed)
    members: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for package in packages:
        members[groups.find(package["id"])].append(package)
    split_of: dict[str, str] = {}
    for label, fractions in ((1, config["fractions"]), (0, config["benign_fractions"])):
        chosen = [(root, items) for root, items in members.items() if items[0]["label"] == label]
        # A fixed, seeded order; the largest groups first so that balancing can absorb them.
        chosen.sort(key=lambda g: (-len(g[1]), hashlib.sha256(f"{seed}:{g[0]}".encode()).hexdigest()))
        total = sum(len(items) for _, items in chosen)
        filled = dict.fromkeys(fractions, 0)
        for _, items in chosen:
            # The split furthest below its share takes the group.
            name = min(fractions, key=lambda n: (filled[n] + len(items)) / (fractions[n] * total))
            filled[name] += len(items)
            for package in items:
                split_of[package["id"]] = name
    return split_of


def reuse_splits(packages: list[dict[str, Any]], previous: Any) -> tuple[dict[str, str], list[str]]:
    """Splits copied from an earlier run's `packages.json`, so two runs are compared on the same
    held-out packages even when changed tokens would regroup the payload families.

    Returns `(package id → split, ids the earlier run did not have)`; the caller leaves the latter out
    rather than guess a split that could put a family member of a test package into training.
    """
    listed = previous.get("packages") if isinstance(previous, dict) else None
    if not isinstance(listed, list) or not all(
        isinstance(p, dict) and "id" in p and "split" in p for p in listed
    ):
        raise ValueError("not the packages.json of a preprocess run (no `packages` list with ids and splits)")
    earlier = {p["id"]: p["split"] for p in listed}
    kept = {p["id"]: earlier[p["id"]] for p in packages if p["id"] in earlier}
    new = sorted(p["id"] for p in packages if p["id"] not in earlier)
    return kept, new
