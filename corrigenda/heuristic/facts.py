"""Checkable facts in plain text: years, quantities and proper names, found with regular expressions.

The heuristic engine asks about one fact and builds the flawed answer by swapping it for another fact of the same kind
from the same document, so every wrong answer is plausible and every right answer is in the text.
"""

from __future__ import annotations

import hashlib
import math
import re
from dataclasses import dataclass

MONTHS = (
    "January|February|March|April|May|June|July|August|September|October|November|December|"
    "Jan|Feb|Mar|Apr|Jun|Jul|Aug|Sep|Sept|Oct|Nov|Dec"
)
YEAR = re.compile(r"(?<![\w.,\-/])(1[0-9]{3}|20[0-9]{2})(?![\w\-/]|[.,]\d)")
NUMBER = re.compile(r"(?<![\w.,\-/$£€])(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d+))?(?![\w\-/%]|[.,]\d)")
NAME = re.compile(r"\b[A-Z][a-z]+(?:(?:\s+(?:of|de|da|von|van|del|la)\s+|\s+)[A-Z][a-z]+){1,3}\b")
AFTER_MONTH = re.compile(rf"\b(?:{MONTHS})\.?\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(]?[A-Z])|\n\s*\n")
# Capitalised only because they start a sentence or a clause: never the first word of a name.
NAME_STOPWORDS = frozenset(
    "The This That These Those In On At By For From To Of With Without When Where Which What Who Whom Whose Why "
    "How After Before During Since Until While Although Though Because If Unless As So But And Or Nor Yet Then "
    "Now Next Here There It Its He She They We You Your My Our His Her Their Them Us Me I Yes No Oh Well Also "
    "Only Even Just Still Once Each Every All Some Any Many Most Much More Few Both Either Neither Such Another "
    "Other Not Do Does Did Let Please Perhaps Meanwhile However Therefore Thus Instead Again First Last Later "
    "Soon Said Says Cried Asked Replied Thought Exclaimed".split()
)


@dataclass(frozen=True)
class Fact:
    kind: str  # year | number | name
    value: str
    start: int  # within its sentence
    end: int


HEADING_LINE = re.compile(r"^[^\n.!?:;,]{1,60}\n(?=[A-Z])", re.MULTILINE)


def sentences(text: str) -> list[str]:
    """Sentence-like pieces, with list markers, Markdown headings and table rows left out."""
    out = []
    text = HEADING_LINE.sub(lambda m: m.group(0) + "\n" if len(m.group(0).split()) < 8 else m.group(0), text)
    for piece in SENTENCE_END.split(text):
        sentence = " ".join(piece.split())
        sentence = re.sub(r"^(?:[#>*\-•]+|\d+[.)])\s+", "", sentence)
        if sentence and "|" not in sentence:
            out.append(sentence)
    return out


def _names(sentence: str) -> list[Fact]:
    found = []
    for match in NAME.finditer(sentence):
        words = match.group(0).split()
        start = match.start()
        while words and words[0] in NAME_STOPWORDS:  # "So Alice" -> "Alice", "The Union Pacific" -> "Union Pacific"
            words = words[1:]
            if words:
                start = sentence.index(words[0], start)
        if len(words) >= 2:
            found.append(Fact("name", sentence[start : match.end()], start, match.end()))
    return found


def facts_in(sentence: str) -> list[Fact]:
    found: list[Fact] = []
    years = [Fact("year", m.group(1), m.start(1), m.end(1)) for m in YEAR.finditer(sentence)]
    found += years
    taken = {(f.start, f.end) for f in years}
    for match in NUMBER.finditer(sentence):
        if (match.start(), match.end()) in taken or (match.start(1), match.end(1)) in taken:
            continue
        if AFTER_MONTH.search(sentence[: match.start()]):  # the day in "May 10"
            continue
        found.append(Fact("number", match.group(0), match.start(), match.end()))
    found += _names(sentence)
    return sorted(found, key=lambda f: f.start)


def _number_value(text: str) -> float:
    return float(text.replace(",", ""))


@dataclass
class FactPool:
    """Every fact value of one document, by kind, in first-seen order."""

    values: dict[str, list[str]]

    @classmethod
    def from_texts(cls, texts: list[str]) -> FactPool:
        values: dict[str, list[str]] = {"year": [], "number": [], "name": []}
        seen: set[tuple[str, str]] = set()
        for text in texts:
            for sentence in sentences(text):
                for fact in facts_in(sentence):
                    if (fact.kind, fact.value) not in seen:
                        seen.add((fact.kind, fact.value))
                        values[fact.kind].append(fact.value)
        return cls(values)

    @property
    def digest(self) -> str:
        material = "\n".join(f"{kind}\t{value}" for kind in sorted(self.values) for value in self.values[kind])
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def distractor(self, fact: Fact, sentence: str) -> str | None:
        """The most plausible wrong value: same kind, not in the sentence, closest to the true one."""
        candidates = [v for v in self.values[fact.kind] if v != fact.value and v not in sentence]
        if fact.kind == "year":
            near = [v for v in candidates if 0 < abs(int(v) - int(fact.value)) <= 60]
            return min(near, key=lambda v: (abs(int(v) - int(fact.value)), v), default=None)
        if fact.kind == "number":
            true = _number_value(fact.value)
            decimals = "." in fact.value

            def distance(v: str) -> float:
                return abs(math.log(_number_value(v) / true))

            near = [
                v
                for v in candidates
                if ("." in v) == decimals and true > 0 and _number_value(v) > 0 and distance(v) <= math.log(5)
            ]
            return min(near, key=lambda v: (distance(v), v), default=None)
        words = len(fact.value.split())
        near = [
            v
            for v in candidates
            if len(v.split()) == words
            and fact.value not in v
            and v not in fact.value
            and v.split()[0] not in fact.value
        ]
        if not near:
            return None
        rank = lambda v: hashlib.sha256(f"{fact.value}\0{v}".encode()).hexdigest()  # noqa: E731
        return min(near, key=rank)
