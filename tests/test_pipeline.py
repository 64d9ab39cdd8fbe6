"""The pipeline keeps the event loop free while documents are read, and finishes every item exactly once."""

from __future__ import annotations

import asyncio
import gc
import time
from types import SimpleNamespace

import pytest

from corrigenda.ingest.corpus import Chunk
from corrigenda.runtime.item import ACCEPTED, Item
from corrigenda.runtime.pipeline import RUN_GC_THRESHOLDS, Pipeline


class SlowStep:
    """Stands in for a model call: 20 ms of waiting per item."""

    step = SimpleNamespace(kind="generate", name="generate")

    async def run(self, item: Item, round_: int = 0) -> None:
        await asyncio.sleep(0.02)


def _items(count: int, slow_every: int):
    for index in range(count):
        if index and index % slow_every == 0:
            time.sleep(0.6)  # a large PDF being parsed
        chunk = Chunk("doc.txt", "doc.txt", "Doc", index, f"text {index}", 0, 6, 0, 2, f"{index:064x}")
        yield Item(index, chunk, chunk.variables())


def test_slow_reading_does_not_stall_requests_in_flight():
    gaps: list[float] = []

    async def go():
        async def heartbeat():
            last = time.monotonic()
            while True:
                await asyncio.sleep(0.01)
                now = time.monotonic()
                gaps.append(now - last)
                last = now

        beat = asyncio.create_task(heartbeat())
        items = await Pipeline([SlowStep()], window=8).run(_items(200, slow_every=70))
        beat.cancel()
        return items

    items = asyncio.run(go())
    assert [item.order for item in items] == list(range(200))
    assert all(item.outcome == ACCEPTED for item in items)
    assert max(gaps) < 0.4  # the 0.6 s reads happened off the event loop


class FailingStep(SlowStep):
    async def run(self, item: Item, round_: int = 0) -> None:
        raise RuntimeError("model gone")


def test_a_run_paces_garbage_collection_and_gives_the_interpreter_its_settings_back():
    before = gc.get_threshold()
    seen: list[tuple[int, ...]] = []

    class Watching(SlowStep):
        async def run(self, item: Item, round_: int = 0) -> None:
            seen.append(gc.get_threshold())

    asyncio.run(Pipeline([Watching()], window=2).run(_items(3, slow_every=1000)))
    assert seen == [RUN_GC_THRESHOLDS] * 3
    assert gc.get_threshold() == before
    with pytest.raises(RuntimeError, match="model gone"):
        asyncio.run(Pipeline([FailingStep()], window=2).run(_items(3, slow_every=1000)))
    assert gc.get_threshold() == before  # also when the run fails (or is interrupted)
