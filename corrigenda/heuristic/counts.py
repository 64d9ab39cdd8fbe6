"""When a question about a small count gives its answer away, or its wrong count is one no reader would believe.

"There are ____ categories: physical, technical, and administrative" lists the answer right after the blank, so a
wrong count there is not a mistake a person could make; neither is "the three eyes" of a face, or "train three
platoons ... and the third platoon" where an ordinal in the same sentence contradicts it.
"""

from __future__ import annotations

import re

from corrigenda.heuristic.facts import Fact

WORDS = ("one", "two", "three", "four", "five", "six", "seven", "eight", "nine", "ten", "eleven", "twelve")
ORDINALS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
    "tenth",
    "eleventh",
    "twelfth",
)
# Things that come in a number everyone knows: a count of them is never a plausible mistake.
KNOWN_COUNTS = frozenset(
    "eyes ears hands feet legs arms wings twins halves parents lungs kidneys eyebrows cheeks lips nostrils".split()
)
# Conversions everyone knows: "'day' worth 24 hours" is no mistake anyone makes as 25 hours.
KNOWN_CONVERSIONS = {
    ("24", "hours"): "day",
    ("60", "minutes"): "hour",
    ("60", "seconds"): "minute",
    ("7", "days"): "week",
    ("14", "days"): "fortnight",
    ("12", "months"): "year",
    ("365", "days"): "year",
}
ARITHMETIC = re.compile(r"\b(?:times|plus|minus|divided by|multiplied by|makes|equals|increment|decrement)", re.I)
LIST_SEPARATOR = re.compile(r",|;|\band\b|\bor\b")
_COUNT = rf"\b(?:{'|'.join(WORDS)}|[1-9]|1[0-2])\b"
# A total, then a colon, then the parts the blank belongs to.
TOTAL_THEN_PARTS = re.compile(rf"{_COUNT}[^:;.]*:[^:;.]*$", re.IGNORECASE)
# Two things named as the subject, then the count: "Basic and extended regular expressions are ____".
PAIR_THEN_COUNT = re.compile(r"^\W*\w+ and \w+\b[^,;:]*\b(?:are|were)\s+$", re.IGNORECASE)
# Items joined by "and" or a comma ("trace=open,close,read") before "these ____", "those ____" or "both ____": the
# sentence has just named them.
LIST_THEN_THESE = re.compile(r"(?:\band\b|\w,\w).*\b(?:these|those|both)\s*$", re.IGNORECASE)


# The same amount in other units beside it: "a 64 bit (8 octets) block", "a 64 bit (____ octets) block".
EQUIVALENT_AFTER = re.compile(r"^\s*[\w-]+\s*\(\s*(?:=\s*|i\.e\.,?\s*)?\d[\d,.]*\s*[A-Za-z-]+\s*\)")
EQUIVALENT_BEFORE = re.compile(r"\d[\d,.]*\s*[A-Za-z-]+\s*\(\s*(?:=\s*|i\.e\.,?\s*)?$")
# The counted things listed in a parenthesis right after: "____ popular variants (the testing S-box ... and the S-box
# defined by CryptoPro)".
LISTED_IN_PARENTHESES = re.compile(r"^(?:\s+[\w-]+){1,4}\s*\([^()]*(?:\band\b|,)[^()]*\)")


def count_value(text: str) -> int | None:
    """2 for "two", "Two" or "2"; None for anything that is not a count from one to twelve."""
    word = text.strip().lower()
    if word in WORDS:
        return WORDS.index(word) + 1
    return int(word) if word.isdigit() and 1 <= int(word) <= 12 else None


def implausible_count(sentence: str, fact: Fact, wrong: str) -> bool:
    """The count is listed after it, belongs to a thing everyone can count (a day's hours too), or an ordinal in the
    sentence contradicts the wrong value."""
    unit = re.match(r"\s+(\w+)", sentence[fact.end :])
    whole = KNOWN_CONVERSIONS.get((fact.value, unit.group(1) if unit else ""))
    if whole and re.search(rf"\b{whole}\b", sentence[: fact.start], re.IGNORECASE):
        return True
    after = sentence[fact.end :]
    if fact.kind == "number" and (EQUIVALENT_AFTER.match(after) or EQUIVALENT_BEFORE.search(sentence[: fact.start])):
        return True  # "a 64 bit (8 octets) block": the other unit gives the amount away
    value, wrong_value = count_value(fact.value), count_value(wrong)
    if fact.kind != "number" or value is None:
        return False
    if LISTED_IN_PARENTHESES.match(after):
        return True  # "four popular variants (the testing S-box ... and the S-box defined by CryptoPro)"
    if KNOWN_COUNTS.intersection(re.findall(r"[a-z]+", after.lower())[:2]):
        return True
    if ARITHMETIC.search(sentence):
        return True  # "Thirty times ____ makes ninety": the sum gives it away
    if ":" in after or "•" in after or re.search(r";[^;]*\band\b", after):
        return True  # the enumeration follows ("two exceptions to this; '-daystart' and '-follow'")
    if value == 2 and re.match(r"\s+[\w-]+\s+(?:separated|joined|linked)\s+by\s+an?\b", after, re.IGNORECASE):
        return True  # "____ characters separated by a hyphen": one separator between two
    if value == 2 and re.search(r"\bboth\b", sentence, re.IGNORECASE):
        return True  # "when both the 'p' and 'e' options are given, the ordering of the ____"
    if TOTAL_THEN_PARTS.search(sentence[: fact.start]):
        return True  # "only three characters: the underline and the ____ parentheses": the total gives it away
    if LIST_THEN_THESE.search(sentence[: fact.start]):
        return True  # "set 'LANG' to 'es_ES' and 'LC_MESSAGES' to 'sv_SE'; these ____ locales": named just before
    following = " ".join(after.split()[:12])
    if value > 1 and "," in following and len(LIST_SEPARATOR.findall(following)) >= value - 1:
        return True  # "the three passengers, two officers and a major": the items are listed
    if re.search(rf"(?<![\d.,]){value}(?![\d.,]\d)", sentence[: fact.start] + " " + after) and not fact.value.isdigit():
        return True  # "Week T-6 is ____ weeks before": the figure is in the sentence
    if value > 1 and re.search(rf"\b{WORDS[value - 1]}\b", sentence[: fact.start] + " " + after, re.IGNORECASE):
        return True  # "____ regular expressions may be concatenated; ... concatenating two substrings"
    if value == 2 and PAIR_THEN_COUNT.search(sentence[: fact.start]):
        return True  # "Basic and extended regular expressions are ____ variations": the pair is named
    # An ordinal from the count to one past the wrong value ("two platoons ... the third platoon") makes either
    # count a puzzle: the sentence already says how far the numbering goes.
    words = set(re.findall(r"[a-z]+", sentence.lower()))
    low, high = min(value, wrong_value or value), max(value, wrong_value or value) + 1
    return any(ORDINALS[n - 1] in words for n in range(low, min(high, len(ORDINALS)) + 1))
