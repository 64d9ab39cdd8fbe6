"""The near-duplicate check does bounded work per question, whatever the dataset's size, and still finds a
near-copy of an early question after thousands of templated ones."""

from __future__ import annotations

import random

from corrigenda.runtime import dedupe
from corrigenda.runtime.dedupe import BUCKET_CAP, MAX_CANDIDATES, DuplicateFinder


def test_work_per_question_is_bounded_and_early_questions_stay_findable(monkeypatch):
    compared: list[int] = []
    real = dedupe.jaccard
    monkeypatch.setattr(dedupe, "jaccard", lambda a, b: compared.append(1) or real(a, b))
    rng = random.Random(1)
    words = "army division training command unit river bridge station railroad company".split()
    finder = DuplicateFinder()
    assert finder.check("first", "When was the Golden Spike driven at Promontory Summit in Utah?") is None
    per_question = []
    for index in range(3000):
        before = len(compared)
        finder.check(
            str(index), f"In what year did the {rng.choice(words)} {rng.choice(words)} of section {index} end?"
        )
        per_question.append(len(compared) - before)
    assert max(per_question) <= MAX_CANDIDATES
    assert all(len(bucket) <= BUCKET_CAP for bucket in finder._buckets.values())
    assert finder.check("late", "When was the Golden Spike driven at Promontory Summit, Utah?") == "first"
