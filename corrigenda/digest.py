"""Content hashes of files, streamed so a large input never sits in memory; shared by the plan and the manifest."""

from __future__ import annotations

import hashlib
from pathlib import Path


def file_sha256(path: Path) -> tuple[str, int]:
    """(sha256 hex digest, size in bytes)."""
    digest, size = hashlib.sha256(), 0
    with path.open("rb") as handle:
        while block := handle.read(1 << 20):
            digest.update(block)
            size += len(block)
    return digest.hexdigest(), size
