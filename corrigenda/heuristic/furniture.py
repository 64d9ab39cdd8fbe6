"""Page furniture: running heads and footers that PDF extraction glues into sentences.

A footer such as "14 June 2021 FM 7-0 1-3" repeats on every page with only its digits changing, so a phrase that
bears digits and repeats across the document once digits are normalised is furniture; a sentence containing one is
not asked about (and its date must never be the blank).
"""

from __future__ import annotations

import re
from collections import Counter

from corrigenda.heuristic.facts_patterns import MONTHS

WINDOW = 4  # words in a furniture phrase
REPEATS = 4  # a digit-bearing phrase seen this often is furniture, not prose
# A dated publication footer or header: "14 June 2021 FM 7-0", "FM 3-13.4 26 February 2019".
DATED_FOOTER = re.compile(
    rf"\b\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}\s+[A-Z]{{1,6}}\s+\d[\d.\-]*|"
    rf"\b[A-Z]{{1,6}}\s+\d+(?:[-.]\d+)+\s+\d{{1,2}}\s+(?:{MONTHS})\s+\d{{4}}\b"
)


def _shape(word: str) -> str:
    return re.sub(r"\d+", "0", word.strip(".,;:()"))


def _windows(words: list[str]) -> list[str]:
    shapes = [_shape(w) for w in words]
    digits = [any(c.isdigit() for c in w) for w in words]
    out = []
    for i in range(len(words) - WINDOW + 1):
        if sum(digits[i : i + WINDOW]) >= 2:
            out.append(" ".join(shapes[i : i + WINDOW]))
    return out


def furniture_phrases(flat: str) -> frozenset[str]:
    """The digit-bearing phrases (digits normalised) that repeat across a document's text."""
    counts = Counter(_windows(flat.split()))
    return frozenset(phrase for phrase, count in counts.items() if count >= REPEATS)


def has_furniture(sentence: str, furniture: frozenset[str]) -> bool:
    """Whether a sentence carries a page header or footer: a repeated digit-bearing phrase or a dated footer."""
    if DATED_FOOTER.search(sentence):
        return True
    return bool(furniture) and any(window in furniture for window in _windows(sentence.split()))
