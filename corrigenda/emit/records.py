"""Accepted conversations -> gated `input_output` records, with the chunk each came from."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from corrigenda.compiler.spec import TemplateSpec
from corrigenda.emit.gate import GateProblem, record_problems
from corrigenda.emit.segmenter import Conversation, TemplateShapeError, render_plain, segment


@dataclass(frozen=True)
class Record:
    item: str  # chunk id
    source: str
    conversation: Conversation
    segments: list[dict[str, Any]]

    def input_output(self) -> dict[str, Any]:
        return {"segments": self.segments}


def build_records(
    accepted: list[tuple[str, str, Conversation]], template: TemplateSpec
) -> tuple[list[Record], list[GateProblem]]:
    """Segment and check every conversation; the problems name the record and the broken rule."""
    records: list[Record] = []
    problems: list[GateProblem] = []
    for index, (item, source, conversation) in enumerate(accepted):
        try:
            segments = segment(conversation, template)
        except TemplateShapeError as exc:
            problems.append(GateProblem(index, item, f"template: {exc}"))
            continue
        rendered = render_plain(template, conversation.messages(template.system_prompt))
        problems += record_problems({"segments": segments}, index, item, conversation, rendered)
        records.append(Record(item, source, conversation, segments))
    return records, problems
