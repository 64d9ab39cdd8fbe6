"""The ingest store: each document's chunks and report entries, kept so a file is parsed once, not once per reader.

A Ray build reads the corpus as Ray tasks and keeps what they return here; its shards, the counting child and the
release build then replay it instead of parsing again, and a plain rerun replays it too. An entry is keyed by the
file's bytes, its name as the report shows it, the reading and cutting settings, and the code that reads (the
corrigenda version, a digest of `corrigenda/ingest/`, and the pypdf, python-docx and tiktoken versions), so a changed
file, setting or reader is read afresh. An entry records the file's report changes interleaved with its chunks
exactly as reading produced them, so a replay leaves the same report (reasons, clean-up counts, short documents,
titles, unreadable files) as reading would, even where `--limit` stops inside the corpus. JSONL files are not kept:
one is a stream of many documents (kept whole it would hold a corpus in memory) and reading it parses nothing costly.
The store is only a shortcut: when it cannot be opened or written, files are read as before.
"""

from __future__ import annotations

import functools
import hashlib
import importlib.metadata
import json
import sqlite3
import zlib
from collections.abc import Iterator
from dataclasses import asdict
from pathlib import Path
from typing import Any

import corrigenda
from corrigenda.compiler.spec import InputsSpec
from corrigenda.ingest.chunker import Chunker
from corrigenda.ingest.corpus import EXTENSIONS, Chunk, IngestionReport, display_path, file_chunks

FLUSH_FILES, FLUSH_BYTES = 64, 16 << 20  # stored in batches of this many files or bytes, whichever comes first
KEPT_KINDS = frozenset({"txt", "md", "pdf", "docx"})
# Settings that decide which files are read, not how one is read: changing them keeps every entry usable.
NOT_READING = ("paths", "types", "subset", "on_unreadable")
Events = list[tuple[dict[str, Any], dict[str, Any] | None]]  # (report changes, then a chunk or None), in order


@functools.cache
def reader_version() -> str:
    """What reads a file: an entry written by other reading code is never replayed."""
    digest = hashlib.sha256(corrigenda.__version__.encode())
    for source in sorted(Path(__file__).parent.glob("*.py")):
        digest.update(source.name.encode() + b"\0" + source.read_bytes())
    for package in ("pypdf", "python-docx", "tiktoken"):
        try:
            digest.update(f"{package}={importlib.metadata.version(package)}".encode())
        except importlib.metadata.PackageNotFoundError:
            digest.update(f"{package}=none".encode())
    return digest.hexdigest()[:32]


def store_path(cache: Path) -> Path:
    """The store beside the build's cache: `calls.sqlite` -> `calls.ingest.sqlite`."""
    return cache.with_name(f"{cache.stem}.ingest{cache.suffix or '.sqlite'}")


def _state(report: IngestionReport) -> dict[str, Any]:
    return report.as_dict()


def _delta(before: dict[str, Any], now: dict[str, Any]) -> dict[str, Any]:
    """What reading added to a report between two states (lists grow, counts rise, clean-up counts add up)."""
    changes: dict[str, Any] = {}
    for name, value in now.items():
        old = before[name]
        if isinstance(value, list) and len(value) > len(old):
            changes[name] = value[len(old) :]
        elif isinstance(value, int) and not isinstance(value, bool) and isinstance(old, int) and value != old:
            changes[name] = value - old
        elif name == "cleaning" and value != old:
            changes[name] = {
                source: {k: n - old.get(source, {}).get(k, 0) for k, n in kinds.items()}
                for source, kinds in value.items()
                if kinds != old.get(source)
            }
    return changes


def _apply(changes: dict[str, Any], report: IngestionReport) -> None:
    for name, value in changes.items():
        if name == "cleaning":
            for source, kinds in value.items():
                report.count_cleaning(source, {k: n for k, n in kinds.items() if n})
        elif isinstance(value, list):
            getattr(report, name).extend(value)
        else:
            setattr(report, name, getattr(report, name) + value)


def record(chunks: Iterator[Chunk], report: IngestionReport) -> Events:
    """Read one file to the end (`chunks` fills the fresh `report`), noting what it told the report before each
    chunk."""
    events: Events = []
    before = _state(report)
    for chunk in chunks:
        now = _state(report)
        events.append((_delta(before, now), asdict(chunk)))
        before = now
    events.append((_delta(before, _state(report)), None))
    return events


def replay(events: Events, report: IngestionReport) -> Iterator[Chunk]:
    """The file's chunks again, telling `report` what reading it told, at the same points."""
    for changes, chunk in events:
        _apply(changes, report)
        if chunk is not None:
            pages = chunk["pages"]
            yield Chunk(**{**chunk, "pages": tuple(pages) if pages is not None else None})


def pack(events: Events) -> bytes:
    return zlib.compress(json.dumps(events, ensure_ascii=False, separators=(",", ":")).encode("utf-8"), 6)


def unpack(blob: bytes) -> Events:
    return [(changes, chunk) for changes, chunk in json.loads(zlib.decompress(blob).decode("utf-8"))]


class IngestStore:
    """Entries in one SQLite file; each call opens its own connection, so a store is safe to share with threads
    and processes and needs no closing. A store that fails is switched off for the rest of the run."""

    def __init__(self, path: Path):
        self.path = path
        self.usable = True
        self.pruned = False  # entries of other reading code dropped (once a run)

    def _connect(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, timeout=30)
        db.execute("CREATE TABLE IF NOT EXISTS files (key TEXT PRIMARY KEY, version TEXT NOT NULL, events BLOB)")
        return db

    def get(self, key: str) -> bytes | None:
        if not self.usable or not self.path.exists():
            return None
        try:
            db = self._connect()
            try:
                row = db.execute("SELECT events FROM files WHERE key = ?", (key,)).fetchone()
            finally:
                db.close()
        except sqlite3.Error:
            return None  # damaged or busy: this file is read instead (a damaged store is replaced on the next put)
        return None if row is None else bytes(row[0])

    def put(self, entries: list[tuple[str, bytes]]) -> None:
        """Keep entries, dropping those of other reading code (they never match). A file that is no SQLite
        database (damaged) is replaced: it only ever held what reading again recreates."""
        if not self.usable or not entries:
            return
        for attempt in range(2):
            try:
                self._put(entries)
                return
            except sqlite3.DatabaseError as exc:
                if type(exc) is not sqlite3.DatabaseError or attempt:  # locked, full disk: leave it be
                    break
                self.path.unlink(missing_ok=True)
            except (sqlite3.Error, OSError):
                break
        self.usable = False

    def _put(self, entries: list[tuple[str, bytes]]) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        db = self._connect()
        try:
            with db:
                if not self.pruned:
                    db.execute("DELETE FROM files WHERE version != ?", (reader_version(),))
                db.executemany(
                    "INSERT OR REPLACE INTO files (key, version, events) VALUES (?, ?, ?)",
                    [(key, reader_version(), blob) for key, blob in entries],
                )
        finally:
            db.close()
        self.pruned = True


class StoredReading:
    """A `FileReader` for `iter_chunks` that replays a file's stored entry, or reads the file and stores it.

    `write=False` (the counting child) leaves the store to the build; `store=None` only reads (a Ray read task hands
    its entries to the driver). `--no-resume` does not bypass it: an entry is never stale, its key names everything
    that decides the chunks."""

    def __init__(self, store: IngestStore | None, inputs: InputsSpec, base: Path, write: bool = True):
        self.store, self.inputs, self.base, self.write = store, inputs, base, write
        self.chunker = Chunker(inputs.encoding, inputs.chunk_size, inputs.overlap)
        settings = {k: v for k, v in inputs.model_dump(mode="json").items() if k not in NOT_READING}
        self.settings = json.dumps(settings, sort_keys=True)
        self.replayed = 0  # files taken from the store this run
        self.pending: list[tuple[str, bytes]] = []  # read, not stored yet: a write per file would cost more than
        # reading a small text file (a transaction each), so they go in batches; `flush` stores the rest

    def key(self, file: Path) -> str | None:
        """The file's entry key, or None where it is not kept (JSONL) or cannot be read here (its reader says why)."""
        if EXTENSIONS[file.suffix.lower()] not in KEPT_KINDS:
            return None
        try:
            data = file.read_bytes()
        except OSError:
            return None
        digest = hashlib.sha256(data)
        for part in (display_path(file, self.base), self.settings, reader_version()):
            digest.update(b"\0" + part.encode("utf-8"))
        return digest.hexdigest()

    def entry(self, file: Path) -> tuple[str, bytes] | None:
        """Read one file into a stored entry (None where it is not kept)."""
        key = self.key(file)
        if key is None:
            return None
        fresh = IngestionReport()
        return key, pack(record(file_chunks(file, self.base, self.chunker, self.inputs, fresh), fresh))

    def __call__(self, file: Path, report: IngestionReport) -> Iterator[Chunk]:
        key = self.key(file)
        if key is None:
            return file_chunks(file, self.base, self.chunker, self.inputs, report)
        blob = self.store.get(key) if self.store is not None else None
        if blob is not None:
            try:
                events = unpack(blob)
            except (zlib.error, ValueError, TypeError):  # a damaged entry: read the file (and store it afresh)
                pass
            else:
                self.replayed += 1
                return replay(events, report)
        fresh = IngestionReport()
        events = record(file_chunks(file, self.base, self.chunker, self.inputs, fresh), fresh)
        if self.store is not None and self.write:
            self.pending.append((key, pack(events)))
            if len(self.pending) >= FLUSH_FILES or sum(len(blob) for _, blob in self.pending) >= FLUSH_BYTES:
                self.flush()
        return replay(events, report)

    def flush(self) -> None:
        """Store what was read and not stored yet."""
        pending, self.pending = self.pending, []
        if self.store is not None:
            self.store.put(pending)
