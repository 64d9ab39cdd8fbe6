"""Read a model's answer into a step's outputs, refusing anything ambiguous.

Each parser returns either the parsed value or a `ParseFailure` whose reason is logged and triggers a fresh sample.
Parsers see only the answer (thinking already removed, see reasoning.py).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any

from corrigenda.emit.segmenter import Conversation

CONVERSATION_TAGS = ("initial_question", "flawed_answer", "followup_confirmation", "correct_answer")


@dataclass(frozen=True)
class ParseFailure:
    reason: str


# "Not suitable", "unsuitable", "isn't suitable" and "not a suitable" are all negative; the last verdict wins.
_VERDICT = re.compile(
    r"(?P<neg>\b(?:not|isn't|is\s+not|un)\s*(?:a\s+|really\s+|very\s+)?suitable\b)|(?P<pos>\bsuitable\b)",
    re.IGNORECASE,
)
_VERDICT_LINE = re.compile(r"^\W*(?:final\s+)?verdict\W*[:\-]\s*(?P<value>.+)$", re.IGNORECASE | re.MULTILINE)


def parse_verdict(answer: str) -> bool | ParseFailure:
    """True for suitable. The explicit `VERDICT:` line decides when present (the last one); otherwise the last
    suitable/unsuitable word in the answer. Negations never count as suitable."""
    lines = list(_VERDICT_LINE.finditer(answer))
    region = lines[-1].group("value") if lines else answer
    matches = list(_VERDICT.finditer(region))
    if not matches:
        return ParseFailure("no verdict: the answer never says SUITABLE or UNSUITABLE")
    return matches[-1].group("pos") is not None


def _tag_pattern(tag: str) -> re.Pattern[str]:
    return re.compile(rf"<{tag}>(.*?)</{tag}>", re.DOTALL | re.IGNORECASE)


_TAG_RESIDUE = re.compile(r"</?(?:" + "|".join(CONVERSATION_TAGS) + r"|think)>", re.IGNORECASE)


def parse_tagged_conversation(answer: str) -> Conversation | ParseFailure:
    """The last complete set of the four tags, in order."""
    starts = [m.start() for m in re.finditer(r"<initial_question>", answer, re.IGNORECASE)]
    if not starts:
        return ParseFailure("missing <initial_question>")
    for start in reversed(starts):  # the last opening followed by all four complete tags
        parts: dict[str, str] = {}
        position = start
        for tag in CONVERSATION_TAGS:
            found = _tag_pattern(tag).search(answer, position)
            if not found:
                break
            parts[tag] = found.group(1).strip()
            position = found.end()
        if len(parts) == len(CONVERSATION_TAGS):
            return validate_conversation(Conversation(**parts))
    missing = [tag for tag in CONVERSATION_TAGS if not _tag_pattern(tag).search(answer)]
    return ParseFailure(f"incomplete conversation: missing or unclosed <{'>, <'.join(missing or ['order'])}>")


def conversation_json_schema() -> dict[str, Any]:
    """The `response_format` schema for structured output."""
    return {
        "type": "object",
        "properties": {tag: {"type": "string", "minLength": 1} for tag in CONVERSATION_TAGS},
        "required": list(CONVERSATION_TAGS),
        "additionalProperties": False,
    }


def _load_json(text: str, what: str) -> Any:
    """A JSON value, also inside a ```json fence; a ParseFailure naming `what` otherwise."""
    stripped = text.strip()
    fenced = re.fullmatch(r"```(?:json)?\s*(.*?)\s*```", stripped, re.DOTALL)
    try:
        return json.loads(fenced.group(1) if fenced else stripped)
    except json.JSONDecodeError as exc:
        return ParseFailure(f"{what} is not JSON: {exc.msg} at line {exc.lineno}")


def parse_json_conversation(answer: str) -> Conversation | ParseFailure:
    data = _load_json(answer, "structured output")
    if isinstance(data, ParseFailure):
        return data
    if not isinstance(data, dict):
        return ParseFailure("structured output is not a JSON object")
    missing = [tag for tag in CONVERSATION_TAGS if not isinstance(data.get(tag), str)]
    if missing:
        return ParseFailure(f"structured output lacks string field(s): {', '.join(missing)}")
    return validate_conversation(Conversation(**{tag: data[tag].strip() for tag in CONVERSATION_TAGS}))


def _normalised(text: str) -> str:
    return " ".join(re.findall(r"\w+", text.lower()))


def validate_conversation(conversation: Conversation) -> Conversation | ParseFailure:
    """Every part present, no tag residue, and a flawed answer that really differs from the correct one."""
    for tag in CONVERSATION_TAGS:
        value = getattr(conversation, tag)
        if not value.strip():
            return ParseFailure(f"empty <{tag}>")
        if _TAG_RESIDUE.search(value):
            return ParseFailure(f"tag residue inside <{tag}>")
    flawed, correct = _normalised(conversation.flawed_answer), _normalised(conversation.correct_answer)
    if flawed == correct:
        return ParseFailure("the flawed answer is the same as the correct answer")
    return conversation


# Words a correction adds without correcting anything ("Yes, sorry, actually the answer is ...").
_FILLER = frozenset(
    "a an the i you we it is was are were be been am not no yes sorry apologies apologise apologize actually "
    "indeed right correct incorrect wrong mistake error my me that this so answer first earlier previous said to "
    "of in and but on at as for with its it's i'm let check again looked look again sure certainly really quite".split()
)


def near_copy(flawed: str, correct: str) -> bool:
    """Whether the correction only repeats the flawed answer: it adds no content word of its own (used by verify).

    A character-similarity threshold would also reject a good correction that quotes a long statement and changes
    only the one wrong value in it."""
    added = set(_normalised(correct).split()) - set(_normalised(flawed).split()) - _FILLER
    return not added


JUDGE_CRITERIA = ("flawed_is_wrong", "pushback_neutral", "correction_supported")
_JUDGE_LINE = re.compile(
    r"^[^\w\n]*(?P<name>flawed[_ ]is[_ ]wrong|pushback[_ ]neutral|correction[_ ]supported)[^\w\n]*[:=][^\w\n]*"
    r"(?P<value>yes|no|true|false|pass|fail)\b[^\w\n]*(?P<reason>.*)$",
    re.IGNORECASE | re.MULTILINE,
)


@dataclass(frozen=True)
class Judgement:
    """Each criterion: (passed, reason). Accepted only when all pass."""

    criteria: dict[str, tuple[bool, str]]

    @property
    def accepted(self) -> bool:
        return all(passed for passed, _ in self.criteria.values())

    @property
    def reasons(self) -> list[str]:
        failed = [(name, reason) for name, (passed, reason) in self.criteria.items() if not passed]
        return [f"{name}: {reason or 'no reason given'}" for name, reason in failed]


def judgement_json_schema() -> dict[str, Any]:
    verdict = {
        "type": "object",
        "properties": {"ok": {"type": "boolean"}, "reason": {"type": "string"}},
        "required": ["ok", "reason"],
        "additionalProperties": False,
    }
    return {
        "type": "object",
        "properties": dict.fromkeys(JUDGE_CRITERIA, verdict),
        "required": list(JUDGE_CRITERIA),
        "additionalProperties": False,
    }


def parse_judgement(answer: str) -> Judgement | ParseFailure:
    """`NAME: yes|no - reason` lines (the last line for each criterion wins), or the structured JSON object."""
    stripped = answer.strip()
    json_problem = None
    if stripped.startswith(("{", "```")):
        structured = _structured_judgement(stripped)
        if isinstance(structured, Judgement):
            return structured
        json_problem = structured  # perhaps prose that starts with a brace: try the lines too
    found: dict[str, tuple[bool, str]] = {}
    for match in _JUDGE_LINE.finditer(answer):
        name = re.sub(r"\W+", "_", match.group("name").lower())
        found[name] = (match.group("value").lower() in ("yes", "true", "pass"), match.group("reason").strip())
    missing = [name for name in JUDGE_CRITERIA if name not in found]
    if missing:
        return json_problem or ParseFailure(f"judgement lacks {', '.join(missing)}")
    return Judgement({name: found[name] for name in JUDGE_CRITERIA})


def _structured_judgement(stripped: str) -> Judgement | ParseFailure:
    data = _load_json(stripped, "judgement")
    if isinstance(data, ParseFailure):
        return data
    criteria = {}
    for name in JUDGE_CRITERIA:
        entry = data.get(name) if isinstance(data, dict) else None
        if not isinstance(entry, dict) or not isinstance(entry.get("ok"), bool):
            return ParseFailure(f"judgement lacks {name}.ok")
        criteria[name] = (entry["ok"], str(entry.get("reason", "")).strip())
    return Judgement(criteria)
