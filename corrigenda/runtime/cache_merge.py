"""`corrigenda cache merge CACHE... -o CACHE`: join the caches of shards (or of machines) into one.

Every source must be a sound corrigenda cache this version reads (the same `PRAGMA user_version` schema, or an older
one with the same table); sources are opened read-only and never changed. The first answer for a key wins: the
target's own rows first, then the sources in the order given. A key whose answers differ between files is counted
as a conflict (two runs that sampled the same call differently); identical copies are counted as duplicates. Each
source is added in one transaction, so a failure mid-way leaves whole sources in or out, and rerunning the same merge
adds only what is missing. Stored item results (the `items` table, schema version 3) are merged the same way.

Batch bookkeeping (`batch_calls`, `batches`: schema version 2, batch_store.py) is not copied: a batch belongs to the
cache that submitted it, and only that cache's build can poll, import or cancel it. Answers a batch already returned
are rows of `calls` and merge like any other; calls still pending in a source's batch are missing from the merge and
are asked again (or wait for that shard's build to collect them and the merge to be rerun).
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass, field
from pathlib import Path

from corrigenda.errors import CacheError
from corrigenda.runtime.cache import SCHEMA_VERSION, CallCache


@dataclass
class SourceCount:
    path: Path
    rows: int = 0
    added: int = 0
    duplicates: int = 0  # the same answer was already there
    conflicts: int = 0  # another answer was already there and was kept


@dataclass
class MergeReport:
    target: Path
    sources: list[SourceCount] = field(default_factory=list)
    total: int = 0

    @property
    def conflicts(self) -> int:
        return sum(source.conflicts for source in self.sources)


def _check_source(path: Path) -> None:
    if not path.is_file():
        what = "a folder, not a cache file" if path.is_dir() else "no such file"
        raise CacheError(f"cannot merge {path}: {what}", "name the cache files the shard builds wrote")
    try:
        db = sqlite3.connect(f"{path.resolve().as_uri()}?mode=ro", uri=True)
        try:
            version = db.execute("PRAGMA user_version").fetchone()[0]
            if version > SCHEMA_VERSION:
                raise CacheError(
                    f"cannot merge {path}: schema version {version}, newer than this corrigenda's {SCHEMA_VERSION}",
                    "merge with the corrigenda that wrote it",
                )
            if db.execute("PRAGMA quick_check(1)").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("quick_check failed")
            db.execute("SELECT key, step, item, model, response, created FROM calls LIMIT 1").fetchall()
        finally:
            db.close()
    except sqlite3.Error as exc:
        raise CacheError(
            f"cannot merge {path}: not a corrigenda cache or damaged ({exc})", "leave it out, or rebuild that shard"
        ) from None


def merge_caches(sources: list[Path], target: Path) -> MergeReport:
    """Adds every source's answers to `target` (created when missing); returns what was added and what clashed."""
    resolved = target.resolve()
    for source in sources:
        if source.resolve() == resolved:
            raise CacheError(f"{source} is both a source and the target", "write the merge to a new file with -o")
        _check_source(source)
    created = not target.exists()
    try:
        CallCache(target).close()  # creates it, or checks it is a sound cache of a version we read
    except CacheError as exc:  # its hint speaks of a build's output.cache; here the user chose -o
        hint = "give -o a new file or a cache to add to"
        raise CacheError(f"cannot merge into {target}: {exc.message}", hint) from None
    report = MergeReport(target)
    db = sqlite3.connect(resolved.as_uri(), uri=True, isolation_level=None)
    try:
        db.execute("PRAGMA busy_timeout=30000")
        for source in sources:
            db.execute("ATTACH DATABASE ? AS src", (f"{source.resolve().as_uri()}?mode=ro",))
            db.execute("BEGIN IMMEDIATE")
            count = SourceCount(source, db.execute("SELECT COUNT(*) FROM src.calls").fetchone()[0])
            count.conflicts, count.duplicates = db.execute(
                "SELECT COALESCE(SUM(s.response != m.response), 0), COALESCE(SUM(s.response = m.response), 0) "
                "FROM src.calls s JOIN main.calls m ON m.key = s.key"
            ).fetchone()
            cursor = db.execute(
                "INSERT OR IGNORE INTO main.calls (key, step, item, model, response, created) "
                "SELECT key, step, item, model, response, created FROM src.calls"
            )
            count.added = cursor.rowcount
            if db.execute("SELECT 1 FROM src.sqlite_master WHERE type = 'table' AND name = 'items'").fetchone():
                db.execute("INSERT OR IGNORE INTO main.items SELECT key, result, created FROM src.items")
            db.execute("COMMIT")
            db.execute("DETACH DATABASE src")
            report.sources.append(count)
        report.total = db.execute("SELECT COUNT(*) FROM calls").fetchone()[0]
    except sqlite3.Error as exc:
        if db.in_transaction:
            db.execute("ROLLBACK")
        db.close()
        failed = sources[len(report.sources)] if len(report.sources) < len(sources) else None
        what = f"merging {failed} into {target}" if failed else f"merging into {target}"
        if created and not report.sources:
            _remove_cache(target)  # it held nothing yet: no empty cache is left behind to puzzle over
            kept = "nothing was merged and the new target was removed"
        else:
            kept = f"{len(report.sources)} of {len(sources)} sources are in it, each whole"
        raise CacheError(
            f"{what} failed: {exc}; {kept}", "free space and rerun the same merge (it adds only what is missing)"
        ) from None
    finally:
        db.close()
    return report


def _remove_cache(path: Path) -> None:
    for leftover in (path, *(path.with_name(path.name + suffix) for suffix in ("-journal", "-wal", "-shm"))):
        leftover.unlink(missing_ok=True)
