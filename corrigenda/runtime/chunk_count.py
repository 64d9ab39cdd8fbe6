"""The planned chunk count, the total the progress display plans by.

Counted in a child process, with the same chunking as the build (`iter_chunks`, `--limit`, `subset`, a throwaway
ingestion report). Reading a PDF-heavy corpus is CPU work: a counting *thread* shares the interpreter lock with the
build's own reading, and the first request waited 2.3 times as long; a process costs it nothing (0.99, see
bench/progress_eta.py). A plain `python -m` child rather than `multiprocessing`, which would re-run the caller's main
script. Whichever finishes first gives the total: the child, or the build's own stream of chunks running out. Until
then the total is unknown (None); if the child fails, the build's own reading meets and reports the same problem.
"""

from __future__ import annotations

import itertools
import json
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING

import corrigenda
from corrigenda.compiler.spec import InputsSpec
from corrigenda.runtime.shard import Shard

if TYPE_CHECKING:
    from corrigenda.ingest.corpus import Chunk


class ChunkCount:
    def __init__(
        self,
        inputs: InputsSpec,
        base: Path,
        limit: int | None = None,
        shard: Shard | None = None,
        store: Path | None = None,
    ):
        self._argv = [
            sys.executable,
            "-m",
            __name__,
            json.dumps(inputs.model_dump(mode="json")),
            str(base),
            str(limit or 0),
            str(os.getpid()),
            str(shard or ""),  # "I/N": count only that shard's chunks
            str(store or ""),  # the ingest store to replay documents from (it never writes to it)
        ]
        self._shard = shard
        self._total: int | None = None
        self._process: subprocess.Popen[str] | None = None
        self._lock = threading.Lock()  # the build's reading thread and its event loop both ask and stop

    def start(self) -> ChunkCount:
        package_root = str(Path(corrigenda.__file__).resolve().parent.parent)
        path = os.pathsep.join(p for p in (package_root, os.environ.get("PYTHONPATH")) if p)
        self._process = subprocess.Popen(
            self._argv,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
            text=True,
            env={**os.environ, "PYTHONPATH": path},
        )
        return self

    @property
    def total(self) -> int | None:
        with self._lock:
            process = self._process
            if self._total is None and process is not None and process.poll() == 0 and process.stdout is not None:
                answer = process.stdout.read().strip()
                self._total = int(answer) if answer.isdigit() else None
                self._process = None
            return self._total

    def settle(self, total: int) -> None:
        """The total is known: the child is no longer needed."""
        with self._lock:
            if self._total is None:
                self._total = total
        self.stop()

    def follow(self, chunks: Iterable[Chunk]) -> Iterator[Chunk]:
        """The build's own stream, passed through: when it runs out, its length (its shard's part) is the total."""
        count = 0
        for chunk in chunks:
            count += self._shard is None or self._shard.holds(chunk.content_hash)
            yield chunk
        self.settle(count)

    def stop(self) -> None:
        """The build is over (finished, failed or interrupted) or the total known: end the child."""
        with self._lock:
            process, self._process = self._process, None
        if process is not None:
            if process.poll() is None:
                process.kill()
            process.wait()
            if process.stdout is not None:
                process.stdout.close()


def _count(inputs: InputsSpec, base: Path, limit: int, parent: int, shard: str = "", store: str = "") -> int | None:
    """In the child: the number of chunks the build will read, or None when the build has gone away."""
    from corrigenda.ingest.corpus import IngestionReport, iter_chunks
    from corrigenda.ingest.store import IngestStore, StoredReading
    from corrigenda.runtime.shard import Shard

    part = Shard.parse(shard) if shard else None
    reading = StoredReading(IngestStore(Path(store)), inputs, base, write=False) if store else None
    chunks = iter_chunks(inputs, base, IngestionReport(), reading)
    count = 0
    for seen, chunk in enumerate(itertools.islice(chunks, limit) if limit else chunks, start=1):
        count += part is None or part.holds(chunk.content_hash)
        if seen % 64 == 0 and os.getppid() != parent:  # the build was killed: nobody waits for the count
            return None
    return count


if __name__ == "__main__":
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # Ctrl-C is the build's to handle; it ends this process
    inputs_json, base_dir, limit_arg, parent_pid, shard_arg, store_arg = sys.argv[1:7]
    counted = _count(
        InputsSpec.model_validate(json.loads(inputs_json)),
        Path(base_dir),
        int(limit_arg),
        int(parent_pid),
        shard_arg,
        store_arg,
    )
    if counted is None:
        raise SystemExit(1)
    print(counted)
