"""Every finished LLM call, stored in SQLite the moment it completes, so no run ever pays twice for one.

The key is a hash of everything that decides the answer (endpoint identity, model, rendered messages, sampling,
response format, sample index). WAL mode lets a run that is killed mid-way keep every committed call; the next run
finds them and requests only the rest.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import time
from pathlib import Path
from typing import Any

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


def call_key(material: dict[str, Any]) -> str:
    canonical = json.dumps(material, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode("utf-8")).hexdigest()


class CallCache:
    """A real SQLite database; one connection, used from the event loop's thread only."""

    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.execute("PRAGMA synchronous=NORMAL")  # with WAL: durable across process kills, fast commits
        self._db.execute("PRAGMA busy_timeout=30000")
        self._db.execute(SCHEMA)

    def get(self, key: str) -> dict[str, Any] | None:
        row = self._db.execute("SELECT response FROM calls WHERE key = ?", (key,)).fetchone()
        return json.loads(row[0]) if row else None

    def put(self, key: str, step: str, item: str, model: str, response: dict[str, Any]) -> None:
        self._db.execute(
            "INSERT OR REPLACE INTO calls (key, step, item, model, response, created) VALUES (?, ?, ?, ?, ?, ?)",
            (key, step, item, model, json.dumps(response, ensure_ascii=False), time.time()),
        )

    def count(self) -> int:
        return self._db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]

    def close(self) -> None:
        self._db.close()
