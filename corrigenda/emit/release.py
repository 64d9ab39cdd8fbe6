"""All-or-nothing releases: a build writes into a staging folder beside the release directory and swaps it in whole.

Layout, for a release directory `OUT`:

    OUT/             the last good release; only ever replaced whole
    .OUT.building/   this build's files, debug outputs included (they belong to the release they explain)
    .OUT.previous/   the old release for the instant of the swap (restored by the next build if a crash hit it)
    OUT.failed/      a refused build's reports (gate_failures.json, failed.jsonl, rejected.jsonl, debug outputs)
    .OUT.lock        held by the one build writing OUT (see corrigenda.lock)

So a build refused by its gate, a crash or a disk that fills while writing leaves the previous release intact: its
dataset, card and manifest still agree and `corrigenda check OUT` still passes.
"""

from __future__ import annotations

import os
import shutil
import stat
import sys
from collections.abc import Callable, Iterable
from pathlib import Path

from corrigenda.atomic import sync_directory
from corrigenda.errors import OutputError
from corrigenda.lock import BuildLock

# A directory holding one of these was written by corrigenda (every build writes the ingestion report), so a build may
# replace it; any other non-empty directory might be the user's and is never swapped away.
OWN_MARKERS = ("ingestion_report.json", "manifest.json", "gate_failures.json", "debug_outputs")
PROBE = ".corrigenda-write-probe"


def _inside(path: Path, folder: Path) -> bool:
    return path == folder or folder in path.parents


def _normal(path: Path) -> Path:
    """Absolute, `..` folded; a symlinked release directory is followed, so the swap replaces what it points to."""
    path = Path(os.path.abspath(path))
    return path.resolve() if path.is_symlink() else path


def _cannot_write(path: Path, exc: OSError) -> OutputError:
    """Names the path and why; "File exists" from mkdir means a file sits where a folder is needed, so say which."""
    reason = exc.strerror or str(exc)
    if isinstance(exc, (FileExistsError, NotADirectoryError)):
        blocker = next((p for p in (path, *path.parents) if p.exists() and not p.is_dir()), None)
        reason = f"{blocker} is a file, not a folder" if blocker else reason
    return OutputError(
        f"cannot write {path}: {reason}", "nothing was requested; choose another --out or fix the folder's permissions"
    )


def _remove(path: Path) -> None:
    """Delete a folder of corrigenda's own (an old release, a staging folder), also where its folders were made
    read-only since (`chmod -R a-w` to protect a release): each folder is made writable again just before its
    entries are deleted, as `rm -rf` cannot. What still cannot be deleted (another user's files) is left in place;
    `Release.open` names it before the next build asks for anything."""

    root = os.path.abspath(path)

    def writable_and_retry(function: Callable[[str], object], failed: str, *_: object) -> None:
        for folder in (os.path.dirname(failed), failed):
            if os.path.commonpath([root, os.path.abspath(folder)]) != root:
                continue  # never the folder that holds the one being deleted: that is the user's
            try:
                mode = os.lstat(folder).st_mode
                if stat.S_ISDIR(mode):
                    os.chmod(folder, mode | stat.S_IRWXU)
            except OSError:
                pass
        function(failed)

    try:
        if sys.version_info >= (3, 12):
            shutil.rmtree(path, onexc=writable_and_retry)
        else:  # pragma: no cover - the same callback under its older name
            shutil.rmtree(path, onerror=writable_and_retry)
    except OSError:
        pass


class Release:
    """The staging, failure and lock paths of one release directory, and the moves between them."""

    def __init__(self, final: Path):
        self.final = _normal(final)
        parent, name = self.final.parent, self.final.name
        self.staging = parent / f".{name}.building"
        self.previous = parent / f".{name}.previous"
        self.failed = parent / f"{name}.failed"
        self.lock = BuildLock(parent / f".{name}.lock", self.final)

    def check_location(self, keep: Iterable[Path]) -> None:
        """Refuse, before anything is spent, a release directory whose swap would move away what is not a release:
        the spec, its inputs or prompts, the cache, or a folder holding files corrigenda did not write."""
        for path in keep:
            if _inside(_normal(path), self.final):
                raise OutputError(
                    f"{path} is inside the output directory {self.final}, which each build replaces whole",
                    "set output.dir (or --out) to a folder of its own, and keep output.cache outside it",
                )
        for folder in (self.final, self.failed):
            if folder.exists() and not folder.is_dir():
                raise OutputError(f"cannot write {folder}: it is a file", "move it aside or choose another --out")
            if folder.is_dir() and any(folder.iterdir()) and not any((folder / m).exists() for m in OWN_MARKERS):
                raise OutputError(
                    f"{folder} holds files corrigenda did not write, and each build replaces it whole",
                    "choose a new or empty --out, or move those files aside",
                )

    def open(self) -> None:
        """Lock the release directory, finish a swap a crash interrupted, and start an empty, writable staging
        folder. Called before the first request, so an unwritable location costs nothing."""
        try:
            self.final.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _cannot_write(self.final, exc) from None
        self.lock.acquire()
        try:
            if self.previous.is_dir() and not self.final.exists():
                os.rename(self.previous, self.final)  # the swap was cut between its two renames: undo it
            for leftover, what in ((self.previous, "the release before the last"), (self.staging, "unfinished")):
                _remove(leftover)
                if os.path.lexists(leftover):  # the swap at the end of this build would fail on it, after spending
                    raise OutputError(
                        f"cannot write {self.final}: {leftover} ({what}, left by an earlier build) cannot be deleted",
                        f"nothing was requested; delete {leftover} by hand, then rerun",
                    )
            self.staging.mkdir()
            (self.staging / PROBE).write_bytes(b"")
            (self.staging / PROBE).unlink()
        except OSError as exc:
            self.close()
            raise _cannot_write(self.staging, exc) from None
        except BaseException:
            self.close()
            raise

    def publish(self, files: Iterable[Path]) -> list[Path]:
        """Swap the staging folder in as the release: two renames (old aside, new in), then the old one is deleted.
        Stale failure reports go too: they described an earlier build. Returns `files` at their released paths."""
        if self.final.exists():
            os.rename(self.final, self.previous)
        try:
            os.rename(self.staging, self.final)
        except OSError:
            if self.previous.exists():
                os.rename(self.previous, self.final)
            raise
        sync_directory(self.final.parent)  # the swap survives a power cut, not only a crash
        _remove(self.previous)
        _remove(self.failed)
        return [self.final / path.relative_to(self.staging) for path in files]

    def refuse(self, files: Iterable[Path]) -> list[Path]:
        """The build was refused: its reports become `OUT.failed/` and the release directory is left as it was."""
        _remove(self.failed)
        os.rename(self.staging, self.failed)
        sync_directory(self.failed.parent)
        return [self.failed / path.relative_to(self.staging) for path in files]

    def abandon(self) -> None:
        """The build stopped (an error, Ctrl-C, a full disk): drop its staging folder, free the space."""
        shutil.rmtree(self.staging, ignore_errors=True)

    def close(self) -> None:
        self.lock.release()
