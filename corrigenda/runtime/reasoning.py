"""Separate a reasoning model's thinking from its answer before anything is parsed.

Thinking arrives either in a separate `reasoning_content` field or as a leading `<think>...</think>` block in the
content (some servers drop the opening tag and send only `...</think>`). Tags mentioned inside the thinking must not
be mistaken for the answer, so only the text after the thinking is parsed.
"""

from __future__ import annotations

import re

_OPEN = re.compile(r"^\s*<(think|thinking|reasoning)>", re.IGNORECASE)


def split_reasoning(content: str, reasoning_field: str | None = None) -> tuple[str, str]:
    """(reasoning, answer). An unclosed `<think>` means the answer never came: the answer is empty."""
    reasoning_parts = [reasoning_field.strip()] if reasoning_field and reasoning_field.strip() else []
    opening = _OPEN.match(content)
    if opening:
        closing = re.search(rf"</{opening.group(1)}>", content[opening.end() :], re.IGNORECASE)
        if closing is None:
            return "\n\n".join([*reasoning_parts, content[opening.end() :].strip()]), ""
        thought = content[opening.end() : opening.end() + closing.start()]
        return "\n\n".join([*reasoning_parts, thought.strip()]), content[opening.end() + closing.end() :].strip()
    orphan = re.search(r"</(think|thinking|reasoning)>", content, re.IGNORECASE)
    if orphan and "<" + orphan.group(1) not in content[: orphan.start()].lower():
        thought = content[: orphan.start()]
        return "\n\n".join([*reasoning_parts, thought.strip()]), content[orphan.end() :].strip()
    return "\n\n".join(reasoning_parts), content.strip()
