"""What kind of thing a name is (person, organisation, place), told from cues a reader sees without a model.

A person is only swapped for a person, a unit for a unit, a place for a place; a name whose kind cannot be told is not
asked about. Cues: a title or rank before it, an organisational or geographic word in it, a place preposition before
it, a verb of saying after it, anywhere in the document. Title-case fragments of headings ("Training Management",
"Headquarters Department") are not names: all their words are ordinary words the document also writes in lowercase,
or they occur mostly on short heading lines.
"""

from __future__ import annotations

import re
from collections import Counter
from dataclasses import dataclass, field

TITLES = frozenset(
    "Mr Mrs Ms Miss Dr Sir Lord Lady King Queen Prince Princess Emperor Empress President Vice General Gen "
    "Colonel Col Captain Capt Lieutenant Lt Major Maj Sergeant Sgt Corporal Cpl Private Pvt Admiral Adm Commander "
    "Cdr Marshal Brigadier Governor Gov Senator Sen Secretary Professor Prof Judge Justice Bishop Pope Father "
    "Sister Brother Uncle Aunt Rev Reverend Chancellor Minister Ambassador Mayor Duke Duchess Earl Count Countess "
    "Baron Chief Knight Dame".split()
)
ORGANISATION_WORDS = frozenset(
    "Division Divisions Command Corps Department University College School Institute Academy Company Corporation "
    "Inc Ltd Agency Army Navy Marines Force Forces Regiment Brigade Battalion Squadron Group Committee Council "
    "Association Society Foundation Party Ministry Board Commission Office Bureau Service Services Administration "
    "Reserve Component Components "
    "Railroad Railway Church Bank Parliament Congress Senate Court Centre Center Headquarters Staff Union League "
    "Federation Directorate Directorates "
    "Organization Organisation Laboratory Laboratories Press Museum Library Team Club Fleet Guard".split()
)
PLACE_WORDS = frozenset(
    "River Mountains Mountain Mount Island Islands Lake Ocean Sea Bay Gulf County City Valley Street Road Avenue "
    "Fort Kingdom Republic Province Peninsula Canal Harbor Harbour Desert Forest Park Square Station Strait Cape "
    "Coast Hills Falls Creek Port".split()
)
# A name followed by one of these is a modifier, so what was found is only part of a longer name ("Army Service
# component commands").
MODIFIED = frozenset(w.lower() for w in ORGANISATION_WORDS) | frozenset(
    "unit units level levels personnel members member leaders leader soldiers officer officers staff element "
    "elements forces commander commanders".split()
)
PLACE_PREPOSITIONS = frozenset("in at near".split())
PERSON_VERBS = frozenset("said says wrote writes asked replied answered argued died born himself herself".split())
HEADING_LINE = re.compile(r"^[^.!?;:a-z]*$|^(?:[A-Z][\w'’-]*\s*){1,8}$")


@dataclass
class NameKinds:
    """Cues about every capitalised name in one document, collected as its sentences are read."""

    before: dict[str, Counter[str]] = field(default_factory=dict)
    after: dict[str, Counter[str]] = field(default_factory=dict)
    lowercase: Counter[str] = field(default_factory=Counter)
    headings: str = ""
    _kinds: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def from_texts(cls, texts: list[str]) -> NameKinds:
        lowercase = Counter(w for w in re.findall(r"\b[a-z][a-z'’-]+\b", " ".join(texts)))
        lines = [" ".join(line.split()) for text in texts for line in text.splitlines()]
        headings = "\n".join(line for line in lines if 0 < len(line.split()) <= 8 and HEADING_LINE.match(line))
        return cls(lowercase=lowercase, headings=headings)

    def observe(self, name: str, sentence: str, start: int, end: int) -> None:
        """Remember the word before and the word after one occurrence of `name`."""
        before = sentence[:start].split()[-1:] or [""]
        after = sentence[end:].split()[:1] or [""]
        self.before.setdefault(name, Counter())[before[0].strip('(“",.').rstrip(".")] += 1
        self.after.setdefault(name, Counter())[after[0].strip(',.;:)”"').lower()] += 1
        self._kinds.pop(name, None)

    def kind(self, name: str) -> str | None:
        """ "person", "organisation", "place", or None when no cue tells, or the phrase is no name at all."""
        if name not in self._kinds:
            self._kinds[name] = self._classify(name)
        return self._kinds[name]

    def takes_article(self, name: str) -> bool:
        """Whether the document mostly writes "the" before the name ("the Red Queen", but "Humpty Dumpty"), so a
        swap keeps the sentence grammatical."""
        before = self.before.get(name, Counter())
        return before["the"] + before["The"] > sum(before.values()) / 2

    def _classify(self, name: str) -> str | None:
        if name not in self.before:
            return None  # never seen as a name in the document's sentences
        words = [w for w in name.split() if w[0].isupper()]
        common = [w for w in words if self.lowercase[w.lower()] >= 2]
        if len(common) == len(words):
            return None  # "Training Management": ordinary words in title case, a heading
        seen = sum(self.before.get(name, Counter()).values())
        if seen and self.headings.count(name) * 2 > seen:
            return None  # mostly on heading lines
        before = self.before.get(name, Counter())
        after = self.after.get(name, Counter())
        if sum(after[w] for w in MODIFIED) * 2 > seen:
            return None  # mostly a modifier: part of a longer name
        if words[-1] in ORGANISATION_WORDS:
            return "organisation"
        if words[0] in ORGANISATION_WORDS and len(words) >= 2 and "of" in name.split():
            return "organisation"  # "Department of Defense", "University of Chicago"
        if any(w in PLACE_WORDS for w in words) and len(common) < len(words) - 1 + (words[0] in PLACE_WORDS):
            return "place"  # "Fort Hill", "Hudson River"
        if common:
            return None  # a person's name is not made of the document's ordinary words
        if any(w in TITLES for w in words) or any(w in TITLES for w in before):
            return "person"
        if any(w in PERSON_VERBS for w in self.after.get(name, Counter())):
            return "person"
        if any(w.lower() in PLACE_PREPOSITIONS for w in before):
            return "place"
        return None


FEMALE_TITLES = frozenset("Mrs Ms Miss Lady Queen Princess Empress Duchess Countess Dame Sister Aunt".split())
MALE_TITLES = frozenset("Mr Sir Lord King Prince Emperor Duke Earl Count Baron Father Brother Uncle".split())
PRONOUNS = {
    "female": re.compile(r"\b(?:she|her|hers|herself)\b", re.I),
    "male": re.compile(r"\b(?:he|him|his|himself)\b", re.I),
}


def person_swap_contradicted(sentence: str, wrong: str) -> bool:
    """ "Queen Alice was sitting with his legs crossed", "for Queen Alice looked offended, and she began...": when the
    wrong person's title says a sex and the sentence has gendered pronouns, the pronouns may point at the person asked
    about or at the wrong one, and either way the swap reads as nonsense; such a sentence is not used for a swap."""
    words = wrong.split()
    if set(words[1:]) & set(re.findall(r"[A-Z][a-z]+", sentence)):
        return True  # "Alice said ... that Queen Alice relented": the wrong person is already someone else here
    if words[0] not in FEMALE_TITLES and words[0] not in MALE_TITLES:
        return False
    return any(pattern.search(sentence) for pattern in PRONOUNS.values())
