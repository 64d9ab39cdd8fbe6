"""Undo what PDF text extraction does to the text a person reads: running heads and footers, words split by
character-positioning gaps, and lines broken (or hyphenated) by the layout.

Why the rules are conservative: each repair is made only where the document itself shows the answer (a line that
recurs at the edges of many pages, a joined or hyphenated form that occurs elsewhere in it), so real text is never
glued or dropped on a guess.
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Iterable
from itertools import pairwise

EDGE_LINES = 3  # heads and footers are looked for among the first and last few lines of each page
_DIGITS = re.compile(r"\d+")
_TOKEN = re.compile(r"\w+|#")
_WORD = re.compile(r"[^\W\d_]+")
_COMPOUND = re.compile(r"(?<![^\W\d_])([^\W\d_]+)-([^\W\d_]+)(?![^\W\d_])")
_LINE_END_HYPHEN = re.compile(r"(?<![^\W\d_])([^\W\d_]+)-\n([^\W\d_]+)")
_BROKEN_LINE = re.compile(r"(?<=[^\s.!?:;])\n(?=[a-z(])")
_SENTENCE_END = re.compile(r"[.!?:;][\"'”’)\]]*$")
# First parts that make hyphenated compounds ("large-scale", "co-located") rather than syllables, unless the second
# part is a suffix ("high-\nly" is "highly").
COMPOUND_FIRST = frozenset(
    "co non self cross multi semi mid anti well large small full long short high low half near wide".split()
)
SUFFIXES = frozenset(
    "ly er ers est ed ing ings ish ness less ment ments ful age ages ity ities ple ples ply ship dom ward wards ous "
    "en ened ening ance ence al ally ize ized ise ised".split()
)


def edge_key(line: str) -> str:
    """A line's words with numbers as `#`, order ignored: "14 June 2021 FM 7-0 2-3" and "2-4 FM 7-0 14 June 2021"
    give the same key, as do "THE SIEGE. 49" and "50 THE SIEGE."."""
    return " ".join(sorted(_TOKEN.findall(_DIGITS.sub("#", line.lower()))))


def _edge_indices(lines: list[str]) -> list[int]:
    """The first and last few non-blank lines: up to EDGE_LINES each, and no more than a third of the page each, so
    a short page's body is not mistaken for its edges."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    depth = min(EDGE_LINES, max(1, len(content) // 3))
    return sorted(set(content[:depth] + content[-depth:]))


def running_keys(pages: list[list[str]]) -> set[str]:
    """Keys of lines at the edges of at least max(3, 30% of) the pages: running heads, footers, page numbers.
    The share is under half so alternating heads ("Chapter 2" on odd pages, the title on even) are caught."""
    if len(pages) < 3:
        return set()
    counts: Counter[str] = Counter()
    for lines in pages:
        counts.update({key for i in _edge_indices(lines) if (key := edge_key(lines[i]))})
    threshold = max(3, math.ceil(len(pages) * 0.3))
    return {key for key, count in counts.items() if count >= threshold}


def drop_running_lines(pages: list[str]) -> tuple[list[str], int]:
    """The pages without their running lines, and how many lines were dropped."""
    split = [page.split("\n") for page in pages]
    running = running_keys(split)
    if not running:
        return pages, 0
    cleaned, dropped = [], 0
    for lines in split:
        drop = {i for i in _edge_indices(lines) if edge_key(lines[i]) in running}
        dropped += len(drop)
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return cleaned, dropped


class Vocabulary:
    """The words of one document (lower-cased), and the hyphenated compounds it writes on one line."""

    def __init__(self, pages: Iterable[str]):
        text = "\n\n".join(pages)
        self.compounds = {f"{a}-{b}".lower() for a, b in _COMPOUND.findall(text)}
        # Fragments around line-end hyphens are not evidence of words: leave them out.
        self.words = Counter(word.lower() for word in _WORD.findall(_LINE_END_HYPHEN.sub(" ", text)))

    def keeps_hyphen(self, left: str, right: str) -> bool:
        """Whether `left-\\nright` is a hyphenated compound (kept) rather than a word broken across lines (joined)."""
        if f"{left}-{right}".lower() in self.compounds:
            return True
        if (left + right).lower() in self.words:
            return False
        if right[0].isupper():
            return True
        return left.lower() in COMPOUND_FIRST and len(right) >= 3 and right.lower() not in SUFFIXES


def join_line_ends(page: str, vocabulary: Vocabulary, counts: Counter[str]) -> str:
    """Hyphens at line ends kept for compounds, dropped for broken words; a line that stops mid-sentence runs on."""

    def hyphen(match: re.Match[str]) -> str:
        left, right = match.groups()
        if vocabulary.keeps_hyphen(left, right):
            counts["line_end_hyphens_kept"] += 1
            return f"{left}-{right}"
        counts["line_end_hyphens_joined"] += 1
        return left + right

    return _BROKEN_LINE.sub(" ", _LINE_END_HYPHEN.sub(hyphen, page))


# Words so common that a short document may happen to use them only next to a word they would glue onto.
_COMMON = frozenset("a an i in on to at of by or as is it be the and for we he me my no so up us do go if".split())


def repair_split_words(text: str, vocabulary: Vocabulary, counts: Counter[str]) -> str:
    """ "J anuary" -> "January" where the joined word occurs elsewhere in the document and one of the two pieces never
    occurs on its own (so "a part" stays, even beside "apart")."""
    words = list(_WORD.finditer(text))
    candidates = [
        (first, second)
        for first, second in pairwise(words)
        if second.start() == first.end() + 1
        and text[first.end()] == " "
        and (first.group() + second.group()).lower() in vocabulary.words
        and first.group().lower() not in _COMMON
        and second.group().lower() not in _COMMON
    ]
    if not candidates:
        return text
    in_pairs = Counter(m.group().lower() for pair in candidates for m in pair)

    def alone(word: str) -> int:
        return vocabulary.words[word.lower()] - in_pairs[word.lower()]

    joins = [first.end() for first, second in candidates if not alone(first.group()) or not alone(second.group())]
    if not joins:
        return text
    counts["split_words_joined"] += len(joins)
    pieces, start = [], 0
    for space in joins:
        pieces.append(text[start:space])
        start = space + 1
    pieces.append(text[start:])
    return "".join(pieces)


def page_separator(before: str, after: str) -> str:
    """Pages are paragraphs apart, unless the page ended mid-sentence and the next goes on in lower case."""
    if before and after and (after[0].islower() or after[0] == "(") and not _SENTENCE_END.search(before):
        return " "
    return "\n\n"
