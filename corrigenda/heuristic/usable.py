"""Which sentences the engine may ask about: running prose, never page furniture, tables, forms, tables of contents,
headings or paragraph numbers."""

from __future__ import annotations

import re

from corrigenda.heuristic.furniture import has_furniture
from corrigenda.runtime.quality import LINK

BLANK = re.compile(r"_{2,}")
LEADER_DOTS = re.compile(r"\.{3,}|(?:\. ){3,}|…{2,}")
PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
STARTS_AS_HEADING = re.compile(
    r"^(?:chapter|section|appendix|annex|part|figure|table|contents|index|glossary|references)\s+[\dA-Z]", re.I
)
PARAGRAPH_NUMBER = re.compile(r"(?:^|\s)[A-Z]?\d{1,2}-\d{1,3}\.(?:\s|$)")
FORM_FIELD = re.compile(r"\b[A-Z][\w ]{0,20}:\s*(?:_|\[ ?\]|☐)")
# A footnote or manual-page mark glued to a word ("commands(1)", "bash(1)") is markup too.
CODE = re.compile(r"==|!=|<=|>=|[{}`<>]|\w\(\d*\)|\b\w+\.\w+\(")
# Ends on an initial, a lone list number or a page number: a citation or a glued fragment ("... Greenfield, K.R.").
FRAGMENT_END = re.compile(r"(?:\b[A-Z]\.|\s\d{1,3}\.)$")
OCR_JUNK = re.compile(r"\*\w|\b\d+[A-Z]{3,}|[A-Z]{3,}\d")
# A sentence end, then a quoted code item that did not split from it: table or list entries glued together
# ("... exit with status 42. ‘/^foo/’ is a regular-expression address.", "There is a fractional part. '@' seconds"),
# or a number that opens the next entry ("the maximum is 9. 1 means \"no overlap\"").
GLUED_ITEM = re.compile(r"[.!?]\s+(?:['‘](?![A-Z])\S|\d+\s+[a-z])")
BOILERPLATE = re.compile(r"intentionally left blank|distribution statement|approved for public release", re.I)
# A running head glued to the start of a sentence: "Company Planning and Preparation commanders develop ...".
LEADING_HEADING = re.compile(
    r"^(?!(?:The|A|An|In|On|At|By|For|From|To|With|When|If|As|This|That|These|Those|Each|Every|All|Both)\b)"
    r"(?:[A-Z][\w'’-]*\s+(?:(?:and|of|for|the)\s+)?){3,}[a-z]"
)
HEADING_RUN = re.compile(r"(?:\b[A-Z][\w'’-]*\s+){5,}[A-Z]")
# A command-line option list glued into one "sentence": an option, maybe its argument, then its description
# ("... are copied. -O Begin assigning ...", "-a aname The words are ...").
OPTION_ITEM = re.compile(r"(?:^|\s)--?[A-Za-z][\w-]*(?:\s+[a-z]\w*)?\s+[A-Z][a-z]")


def is_prose(sentence: str) -> bool:
    """A complete sentence of running text: not a page header, a table row or a reference with a link."""
    words = sentence.split()
    lowercase = sum(word[0].islower() and word.isalpha() for word in words)
    return (
        6 <= len(words) <= 60
        and sentence[-1] in ".!"  # a question in the text ("How many spaces if there is 3 cm?") states no fact
        and lowercase >= 4
        and lowercase >= 0.3 * len(words)
        and not LINK.search(sentence)
    )


def is_table_or_form(sentence: str) -> bool:
    """A table row, a form, a table of contents or an index line glued into text: no source of values either."""
    words = sentence.split()
    numeric = sum(any(c.isdigit() for c in w) for w in words)
    return bool(
        BLANK.search(sentence)
        or LEADER_DOTS.search(sentence)
        or FORM_FIELD.search(sentence)
        or numeric > max(2, 0.2 * len(words))
    )


def _shouting(sentence: str) -> bool:
    """An all-capitals word run of a heading or a signature block glued in ("MILLER Administrative Assistant")."""
    words = [w.strip(".,;:!?“”\"'’()") for w in sentence.split()]
    capitals = [w for w in words if len(w) >= 4 and w.isalpha() and w.isupper()]
    return len(capitals) >= 2 or bool(capitals and words[0] in capitals)


def usable_sentence(sentence: str, furniture: frozenset[str] = frozenset()) -> bool:
    """Whether a question may be built on `sentence`: prose a reader would recognise as one sentence."""
    if not is_prose(sentence) or not (sentence[0].isupper() or sentence[0] in '“"('):
        return False
    quotes = [c for c in sentence if c in "“”"]
    if quotes and quotes[0] == "”":
        return False  # starts inside a quotation: the question would show half of it
    return not (
        is_table_or_form(sentence)
        or PRIVATE_USE.search(sentence)
        or "•" in sentence  # bullet items glued into one "sentence"
        or STARTS_AS_HEADING.match(sentence)
        or PARAGRAPH_NUMBER.search(sentence)
        or HEADING_RUN.search(sentence)
        or LEADING_HEADING.match(sentence)
        or CODE.search(sentence)
        or OPTION_ITEM.search(sentence)
        or FRAGMENT_END.search(sentence)
        or BOILERPLATE.search(sentence)
        or OCR_JUNK.search(sentence)
        or GLUED_ITEM.search(sentence)
        or _shouting(sentence)
        or has_furniture(sentence, furniture)
    )
