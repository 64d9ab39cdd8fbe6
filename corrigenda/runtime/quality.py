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
# (turn, shortest, longest) in characters
LENGTH_BOUNDS = (
    ("initial_question", 10, 2000),
    ("flawed_answer", 2, 8000),
    ("followup_confirmation", 2, 1000),
    ("correct_answer", 2, 8000),
)


def conversation_problems(conversation: Conversation) -> list[str]:
    """Every deterministic reason to reject, as `rule: detail`; empty when the conversation may go to the judge."""
    problems = []
    if near_copy(conversation.flawed_answer, conversation.correct_answer):
        problems.append("near-copy: the correct answer nearly repeats the flawed answer")
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
