"""`build --shard I/N`: one of N disjoint parts of a build, chosen by each chunk's content hash.

A chunk belongs to shard `int(sha256(text)[:16], 16) % N`, so the split is the same on every run and machine, the
shards together cover every chunk exactly once, and two copies of one text land in the same shard. Each shard
writes its own cache file beside the spec's (`calls.sqlite` -> `calls.shard-2-of-8.sqlite`) and releases nothing:
`corrigenda cache merge` joins the shards' caches and `build --offline` releases the whole dataset from the merge.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from corrigenda.errors import InputError

PATTERN = re.compile(r"^\s*(\d+)\s*/\s*(\d+)\s*$")


@dataclass(frozen=True)
class Shard:
    index: int  # 0 .. count - 1
    count: int

    @classmethod
    def parse(cls, text: str) -> Shard:
        match = PATTERN.match(text)
        if not match or int(match[2]) < 1 or int(match[1]) >= int(match[2]):
            raise InputError(
                f"--shard must be I/N with 0 <= I < N, got {text!r}",
                "shards are numbered from 0: --shard 0/4, 1/4, 2/4 and 3/4 together build everything",
            )
        return cls(int(match[1]), int(match[2]))

    def holds(self, content_hash: str) -> bool:
        return int(content_hash[:16], 16) % self.count == self.index

    def cache_path(self, cache: Path) -> Path:
        """This shard's own cache file, beside the spec's cache."""
        return cache.with_name(f"{cache.stem}.shard-{self.index}-of-{self.count}{cache.suffix}")

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"
