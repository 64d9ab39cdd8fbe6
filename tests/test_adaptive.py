"""Adaptive concurrency: a burst of 429s from a real server halves a model's limit, success brings it back, and a
steady trickle of random errors does not wear it down."""

from __future__ import annotations

import asyncio
import random

from fake_openai import Reply
from hypothesis import given, settings
from hypothesis import strategies as st

from corrigenda.compiler.spec import ModelSpec, Sampling
from corrigenda.runtime.adaptive import AdaptiveLimit
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.caller import Caller, StepStats
from corrigenda.runtime.openai_backend import OpenAIBackend
from corrigenda.runtime.request import Request


def _caller(fake, tmp_path, **model):
    spec = ModelSpec(base_url=fake.base_url, model="m", backoff_s=0.01, backoff_max_s=0.02, max_attempts=20, **model)
    return Caller("small", spec, OpenAIBackend("small", spec, fake.base_url), CallCache(tmp_path / "c.sqlite"))


def _run(caller, calls: int) -> list[int]:
    """Makes `calls` distinct calls; returns the limit seen at every request start, in order."""
    seen: list[int] = []
    stats = StepStats()

    async def go():
        async def one(i):
            await caller.call(Request("filter", "filter", f"d#{i}", 0, [{"role": "user", "content": f"p{i}"}],
                                      Sampling()), stats)  # fmt: skip

        async def watch():
            while True:
                seen.append(caller.slots.limit)
                await asyncio.sleep(0.002)

        watcher = asyncio.create_task(watch())
        await asyncio.gather(*(one(i) for i in range(calls)))
        watcher.cancel()
        seen.append(caller.slots.limit)
        await caller.backend.close()
        caller.cache.close()

    asyncio.run(go())
    return seen


def test_a_burst_of_429s_halves_the_limit_and_success_brings_it_back(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(status=429, retry_after=0) if n <= 120 else Reply("ok", delay_s=0.005)
    caller = _caller(fake_server, tmp_path, concurrency=32)
    seen = _run(caller, 700)
    assert seen[0] == 32
    assert min(seen) <= 16 and caller.slots.decreases >= 1  # backed off at least by half during the burst
    assert seen[-1] == 32  # and grew back to the ceiling once requests succeeded


def test_the_progress_display_shows_the_current_limit(fake_server, tmp_path):
    from corrigenda.runtime.progress import rows, step_figures

    fake_server.responder = lambda body, n: Reply("ok")
    caller = _caller(fake_server, tmp_path, concurrency=7)
    stats = StepStats()

    async def go():
        await caller.call(Request("filter", "filter", "d#0", 0, [{"role": "user", "content": "p"}], Sampling()), stats)
        await caller.backend.close()

    asyncio.run(go())
    (figures,) = step_figures([("filter", stats)], 1, 1.0)
    assert rows(figures)["concurrency limit"] == "7"


def test_fixed_concurrency_never_moves(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(status=429, retry_after=0) if n <= 60 else Reply("ok")
    caller = _caller(fake_server, tmp_path, concurrency=16, adaptive_concurrency=False)
    assert set(_run(caller, 100)) == {16}


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 1024), st.lists(st.tuples(st.floats(0, 100), st.sampled_from([None, 200, 429, 500, 503]))))
def test_the_limit_stays_between_one_and_the_ceiling(ceiling, answers):
    limit = AdaptiveLimit(ceiling)
    for latency, status in answers:
        limit.record(latency, status)
        assert 1 <= limit.limit <= ceiling


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 2**32 - 1), st.sampled_from([64, 256, 1024]))
def test_random_errors_below_a_burst_do_not_wear_the_limit_down(seed, ceiling):
    """10% random 429s and 5% 500s at steady latency (the case where a limiter halving on every 429 collapses)."""
    rng = random.Random(seed)
    limit = AdaptiveLimit(ceiling)
    for _ in range(ceiling * 40):
        draw = rng.random()
        limit.record(0.2, 429 if draw < 0.10 else 500 if draw < 0.15 else None)
    assert limit.limit >= ceiling * 0.9


def test_waiters_are_served_in_order_and_never_above_the_limit():
    async def go():
        limit = AdaptiveLimit(3)
        peak, order = [0], []

        async def one(i):
            async with limit:
                peak[0] = max(peak[0], limit.in_use)
                order.append(i)
                await asyncio.sleep(0.001)

        await asyncio.gather(*(one(i) for i in range(30)))
        return peak[0], order, limit.in_use

    peak, order, in_use = asyncio.run(go())
    assert peak == 3 and order == list(range(30)) and in_use == 0


def test_inflated_latency_backs_off_and_jitter_does_not():
    limit = AdaptiveLimit(64)
    for _ in range(64 * 3):
        limit.record(0.2)
    for _ in range(64 * 3):
        limit.record(0.5)  # slower, but within a second of the best: no signal
    assert limit.limit == 64
    for _ in range(64):
        limit.record(5.0)  # a round 25x slower: the endpoint is queueing
    assert limit.limit == 32 and limit.decreases == 1
