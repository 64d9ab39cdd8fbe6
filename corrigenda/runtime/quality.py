"""Cheap deterministic checks on a conversation, run before any judge model is paid for."""

from __future__ import annotations

import re

from corrigenda.emit.segmenter import Conversation
from corrigenda.runtime.parsing import near_copy

REFERS_TO_SOURCE = re.compile(
    r"\b(?:the|this|that|above|given|provided|following)\s+(?:text|passage|document|excerpt|article|chunk|source)\b",
    re.IGNORECASE,
)
LINK = re.compile(r"https?://|www\.\S+\.\w{2,}", re.IGNORECASE)
NUMBER = re.compile(r"(?<![\w.])\d[\d,]*(?:\.\d+)?")
# "It is 2300, not 2,300": the correction names its value and the one it replaces.
RIGHT_NOT_WRONG = re.compile(r"(?<![\w.])(\d[\d,]*(?:\.\d+)?)\s*[a-zA-Z%]{0,3},?\s+not\s+(\d[\d,]*(?:\.\d+)?)")
QUOTED = re.compile(r"[“\"]([^”\"]{12,})[”\"]")
# (turn, shortest, longest) in characters
LENGTH_BOUNDS = (
    ("initial_question", 10, 2000),
    ("flawed_answer", 2, 8000),
    ("followup_confirmation", 2, 1000),
    ("correct_answer", 2, 8000),
)


def _number(match: re.Match[str]) -> str:
    text = match.group(0).replace(",", "")
    if "." in text:
        text = text.rstrip("0").rstrip(".")
    return text.lstrip("0") or "0"


def normalised_values(text: str) -> str:
    """Text with every number written one way ("2,300" and "2300", "05" and "5", "5.0" and "5" agree), units
    joined or not, case and punctuation ignored."""
    text = NUMBER.sub(_number, text)
    text = re.sub(r"(\d)\s+(?=[a-zA-Z%])", r"\1", text)
    return " ".join(re.sub(r"[^\w%]+", " ", text.casefold()).split())


def same_value_correction(flawed: str, correct: str) -> bool:
    """Whether the flawed answer's value is the correct one spelled another way, so the "mistake" is none."""
    for right, wrong in RIGHT_NOT_WRONG.findall(correct):
        if right != wrong and normalised_values(right) == normalised_values(wrong):
            return True
    flawed_quotes = [q for q in QUOTED.findall(flawed)]
    correct_quotes = [q for q in QUOTED.findall(correct)]
    if flawed_quotes and correct_quotes:
        a, b = " ".join(flawed_quotes[0].split()), " ".join(correct_quotes[0].split())
        return a != b and normalised_values(a) == normalised_values(b)
    a, b = normalised_values(flawed), normalised_values(correct)
    return bool(NUMBER.search(flawed)) and flawed.strip() not in correct and bool(a) and a in b and a != b


def conversation_problems(conversation: Conversation) -> list[str]:
    """Every deterministic reason to reject, as `rule: detail`; empty when the conversation may go to the judge."""
    problems = []
    if near_copy(conversation.flawed_answer, conversation.correct_answer):
        problems.append("near-copy: the correct answer nearly repeats the flawed answer")
    if same_value_correction(conversation.flawed_answer, conversation.correct_answer):
        problems.append("same-value: the flawed answer's value equals the correct one once normalised")
    if REFERS_TO_SOURCE.search(conversation.initial_question):
        problems.append("refers-to-source: the question names the text instead of its subject")
    for turn in ("initial_question", "flawed_answer", "followup_confirmation", "correct_answer"):
        if LINK.search(getattr(conversation, turn)):
            problems.append(f"link: {turn} contains a link")
    for turn, shortest, longest in LENGTH_BOUNDS:
        size = len(getattr(conversation, turn).strip())
        if not shortest <= size <= longest:
            problems.append(f"length: {turn} has {size} characters (allowed {shortest}-{longest})")
    return problems
