"""One build at a time per release directory and per cache: an advisory `flock` on a small file beside it, recording
the holder.

Two builds writing one directory would pay twice for every call and then race to swap in their releases; two builds
sharing one cache (other --out folders, other specs) would each pay for every call neither had cached yet. `flock` is
released by the kernel when the holding process exits for any reason (return, crash, `kill -9`), so a lock can never
be left stale; the file itself stays (deleting a lock file while another process waits on it is racy) and is reused.
"""

from __future__ import annotations

import fcntl
import os
from pathlib import Path
from types import TracebackType

from corrigenda.errors import BuildLocked, OutputError


class BuildLock:
    """Held from `acquire()` to `release()` (or process exit); a second holder gets `BuildLocked` at once."""

    def __init__(self, path: Path, target: Path, shared: bool = False, busy: str = "is writing"):
        """`shared`: held by any number of shared holders at once, but never beside an exclusive one (shards of one
        spec read its cache while a whole build of it would write it). `busy` says what the holder does."""
        self.path, self.target, self.shared, self.busy = path, target, shared, busy
        self._fd: int | None = None

    def acquire(self) -> BuildLock:
        try:
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as exc:
            raise OutputError(
                f"cannot create the lock file {self.path}: {exc.strerror or exc}",
                f"make {self.path.parent} writable (it holds {self.target.name}), or choose another place for it",
            ) from None
        try:
            fcntl.flock(fd, (fcntl.LOCK_SH if self.shared else fcntl.LOCK_EX) | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = os.pread(fd, 64, 0).decode("ascii", "replace").strip() or "unknown"
            os.close(fd)
            raise BuildLocked(
                f"another build (pid {holder}) {self.busy} {self.target}",
                "nothing was requested; wait for it to finish or stop it, then rerun (its calls are cached)",
            ) from None
        try:
            os.ftruncate(fd, 0)
            os.pwrite(fd, f"{os.getpid()}\n".encode("ascii"), 0)
        except OSError as exc:  # a full disk: the lock is held, but the pid it names would be lost
            os.close(fd)
            raise OutputError(
                f"cannot write the lock file {self.path}: {exc.strerror or exc}",
                f"nothing was requested; free space on the disk that holds {self.target.name}, then rerun",
            ) from None
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the only descriptor drops the flock
            self._fd = None

    def __enter__(self) -> BuildLock:
        return self.acquire()

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.release()
