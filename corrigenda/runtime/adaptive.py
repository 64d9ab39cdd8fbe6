"""Adaptive concurrency: how many requests one model may have in flight, adjusted to what the endpoint can take.

Additive increase, multiplicative decrease (AIMD), judged per *round* (as many finished requests as the limit
allowed in flight, at least `MIN_ROUND`), not per response: a round in which more than `OVERLOAD_SHARE` of the
answers were 429 or 503, or whose mean latency inflated past `LATENCY_FACTOR` times the best round's (and by more than
`LATENCY_SLACK_S`), halves the limit; a calm round adds `ceiling / 16` (at least 1) back, up to the spec's
`concurrency`. Judging rounds instead of single answers is what keeps it from collapsing under a steady trickle of
random 429s (a limiter that halves on every 429 falls to 1 under 10% random errors): only a burst backs it off.
"""

from __future__ import annotations

import asyncio
from collections import deque

MIN_ROUND = 20  # finished requests a judgement needs at the least, so 1 error in 4 is no "burst"
OVERLOAD_SHARE = 0.25  # more than this share of a round's answers overloaded (429/503): halve
DECREASE = 0.5
LATENCY_FACTOR = 3.0
LATENCY_SLACK_S = 1.0  # and slower by at least this much: sub-second jitter of a fast endpoint is no signal
OVERLOAD_STATUSES = frozenset({429, 503})


class AdaptiveLimit:
    """A semaphore whose capacity moves between 1 and `ceiling`; `fixed=True` keeps it at `ceiling`."""

    def __init__(self, ceiling: int, fixed: bool = False):
        self.ceiling, self.fixed = ceiling, fixed
        self.limit = ceiling
        self.in_use = 0
        self.decreases = 0  # how often it backed off, for reports and tests
        self._waiters: deque[asyncio.Future[None]] = deque()
        self._round_done = self._round_overloaded = 0
        self._round_latency = 0.0
        self._best_latency: float | None = None

    async def acquire(self) -> None:
        if self.in_use < self.limit and not self._waiters:
            self.in_use += 1
            return
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append(waiter)
        try:
            await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled():
                self.in_use -= 1  # it was handed a slot as it was cancelled: give it on
                self._wake()
            raise

    def release(self) -> None:
        self.in_use -= 1
        self._wake()

    def _wake(self) -> None:
        while self._waiters and self.in_use < self.limit:
            waiter = self._waiters.popleft()
            if not waiter.done():
                self.in_use += 1
                waiter.set_result(None)

    async def __aenter__(self) -> AdaptiveLimit:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        self.release()

    def record(self, latency_s: float, status: int | None = None) -> None:
        """One finished request: `status` None or 2xx for an answer, the HTTP status of an error otherwise."""
        if self.fixed:
            return
        self._round_done += 1
        self._round_overloaded += status in OVERLOAD_STATUSES
        self._round_latency += latency_s
        if self._round_done < max(MIN_ROUND, self.limit):
            return
        mean = self._round_latency / self._round_done
        overloaded = self._round_overloaded / self._round_done > OVERLOAD_SHARE
        best = self._best_latency
        slow = best is not None and mean > best * LATENCY_FACTOR and mean - best > LATENCY_SLACK_S
        if not overloaded:
            self._best_latency = mean if best is None else min(best, mean)
        if overloaded or slow:
            self.limit = max(1, int(self.limit * DECREASE))
            self.decreases += 1
        else:
            self.limit = min(self.ceiling, self.limit + max(1, self.ceiling // 16))
            self._wake()
        self._round_done = self._round_overloaded = 0
        self._round_latency = 0.0
