"""The segmenter, driven by arbitrary contents through several real chat templates."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from corrigenda.compiler.spec import AUGMENTOOLKIT_TEMPLATE, TemplateSpec
from corrigenda.emit.invariants import violations
from corrigenda.emit.segmenter import Conversation, TemplateShapeError, render_with_spans, segment

CHATML = (
    "{% for message in messages %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + "
    "'\\n' }}{% endfor %}"
)
LLAMA3 = (
    "{{ bos_token }}{% for message in messages %}{{ '<|start_header_id|>' + message['role'] + '<|end_header_id|>\\n\\n'"
    " + message['content'] | trim + '<|eot_id|>' }}{% endfor %}"
)
MISTRAL = (
    "{{ bos_token }}{% for message in messages %}{% if message['role'] == 'user' %}{{ '[INST] ' + message['content'] "
    "+ ' [/INST]' }}{% elif message['role'] == 'assistant' %}{{ ' ' + message['content'] + eos_token }}"
    "{% else %}{{ message['content'] + '\\n\\n' }}{% endif %}{% endfor %}"
)
TEMPLATES = {
    "augmentoolkit": TemplateSpec(prompt_template=AUGMENTOOLKIT_TEMPLATE),
    "chatml": TemplateSpec(prompt_template=CHATML),
    "llama3": TemplateSpec(prompt_template=LLAMA3, bos_token="<|begin_of_text|>"),
    "mistral": TemplateSpec(prompt_template=MISTRAL, bos_token="<s>", eos_token="</s>"),
}

CONTENT = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80) | st.sampled_from(
    ["{{ x }}", "{% if %}", "AI: ", "Human:", " **Finished.**", "<|im_end|>", "  padded  ", "\n\n"]
)
SOLID = CONTENT.filter(lambda text: text.strip() != "")


@settings(max_examples=80, deadline=None)
@given(
    name=st.sampled_from(sorted(TEMPLATES)),
    question=CONTENT,
    flawed=SOLID,
    followup=CONTENT,
    correct=SOLID,
    repeat_flawed=st.booleans(),
    system=st.none() | SOLID,
    mask_markers=st.booleans(),
)
def test_segments_keep_the_contract(name, question, flawed, followup, correct, repeat_flawed, system, mask_markers):
    if repeat_flawed:  # the flawed text also appears in the other turns: splitting on it would break
        question, followup, correct = question + flawed, flawed + followup, correct + " " + flawed
    template = TEMPLATES[name].model_copy(update={"system_prompt": system, "mask_flawed_turn_markers": mask_markers})
    conversation = Conversation(question, flawed, followup, correct)
    segments = segment(conversation, template)
    rendered = render_with_spans(template, conversation.messages(system)).text
    assert violations(segments, conversation, rendered) == []
    masked = next(s["text"] for s in segments if s["label"] is False)
    assert not masked.endswith((" ", "\t")), "a boundary space starts the next segment"


def test_augmentoolkit_template_masks_only_the_flawed_answer():
    conversation = Conversation("When?", "In 1870.", "Are you sure?", "No: it was 1869, not 1870.")
    segments = segment(conversation, TEMPLATES["augmentoolkit"])
    assert segments == [
        {"label": True, "text": "Human: When? **Finished.**\nAI:"},
        {"label": False, "text": " In 1870."},
        {
            "label": True,
            "text": " **Finished.**\nHuman: Are you sure? **Finished.**\nAI: No: it was 1869, not 1870. "
            "**Finished.**\n",
        },
    ]


def test_masking_the_turn_markers_too():
    conversation = Conversation("Q", "wrong", "Sure?", "right")
    template = TEMPLATES["chatml"].model_copy(update={"mask_flawed_turn_markers": True})
    masked = next(s["text"] for s in segment(conversation, template) if s["label"] is False)
    assert masked == "<|im_start|>assistant\nwrong<|im_end|>\n"


def test_a_template_that_rewrites_history_is_refused():
    template = TemplateSpec(prompt_template="{{ messages | length }}{% for m in messages %}{{ m.content }}{% endfor %}")
    with pytest.raises(TemplateShapeError):
        segment(Conversation("a", "b", "c", "d"), template)


def test_invariants_name_the_broken_rule():
    conversation = Conversation("q", "wrong", "sure?", "right")
    assert "one-masked-segment" in violations([{"label": True, "text": "x"}])[0]
    assert any(
        "no-empty-segments" in v for v in violations([{"label": False, "text": ""}, {"label": True, "text": "x"}])
    )
    swapped = [{"label": True, "text": "q wrong"}, {"label": False, "text": "right"}, {"label": True, "text": "."}]
    found = violations(swapped, conversation)
    assert any("masked-is-flawed" in v for v in found) and any("correction-after-mistake" in v for v in found)
