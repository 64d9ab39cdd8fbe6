"""Project Gutenberg's framing around a book: the header before `*** START OF THE PROJECT GUTENBERG EBOOK ... ***` and
the licence after `*** END OF ... ***` (about 350 lines of terms, refunds, donations and tax law).

Why at reading time: none of it is the book a person reads, yet cut into chunks it looks like prose with numbers in it
("a full refund ... within 90 days", "in all 50 states"), so it reaches a model's prompts (paid for) and, with small
chunks, the released questions. The markers are fixed strings Project Gutenberg has written since the 1990s, so the cut
is exact; a file without them is left as it is.
"""

from __future__ import annotations

import re

_MARKER = r"^\*{3} ?%s OF (?:THE|THIS) PROJECT GUTENBERG E-?(?:BOOK|TEXT)\b.*$"
_START = re.compile(_MARKER % "START", re.IGNORECASE | re.MULTILINE)
_END = re.compile(_MARKER % "END", re.IGNORECASE | re.MULTILINE)
# Older files close the book with its own line just before the END marker: "End of Project Gutenberg's X, by Y".
_CLOSING_LINE = re.compile(r"\n[ \t]*End of (?:the )?Project Gutenberg\b[^\n]*\s*$", re.IGNORECASE)


def book_text(text: str) -> tuple[str, int]:
    """The text between a Project Gutenberg file's START and END markers (to the end when there is no END marker),
    and how many lines were cut; a text without a START marker comes back whole, with 0."""
    start = _START.search(text)
    if start is None:
        return text, 0
    end = _END.search(text, start.end())
    body = text[start.end() : end.start() if end else len(text)]
    body = _CLOSING_LINE.sub("", body).strip("\n")
    return body, text.count("\n") - body.count("\n")
