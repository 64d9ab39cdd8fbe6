"""Every finished LLM call, stored in SQLite the moment it completes, so no run ever pays twice for one.

The key is a hash of everything that decides the answer (endpoint identity, model, rendered messages, sampling,
response format, sample index). WAL mode lets a run that is killed mid-way keep every committed call; the next run
finds them and requests only the rest.

The cache is opened and checked before the first request (a build that would die on a broken cache after paying for
calls wastes money): the file must be a SQLite database that passes `PRAGMA quick_check`, and its schema version
(`PRAGMA user_version`) must be one this corrigenda knows. Every problem is a `CacheError`.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

from corrigenda.errors import CacheError
from corrigenda.runtime.batch_store import BATCH_SCHEMA

# PRAGMA user_version; 0 is a cache written before versions were recorded (the same table); 2 added the batch
# tables (batch_store.py); 3 adds `items`, each finished item of a build, keyed by its plan and chunk, so a rerun that
# would ask nothing skips the steps. Every table is created if missing, so a cache of any older version opens as is.
SCHEMA_VERSION = 3

SCHEMA = """
CREATE TABLE IF NOT EXISTS calls (
    key TEXT PRIMARY KEY,
    step TEXT NOT NULL,
    item TEXT NOT NULL,
    model TEXT NOT NULL,
    response TEXT NOT NULL,
    created REAL NOT NULL
)
"""

ITEMS_SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    key TEXT PRIMARY KEY,
    result TEXT NOT NULL,
    created REAL NOT NULL
)
"""

LOST = "move it aside and rerun (the answers in it are lost and will be requested again)"
OPEN_WAIT_MS = 5000  # how long opening waits for another process's write to end; afterwards writes wait 30 s


def call_key(material: dict[str, Any]) -> str:
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


def _prepare_folder(path: Path) -> None:
    """The cache's folder exists (or is created) and the cache path itself is not a folder."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise CacheError(
            f"the cache at {path} cannot be created: a part of its folder is a file, not a folder",
            "move that file aside or set output.cache to another path",
        ) from None
    except OSError as exc:
        raise CacheError(
            f"the cache at {path} cannot be created: {exc.strerror or exc}",
            "make its folder writable or set output.cache to another path",
        ) from None
    if path.is_dir():
        raise CacheError(f"the cache at {path} is a folder, not a file", "move it aside or set output.cache")


def _short_file(path: Path) -> str | None:
    """Why the file is shorter than its own header says, or None. `quick_check` checks the b-tree, not that the last
    page is whole: a cut mid-page reads as zeros and passes. Only without a write-ahead log beside it, whose frames
    may legitimately be newer than the main file."""
    wal = path.with_name(path.name + "-wal")
    if wal.exists() and wal.stat().st_size > 0:
        return None
    with open(path, "rb") as file:
        header = file.read(100)
    if not header:
        return None  # empty: a new cache
    if len(header) < 100:
        return f"{len(header)} bytes, shorter than a SQLite header"
    page_size = int.from_bytes(header[16:18], "big")
    page_size = 65536 if page_size == 1 else page_size
    valid = header[92:96] == header[24:28]  # the in-header size is current (every SQLite since 3.7.0 keeps it so)
    pages = int.from_bytes(header[28:32], "big") if valid else 0
    size = path.stat().st_size
    if page_size < 512 or size % page_size or size < pages * page_size:
        return f"{size} bytes, but its header says {pages} pages of {page_size} bytes: the file was cut short"
    return None


def _sqlite_header(path: Path) -> bool:
    """Whether the file starts as every SQLite database does."""
    try:
        with open(path, "rb") as file:
            return file.read(16) == b"SQLite format 3\x00"
    except OSError:
        return False


class CallCache:
    """A real SQLite database; one connection, used from the event loop's thread only."""

    def __init__(self, path: Path, writable: bool = True, fallback: Path | None = None):
        _prepare_folder(path)
        self.path, self.writable = path, writable
        self.fallback: CallCache | None = None  # set below, once this cache is open
        try:
            self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        except sqlite3.Error as exc:
            raise CacheError(f"the cache at {path} cannot be opened: {exc}", "make its folder writable") from None
        try:
            self._open()
            # A shard's own cache over the spec's: answers a build there already paid for are copied, not asked again.
            if fallback is not None and fallback.is_file() and fallback.resolve() != path.resolve():
                self.fallback = CallCache(fallback, writable=False)
        except BaseException:
            self._db.close()
            raise

    def _open(self) -> None:
        path = self.path
        try:
            self._db.execute(f"PRAGMA busy_timeout={OPEN_WAIT_MS}")
            version = self._db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CacheError(
                    f"the cache at {path} has schema version {version}, but this corrigenda reads version "
                    f"{SCHEMA_VERSION} at most (a newer corrigenda wrote it)",
                    "upgrade corrigenda, or set output.cache to another path",
                )
            problems = [row[0] for row in self._db.execute("PRAGMA quick_check(1)")]
            if problems != ["ok"]:
                raise sqlite3.DatabaseError(problems[0])
            short = _short_file(path)
            if short:
                raise sqlite3.DatabaseError(short)
            self._db.execute("PRAGMA journal_mode=WAL")
            self._db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process kills, fast commits
            self._db.execute(SCHEMA)
            self._db.execute(ITEMS_SCHEMA)
            for statement in BATCH_SCHEMA:
                self._db.execute(statement)
            if version < SCHEMA_VERSION:
                self._db.execute(f"PRAGMA user_version={SCHEMA_VERSION}")
            if self.writable:
                self._probe_write()
            self._db.execute("PRAGMA busy_timeout=30000")
        except sqlite3.OperationalError as exc:  # read-only file or folder, locked, out of space
            if "locked" in str(exc):  # not a permission problem: waiting is the fix
                raise CacheError(
                    f"the cache at {path} is locked: another process holds a write transaction on it (a build or "
                    "`cache merge` of another corrigenda, a sqlite3 shell) and did not end it within "
                    f"{OPEN_WAIT_MS / 1000:g} s",
                    "nothing was requested; wait for that process or end it, then rerun",
                ) from None
            raise CacheError(
                f"the cache at {path} cannot be written: {exc}", "make it and its folder writable, or free space"
            ) from None
        except (sqlite3.DatabaseError, UnicodeDecodeError) as exc:  # not a database, truncated, corrupt
            detail = " ".join(str(exc).replace("*** in database main ***", "").split())[:160]  # one line
            if not _sqlite_header(path):  # the spec, a prompt, a document: someone else's file, not a lost cache
                raise CacheError(
                    f"the cache at {path} is not a SQLite database ({detail}); it holds something else",
                    "set output.cache to a path of its own (a new cache is created there); if this file was a "
                    "cache, " + LOST,
                ) from None
            raise CacheError(f"the cache at {path} is not a SQLite database or is damaged ({detail})", LOST) from None

    def _probe_write(self) -> None:
        """A read-only cache file opens, reads and even begins a write transaction without complaint; only a real
        write fails, which would be the first answer's, after paying for it. So write once here, and roll back."""
        self._db.execute("BEGIN IMMEDIATE")
        try:
            self._db.execute("CREATE TABLE corrigenda_write_probe (x)")
        finally:
            self._db.execute("ROLLBACK")

    def get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or None; one only the fallback holds is copied here first, so this cache ends complete."""
        answer = self._get(key)
        if answer is None and self.fallback is not None and (answer := self.fallback._get(key)) is not None:
            self._copy("calls", "key, step, item, model, response, created", [key])
        return answer

    def _copy(self, table: str, columns: str, keys: list[str]) -> None:
        """Rows of the fallback's `table`, as they are there (the first answer for a call is the one that counts).
        Item results are not taken from the fallback: their steps run here, so each of their calls is copied."""
        assert self.fallback is not None
        marks = ",".join("?" * len(keys))
        rows = self.fallback._db.execute(f"SELECT {columns} FROM {table} WHERE key IN ({marks})", keys).fetchall()
        places = ",".join("?" * len(columns.split(",")))
        self._db.executemany(f"INSERT OR IGNORE INTO {table} ({columns}) VALUES ({places})", rows)

    def _get(self, key: str) -> dict[str, Any] | None:
        """The stored answer, or None. SQLite keeps no checksum of a row's text, so a damaged row can pass the check on
        open; one that no longer decodes is a miss (asked again and overwritten), never a crash mid-run."""
        try:
            row = self._db.execute("SELECT response FROM calls WHERE key = ?", (key,)).fetchone()
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"the cache at {self.path} is damaged ({exc})", LOST) from None
        except UnicodeDecodeError:
            return None  # its text was damaged
        if row is None:
            return None
        try:
            answer = json.loads(row[0])
        except (TypeError, ValueError):
            return None
        return answer if isinstance(answer, dict) else None

    def put(self, key: str, step: str, item: str, model: str, response: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO calls (key, step, item, model, response, created) VALUES (?, ?, ?, ?, ?, ?)",
            (key, step, item, model, json.dumps(response, ensure_ascii=False), time.time()),
        )

    def get_items(self, keys: list[str]) -> dict[str, dict[str, Any]]:
        """Stored item results for `keys`, in one query; a row that no longer decodes is left out (a miss)."""
        found: dict[str, dict[str, Any]] = {}
        try:
            rows = self._db.execute(
                f"SELECT key, result FROM items WHERE key IN ({','.join('?' * len(keys))})", keys
            ).fetchall()
        except sqlite3.DatabaseError as exc:
            raise CacheError(f"the cache at {self.path} is damaged ({exc})", LOST) from None
        except UnicodeDecodeError:
            return found
        for key, text in rows:
            try:
                value = json.loads(text)
            except (TypeError, ValueError):
                continue
            if isinstance(value, dict):
                found[key] = value
        return found

    def put_item(self, key: str, result: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO items (key, result, created) VALUES (?, ?, ?)",
            (key, json.dumps(result, ensure_ascii=False), time.time()),
        )

    @property
    def db(self) -> sqlite3.Connection:
        """The connection, for the batch bookkeeping that lives in the same file (batch_store.py)."""
        return self._db

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        if self.fallback is not None:
            self.fallback.close()
        self._db.close()
