"""The heuristic engine's filter and generator: deterministic rules over text statistics and extracted facts.

It answers in exactly the format the LLM prompts ask for (a VERDICT line; the four tags), so its answers go through
the same parsers, cache, segmenter and schema gate as a model's. The question and the correct answer quote the chunk;
the wrong value is a close one from the same document, or a nearby one made in the same format (a year a few years
off), and the flawed statement it makes occurs nowhere in the document.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from corrigenda.heuristic.counts import implausible_count
from corrigenda.heuristic.facts import Fact, FactPool, askable, facts_in, sentences
from corrigenda.heuristic.names import person_swap_contradicted
from corrigenda.heuristic.usable import is_prose, usable_sentence

__all__ = ["Candidate", "candidates", "check_conversation", "is_prose", "judge", "title_or_none", "write_conversation"]

LICENCE_WORDS = re.compile(
    r"project gutenberg|licen[cs]e|copyright|all rights reserved|terms of use|warrant(?:y|ies)|disclaimer|"
    r"permission|redistribut",
    re.IGNORECASE,
)
TOC_LINE = re.compile(r"(?:\.{3,}|\s{2,}|\t)\s*\d+\s*$|^\s*(?:chapter|section|part|appendix)\b.*\d+\s*$", re.IGNORECASE)
# "New Haven: Yale University Press, 1972." — a bibliography entry.
CITATION = re.compile(r"\b[A-Z][\w.]+(?: [A-Z][\w.]+)*: [A-Z][^.:]{2,60}, (?:1[5-9]|20)\d\d\b")
INDEX_LINE = re.compile(r"^[^\d]{2,60},\s*\d+(?:[-–]\d+)?(?:,\s*\d+(?:[-–]\d+)?)*\s*$")
ORDER = {"year": 0, "number": 1, "name": 2}

PUSH_BACKS = (
    "Are you sure about that?",
    "Hmm, that doesn't match what I remember. Can you double-check?",
    "Is that right? Please check again.",
    "I'm not convinced that's correct. Could you look at it again?",
    "Really? That doesn't sound right to me.",
    "Can you verify that? I think something is off.",
)
QUESTIONS = (
    "{title}: which {kind} belongs in the blank? “{cloze}”",
    "About {title}, fill in the missing {kind}: “{cloze}”",
    "What {kind} completes this statement about {title}? “{cloze}”",
)
# For a document without a real title: the question names no file stem or id.
UNTITLED_QUESTIONS = (
    "Which {kind} belongs in the blank? “{cloze}”",
    "Fill in the missing {kind}: “{cloze}”",
    "What {kind} completes this statement? “{cloze}”",
)
ID_LIKE = re.compile(r"^[\w.\-]*\d[\w.\-]*$|\.(?:pdf|docx?|txt|md|jsonl?|html?)$", re.IGNORECASE)
FLAWED = (
    "It is {wrong}: “{statement}”",
    "The missing {kind} is {wrong}. The statement reads: “{statement}”",
    "That would be {wrong}, so the full statement is: “{statement}”",
)
CORRECT = (
    "You're right to question that; I made a mistake. The {kind} is {right}, not {wrong}: “{statement}”",
    "I got that wrong. It is {right}, not {wrong}. The correct statement is: “{statement}”",
    "My first answer was incorrect: {wrong} is wrong, and the right {kind} is {right}. “{statement}”",
)


def _pick(options: tuple[str, ...], *seed: object) -> str:
    digest = hashlib.sha256("\0".join(map(str, seed)).encode("utf-8")).digest()
    return options[digest[0] % len(options)]


@dataclass(frozen=True)
class Candidate:
    sentence: str
    fact: Fact
    wrong: str


def title_or_none(title: str) -> str:
    """The title to name in a question, or "" for an id-like one (no spaces, digits and dashes, a file name)."""
    title = " ".join((title or "").split())
    if not title or " " not in title or ID_LIKE.search(title):
        return ""
    return title


def _kind_label(fact: Fact, pool: FactPool) -> str:
    return (pool.names.kind(fact.value) or "name") if fact.kind == "name" else fact.kind


def candidates(text: str, pool: FactPool) -> list[Candidate]:
    """Sentences worth asking about, best first: a clean sentence of prose with a fact that has a plausible swap."""
    found = []
    flat = " ".join(text.split())
    for sentence in sentences(text):
        if not usable_sentence(sentence, pool.furniture):
            continue
        for fact in facts_in(sentence):
            if not askable(sentence, fact):
                continue
            if fact.kind == "name" and pool.names.kind(fact.value) is None:
                continue  # a person, a unit or a place cannot be told apart here: ask about something else
            wrong = pool.distractor(fact, sentence)
            if not wrong or implausible_count(sentence, fact, wrong):
                continue
            if (
                fact.kind == "name"
                and pool.names.kind(fact.value) == "person"
                and person_swap_contradicted(sentence, wrong)
            ):
                continue
            # A wrong statement the document also makes (a near-identical sentence elsewhere) would not be wrong.
            statement = sentence[: fact.start] + wrong + sentence[fact.end :]
            if statement not in flat and statement not in pool.flat:
                found.append(Candidate(sentence, fact, wrong))
    return sorted(found, key=lambda c: ORDER[c.fact.kind])  # stable: document order within a kind


def judge(text: str, pool: FactPool) -> str:
    """The filter's answer: a reason line and a VERDICT line."""
    words = re.findall(r"\S+", text)
    visible = re.sub(r"\s", "", text)
    letters = sum(ch.isalpha() for ch in visible)
    lines = [line for line in text.splitlines() if line.strip()]
    reason = None
    if len(words) < 25:
        reason = f"too short to ask about ({len(words)} words)"
    elif letters < 0.6 * len(visible):
        reason = f"mostly numbers or symbols ({letters / len(visible):.0%} letters)"
    elif lines and sum(bool(TOC_LINE.search(line)) for line in lines) > 0.3 * len(lines):
        reason = "looks like a table of contents"
    elif lines and sum(bool(INDEX_LINE.match(line)) for line in lines) > 0.3 * len(lines):
        reason = "looks like an index"
    elif len(CITATION.findall(text)) >= 3:
        reason = "looks like a bibliography"
    elif len(LICENCE_WORDS.findall(text)) >= 3:
        reason = "licence, copyright or publication boilerplate"
    elif not candidates(text, pool):
        reason = "no checkable fact (year, number or name) that can be asked about"
    if reason:
        return f"Unsuitable: {reason}.\nVERDICT: UNSUITABLE"
    return "Suitable: it states checkable facts a question can be asked about.\nVERDICT: SUITABLE"


def write_conversation(text: str, title: str, pool: FactPool, sample: int) -> str:
    """The generator's answer in the four tags; a later sample asks about the next candidate fact."""
    found = candidates(text, pool)
    if not found:
        return "No fact in this passage can be asked about."
    choice = found[sample % len(found)]
    sentence, fact, wrong = choice.sentence, choice.fact, choice.wrong
    before, after = sentence[: fact.start], sentence[fact.end :]
    seed = (sentence, fact.value, sample)
    kind = _kind_label(fact, pool)
    title = title_or_none(title)
    questions = QUESTIONS if title else UNTITLED_QUESTIONS
    question = _pick(questions, "q", *seed).format(title=title, kind=kind, cloze=f"{before}____{after}")
    flawed = _pick(FLAWED, "f", *seed).format(wrong=wrong, kind=kind, statement=f"{before}{wrong}{after}")
    push_back = _pick(PUSH_BACKS, "p", *seed)
    correct = _pick(CORRECT, "c", *seed).format(right=fact.value, wrong=wrong, kind=kind, statement=sentence)
    return (
        f"<initial_question>{question}</initial_question>\n"
        f"<flawed_answer>{flawed}</flawed_answer>\n"
        f"<followup_confirmation>{push_back}</followup_confirmation>\n"
        f"<correct_answer>{correct}</correct_answer>"
    )


def _values(text: str) -> set[str]:
    return {fact.value for sentence in sentences(text) for fact in facts_in(sentence)} | {
        fact.value for fact in facts_in(" ".join(text.split()))
    }


QUOTE = re.compile(r"[“\"]([^”\"]{12,})[”\"]")


def check_conversation(text: str, turns: dict[str, str]) -> str:
    """The verify step's answer: three criterion lines, judged by whether each turn's facts and quoted statements
    occur in the passage."""
    flat = " ".join(text.split())
    flawed, push_back, correct = turns["flawed_answer"], turns["followup_confirmation"], turns["correct_answer"]
    invented = sorted(v for v in _values(flawed) if v not in flat)
    misquoted = [q for q in QUOTE.findall(flawed) if " ".join(q.split()) not in flat]
    if invented:
        flawed_line = f"flawed_is_wrong: yes - {', '.join(invented)} is not what the passage says"
    elif misquoted:
        flawed_line = "flawed_is_wrong: yes - the statement it quotes is not in the passage"
    else:
        flawed_line = "flawed_is_wrong: no - every fact in the flawed answer appears in the passage"
    leaked = sorted(v for v in _values(push_back) if v in correct and v not in flawed)
    push_line = (
        f"pushback_neutral: no - it gives away {', '.join(leaked)}"
        if leaked
        else "pushback_neutral: yes - it names no fact of the correction"
    )
    claims = {v for v in _values(correct) if v not in flawed}
    unsupported = sorted(v for v in claims if v not in flat)
    unquoted = [q for q in QUOTE.findall(correct) if " ".join(q.split()) not in flat]
    if unsupported:
        correct_line = f"correction_supported: no - {', '.join(unsupported)} is not in the passage"
    elif unquoted:
        correct_line = "correction_supported: no - the statement it quotes is not in the passage"
    elif not claims:
        correct_line = "correction_supported: no - it states no fact from the passage"
    else:
        correct_line = f"correction_supported: yes - {', '.join(sorted(claims))} is in the passage"
    return f"{flawed_line}\n{push_line}\n{correct_line}"
