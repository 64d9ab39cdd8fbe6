"""The Ray build's one display: every shard's figures summed per step (no Ray needed: the summing is plain code)."""

from __future__ import annotations

import dataclasses

from hypothesis import given
from hypothesis import strategies as st

from corrigenda.ray_progress import COUNTS, combine, planned
from corrigenda.runtime.caller import StepStats
from corrigenda.runtime.progress import step_figures

NAMES = ["filter", "generate", "verify"]
COUNT = st.integers(0, 10_000)
STATS = st.builds(
    StepStats,
    **{field: COUNT for field in COUNTS},
    usd=st.floats(0, 100, allow_nan=False),
    limit=st.one_of(st.none(), st.integers(1, 256)),
    last_failure=st.one_of(st.none(), st.text(min_size=1, max_size=20)),
)
SHARD = st.fixed_dictionaries(
    {
        "steps": st.tuples(STATS, STATS, STATS).map(
            lambda stats: [(name, dataclasses.asdict(s)) for name, s in zip(NAMES, stats, strict=True)]
        ),
        "ingested": COUNT,
        "planned": st.one_of(st.none(), COUNT),
    }
)


@given(shards=st.dictionaries(st.integers(0, 7), SHARD, max_size=8), count=st.integers(1, 8))
def test_the_summed_figures_are_the_sums_of_the_shards_figures(shards, count):
    steps = combine(NAMES, shards)
    assert [name for name, _ in steps] == NAMES
    for position, (_, total) in enumerate(steps):
        parts = [StepStats(**figures["steps"][position][1]) for figures in shards.values()]
        for field in COUNTS:
            assert getattr(total, field) == sum(getattr(part, field) for part in parts)
        assert abs(total.usd - sum(part.usd for part in parts)) < 1e-6
        limits = [part.limit for part in parts if part.limit is not None]
        assert total.limit == (sum(limits) if limits else None)  # each shard's share adds up to the cluster's
        assert total.last_failure in [part.last_failure for part in parts] + [None]
    whole = planned(shards, count)
    known = [figures["planned"] for figures in shards.values()]
    if len(shards) < count or None in known:
        assert whole is None  # "?" until every shard has counted its own chunks
    else:
        assert whole == sum(known)
    step_figures(steps, whole, 1.0)  # the display's own figures take the sums as they take one build's


def test_no_shard_has_reported_yet():
    steps = combine(NAMES, {})
    assert all(stats == StepStats() for _, stats in steps)
    assert planned({}, 2) is None
