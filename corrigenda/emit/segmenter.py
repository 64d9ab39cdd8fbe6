"""Render a conversation through the chat template and cut it into Axolotl `input_output` segments.

We never search the rendered string for the flawed answer's text (it may also appear in the question or the
correction, or the template may alter it). Instead each message's span is found during rendering: the string for
messages[:k+1] extends the string for messages[:k] by exactly message k's contribution, and a second rendering with
unique sentinels around each content tells which part of that contribution is the header, the content and the footer.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass

from corrigenda.compiler.spec import TemplateSpec
from corrigenda.templating import compiled

_SPACE = " \t"


class TemplateShapeError(ValueError):
    """The template does not render messages one after another, so spans cannot be located."""


@dataclass(frozen=True)
class Conversation:
    initial_question: str
    flawed_answer: str
    followup_confirmation: str
    correct_answer: str

    def messages(self, system_prompt: str | None) -> list[dict[str, str]]:
        turns = [
            {"role": "user", "content": self.initial_question},
            {"role": "assistant", "content": self.flawed_answer},
            {"role": "user", "content": self.followup_confirmation},
            {"role": "assistant", "content": self.correct_answer},
        ]
        return ([{"role": "system", "content": system_prompt}] if system_prompt else []) + turns


@dataclass(frozen=True)
class MessageSpan:
    start: int  # the message's contribution: header + content + footer
    content_start: int
    content_end: int
    end: int


@dataclass(frozen=True)
class Rendered:
    text: str
    spans: tuple[MessageSpan, ...]


def _render(template: TemplateSpec, messages: list[dict[str, str]]) -> str:
    return compiled(template.prompt_template).render(
        messages=messages, bos_token=template.bos_token, eos_token=template.eos_token, add_generation_prompt=False
    )


def render_plain(template: TemplateSpec, messages: list[dict[str, str]]) -> str:
    """The whole conversation as the trainer will see it, rendered once without any span bookkeeping."""
    return _render(template, messages)


def render_with_spans(template: TemplateSpec, messages: list[dict[str, str]]) -> Rendered:
    everything = template.prompt_template + "".join(m["content"] for m in messages)
    while True:  # sentinels that occur nowhere in the template or the contents
        nonce = secrets.token_hex(8)
        opening, closing = f"\ue000{nonce}<", f">{nonce}\ue001"
        if opening not in everything and closing not in everything:
            break
    prefixes = [_render(template, messages[:k]) for k in range(len(messages) + 1)]
    spans = []
    for k, message in enumerate(messages):
        before, after = prefixes[k], prefixes[k + 1]
        if not after.startswith(before):
            raise TemplateShapeError(f"rendering message {k + 1} changed the text before it")
        marked = [*messages[:k], {**message, "content": opening + message["content"] + closing}]
        marked_text = _render(template, marked)
        if not marked_text.startswith(before) or marked_text.count(opening) != 1 or marked_text.count(closing) != 1:
            raise TemplateShapeError(f"message {k + 1}'s content is not rendered exactly once")
        contribution = marked_text[len(before) :]
        header = contribution[: contribution.index(opening)]
        footer = contribution[contribution.index(closing) + len(closing) :]
        plain = after[len(before) :]
        if not (plain.startswith(header) and plain.endswith(footer) and len(plain) >= len(header) + len(footer)):
            raise TemplateShapeError(f"message {k + 1}'s header or footer depends on its content")
        start = len(before)
        spans.append(MessageSpan(start, start + len(header), len(after) - len(footer), len(after)))
    return Rendered(prefixes[-1], tuple(spans))


def segment(conversation: Conversation, template: TemplateSpec) -> list[dict[str, object]]:
    """Segments whose texts join to the whole rendering; only the flawed answer (optionally with its role header
    and end marker) is `label: false`. Spaces at a boundary go to the start of the following segment, where the
    tokenizer would attach them."""
    messages = conversation.messages(template.system_prompt)
    rendered = render_with_spans(template, messages)
    flawed = rendered.spans[len(messages) - 3]
    start, end = (
        (flawed.start, flawed.end)
        if template.mask_flawed_turn_markers
        else (
            flawed.content_start,
            flawed.content_end,
        )
    )
    text = rendered.text
    while start > 0 and text[start - 1] in _SPACE:
        start -= 1
    while end > start and text[end - 1] in _SPACE:
        end -= 1
    pieces = [(text[:start], True), (text[start:end], False), (text[end:], True)]
    return [{"label": label, "text": piece} for piece, label in pieces if piece]
