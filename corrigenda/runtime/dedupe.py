"""Exact and near-duplicate questions across the dataset: a normalised-text hash, then MinHash with LSH banding over
character 5-shingles (robust for short texts such as questions), confirmed by exact Jaccard similarity.

Deterministic (crc32-based hashes, not Python's salted `hash`), so the same dataset drops the same records every run.
"""

from __future__ import annotations

import hashlib
import re
import zlib
from collections import defaultdict

PERMUTATIONS = 64
BANDS = 16  # 16 bands x 4 rows: pairs above ~0.6 Jaccard nearly always share a band
ROWS = PERMUTATIONS // BANDS
# Cost per question independent of the dataset's size: a band bucket lists at most BUCKET_CAP questions (the first
# ones), and only the MAX_CANDIDATES sharing the most bands with a question are compared exactly. Templated
# questions ("In what year did ...") otherwise fill a few buckets, and every new one was compared with all of them:
# 20,000 questions took 16x as long as 2,500 (bench/dedupe.py).
BUCKET_CAP = 256
MAX_CANDIDATES = 32
PRIME = (1 << 61) - 1
_SEEDS = [
    (int.from_bytes(hashlib.sha256(f"a{i}".encode()).digest()[:8], "big") % PRIME | 1,
     int.from_bytes(hashlib.sha256(f"b{i}".encode()).digest()[:8], "big") % PRIME)
    for i in range(PERMUTATIONS)
]  # fmt: skip


def normalise(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def shingles(text: str, size: int = 5) -> set[str]:
    flat = normalise(text)
    if len(flat) <= size:
        return {flat}
    return {flat[i : i + size] for i in range(len(flat) - size + 1)}


def signature(features: set[str]) -> tuple[int, ...]:
    hashes = [zlib.crc32(feature.encode("utf-8")) for feature in features]
    return tuple(min((a * h + b) % PRIME for h in hashes) for a, b in _SEEDS)


def jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


class DuplicateFinder:
    """Feed questions in dataset order; each is checked against those kept before it."""

    def __init__(self, threshold: float = 0.7):
        self.threshold = threshold
        self._exact: dict[str, str] = {}
        self._buckets: dict[tuple[int, tuple[int, ...]], list[str]] = defaultdict(list)
        self._shingles: dict[str, set[str]] = {}

    def check(self, key: str, question: str) -> str | None:
        """The key of an earlier question this one duplicates, or None (and it is remembered)."""
        exact = hashlib.sha256(normalise(question).encode("utf-8")).hexdigest()
        if exact in self._exact:
            return self._exact[exact]
        features = shingles(question)
        sig = signature(features)
        bands = [(band, sig[band * ROWS : (band + 1) * ROWS]) for band in range(BANDS)]
        shared: dict[str, int] = {}
        for band in bands:
            for other in self._buckets.get(band, ()):
                shared[other] = shared.get(other, 0) + 1
        candidates = sorted(shared, key=lambda other: -shared[other])[:MAX_CANDIDATES]  # stable: earlier first
        for other in candidates:
            if jaccard(features, self._shingles[other]) >= self.threshold:
                return other
        self._exact[exact] = key
        self._shingles[key] = features
        for band in bands:
            bucket = self._buckets[band]
            if len(bucket) < BUCKET_CAP:
                bucket.append(key)
        return None
