"""One progress display for a whole Ray build: each shard pushes its figures to a small Ray actor, the `Board`, and
the driver polls it and shows their sum with the display every build uses (`runtime/progress.py`: a live table on a
terminal, periodic lines otherwise).

Per step the shards' counts add up: done, in flight, failed, retries, cached, tokens, USD, and the adaptive
concurrency limits (each shard's limit moves within its share, so the sum is the cluster's). The planned chunk count
is the sum of the shards' counts once every shard knows its own, unknown ("?") before. A shard that Ray retries
starts its figures again (its cached answers count as cached), so a retried shard's figures replace its lost ones.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Callable
from typing import Any

from corrigenda.runtime.caller import StepStats

PUSH_S = 0.5  # how often a shard sends its figures
POLL_S = 0.2  # the driver asks the board at most this often (the live table redraws 4 times a second)
COUNTS = ("total", "done", "in_flight", "failed", "input_tokens", "output_tokens", "cached", "retries")
COUNTS += ("items_done", "items_passed")


def snapshot(build: Any) -> dict[str, Any]:
    """A shard's figures now: its steps' counters, the chunks read and its planned chunk count (None: unknown)."""
    pipeline, progress = getattr(build, "pipeline", None), build.progress
    return {
        "steps": [(runner.step.name, dataclasses.asdict(runner.stats)) for runner in build.runners],
        "ingested": pipeline.ingested if pipeline is not None else 0,
        "planned": progress.planned() if progress is not None else None,
    }


class Board:
    """The Ray actor the shards push to and the driver reads: each shard's latest figures."""

    def __init__(self) -> None:
        self.shards: dict[int, dict[str, Any]] = {}

    def push(self, shard: int, figures: dict[str, Any]) -> None:
        self.shards[shard] = figures

    def read(self) -> dict[int, dict[str, Any]]:
        return self.shards


def combine(names: list[str], shards: dict[int, dict[str, Any]]) -> list[tuple[str, StepStats]]:
    """Every step's figures summed over the shards, in pipeline order."""
    steps = []
    for name in names:
        parts = [StepStats(**stats) for figures in shards.values() for step, stats in figures["steps"] if step == name]
        total = StepStats()
        for field in COUNTS:
            setattr(total, field, sum(getattr(part, field) for part in parts))
        total.usd = sum(part.usd for part in parts)
        limits = [part.limit for part in parts if part.limit is not None]
        total.limit = sum(limits) if limits else None
        failures = [part.last_failure for part in parts if part.last_failure]
        total.last_failure = failures[-1] if failures else None
        steps.append((name, total))
    return steps


def planned(shards: dict[int, dict[str, Any]], count: int) -> int | None:
    """The whole build's planned chunks: known once every one of the `count` shards knows its own."""
    totals = [figures["planned"] for figures in shards.values()]
    if len(totals) < count or None in totals:
        return None
    return sum(totals)


class Pusher:
    """In a shard: sends its figures to the board every `PUSH_S` seconds, and once more when it stops."""

    def __init__(self, send: Callable[[dict[str, Any], bool], None], build: Any):
        """`send(figures, last)`: the last send must have arrived when it returns, so the driver's final figures
        are complete once the shard's result is in."""
        self.send, self.build = send, build
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="corrigenda-progress", daemon=True)

    def _loop(self) -> None:
        while not self.stopping.wait(PUSH_S):
            self.send(snapshot(self.build), False)

    def __enter__(self) -> Pusher:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stopping.set()
        self.thread.join()
        self.send(snapshot(self.build), True)


class Polled:
    """The driver's view of the board, asked at most every `POLL_S` seconds."""

    def __init__(self, read: Callable[[], dict[int, dict[str, Any]]], names: list[str], count: int):
        self.read, self.names, self.count = read, names, count
        self.shards: dict[int, dict[str, Any]] = {}
        self.asked = float("-inf")

    def invalidate(self) -> None:
        """Ask the board again next time (the shards are done: their last figures are in)."""
        self.asked = float("-inf")

    def _fresh(self) -> dict[int, dict[str, Any]]:
        if time.monotonic() - self.asked >= POLL_S:
            self.shards, self.asked = self.read(), time.monotonic()
        return self.shards

    def steps(self) -> list[tuple[str, StepStats]]:
        return combine(self.names, self._fresh())

    def ingested(self) -> int:
        return sum(figures["ingested"] for figures in self._fresh().values())

    def planned(self) -> int | None:
        return planned(self._fresh(), self.count)
