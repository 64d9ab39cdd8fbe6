"""The card's reason tables: unsuitable chunks grouped by rule, failures, and rejections counted per conversation.

Reasons are grouped by a rule key, never by their exact text: "too short to ask about (12 words)" and "(13 words)"
are one rule, and a model's free-text reasons (all different) are one group with a couple of examples.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

MODEL_UNSUITABLE = "model: unsuitable"
EXAMPLES = 2
EXAMPLE_CHARS = 120

_PARENTHETICAL = re.compile(r"\s*[(\[][^()\[\]]*[)\]]")
_NUMBER = re.compile(r"[-+]?\d[\d,.]*\s*%?")
_LABEL = re.compile(r"^\W*(?:un)?suitable\s*[:\-–—]\s*", re.IGNORECASE)


@dataclass(frozen=True)
class ReasonTable:
    title: str
    header: list[str]
    rows: list[list[Any]]
    note: str = ""


@dataclass
class _Group:
    count: int = 0
    examples: list[str] = field(default_factory=list)

    def add(self, example: str) -> None:
        self.count += 1
        example = example if len(example) <= EXAMPLE_CHARS else example[: EXAMPLE_CHARS - 1] + "…"
        if len(self.examples) < EXAMPLES and example not in self.examples:
            self.examples.append(example)


def rule_key(reason: str) -> str:
    """A rule's reason without its particulars: the verdict label, parentheticals, numbers and percentages go."""
    text = _LABEL.sub("", reason.strip())
    text = _NUMBER.sub("", _PARENTHETICAL.sub("", text))
    return " ".join(text.split()).strip(" .;:,-") or "no reason given"


def unsuitable_table(keyed: Iterable[tuple[str, str]]) -> ReasonTable:
    """(rule key, full reason) per unsuitable chunk -> one row per rule, with up to two examples of its reasons."""
    groups: dict[str, _Group] = defaultdict(_Group)
    for key, reason in keyed:
        groups[key].add(reason)
    rows = [[key, group.count, " / ".join(group.examples)] for key, group in sorted(groups.items())]
    return ReasonTable(
        "Unsuitable chunks",
        ["rule", "chunks", "examples"],
        rows,
        f"A rule-based filter's reasons are grouped by rule; a model's free-text reasons under `{MODEL_UNSUITABLE}`.",
    )


def _round_label(round_: int | None) -> str:
    if round_ is None:
        return "after generation (duplicate check)"
    return "first generation" if round_ == 0 else f"regeneration {round_}"


def rejection_tables(rows: list[dict[str, Any]], still_rejected: int) -> list[ReasonTable]:
    """From the rows of rejected.jsonl (one per rejected attempt): conversations, attempts per round, reasons."""
    if not rows:
        return []
    conversations = {row["item"] for row in rows}
    by_round = Counter(row["round"] for row in rows)
    reasons: Counter[str] = Counter()
    reason_items: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        for reason in row["reasons"]:
            key = reason.split(":")[0].strip()
            reasons[key] += 1
            reason_items[key].add(row["item"])
    summary = ReasonTable(
        "Rejected conversations",
        ["conversations and attempts", "count"],
        [
            ["rejected conversations (rejected at least once)", len(conversations)],
            ["still rejected at the end (not released)", still_rejected],
            ["rejected attempts (rows of rejected.jsonl)", len(rows)],
        ],
        "A conversation counts once however many reasons or attempts it had; an attempt is one generation judged.",
    )
    attempts = ReasonTable(
        "Rejected attempts by regeneration round",
        ["round", "rejected attempts"],
        [[_round_label(r), by_round[r]] for r in sorted(by_round, key=lambda r: (r is None, r or 0))],
    )
    by_reason = ReasonTable(
        "Rejection reasons (rejected.jsonl)",
        ["reason", "reasons", "conversations"],
        [[key, count, len(reason_items[key])] for key, count in sorted(reasons.items())],
        "Counts reasons, not conversations: an attempt rejected for two reasons counts under both, and a "
        "conversation rejected in two rounds counts once per round.",
    )
    return [summary, attempts, by_reason]
