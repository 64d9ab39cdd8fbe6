"""The contract every released record keeps; a record that breaks any rule is never written."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from corrigenda.emit.segmenter import Conversation


def violations(
    segments: Sequence[Any], conversation: Conversation | None = None, rendered: str | None = None
) -> list[str]:
    """Every broken rule, by name; empty when the record is sound. Without the conversation, only the shape rules."""
    problems: list[str] = []
    if not isinstance(segments, list) or not segments:
        return ["segments: must be a non-empty list"]
    if any(not isinstance(s, dict) or not isinstance(s.get("text"), str) for s in segments):
        return ["segments: every segment needs a string `text`"]
    if any(not isinstance(s.get("label"), bool) for s in segments):
        problems.append("segments: every `label` must be true or false")
    if any(s["text"] == "" for s in segments):
        problems.append("no-empty-segments: a segment has empty text")
    false_indexes = [i for i, s in enumerate(segments) if s.get("label") is False]
    if len(false_indexes) != 1:
        problems.append(f"one-masked-segment: expected exactly one `label: false` segment, found {len(false_indexes)}")
    if false_indexes and false_indexes[-1] == len(segments) - 1:
        problems.append("correction-after-mistake: nothing is trained after the masked segment")
    if rendered is not None and "".join(s["text"] for s in segments) != rendered:
        problems.append("exact-rendering: the segments do not join to the rendered conversation")
    if conversation is not None and len(false_indexes) == 1:
        masked = segments[false_indexes[0]]["text"]
        if conversation.flawed_answer.strip() not in masked:
            problems.append("masked-is-flawed: the masked segment is not the flawed answer")
        trained_after = "".join(s["text"] for s in segments[false_indexes[0] + 1 :] if s.get("label") is True)
        if conversation.correct_answer.strip() not in trained_after:
            problems.append("correction-after-mistake: the correct answer is not trained after the masked segment")
    return problems
