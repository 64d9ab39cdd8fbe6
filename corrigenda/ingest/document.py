"""What a reader hands to the chunker, and how a reader says a file (or a line of it) cannot be used."""

from __future__ import annotations

import re
from bisect import bisect_right
from dataclasses import dataclass, field
from typing import Any

_CONTROL = re.compile(r"[\x00-\x08\x0b\x0e-\x1f\x7f\ufeff]")


class Unreadable(Exception):
    """The whole file cannot be used; the message is the reason shown to the user."""


@dataclass(frozen=True)
class Document:
    """One document's normalised text and where it came from."""

    source: str  # the file, as the user named it (relative to the spec when it is under it)
    doc_id: str  # unique and stable: the source, plus `:LINE` for JSONL records
    title: str  # a real title, or "" (never a file name)
    text: str
    page_starts: tuple[int, ...] = ()  # character offset where each PDF page begins
    metadata: dict[str, Any] = field(default_factory=dict)
    # What the readers' clean-up changed, by kind ("private_use_bullets": 12, "running_lines": 40, ...).
    cleaning: dict[str, int] = field(default_factory=dict, compare=False)

    def page_of(self, offset: int) -> int | None:
        """1-based page holding the character at `offset` (None when the document has no pages)."""
        if not self.page_starts:
            return None
        return bisect_right(self.page_starts, offset)


def normalise(text: str) -> str:
    """The one text form everything downstream sees: `\\n` newlines, form feeds as paragraph breaks, no control
    characters or byte-order marks."""
    text = text.replace("\r\n", "\n").replace("\r", "\n").replace("\f", "\n\n")
    return _CONTROL.sub("", text)
