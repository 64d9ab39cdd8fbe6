"""Undo what PDF text extraction does to the text a person reads: running heads and footers, words split by
character-positioning gaps, and lines broken (or hyphenated) by the layout.

Why split words are repaired after extraction: pypdf's plain mode inserts a space wherever the gap between two
glyphs exceeds a share of the font's space width, with no option to change it, and its layout mode keeps (and
widens) the same gaps ("J  anuary"); so "J anuary" comes out either way and is mended from the document's own words.

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
_ROMAN = re.compile(r"m{0,3}(cm|cd|d?c{0,3})(xc|xl|l?x{0,3})(ix|iv|v?i{0,3})")
_WORD = re.compile(r"[^\W\d_]+")
_WORD_SPLIT = re.compile(r"([^\W\d_]+)")
_WORD_OR_COMPOUND = re.compile(r"[^\W\d_]+(?:-[^\W\d_]+)*")
_LAST_WORD = re.compile(r"[^\W\d_]+$")
# The line-end patterns start with their literal character (lookbehinds after it), which keeps them fast.
# A hyphen is "-" or U+2010 (groff and some PDF producers hyphenate with it); the next line may be indented.
_LINE_END_HYPHEN = re.compile(r"[-\u2010](?<=[^\W\d_][-\u2010])\n[ \t]*(?=[^\W\d_])")
_BROKEN_LINE = re.compile(r"\n(?=[a-z(])(?<=[^\s.!?:;]\n)")
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
    """A line's words with numbers (Roman ones too) as `#`, order ignored: "14 June 2021 FM 7-0 2-3" and "2-4 FM 7-0
    14 June 2021" give the same key, as do "THE SIEGE. 49" and "50 THE SIEGE.", and "Preface iv" and "Preface v"."""
    tokens = _TOKEN.findall(_DIGITS.sub("#", line.lower()))
    return " ".join(sorted("#" if _ROMAN.fullmatch(token) and token else token for token in tokens))


# A chapter's running head ends in the page number ("Chapter 2: ASN.1 structure handling 3"): each chapter's own head
# may be on two pages only, but together they run through the manual, so they are counted as one family.
_HEAD_FAMILY = re.compile(r"^(chapter|appendix|annex|section|part)\s+\S+.{0,70}\s(?:\d+|[ivxlcdm]+)$", re.IGNORECASE)
PAGE_NUMBER = "#"  # the key of a line that is only a page number: running wherever it is on three pages' edges


def edge_keys(line: str) -> list[str]:
    """The keys a line at a page edge is counted under: its own, and its running head family if it has one."""
    key = edge_key(line)
    if not key:
        return []
    family = _HEAD_FAMILY.match(line.strip())
    return [key, f"{family.group(1).lower()} ... #"] if family else [key]


def _edge_indices(lines: list[str]) -> list[int]:
    """The first and last few non-blank lines: up to EDGE_LINES each, and no more than a third of the page each, so
    a short page's body is not mistaken for its edges."""
    content = [i for i, line in enumerate(lines) if line.strip()]
    depth = min(EDGE_LINES, max(1, len(content) // 3))
    return sorted(set(content[:depth] + content[-depth:]))


RUN_SHARE = 0.4  # of the pages from a chapter head's first page to its last that carry it


def running_keys(pages: list[list[str]]) -> set[str]:
    """Keys of lines at the edges of at least three pages that are either on max(3, 30% of) all the pages (the
    manual's title, its footer, page numbers) or on at least 40% of the pages from their first to their last (a
    chapter's title as the running head of that chapter's pages only: in a long manual it is on few of all pages);
    a line that is only a page number counts on any three pages (front and back matter number some pages only).
    The shares are under half so alternating heads ("Chapter 2" on odd pages, the title on even) are caught."""
    if len(pages) < 3:
        return set()
    where: dict[str, list[int]] = {}
    for number, lines in enumerate(pages):
        for key in {key for i in _edge_indices(lines) for key in edge_keys(lines[i])}:
            where.setdefault(key, []).append(number)
    threshold = max(3, math.ceil(len(pages) * 0.3))
    return {
        key
        for key, found in where.items()
        if len(found) >= threshold
        or (len(found) >= 3 and (key == PAGE_NUMBER or len(found) >= RUN_SHARE * (found[-1] - found[0] + 1)))
    }


def drop_running_lines(pages: list[str]) -> tuple[list[str], int]:
    """The pages without their running lines, and how many lines were dropped."""
    split = [page.split("\n") for page in pages]
    running = running_keys(split)
    if not running:
        return pages, 0
    cleaned, dropped = [], 0
    for lines in split:
        drop = {i for i in _edge_indices(lines) if running.intersection(edge_keys(lines[i]))}
        dropped += len(drop)
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return cleaned, dropped


class Vocabulary:
    """The words of one document (lower-cased), and the hyphenated compounds it writes on one line."""

    def __init__(self, pages: Iterable[str]):
        text = "\n\n".join(pages)
        self.words: Counter[str] = Counter(_WORD_OR_COMPOUND.findall(text.lower()))
        self.compounds: set[str] = set()
        for token in [token for token in self.words if "-" in token]:
            count, parts = self.words.pop(token), token.split("-")
            self.compounds.update(f"{a}-{b}" for a, b in pairwise(parts))
            for part in parts:
                self.words[part] += count
        # Fragments around line-end hyphens are not evidence of words: leave them out.
        for left, right, *_ in line_end_hyphens(text):
            self.words[left.lower()] -= 1
            self.words[right.lower()] -= 1
        self.words = +self.words  # only words that occur

    def keeps_hyphen(self, left: str, right: str) -> bool:
        """Whether `left-\\nright` is a hyphenated compound (kept) rather than a word broken across lines (joined)."""
        if f"{left}-{right}".lower() in self.compounds:
            return True
        if (left + right).lower() in self.words:
            return False
        if right[0].isupper():
            return True
        return left.lower() in COMPOUND_FIRST and len(right) >= 3 and right.lower() not in SUFFIXES


def line_end_hyphens(text: str) -> list[tuple[str, str, int, int]]:
    """Each `word-\nword` as (left word, right word, offset of the hyphen, offset of the right word)."""
    found = []
    for match in _LINE_END_HYPHEN.finditer(text):
        at = match.start()
        left = _LAST_WORD.search(text, max(0, at - 64), at)
        right = _WORD.match(text, match.end())
        if left and right:
            found.append((left.group(), right.group(), at, match.end()))
    return found


def join_hyphens(text: str, vocabulary: Vocabulary, counts: Counter[str]) -> str:
    """Hyphens at line ends kept for compounds ("large-scale"), dropped for broken words ("exam-\nple"); either way
    the two halves meet on one line."""
    pieces, start = [], 0
    for left, right, at, end in line_end_hyphens(text):
        keep = vocabulary.keeps_hyphen(left, right)
        counts["line_end_hyphens_kept" if keep else "line_end_hyphens_joined"] += 1
        pieces.append(text[start : at + 1] if keep else text[start:at])
        start = end
    pieces.append(text[start:])
    return "".join(pieces)


def join_line_ends(page: str, vocabulary: Vocabulary, counts: Counter[str]) -> str:
    """Line-end hyphens repaired (`join_hyphens`); a line that stops mid-sentence runs on."""
    return _BROKEN_LINE.sub(" ", join_hyphens(page, vocabulary, counts))


# Words so common that a short document may happen to use them only next to a word they would glue onto.
_COMMON = frozenset("a an i in on to at of by or as is it be the and for we he me my no so up us do go if".split())


def repair_split_words(text: str, vocabulary: Vocabulary, counts: Counter[str]) -> str:
    """Mend "J anuary" -> "January", "Rel igious" -> "Religious": only where the joined word occurs elsewhere in the
    document and neither piece does on its own (a piece may be a single letter other than "a" or "I"), so two real
    words ("break out" beside "breakout", "a part" beside "apart") are never glued."""
    parts = _WORD_SPLIT.split(text)  # separator, word, separator, word, ..., separator
    known = vocabulary.words
    candidates = [
        index
        for index in range(1, len(parts) - 2, 2)
        if parts[index + 1] == " "
        and len(parts[index]) + len(parts[index + 2]) >= 4
        and not parts[index - 1].endswith(("'", "’"))  # "task’s T&EO": the s belongs to the word before
        and (parts[index] + parts[index + 2]).lower() in known
        and parts[index].lower() not in _COMMON
        and parts[index + 2].lower() not in _COMMON
    ]
    if not candidates:
        return text
    in_pairs = Counter(parts[i + k].lower() for i in candidates for k in (0, 2))

    def alone(word: str) -> int:
        return known[word.lower()] - in_pairs[word.lower()]

    joins = [i for i in candidates if all(len(parts[i + k]) == 1 or not alone(parts[i + k]) for k in (0, 2))]
    if not joins:
        return text
    counts["split_words_joined"] += len(joins)
    for index in joins:
        parts[index + 1] = ""
    return "".join(parts)


def page_separator(before: str, after: str) -> str:
    """Pages are paragraphs apart, unless the page ended mid-sentence and the next goes on in lower case."""
    if before and after and (after[0].islower() or after[0] == "(") and not _SENTENCE_END.search(before[-8:]):
        return " "
    return "\n\n"
