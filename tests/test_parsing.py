"""The parsers decide what counts as suitable and what counts as a conversation: they must never be fooled."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from corrigenda.runtime.parsing import (
    ParseFailure,
    parse_json_conversation,
    parse_tagged_conversation,
    parse_verdict,
)
from corrigenda.runtime.reasoning import split_reasoning


@pytest.mark.parametrize(
    ("answer", "suitable"),
    [
        ("It has dates and names.\nVERDICT: SUITABLE", True),
        ("Only a licence.\nVERDICT: UNSUITABLE", False),
        ("Not suitable.", False),
        ("This passage is not suitable for questions.", False),
        ("Unsuitable", False),
        ("It isn't suitable.", False),
        ("At first I thought it was unsuitable, but it is suitable.", True),
        ("It looks suitable at first glance, but it is a table of contents: not suitable.", False),
        ("Verdict: Not Suitable", False),
        ("The word SUITABLE appears in my notes.\nFinal verdict: unsuitable", False),
        ("**VERDICT: SUITABLE**", True),
    ],
)
def test_verdicts(answer, suitable):
    assert parse_verdict(answer) is suitable


def test_no_verdict_is_a_failure_not_a_pass():
    assert isinstance(parse_verdict("I cannot decide."), ParseFailure)


_prose = st.text(st.characters(blacklist_categories=("Cs",)), max_size=80).filter(
    lambda s: "suitable" not in s.lower() and "verdict" not in s.lower()
)


@given(reasoning=_prose, verdict=st.sampled_from(["SUITABLE", "UNSUITABLE", "Not suitable", "suitable"]))
def test_the_verdict_line_decides_whatever_the_reasoning_says(reasoning, verdict):
    answer = f"{reasoning}\nIt might look suitable or unsuitable.\nVERDICT: {verdict}"
    assert parse_verdict(answer) is (verdict.lower() == "suitable")


def test_think_block_is_split_off():
    reasoning, answer = split_reasoning("<think>Maybe <flawed_answer>x</flawed_answer></think>\n\nReal answer")
    assert "flawed_answer" in reasoning
    assert answer == "Real answer"


def test_reasoning_content_field_and_orphan_closing_tag():
    reasoning, answer = split_reasoning("thinking out loud</think>answer", "from the field")
    assert reasoning == "from the field\n\nthinking out loud"
    assert answer == "answer"


def test_unclosed_think_means_no_answer():
    reasoning, answer = split_reasoning("<think>still thinking when max_tokens hit")
    assert answer == ""
    assert reasoning.startswith("still thinking")


TAGS = (
    "<initial_question>{q}</initial_question><flawed_answer>{f}</flawed_answer>"
    "<followup_confirmation>{u}</followup_confirmation><correct_answer>{c}</correct_answer>"
)
_content = st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=60).filter(
    lambda s: "<" not in s and s.strip() and any(ch.isalnum() for ch in s)
)


@given(q=_content, f=_content, u=_content, c=_content, noise=st.text(max_size=40).filter(lambda s: "<" not in s))
def test_tagged_conversation_round_trips(q, f, u, c, noise):
    parsed = parse_tagged_conversation(noise + TAGS.format(q=q, f=f, u=u, c=c) + noise)
    if " ".join(f.lower().split()) == " ".join(c.lower().split()):
        return
    if isinstance(parsed, ParseFailure):
        assert "same as the correct" in parsed.reason
        return
    assert (parsed.initial_question, parsed.flawed_answer, parsed.followup_confirmation, parsed.correct_answer) == (
        q.strip(),
        f.strip(),
        u.strip(),
        c.strip(),
    )


def test_the_last_complete_set_wins():
    draft = TAGS.format(q="draft q", f="draft f", u="draft u", c="draft c")
    final = TAGS.format(q="final q", f="final f", u="final u", c="final c")
    parsed = parse_tagged_conversation(draft + "\nLet me revise.\n" + final + "<initial_question>unfinished")
    assert parsed.initial_question == "final q"
    assert parsed.correct_answer == "final c"


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("no tags at all", "missing <initial_question>"),
        (TAGS.format(q="q", f="same", u="u", c="Same."), "same as the correct"),
        (TAGS.format(q="q", f="   ", u="u", c="c"), "empty <flawed_answer>"),
        (TAGS.format(q="q", f="a <think> b", u="u", c="c"), "tag residue"),
        (TAGS.format(q="q", f="f", u="u", c="c").replace("</correct_answer>", ""), "unclosed"),
    ],
)
def test_unusable_conversations_are_refused_with_a_reason(answer, reason):
    parsed = parse_tagged_conversation(answer)
    assert isinstance(parsed, ParseFailure)
    assert reason in parsed.reason


def test_structured_output():
    ok = parse_json_conversation(
        '```json\n{"initial_question": "q", "flawed_answer": "1867", "followup_confirmation": "sure?", '
        '"correct_answer": "1869"}\n```'
    )
    assert ok.correct_answer == "1869"
    assert "not JSON" in parse_json_conversation("{broken").reason
    assert "flawed_answer" in parse_json_conversation('{"initial_question": "q"}').reason
