"""One chunk on its way through the steps, and what happened to it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corrigenda.emit.segmenter import Conversation
from corrigenda.ingest.corpus import Chunk

PENDING, ACCEPTED, UNSUITABLE, FAILED, REJECTED = "pending", "accepted", "unsuitable", "failed", "rejected"


@dataclass
class Item:
    order: int  # position in the corpus: the output order, whatever order calls finish in
    chunk: Chunk
    values: dict[str, Any]  # prompt variables: the chunk's, then each step's outputs
    context: dict[str, Any] = field(default_factory=dict)  # what a non-LLM engine reads (see heuristic/)
    outcome: str = PENDING
    reason_key: str | None = None  # short, for counting failures by reason
    reason: str | None = None  # the full story, for the debug log and reports
    conversation: Conversation | None = None
    rejections: list[dict[str, Any]] = field(default_factory=list)
    reached: set[str] = field(default_factory=set)  # names of the steps that ran on this item
    debug: dict[str, list[dict[str, Any]]] = field(default_factory=dict)  # step -> attempts
    # For the stored item result (see runtime/results.py): its key, every answered call (step, completion record,
    # attempts), every pass through a step (step, round, handed on, failed), and whether a call failed for good.
    result_key: str | None = None
    calls: list[tuple[str, dict[str, Any], int, str, bool]] = field(
        default_factory=list
    )  # step, answer, tries, key, batch
    passes: list[tuple[str, int, bool, bool]] = field(default_factory=list)
    call_failed: bool = False

    def finish(self, outcome: str, reason_key: str | None = None, reason: str | None = None) -> None:
        self.outcome, self.reason_key, self.reason = outcome, reason_key, reason or reason_key
