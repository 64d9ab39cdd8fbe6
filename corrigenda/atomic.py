"""Write files so a crash never leaves a half-written output: temp file in the same directory, fsync, rename.

The temp file is created private (mode 0600); before the rename it gets the mode a plain `open()` would have given
it, so a training job running as another user can read the dataset.
"""

from __future__ import annotations

import json
import os
import tempfile
from pathlib import Path
from typing import Any


def _umask() -> int:
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


_CREATED_MODE = 0o666 & ~_umask()  # read once, at import: reading the umask means setting it, for the whole process


def write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """`durable=False` skips the fsync: still never half-written, but may be lost on power failure (debug logs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        with os.fdopen(handle, "wb") as out:
            if hasattr(os, "fchmod"):  # POSIX; Windows has no such mode bits to fix
                os.fchmod(out.fileno(), _CREATED_MODE)
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def write_text(path: Path, text: str, durable: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), durable)


def write_json(path: Path, value: Any, durable: bool = True) -> None:
    write_text(path, json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n", durable)
