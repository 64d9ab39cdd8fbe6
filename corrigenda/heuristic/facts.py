"""Checkable facts in plain text: years, quantities and proper names, found with regular expressions.

The heuristic engine asks about one fact and builds the flawed answer by swapping it for another value of the same
kind: a close value from the same document, or, for years and numbers when the document has none, a nearby value
made in the same format. The mistakes are ones a person could make: a year a few years off, a number of the same
size, a person for a person, never a page footer or a heading.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import TypeVar

from corrigenda.heuristic.facts_patterns import MONTHS
from corrigenda.heuristic.furniture import furniture_phrases, has_furniture
from corrigenda.heuristic.names import TITLES, NameKinds
from corrigenda.heuristic.notation import (
    dated,
    fixed_by_convention,
    in_a_series,
    in_other_notation,
    is_computing_figure,
    is_version_or_section,
    one_before_a_singular,
)
from corrigenda.heuristic.usable import is_table_or_form, usable_sentence

T = TypeVar("T")
YEAR = re.compile(r"(?<![\w.,\-/#+–—\[=\\])(1[0-9]{3}|20[0-9]{2})(?![\w\-/–—+\]\\=]|[.,]\d)")
# Not a quantity when glued to code or markup: "?1", "\\0", "[0]", "len=0", "_1", "24:00", a quoted literal ("5",
# '1,$', ‘1’).
NUMBER = re.compile(
    r"(?<![\w.,:\-−/$£€#+–—(?\\\[=_\"'‘])(\d{1,3}(?:,\d{3})+|\d{1,4})(?:\.(\d+))?(?![\w\-/%–—+)\]\\=_\"]|[.,]\d)"
)
# A number right beside another is a table row or a numbered heading ("Since: 1.6 4.1 Auxiliary functions").
BESIDE_A_NUMBER_BEFORE = re.compile(r"\d[ \t]$")
BESIDE_A_NUMBER_AFTER = re.compile(r"[ \t]\d")
# The value spelled out right after it gives the answer away: "denoted by 0 (zero)", "10 (ten) days".
SPELLED_OUT_AFTER = re.compile(r"\s*\((?:zero|one|two|three|four|five|six|seven|eight|nine|ten|eleven|twelve)\)", re.I)
# "from 1939 to 1945", "10 to 20", "between 5 and 8": one end of a range swapped for a value past the other end
# would be nonsense, so neither end is asked about.
RANGE_AFTER = re.compile(r"^\s*(?:to|and|or|through|until)\s+\d")
RANGE_BEFORE = re.compile(
    r"(?:\d|\b(?:one|two|three|four|five|six|seven|eight|nine|ten|eleven))\s*(?:to|and|or|through|until)\s*$|"
    r"\b(?:from|between)\s*$",
    re.IGNORECASE,
)
# A year-like number that is a clock time or a count: "At 1430 hours", "1012 percent", "1024 bytes".
NOT_A_YEAR_AFTER = re.compile(
    r"^\s*(?:hours|hrs|hour|percent|per\b|%|Z\b|local|miles|meters|feet|km|kilometers|bytes?\b|bits?\b|[KMG]i?B\b)"
)
# Before a year: a preposition or a word of time ("in 1863", "the summer of 1944", "May 10, 1869"). A four-digit
# number with none of these, followed by a lowercase word, is a count ("1200 soldiers"), not a year.
YEAR_BEFORE = re.compile(
    rf"(?:\b(?:in|since|by|of|until|till|from|during|before|after|early|late|mid|circa|year|years|summer|winter|"
    rf"spring|autumn|fall|and|or|to|through|between|around|about|was|is|the|{MONTHS})\.?|\d,|\()\s*$",
    re.IGNORECASE,
)
PERCENT_AFTER = re.compile(r"^\s*(?:percent|per cent)\b")
NAME = re.compile(r"\b[A-Z][a-z]+(?:(?:\s+(?:of|de|da|von|van|del|la)\s+|\s+)[A-Z][a-z]+){1,3}\b")
AFTER_MONTH = re.compile(rf"\b(?:{MONTHS})\.?\s*$")
SENTENCE_END = re.compile(r"(?<=[.!?])[\"”’)]*\s+(?=[\"“(]?[A-Z])|\n\s*\n")
# A field-manual paragraph number ("1-20.") between two sentences: dropped, and a sentence break put in its place.
PARAGRAPH_NUMBER = re.compile(
    r"(?:(?<=[.!?:])|^)\s*(?:\b[A-Z]?\d{1,2}-\d{1,3}\.|\(?\b(?:\d{1,2}|[a-z])\)|\b(?:\d{1,2}|[a-z])\.)\s+(?=[\"“(]?[A-Z])",
    re.MULTILINE,
)
# Words before a number that make it an identifier (a form, standard, law, regulation or document number), not a
# year or a quantity: "DA Form 2028", "STANAG 2020", "Public Law 2020", "AR 350-1", "page 12", "mode 0020".
ID_WORDS = frozenset(
    "form forms stanag law laws no no. nos number numbers nr section sections sec article articles art regulation "
    "regulations standard standards iso pub publication page pages p p. pp pp. chapter chapters table tables figure "
    "figures fig fig. paragraph paragraphs para rule rules order directive instruction title volume vol vol. item "
    "items line lines code version model serial report annex appendix enclosure step phase level grade class room "
    "suite box route highway interstate exit tab block lot case docket bill resolution act memo memorandum "
    "circular bulletin manual field technical pamphlet exhibit exhibits attachment attachments tab sheet slide row "
    "column lane task tasks file mode modes umask".split()
)
ACRONYM = re.compile(r"^[A-Z][A-Z0-9&/]{1,}$")
# Capitalised only because they start a sentence or a clause: never part of a name.
NAME_STOPWORDS = frozenset(
    "The This That These Those In On At By For From To Of With Without When Where Which What Who Whom Whose Why "
    "How After Before During Since Until While Although Though Because If Unless As So But And Or Nor Yet Then "
    "Now Next Here There It Its He She They We You Your My Our His Her Their Them Us Me I Yes No Oh Well Also "
    "Only Even Just Still Once Each Every All Some Any Many Most Much More Few Both Either Neither Such Another "
    "Other Not Do Does Did Let Please Perhaps Meanwhile However Therefore Thus Instead Again First Last Later "
    "Soon Said Says Cried Asked Replied Thought Exclaimed A An Is Are Was Were Be Been Has Have Had Will Would "
    "Can Could Should May Might Must Shall See Figure Table Chapter Section Appendix Page Part Note".split()
)
NUMBER_WORDS = ("two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
# A count written as a word, followed by what it counts: "the three components", "Five steps".
NUMBER_WORD = re.compile(
    rf"(?<!hundred and )(?<![\w-])(?:{'|'.join(NUMBER_WORDS)}|{'|'.join(w.title() for w in NUMBER_WORDS)})"
    rf"(?=\s+(?:[a-z]+\s+)?[a-z]+s\b)(?!\s+(?:hundred|thousand|million|or|to|and)\b)(?![\w-])"
)
# A size in bits or bytes: made of powers of two, so "512 bytes" is mistaken for 256 or 1024, never 664.
DATA_UNIT_AFTER = re.compile(r"^\s*(?:bits?|bytes?|[KMGT]i?B|(?:kilo|mega|giga)(?:bytes?|bits?))\b")
# A plural noun after the number: "0 bytes" cannot become "1 bytes".
PLURAL_AFTER = re.compile(r"^\s+(?!does\b|goes\b)[a-z]{2,}[^s\W]s\b")
QUOTE_OPEN = re.compile(r"(?:^|(?<=[\s(\[/]))['‘](?=\S)")
QUOTE_CLOSE = re.compile(r"(?<=\S)['’](?=[\s.,;:!?)\]]|$)")
# A thousand and its binary namesake, each the other's most plausible mistake ("powers of 1024" for 1000).
KILO = {"1000": "1024", "1024": "1000", "1,000": "1,024", "1,024": "1,000"}
# A year further than this from the true one is not a mistake a person would make.
YEAR_SPAN = 25
# How often one value may stand in as the wrong answer within one document: a value reused far more is a heading.
DISTRACTOR_CAP = 5


@dataclass(frozen=True)
class Fact:
    kind: str  # year | number | name
    value: str
    start: int  # within its sentence
    end: int


HEADING_LINE = re.compile(r"^[^\n.!?:;,]{1,60}\n(?=[A-Z])", re.MULTILINE)


def sentences(text: str) -> list[str]:
    """Sentence-like pieces, with list markers, paragraph numbers, Markdown headings and table rows left out."""
    out = []
    text = HEADING_LINE.sub(lambda m: m.group(0) + "\n" if len(m.group(0).split()) < 8 else m.group(0), text)
    text = PARAGRAPH_NUMBER.sub("\n\n", text)
    for piece in SENTENCE_END.split(text):
        sentence = " ".join(piece.split())
        sentence = re.sub(r"^(?:[#>*\-•]+|\d+[.)])\s+", "", sentence)
        if sentence.startswith("(") and ")" not in sentence:
            sentence = sentence[1:]  # a parenthesis's last sentence: its ")" went with the sentence break
        if sentence and "|" not in sentence:
            out.append(sentence)
    return out


def _names(sentence: str) -> list[Fact]:
    found = []
    for match in NAME.finditer(sentence):
        # A stopword ends one name and starts the next: "Stability The" is no name, "So Alice" is one word.
        run: list[tuple[int, str]] = []
        for word in re.finditer(r"\S+", match.group(0)):
            if word.group(0) in NAME_STOPWORDS:
                found += _name_fact(sentence, run)
                run = []
            else:
                run.append((match.start() + word.start(), word.group(0)))
        found += _name_fact(sentence, run)
    return found


def _name_fact(sentence: str, run: list[tuple[int, str]]) -> list[Fact]:
    while run and run[-1][1] in ("of", "de", "da", "von", "van", "del", "la"):
        run = run[:-1]
    capitals = [word for _, word in run if word[0].isupper()]
    if len(capitals) < 2:
        return []
    start = run[0][0]
    end = run[-1][0] + len(run[-1][1])
    if re.match(r"\s+(?:of|de|von|van)\s+[A-Z]|\s+[A-Z]", sentence[end:]):
        return []  # cut off: the name goes on ("Department of Defense Law of War Manual")
    return [Fact("name", sentence[start:end], start, end)]


def _is_identifier(sentence: str, start: int) -> bool:
    """Whether the number at `start` is a document, form or law number ("DA Form 2028", "STANAG 2020")."""
    before = sentence[:start].split()
    if not before:
        return False
    word = before[-1].strip('(“"')
    return word.lower() in ID_WORDS or word.lower().rstrip(".") in ID_WORDS or bool(ACRONYM.match(word))


def _in_range(sentence: str, start: int, end: int) -> bool:
    return bool(RANGE_AFTER.match(sentence[end:]) or RANGE_BEFORE.search(sentence[:start]))


def askable(sentence: str, fact: Fact) -> bool:
    """A fact a question can blank out: once in its sentence, and part of a clause (a lowercase word within three
    words before or two after), not of a page header glued into the sentence ("... 26 February 2019 FM 3-13.4 ...")."""
    if sentence.count(fact.value) != 1:
        return False
    near = sentence[: fact.start].split()[-3:] + sentence[fact.end :].split()[:2]
    return any(word[0].islower() and word.strip(",.;:").isalpha() for word in near)


def in_quoted_span(sentence: str, start: int) -> bool:
    """Whether `start` is inside single quotes ('...' or ‘...’), which manuals use for code and literal input
    ("'Thu Feb 21 23:30:39 2002'", "'sink.~1~'"): an apostrophe ("don't") neither opens nor closes one."""
    before = sentence[:start]
    opening = [m.end() for m in QUOTE_OPEN.finditer(before)]
    return bool(opening) and not QUOTE_CLOSE.search(before, opening[-1])


def facts_in(sentence: str) -> list[Fact]:
    found: list[Fact] = []
    years = [
        Fact("year", m.group(1), m.start(1), m.end(1))
        for m in YEAR.finditer(sentence)
        if not _is_identifier(sentence, m.start(1))
        and not NOT_A_YEAR_AFTER.match(sentence[m.end(1) :])
        and (YEAR_BEFORE.search(sentence[: m.start(1)]) or not re.match(r"\s+[a-z]", sentence[m.end(1) :]))
        and (dated(sentence[: m.start(1)]) or not is_computing_figure(m.group(1)))  # "a multiple of 1000"
        and (dated(sentence[: m.start(1)]) or not PLURAL_AFTER.match(sentence[m.end(1) :]))  # "of 1500 lines"
        and not _in_range(sentence, m.start(1), m.end(1))
        and not in_quoted_span(sentence, m.start(1))
    ]
    found += years
    taken = {(f.start, f.end) for f in years}
    for match in NUMBER.finditer(sentence):
        if (match.start(), match.end()) in taken or (match.start(1), match.end(1)) in taken:
            continue
        after = sentence[match.end() :]
        if NOT_A_YEAR_AFTER.match(after) and len(match.group(0)) == 4 and not DATA_UNIT_AFTER.match(after):
            continue  # a clock time ("1430 hours")
        if _is_identifier(sentence, match.start()):
            continue  # an identifier, or a year-like number: neither a quantity to ask about
        if _in_range(sentence, match.start(), match.end()):
            continue
        if PERCENT_AFTER.match(sentence[match.end() :]) and _number_value(match.group(0)) > 100:
            continue  # "7080 percent": a range whose dash was lost
        if AFTER_MONTH.search(sentence[: match.start()]):  # the day in "May 10"
            continue
        if re.search(r"[.!?]\s*$", sentence[: match.start()]):
            continue  # a page number, heading or list number glued after a sentence ("false. 3 arguments The ...")
        if SPELLED_OUT_AFTER.match(sentence, match.end()):
            continue
        if sentence[match.end() : match.end() + 1] == "*":
            continue
        if in_quoted_span(sentence, match.start()):
            continue  # a literal in a quoted code span ("‘-l 0’", "'-maxdepth 1'"), not a quantity
        if BESIDE_A_NUMBER_BEFORE.search(sentence[: match.start()]) or BESIDE_A_NUMBER_AFTER.match(
            sentence, match.end()
        ):
            continue
        if any(
            rule(sentence, match.start(), match.end())
            for rule in (in_other_notation, in_a_series, is_version_or_section, fixed_by_convention)
        ):
            continue  # "111 (in binary)", "0 means ..., 1 means ...", "GnuPG 2.x": not a count to ask about
        if one_before_a_singular(sentence, match.start(), match.end()):
            continue  # "take up 1 character": the grammar gives any other count away
        found.append(Fact("number", match.group(0), match.start(), match.end()))
    found += [
        Fact("number", m.group(0), m.start(), m.end())
        for m in NUMBER_WORD.finditer(sentence)
        if not _in_range(sentence, m.start(), m.end())
    ]
    found += _names(sentence)
    return sorted(found, key=lambda f: f.start)


def normalise_number(text: str) -> float | None:
    """The value a number stands for, whatever its spelling: "2,300" and "2300", "05" and "5", "5 km" and "5km"."""
    match = re.match(r"\s*[$£€]?\s*(\d[\d,]*(?:\.\d+)?)", text)
    if not match:
        return None
    try:
        return float(match.group(1).replace(",", ""))
    except ValueError:
        return None


def _number_value(text: str) -> float:
    return float(text.replace(",", ""))


def _formatted(value: float, like: str) -> str:
    """`value` written the way `like` is: its decimals, thousands separators and zero padding."""
    decimals = len(like.split(".")[1]) if "." in like else 0
    text = f"{value:,.{decimals}f}" if "," in like else f"{value:.{decimals}f}"
    digits = len(like.split(".")[0].replace(",", ""))
    if like.startswith("0") and digits > 1:
        text = text.zfill(digits + (len(text) - len(text.split(".")[0])))
    return text


def _rank(*material: object) -> str:
    return hashlib.sha256("\0".join(map(str, material)).encode("utf-8")).hexdigest()


def either_way(options: Iterable[T], offset: Callable[[T], float], *material: object) -> list[T]:
    """`options` in a fixed pseudo-random order, those on one side of the true value first (which side, drawn from
    `material`). Why: when the made-up mistake is always the larger value, the correction is always "smaller", a
    shortcut a model trained on the data would learn instead of the document."""
    ranked = sorted(options, key=lambda option: _rank(*material, option))
    larger_first = int(_rank("side", *material), 16) % 2 == 0
    return sorted(ranked, key=lambda option: (offset(option) > 0) != larger_first)


def round_like(wrong: str, value: str) -> bool:
    """For a round figure, whether `wrong` is as round and as long: 1000 is mistaken for 2000 or 1500, never for a
    mode such as 755 or for 500; 80 for 75 or 90, never 100. Any value passes for a figure that is not round."""
    digits, other = value.replace(",", ""), wrong.replace(",", "")
    if "." in value or not digits.isdigit() or not digits.endswith("0") or int(digits) == 0:
        return True
    zeros = len(digits) - len(digits.rstrip("0"))
    return other.isdigit() and len(other) == len(digits) and int(other) % (5 * 10 ** (zeros - 1)) == 0


def made_up_years(value: str, avoid: str) -> list[str]:
    """Years a few years off the true one, not in `avoid` (the sentence), in a fixed pseudo-random order."""
    true = int(value)
    offsets = either_way((-5, -4, -3, -2, -1, 1, 2, 3, 4, 5), lambda k: k, "year", value, avoid)
    return [str(true + k) for k in offsets if len(str(true + k)) == 4 and str(true + k) not in avoid]


def made_up_count_words(value: str, avoid: str) -> list[str]:
    """Counts written as words, one or two off: "three" for "four"."""
    index = NUMBER_WORDS.index(value.lower())
    options = either_way((index + k for k in (-2, -1, 1, 2)), lambda i: i - index, "word", value, avoid)
    out = []
    for option in options:
        if 0 <= option < len(NUMBER_WORDS):
            word = NUMBER_WORDS[option]
            word = word.title() if value[0].isupper() else word
            if not re.search(rf"\b{word}\b", avoid, re.IGNORECASE):
                out.append(word)
    return out


def made_up_powers_of_two(value: str, avoid: str) -> list[str]:
    """Sizes a power of two away ("4 bytes": 2 or 8), for a size that is itself a power of two."""
    true = int(value.replace(",", ""))
    options = [
        *either_way((true // 2, true * 2), lambda v: v - true, "power", value, avoid),
        *either_way((true // 4, true * 4), lambda v: v - true, "power", value, avoid),
    ]
    return [
        text
        for text in (_formatted(v, value) for v in options if v >= 1)
        if not re.search(rf"(?<![\d,.]){re.escape(text)}", avoid)
    ]


def is_binary_size(fact: Fact, sentence: str) -> bool:
    """A number of bits or bytes that is a power of two (2 and up), or any power of two from 256 ("1024 blocks"): its
    mistakes are other powers of two."""
    if fact.kind != "number" or not fact.value.replace(",", "").isdigit():
        return False
    true = int(fact.value.replace(",", ""))
    if true >= 2 and true & (true - 1) == 0:
        return true >= 256 or bool(DATA_UNIT_AFTER.match(sentence[fact.end :]))  # "1024 blocks" too
    return False


def made_up_numbers(value: str, avoid: str) -> list[str]:
    """Numbers of the same size and format: a small count one or two off, a larger one scaled."""
    if value.lower() in NUMBER_WORDS:
        return made_up_count_words(value, avoid)
    true = _number_value(value)
    if "." in value:
        options = [true * f for f in (0.5, 0.75, 1.25, 1.5, 2)]
    else:
        zeros = len(value.replace(",", "")) - len(value.replace(",", "").rstrip("0")) if true else 0
        unit = 10**zeros
        significant = true / unit
        if significant < 10:  # 0 stands in for 1 ("If the value is 0, ..."), never for a larger count
            lowest = 0 if true == 1 else 1
            options = [(significant + k) * unit for k in (-2, -1, 1, 2) if significant + k >= lowest]
        else:
            options = [round(significant * f) * unit for f in (0.5, 0.75, 1.25, 1.5, 2)]
    options = either_way(options, lambda v: v - true, "number", value, avoid)
    out = []
    for option in options:
        text = _formatted(option, value)
        if (
            round_like(text, value)
            and normalise_number(text) != normalise_number(value)
            and not re.search(rf"(?<![\d,.]){re.escape(text)}", avoid)
        ):
            out.append(text)
    return out


@dataclass
class FactPool:
    """What the engine knows of one whole document: every fact value by kind, the kinds of its names, the phrases
    that repeat as page furniture, the full text (a flawed statement must not occur anywhere in it), and the wrong
    value chosen for each fact, assigned in document order under a per-value cap."""

    values: dict[str, list[str]]
    flat: str = ""
    furniture: frozenset[str] = frozenset()
    names: NameKinds = field(default_factory=NameKinds)
    assigned: dict[tuple[str, int, str], str | None] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: list[str]) -> FactPool:
        values: dict[str, list[str]] = {"year": [], "number": [], "name": []}
        seen: set[tuple[str, str]] = set()
        flat = " ".join(" ".join(texts).split())
        furniture = furniture_phrases(flat)
        names = NameKinds.from_texts(texts)
        usable: list[tuple[str, list[Fact]]] = []
        valued: list[tuple[str, list[Fact]]] = []
        for text in texts:
            for sentence in sentences(text):
                facts = facts_in(sentence)
                for fact in facts:
                    if fact.kind == "name":
                        names.observe(fact.value, sentence, fact.start, fact.end)
                if usable_sentence(sentence, furniture):
                    usable.append((sentence, facts))
                # Years and numbers of any clean sentence, short ones too, are values a reader may confuse.
                if not has_furniture(sentence, furniture) and not is_table_or_form(sentence):
                    valued.append((sentence, facts))
        clean = {sentence for sentence, _ in usable}
        for sentence, facts in valued:
            for fact in facts:
                if fact.kind == "name" and (names.kind(fact.value) is None or sentence not in clean):
                    continue
                if (fact.kind, fact.value) not in seen:
                    seen.add((fact.kind, fact.value))
                    values[fact.kind].append(fact.value)
        pool = cls(values, flat, furniture, names)
        uses: Counter[str] = Counter()
        for text in texts:
            # Each chunk is asked about its first candidate fact, years first, then numbers, then names: that is the
            # use counted against the cap, so a value cannot stand in as the wrong answer all over the document.
            first: tuple[int, str] | None = None
            for sentence in sentences(text):
                if sentence not in clean:
                    continue
                for fact in facts_in(sentence):
                    key = (sentence, fact.start, fact.value)
                    if key not in pool.assigned:
                        pool.assigned[key] = pool._choose(fact, sentence, uses)
                    wrong = pool.assigned[key]
                    if wrong is not None and askable(sentence, fact):
                        rank = ("year", "number", "name").index(fact.kind)
                        if first is None or rank < first[0]:
                            first = (rank, wrong)
            if first is not None:
                uses[first[1]] += 1
        return pool

    @property
    def digest(self) -> str:
        material = "\n".join(f"{kind}\t{value}" for kind in sorted(self.values) for value in self.values[kind])
        material += "\n" + hashlib.sha256(self.flat.encode("utf-8")).hexdigest()
        return hashlib.sha256(material.encode("utf-8")).hexdigest()

    def distractor(self, fact: Fact, sentence: str) -> str | None:
        """The most plausible wrong value for `fact`: the one assigned when the document was read, else chosen now."""
        key = (sentence, fact.start, fact.value)
        if key in self.assigned:
            return self.assigned[key]
        return self._choose(fact, sentence, Counter())

    def _choose(self, fact: Fact, sentence: str, uses: Counter[str]) -> str | None:
        """A value from the document if one is close, else (years and numbers) one made up nearby; never one that
        makes a statement the document itself makes."""
        made_up = {"year": made_up_years, "number": made_up_numbers}.get(fact.kind)
        if fact.value in KILO and not DATA_UNIT_AFTER.match(sentence[fact.end :]):
            options: list[str | None] = [KILO[fact.value]]  # "powers of 1000" for 1024: the classic confusion
        elif is_binary_size(fact, sentence):
            options = list(made_up_powers_of_two(fact.value, sentence))
        else:
            options = [self._from_document(fact, sentence, uses), *(made_up(fact.value, sentence) if made_up else [])]
        plural = fact.kind == "number" and PLURAL_AFTER.match(sentence[fact.end :])
        for wrong in options:
            if wrong is None or not self._differs(fact, wrong):
                continue
            if plural and normalise_number(wrong) == 1:
                continue  # "truncated to 1 bytes": the grammar gives the mistake away
            if sentence[: fact.start] + wrong + sentence[fact.end :] not in self.flat:
                return wrong
        return None

    def _differs(self, fact: Fact, wrong: str) -> bool:
        if fact.kind == "name" or fact.value.lower() in NUMBER_WORDS:
            return wrong.casefold() != fact.value.casefold()
        return normalise_number(wrong) != normalise_number(fact.value)

    def _from_document(self, fact: Fact, sentence: str, uses: Counter[str]) -> str | None:
        candidates = [
            v for v in self.values[fact.kind] if v != fact.value and v not in sentence and uses[v] < DISTRACTOR_CAP
        ]
        if fact.kind == "year":
            near = [v for v in candidates if 0 < abs(int(v) - int(fact.value)) <= YEAR_SPAN]
            return min(near, key=lambda v: (abs(int(v) - int(fact.value)), v), default=None)
        if fact.kind == "number":
            if fact.value.lower() in NUMBER_WORDS:
                return None  # made up: one or two off
            true = _number_value(fact.value)
            decimals = "." in fact.value
            if true <= 0:
                return None

            def distance(v: str) -> float:
                return abs(math.log(_number_value(v) / true))

            near = [
                _formatted(_number_value(v), fact.value)
                for v in candidates
                if v.lower() not in NUMBER_WORDS
                and ("." in v) == decimals
                and _number_value(v) > 0
                and _number_value(v) != true
                and distance(v) <= math.log(3)
            ]
            near = [v for v in near if not re.search(rf"(?<![\d,.]){re.escape(v)}", sentence)]
            near = [v for v in near if round_like(v, fact.value)]
            return min(near, key=lambda v: (distance(v), v), default=None)
        kind = self.names.kind(fact.value)
        if kind is None:
            return None
        words = set(fact.value.split()) - TITLES
        last = fact.value.split()[-1]
        near = [
            v
            for v in candidates
            if self.names.kind(v) == kind
            and self.names.takes_article(v) == self.names.takes_article(fact.value)
            and set(v.split()) - TITLES != words
            and v not in fact.value
            and fact.value not in v
            and abs(len(v.split()) - len(fact.value.split())) <= 1
            and (kind != "organisation" or v.split()[-1] == last)  # a Center for a Center, an Army for an Army
        ]
        # One of the same sort first ("Army Reserve" for "Navy Reserve", "White Queen" for "Red Queen"), then any.
        return min(near, key=lambda v: (v.split()[-1] != last, _rank(fact.value, v)), default=None)
