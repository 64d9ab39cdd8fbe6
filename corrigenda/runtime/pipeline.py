"""Run every item through the steps with each model kept busy.

Items flow one by one (filter, then generate, then verify), not step by step, so a crash loses nothing that finished
(it is in the cache) and memory stays flat: only `window` items are in progress at once, pulled lazily from the
chunk stream. Each model's semaphore (see caller.py) keeps exactly its `concurrency` requests in flight while work
remains for it.
"""

from __future__ import annotations

import asyncio
import contextlib
import dataclasses
import gc
import itertools
from collections.abc import Callable, Iterator
from pathlib import Path

from corrigenda.runtime.caller import Deferred
from corrigenda.runtime.debug_log import DebugLog, chunk_record
from corrigenda.runtime.item import ACCEPTED, PENDING, REJECTED, Item
from corrigenda.runtime.results import ItemResults
from corrigenda.runtime.steps import StepRunner

READ_BATCH = 64  # items read per hop to the reading thread

# Thousands of requests in flight allocate many short-lived objects, and the interpreter's default runs a
# young-generation pass every 700 allocations; passes this much rarer save ~8% of the client's CPU per call at
# concurrency 1,024 (see BENCHMARKS.md). Garbage cycles are still collected, only later.
RUN_GC_THRESHOLDS = (10_000, 50, 100)


@contextlib.contextmanager
def fewer_collections() -> Iterator[None]:
    """Rarer garbage-collection passes while a run is in progress; the interpreter's own settings come back after."""
    saved = gc.get_threshold()
    gc.set_threshold(*RUN_GC_THRESHOLDS)
    try:
        yield
    finally:
        gc.set_threshold(*saved)


class Pipeline:
    def __init__(
        self,
        runners: list[StepRunner],
        window: int,
        debug_dir: Path | None = None,
        on_item_done: Callable[[Item], None] | None = None,
        collect: bool = True,
        results: ItemResults | None = None,
    ):
        self.runners, self.window, self.debug_dir = runners, window, debug_dir
        self.results = results  # stored finished items: a known item skips the steps (see results.py)
        self.replayed = 0  # items finished from their stored result
        self.on_item_done = on_item_done
        self.collect = collect  # False: finished items go only to on_item_done (memory flat in the item count)
        self.ingested = 0
        self.deferred = 0  # items stopped by a call that waits for a batch or for the spending cap
        self._debug: DebugLog | None = None

    def _write_debug(self, item: Item) -> None:
        if self._debug is None:
            return
        for index, (step, attempts) in enumerate(item.debug.items()):
            record = {
                "item": item.chunk.chunk_id,
                "source": item.chunk.source,
                "step": step,
                "step_index": index,  # the item's steps in the order it ran them
                "outcome": item.outcome,
                "reason": item.reason,
                "chunk": chunk_record(item.chunk),
                "attempts": attempts,
            }
            self._debug.write(step, item.chunk.chunk_id, record)

    async def process(self, item: Item) -> Item:
        try:
            for index, runner in enumerate(self.runners):
                if item.outcome != PENDING:
                    break
                await runner.run(item)
                if runner.step.kind == "verify":
                    await self._regenerate(item, runner, self.runners[:index])
        except Deferred:  # taken up again on the next pass once its batch is in (or never, at the spending cap)
            self.deferred += 1
            return item
        if item.outcome == PENDING:
            item.finish(ACCEPTED)
        self._write_debug(item)
        if self.results is not None:
            self.results.store(item)
        return self._done(item)

    def _done(self, item: Item) -> Item:
        # Written or no longer needed: a finished item keeps its provenance and conversation, not the chunk text.
        item.debug, item.values, item.context, item.calls, item.passes = {}, {}, {}, [], []
        item.chunk = dataclasses.replace(item.chunk, text="")
        if self.on_item_done:
            self.on_item_done(item)
        return item

    def _replay(self, item: Item, result: dict) -> bool:
        """Finishes `item` from its stored result, its debug lines copied from the previous release; False when
        it must run the steps (a debug line to reuse is missing)."""
        assert self.results is not None
        lines = self.results.debug_lines(item, result["reached"]) if self._debug is not None else []
        if lines is None or not self.results.restore(item, result):
            return False
        if self._debug is not None:
            for step, source, offset, length in lines:
                self._debug.copy(step, source, offset, length)
        self.replayed += 1
        self._done(item)
        return True

    async def _regenerate(self, item: Item, verifier: StepRunner, earlier: list[StepRunner]) -> None:
        """A rejected conversation is written again with fresh samples and judged again, up to the spec's limit."""
        generators = [runner for runner in earlier if runner.step.kind == "generate"]
        for round_ in range(1, verifier.step.regenerate_rejected + 1):
            if item.outcome != REJECTED or not generators:
                return
            item.outcome, item.conversation = PENDING, None
            for generator in generators:
                await generator.run(item, round_)
            if item.outcome != PENDING:
                return
            await verifier.run(item, round_)

    async def run(self, items: Iterator[Item]) -> list[Item]:
        """Every item, in input order, each finished (accepted, unsuitable, failed or rejected); empty unless
        `collect`.

        Reading and chunking documents (a large PDF takes seconds) happens in a worker thread, a batch at a time, so
        the event loop keeps every model's requests flowing meanwhile."""
        finished: list[Item] = []
        queue: asyncio.Queue[Item | None] = asyncio.Queue(maxsize=self.window)

        async def read() -> None:
            while batch := await asyncio.to_thread(lambda: list(itertools.islice(items, READ_BATCH))):
                known = self.results.lookup(batch) if self.results is not None else {}
                for item in batch:
                    self.ingested += 1
                    result = known.get(item.result_key or "")
                    if result is not None and self._replay(item, result):
                        if self.collect:
                            finished.append(item)
                        continue
                    await queue.put(item)
            for _ in range(self.window):
                await queue.put(None)  # one stop signal per worker

        async def worker() -> None:
            while (item := await queue.get()) is not None:
                deferred = self.deferred
                done = await self.process(item)
                if self.collect and self.deferred == deferred:
                    finished.append(done)

        self._debug = DebugLog(self.debug_dir) if self.debug_dir is not None else None
        tasks = [asyncio.create_task(read()), *(asyncio.create_task(worker()) for _ in range(self.window))]
        with fewer_collections():
            try:
                await asyncio.gather(*tasks)
            except BaseException:
                for task in tasks:
                    task.cancel()
                await asyncio.gather(*tasks, return_exceptions=True)
                raise
            finally:
                if self._debug is not None:
                    self._debug.close()  # every debug file is on disk before the build reads them back
        return sorted(finished, key=lambda item: item.order)
