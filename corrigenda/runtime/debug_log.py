"""`debug_outputs/STEP/ITEM.json`: the chunk (text, source, pages, offsets) once, then every attempt's rendered
messages, raw answer, reasoning, parse result and error, so any record can be traced to the text it came from.

Records are encoded on the event loop and written by one thread of their own. Creating and renaming a file can take
a millisecond or more (a network filesystem, a disk mounted with online discard), and done on the event loop that
time would stall every request in flight; on the thread it overlaps them. See BENCHMARKS.md.
"""

from __future__ import annotations

import hashlib
import os
import re
import shutil
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from pathlib import Path
from typing import Any

from corrigenda.atomic import json_bytes, write_bytes
from corrigenda.ingest.corpus import Chunk
from corrigenda.runtime.request import Request

MAX_PENDING = 1_024  # files queued before the run waits for the disk, so a slow disk cannot fill memory


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


class DebugLog:
    """Writes each record atomically, in order, off the event loop. `close()` waits for every file and raises the
    first failure: a full disk is an error, not a silent gap in the log."""

    def __init__(self, directory: Path):
        self.directory = directory
        self._writer = ThreadPoolExecutor(max_workers=1, thread_name_prefix="corrigenda-debug")
        self._pending: deque[Future[None]] = deque()

    def write(self, step: str, chunk_id: str, record: dict[str, Any]) -> None:
        while self._pending and (self._pending[0].done() or len(self._pending) >= MAX_PENDING):
            self._pending.popleft().result()  # a failed write raises here, at the next item
        path = self.directory / step / f"{debug_name(chunk_id)}.json"
        self._pending.append(self._writer.submit(write_bytes, path, json_bytes(record), False))

    def link(self, step: str, chunk_id: str, source: Path) -> None:
        """The item's file is `source` unchanged (an earlier release's): linked, not encoded and written again."""
        while self._pending and (self._pending[0].done() or len(self._pending) >= MAX_PENDING):
            self._pending.popleft().result()
        path = self.directory / step / f"{debug_name(chunk_id)}.json"
        if path != source:
            self._pending.append(self._writer.submit(_link, source, path))

    def close(self) -> None:
        self._writer.shutdown(wait=True)
        while self._pending:
            self._pending.popleft().result()
