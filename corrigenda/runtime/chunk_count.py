"""The planned chunk count, the total the progress display plans by.

Counted on a thread of its own, with the same chunking as the build (and its own throwaway ingestion report), so the
first request is not delayed by reading a PDF-heavy corpus twice over. Whichever finishes first gives the total: the
counting thread, or the build's own stream of chunks running out. Until then the total is unknown (None).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

T = TypeVar("T")


class ChunkCount:
    def __init__(self, chunks: Callable[[], Iterable[object]]):
        """`chunks` makes a fresh stream of the chunks the build will read (`--limit` and `subset` applied)."""
        self.counted = 0  # so far, while counting
        self.total: int | None = None
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._count, args=(chunks,), name="chunk-count", daemon=True)

    def start(self) -> ChunkCount:
        self._thread.start()
        return self

    def _count(self, chunks: Callable[[], Iterable[object]]) -> None:
        count = 0
        try:
            for _ in chunks():
                if self._stop.is_set():
                    return
                count += 1
                self.counted = count
        except Exception:  # the build's own reading meets and reports the same problem; until then "?"
            return
        self.settle(count)

    def settle(self, total: int) -> None:
        """The total is known; the counting thread, if still reading, stops at its next chunk."""
        if self.total is None:
            self.total = total
        self._stop.set()

    def follow(self, chunks: Iterable[T]) -> Iterator[T]:
        """The build's own stream, passed through: when it runs out, its length is the total."""
        count = 0
        for chunk in chunks:
            count += 1
            yield chunk
        self.settle(count)

    def stop(self) -> None:
        """The build is over (finished, failed or interrupted): stop counting."""
        self._stop.set()
