"""Numbers that are not what they look like: a computing figure read as a year, a value in another notation read as
a count, a count the grammar or the sentence's own series gives away.

Found on GNU manuals: "powers of 1024" asked as a year, "the resulting 111 (in binary)" mistaken as 122, "they take
up 1 character" made "2 character", and "0 means ..., 1 means ..., 2 means ..." asked about the 1.
"""

from __future__ import annotations

import re

from corrigenda.heuristic.facts_patterns import MONTHS

# Words that date a number on their own; "of", "the" or "and" do not ("a multiple of 1000", "powers of 1024").
DATING_BEFORE = re.compile(
    rf"(?:\b(?:in|since|until|till|during|before|after|circa|early|late|mid|year|(?:summer|winter|spring|autumn|"
    rf"fall|end|start|beginning|middle|year|as)\s+of|{MONTHS})\.?|\d,)\s*$",
    re.IGNORECASE,
)
# A value written in another base: "111 (in binary)", "7 (in octal)", "octal 755", "hex 1F".
NOTATION_NEAR = re.compile(r"\b(?:binary|octal|hexadecimal|hex)\b", re.IGNORECASE)
RADIX_BEFORE = re.compile(r"\bbase\s*$", re.IGNORECASE)  # "then base 10 is used": a radix, not a count
BINARY_LOOKING = re.compile(r"^1[01]{2,}$")
PLURAL_NEXT = re.compile(r"\s+[a-z]{2,}s\b")
OCTAL_LOOKING = re.compile(r"^0[1-7][0-7]{2}$")  # 0644, not a zero-padded 0002
# After "1": a word that is no noun, so "1 if", "1 means", "1 or more" can take another value.
NOT_A_NOUN = frozenset(
    "if and or to is are was were be for of in on at by as so but than then when while with from into per the a an "
    "more less fewer otherwise instead only also each".split()
)


def is_computing_figure(value: str) -> bool:
    """A round hundred or a power of two (1000, 2000, 1024, 2048): a size or a count far more often than a year."""
    number = int(value)
    return number % 100 == 0 or number & (number - 1) == 0


def dated(before: str) -> bool:
    """Whether the words before a four-digit number make it a year by themselves ("in", "since", "May 10,")."""
    return bool(DATING_BEFORE.search(before))


def in_other_notation(sentence: str, start: int, end: int) -> bool:
    """A binary, octal or hexadecimal value: not a counted quantity, so a decimal mistake for it is nonsense."""
    value = sentence[start:end]
    if BINARY_LOOKING.match(value) and not re.match(r"^10*$", value) and not PLURAL_NEXT.match(sentence, end):
        return True  # 111, 101, 1011: a bit pattern (100 and 1000 stay decimal, "101 crates" is a count)
    if OCTAL_LOOKING.match(value):
        return True  # 0755, 0644: a mode
    if value in ("0", "1") and re.search(r"\bbits?\b(?:\s+\w+){0,3}\s*$", sentence[:start]):
        return True  # "the parity bit is always 1": a bit's value, whose only other value is the sentence's "zero"
    near = sentence[max(0, start - 25) : start] + " " + sentence[end : end + 25]
    return bool(NOTATION_NEAR.search(near) or RADIX_BEFORE.search(sentence[:start]))


# A version or a section, not a quantity: "version 0.21", "GnuPG 2.x", "Python 3.8", "Table 2.1", "v4".
VERSION_BEFORE = re.compile(r"\b(?:versions?|releases?|revisions?|rev|v)\.?\s*$", re.IGNORECASE)
VERSION_AFTER = re.compile(r"\.[xX*](?!\w)")
NAMED_BEFORE = re.compile(r"(?<=\S)\s+[A-Z][\w+-]*\s+$")  # a capitalised word, not the sentence's first one


def is_version_or_section(sentence: str, start: int, end: int) -> bool:
    """A version ("gettext version 0.21", "GnuPG 2.x") or a section ("Table 2.1"): asked as a quantity, its mistake
    was another version from the manual ("0.60") or none that exists ("GnuPG 3.x")."""
    before = sentence[:start]
    if VERSION_BEFORE.search(before) or VERSION_AFTER.match(sentence, end):
        return True
    return "." in sentence[start:end] and bool(NAMED_BEFORE.search(before))


# The other branch of a two-way value: "returns 0 if all went well, 1 otherwise" fixes the blank by convention.
OTHER_BRANCH = re.compile(r"(?<![\w.,])\d+\s+(?:otherwise|else|on\s+(?:failure|error|success))\b", re.IGNORECASE)
# A flag set in code: "If ‘small’ is 1", "defines ‘ENABLE_NLS’ to 1", "set USE_NLS to 0": any nonzero value is
# true, so another number is no mistake.
FLAG_BEFORE = re.compile(
    r"(?:[’'\"`]|\b[A-Z][A-Z0-9]*_[A-Z0-9_]+)\s+(?:(?:is|was|be)\s+(?:set\s+)?(?:to\s+)?|to\s+|=\s*|equals?\s+)$"
)


def fixed_by_convention(sentence: str, start: int, end: int) -> bool:
    """A status code beside its other branch ("0 if ..., 1 otherwise") or a flag's 0 or 1: the convention answers."""
    others = [m for m in OTHER_BRANCH.finditer(sentence) if not (m.start() <= start < m.end())]
    if others or (OTHER_BRANCH.match(sentence, start) and re.search(r"(?<![\w.,])\d+\s+if\b", sentence[:start])):
        return True
    return sentence[start:end] in ("0", "1") and bool(FLAG_BEFORE.search(sentence[:start]))


def one_before_a_singular(sentence: str, start: int, end: int) -> bool:
    """ "take up 1 character": any other count breaks the grammar ("2 character"), so the mistake is given away."""
    if sentence[start:end].lower() not in ("1", "one"):
        return False
    word = re.match(r"\s+([a-z]+)\b", sentence[end:])
    return bool(word) and not word.group(1).endswith("s") and word.group(1) not in NOT_A_NOUN  # type: ignore[union-attr]


def in_a_series(sentence: str, start: int, end: int) -> bool:
    """ "0 means ..., 1 means ..., and 2 means ...": the other members of the series state the blank's value."""
    word = re.match(r"\s+(\w+)", sentence[end:])
    if not word:
        return False
    others = [
        m for m in re.finditer(rf"(?<![\w.,])(\d+)\s+{re.escape(word.group(1))}\b", sentence) if m.start() != start
    ]
    return bool(others)
