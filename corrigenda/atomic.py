"""Write files so a crash never leaves a half-written output: temp file in the same directory, fsync, rename.

The temp file is opened like any file (so it gets the usual permissions: a training job running as another user can
read the dataset) under a name no other process or thread uses: its pid and thread id.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any


def write_bytes(path: Path, data: bytes, durable: bool = True) -> None:
    """`durable=False` skips the fsync: still never half-written, but may be lost on power failure (debug logs)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}-{threading.get_ident()}.tmp")
    try:
        with open(tmp, "wb") as out:
            out.write(data)
            if durable:
                out.flush()
                os.fsync(out.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def sync_directory(path: Path) -> None:
    """Make the renames inside `path` durable: a rename is an entry in the folder, which has its own fsync."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def write_text(path: Path, text: str, durable: bool = True) -> None:
    write_bytes(path, text.encode("utf-8"), durable)


def json_bytes(value: Any) -> bytes:
    """How every JSON file corrigenda writes is laid out: indented, keys sorted, UTF-8, a final newline."""
    return (json.dumps(value, indent=2, ensure_ascii=False, sort_keys=True) + "\n").encode("utf-8")


def write_json(path: Path, value: Any, durable: bool = True) -> None:
    write_bytes(path, json_bytes(value), durable)
