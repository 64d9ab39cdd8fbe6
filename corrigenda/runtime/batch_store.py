"""Batch bookkeeping in the cache database: which calls wait for a batch, which batch holds them, and each batch's
state, written the moment it changes.

A process killed while a batch runs at the provider leaves its id here; the rerun polls it instead of sending the
same calls again, so nothing is paid twice. A call's `submissions` counts the batches it was sent in, so a failed or
expired batch is resent only for the calls without a result, a bounded number of times.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

BATCH_SCHEMA = (
    """
    CREATE TABLE IF NOT EXISTS batch_calls (
        key TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        step TEXT NOT NULL,
        item TEXT NOT NULL,
        line TEXT NOT NULL,
        wanted INTEGER NOT NULL DEFAULT 1,
        batch_id TEXT,
        submissions INTEGER NOT NULL DEFAULT 0,
        error TEXT
    )
    """,
    """
    CREATE TABLE IF NOT EXISTS batches (
        id TEXT PRIMARY KEY,
        model TEXT NOT NULL,
        endpoint TEXT NOT NULL,
        input_file TEXT NOT NULL,
        output_file TEXT,
        error_file TEXT,
        status TEXT NOT NULL,
        requests INTEGER NOT NULL,
        completed INTEGER NOT NULL DEFAULT 0,
        failed INTEGER NOT NULL DEFAULT 0,
        ingested INTEGER NOT NULL DEFAULT 0,
        created REAL NOT NULL,
        updated REAL NOT NULL
    )
    """,
)

# States after which a batch changes no more (OpenAI's names; vLLM and others use the same).
TERMINAL = frozenset({"completed", "failed", "expired", "cancelled"})
# Ours: the calls are recorded under `pending:FILE_ID` before the batch is created, so a process killed between the
# provider creating it and this database hearing of it finds the batch again (by its input file) instead of paying
# for the same calls twice.
SUBMITTING = "submitting"


@dataclass(frozen=True)
class BatchRow:
    id: str
    model: str
    endpoint: str
    input_file: str
    output_file: str | None
    error_file: str | None
    status: str
    requests: int
    completed: int
    failed: int
    ingested: bool

    @property
    def live(self) -> bool:
        """Still to be polled, or finished but its results not yet read into the cache."""
        return not self.ingested

    @property
    def running(self) -> bool:
        """At the provider under a known id and not finished: one to ask about or cancel (a submitting one is
        found or sent again by the next build)."""
        return self.status not in TERMINAL and self.status != SUBMITTING


class BatchStore:
    def __init__(self, db: sqlite3.Connection):
        self.db = db

    def want(self, key: str, model: str, step: str, item: str, line: str) -> None:
        """This call is needed and not cached: it goes into the next batch unless one already holds it."""
        self.db.execute(
            "INSERT INTO batch_calls (key, model, step, item, line) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT(key) DO UPDATE SET wanted = 1, line = excluded.line",
            (key, model, step, item, line),
        )

    def forget_wants(self) -> None:
        """Before a pass over the items: only what that pass asks for is sent."""
        self.db.execute("UPDATE batch_calls SET wanted = 0 WHERE wanted = 1")

    def submissions(self, key: str) -> tuple[int, str | None]:
        """How many batches this call was sent in, and the last error a batch reported for it."""
        row = self.db.execute("SELECT submissions, error FROM batch_calls WHERE key = ?", (key,)).fetchone()
        return (row[0], row[1]) if row else (0, None)

    def to_send(self, model: str) -> Iterator[tuple[str, str]]:
        """(key, line) of the wanted calls with no answer that no live batch holds, in a stable order."""
        cursor = self.db.execute(
            "SELECT c.key, c.line FROM batch_calls c "
            "LEFT JOIN batches b ON b.id = c.batch_id "
            "WHERE c.model = ? AND c.wanted = 1 AND (c.batch_id IS NULL OR b.ingested = 1) "
            "AND NOT EXISTS (SELECT 1 FROM calls WHERE calls.key = c.key) ORDER BY c.rowid",
            (model,),
        )
        yield from cursor

    def wanted(self, step: str | None = None, other_than: bool = False) -> Iterator[tuple[str, str]]:
        """(key, line) of the calls the last pass asked for with no answer yet: of `step`, or of every other step."""
        query = (
            "SELECT c.key, c.line FROM batch_calls c WHERE c.wanted = 1 "
            "AND NOT EXISTS (SELECT 1 FROM calls WHERE calls.key = c.key)"
        )
        if step is not None:
            query += " AND c.step != ?" if other_than else " AND c.step = ?"
        yield from self.db.execute(query + " ORDER BY c.rowid", () if step is None else (step,))

    def call(self, key: str) -> tuple[str, str, str, str] | None:
        """(model, step, item, line) of a call sent in a batch or exported, or None."""
        return self.db.execute("SELECT model, step, item, line FROM batch_calls WHERE key = ?", (key,)).fetchone()

    def record_batch(self, row: BatchRow, keys: Iterable[str]) -> None:
        """A batch exists at the provider: stored with its calls in one transaction, before anything else happens."""
        now = time.time()
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "INSERT INTO batches (id, model, endpoint, input_file, status, requests, created, updated) "
                "VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                (row.id, row.model, row.endpoint, row.input_file, row.status, row.requests, now, now),
            )
            self.db.executemany(
                "UPDATE batch_calls SET batch_id = ?, submissions = submissions + 1, error = NULL WHERE key = ?",
                ((row.id, key) for key in keys),
            )

    def rename_batch(self, provisional: str, batch_id: str, status: str) -> None:
        """The provider created the batch recorded as `provisional`: from now on it goes by the provider's id."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute(
                "UPDATE batches SET id = ?, status = ?, updated = ? WHERE id = ?",
                (batch_id, status, time.time(), provisional),
            )
            self.db.execute("UPDATE batch_calls SET batch_id = ? WHERE batch_id = ?", (batch_id, provisional))

    def forget_batch(self, provisional: str) -> None:
        """A batch that was never created: its calls go back to be sent, as if never submitted."""
        with self.db:
            self.db.execute("BEGIN")
            self.db.execute("DELETE FROM batches WHERE id = ?", (provisional,))
            self.db.execute(
                "UPDATE batch_calls SET batch_id = NULL, submissions = MAX(submissions - 1, 0) WHERE batch_id = ?",
                (provisional,),
            )

    def recorded_at(self, batch_id: str) -> float:
        return self.db.execute("SELECT created FROM batches WHERE id = ?", (batch_id,)).fetchone()[0]

    def update(self, batch_id: str, status: str, output: str | None, error: str | None, done: int, failed: int) -> None:
        self.db.execute(
            "UPDATE batches SET status = ?, output_file = ?, error_file = ?, completed = ?, failed = ?, updated = ? "
            "WHERE id = ?",
            (status, output, error, done, failed, time.time(), batch_id),
        )

    def mark_ingested(self, batch_id: str) -> None:
        self.db.execute("UPDATE batches SET ingested = 1, updated = ? WHERE id = ?", (time.time(), batch_id))

    def call_error(self, key: str, error: str) -> None:
        self.db.execute("UPDATE batch_calls SET error = ? WHERE key = ?", (error[:500], key))

    def batch_error(self, batch_id: str, error: str) -> None:
        """Why a batch ended without answering: kept on each of its calls that has no more precise reason."""
        self.db.execute(
            "UPDATE batch_calls SET error = ? WHERE batch_id = ? AND error IS NULL", (error[:500], batch_id)
        )

    def batches(self, model: str | None = None, live_only: bool = False) -> list[BatchRow]:
        query = (
            "SELECT id, model, endpoint, input_file, output_file, error_file, status, requests, completed, failed, "
            "ingested FROM batches"
        )
        where, args = [], []
        if model is not None:
            where.append("model = ?")
            args.append(model)
        if live_only:
            where.append("ingested = 0")
        if where:
            query += " WHERE " + " AND ".join(where)
        rows = self.db.execute(query + " ORDER BY created, id", args).fetchall()
        return [BatchRow(*row[:-1], bool(row[-1])) for row in rows]

    def missing(self, batch_id: str) -> int:
        """Calls of this batch with no answer in the cache."""
        return self.db.execute(
            "SELECT COUNT(*) FROM batch_calls c WHERE c.batch_id = ? "
            "AND NOT EXISTS (SELECT 1 FROM calls WHERE calls.key = c.key)",
            (batch_id,),
        ).fetchone()[0]
