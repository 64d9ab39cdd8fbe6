"""`debug_outputs/STEP.jsonl`: one line per item that reached the step, holding the chunk (text, source, pages,
offsets) once, then every attempt's rendered messages, raw answer, reasoning, parse result and error, so any record
can be traced to the text it came from. Each line has a stable `id` (`STEP/<debug_name(item)>`).

A few append-only files instead of one file per call: creating a file cost ~0.3 ms of CPU per item, the largest part
of the runtime's own overhead at high concurrency, while appending a line costs a write. Lines are encoded on the
event loop and appended by one thread of their own, so a slow disk never stalls the requests in flight. Lines are in
the order items finished; readers key them by `id`. See BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import json
import os
import re
import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import IO, Any

from corrigenda.ingest.corpus import Chunk
from corrigenda.runtime.request import Request

MAX_PENDING = 1_024  # lines queued before the run waits for the disk, so a slow disk cannot fill memory


def debug_name(chunk_id: str) -> str:
    """A stable, filesystem-safe file name for one item (`docs/a.txt#3` -> `docs_a.txt_3-<hash>`, and
    `../docs/a.txt#3` -> `docs_a.txt_3-<other hash>`, never a hidden file): readable, and the hash of the exact id
    keeps two items (`a b.txt`, `a_b.txt`) from ever sharing a file."""
    readable = re.sub(r"[^A-Za-z0-9._-]+", "_", chunk_id).strip("._")[:160] or "item"  # no hidden `..` files
    return f"{readable}-{hashlib.sha256(chunk_id.encode('utf-8')).hexdigest()[:10]}"


def chunk_record(chunk: Chunk) -> dict[str, Any]:
    """Where the item's text came from, and the text itself, as the debug file holds it once."""
    return {
        "id": chunk.chunk_id,
        "source": chunk.source,
        "doc_id": chunk.doc_id,
        "title": chunk.title,
        "index": chunk.index,
        "pages": list(chunk.pages) if chunk.pages else None,
        "char_start": chunk.char_start,
        "char_end": chunk.char_end,
        "overlap_chars": chunk.overlap_chars,
        "tokens": chunk.tokens,
        "content_hash": chunk.content_hash,
        "text": chunk.text,
    }


def rendered_messages(request: Request) -> list[dict[str, str]]:
    """The messages a model was sent; for an engine that reads no prompt (the heuristic one), what it read, written
    as messages, so every attempt in the debug file shows its input the same way."""
    if request.messages:
        return request.messages
    context = request.context
    user = f"{context.get('title', '')}\n\n{context.get('text', '')}".strip()
    turns = context.get("turns")
    if turns:
        user += "\n\n" + "\n".join(f"<{name}>{value}</{name}>" for name, value in turns.items())
    return [
        {"role": "system", "content": f"(no prompt: the {request.kind} step's engine reads the chunk directly)"},
        {"role": "user", "content": user},
    ]


def attempt_record(round_: int, sample: int | None, messages: list[dict[str, str]]) -> dict[str, Any]:
    """One attempt with every field present (null until known), so readers never guess which keys exist."""
    return {
        "round": round_,
        "sample": sample,
        "messages": messages,
        "cached": None,
        "raw": None,
        "reasoning": None,
        "answer": None,
        "finish_reason": None,
        "parsed": None,
        "error": None,
    }


def record_id(step: str, chunk_id: str) -> str:
    """The stable id of one item's line in a step's debug file."""
    return f"{step}/{debug_name(chunk_id)}"


def _link(source: Path, path: Path) -> None:
    """A hard link where the filesystem allows one, else a copy."""
    path.parent.mkdir(parents=True, exist_ok=True)
    try:
        os.link(source, path)
    except FileExistsError:
        path.unlink()
        os.link(source, path)
    except OSError:
        shutil.copyfile(source, path)


def index_lines(path: Path) -> dict[str, tuple[int, int]]:
    """Where each record of a `STEP.jsonl` file sits: id -> (offset, length), read without decoding the records
    (every line starts with its id, which `debug_name` keeps free of quotes and escapes)."""
    index: dict[str, tuple[int, int]] = {}
    offset = 0
    try:
        handle = path.open("rb")
    except OSError:
        return index
    with handle:
        for line in handle:
            if line.startswith(b'{"id":"'):
                end = line.find(b'"', 7)
                index[line[7:end].decode("utf-8")] = (offset, len(line))
            elif line.strip():
                index[json.loads(line)["id"]] = (offset, len(line))
            offset += len(line)
    return index


class DebugLog:
    """Appends each record as one line of `STEP.jsonl`, in order, off the event loop. `close()` waits for every line,
    flushes the files to disk and raises the first failure: a full disk is an error, not a silent gap in the log."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corrigenda-debug")
        self._pending: deque[Future[None]] = deque()
        self._files: dict[str, IO[bytes]] = {}  # touched only by the writer thread
        self._copies: dict[str, tuple[Path, list[tuple[int, int]]]] = {}  # step -> earlier file, its lines to copy

    def _append(self, step: str, line: bytes) -> None:
        handle = self._files.get(step)
        if handle is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            handle = self._files[step] = open(self.directory / f"{step}.jsonl", "ab")  # noqa: SIM115
        handle.write(line)

    def write(self, step: str, chunk_id: str, record: dict[str, Any]) -> None:
        while self._pending and (self._pending[0].done() or len(self._pending) >= MAX_PENDING):
            self._pending.popleft().result()  # a failed write raises here, at the next item
        line = json.dumps({"id": record_id(step, chunk_id), **record}, ensure_ascii=False, separators=(",", ":"))
        self._pending.append(self._writer.submit(self._append, step, (line + "\n").encode("utf-8")))

    def copy(self, step: str, source: Path, offset: int, length: int) -> None:
        """The item's line is one of `source` (an earlier release's `STEP.jsonl`) unchanged: copied at `close()`, not
        encoded again; a step whose every line is copied from one whole file gets that file, linked."""
        copies = self._copies.get(step)
        if copies is None:
            if source.parent.resolve() == self.directory.resolve():
                return  # written into the folder it reads from: the line is there already
            copies = self._copies[step] = (source, [])
        copies[1].append((offset, length))

    def _copy_lines(self, step: str, source: Path, spans: list[tuple[int, int]]) -> None:
        if step not in self._files and sum(length for _, length in spans) == source.stat().st_size:
            _link(source, self.directory / f"{step}.jsonl")  # the whole file, unchanged (spans never overlap)
            return
        with source.open("rb") as lines:
            for offset, length in sorted(spans):
                lines.seek(offset)
                self._append(step, lines.read(length))

    def _flush(self) -> None:
        for handle in self._files.values():
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()

    def close(self) -> None:
        for step, (source, spans) in self._copies.items():
            self._pending.append(self._writer.submit(self._copy_lines, step, source, spans))
        flushed = self._writer.submit(self._flush)
        self._writer.shutdown(wait=True)
        while self._pending:
            self._pending.popleft().result()
        flushed.result()


def read_debug(directory: Path) -> dict[str, dict[str, Any]]:
    """Every record of a release's debug outputs by id, in file order (steps by name)."""
    records: dict[str, dict[str, Any]] = {}
    for path in sorted(directory.glob("*.jsonl")) if directory.is_dir() else []:
        with path.open(encoding="utf-8") as lines:
            for line in lines:
                if line.strip():
                    record = json.loads(line)
                    records[record["id"]] = record
    return records
