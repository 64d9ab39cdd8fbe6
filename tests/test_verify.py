"""The verify step: a judge that rejects is honoured, cheap checks run first, duplicates go, and the card agrees
with rejected.jsonl."""

from __future__ import annotations

import json
import re
from collections import Counter

from conftest import llm_spec
from fake_openai import ACCEPT, Reply, default_reply, first_answer_then_good, passage_of
from hypothesis import given
from hypothesis import strategies as st
from test_build import _build, _corpus

from corrigenda.emit.segmenter import Conversation
from corrigenda.runtime.dedupe import DuplicateFinder
from corrigenda.runtime.parsing import JUDGE_CRITERIA, ParseFailure, parse_judgement
from corrigenda.runtime.quality import conversation_problems

VERIFY = """\
  - name: verify
    kind: verify
    model: small
    prompt: verify.yaml
    max_retries: 2
    regenerate_rejected: {regenerate}
"""
REJECT = (
    "flawed_is_wrong: no - the passage says the same thing\n"
    "pushback_neutral: yes - fine\n"
    "correction_supported: yes - fine"
)


def _is_verify(body) -> bool:
    return "flawed_is_wrong" in str(body["messages"])


def _rows(path):
    return [json.loads(line) for line in path.read_text().splitlines()]


def test_a_rejecting_judge_is_honoured_and_counted(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        if _is_verify(body):
            return Reply(REJECT if "Panama" in passage_of(body["messages"]) else ACCEPT)
        return default_reply(body, n)

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url, verify_step=VERIFY.format(regenerate=0)))) == 0
    out = project.root / "out"
    released = (out / "axolotl_chat_template.jsonl").read_text()
    rejected = _rows(out / "rejected.jsonl")
    assert [row["source"] for row in rejected] == ["docs/canal.docx"]
    assert rejected[0]["reasons"] == ["flawed_is_wrong: the passage says the same thing"]
    assert all(json.loads(line)["source"] != "docs/canal.docx" for line in released.splitlines())
    card = (out / "README.md").read_text()
    assert "| flawed_is_wrong | 1 |" in card
    assert "| rejected | 1 |" in card


def test_a_rejected_conversation_is_regenerated_and_judged_again(project, fake_server):
    _corpus(project.root)
    judged: Counter[str] = Counter()

    def responder(body, n):
        if _is_verify(body):
            passage = passage_of(body["messages"])
            judged[passage] += 1
            return Reply(REJECT if "Panama" in passage and judged[passage] == 1 else ACCEPT)
        return default_reply(body, n)

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url, verify_step=VERIFY.format(regenerate=1)))) == 0
    out = project.root / "out"
    assert any(json.loads(line)["source"] == "docs/canal.docx" for line in (out / "axolotl_chat_template.jsonl").open())
    rejected = _rows(out / "rejected.jsonl")
    assert [(row["source"], row["round"]) for row in rejected] == [("docs/canal.docx", 0)]
    canal_generations = [b for b in fake_server.requests if "Panama" in str(b) and "four-turn" in str(b)]
    assert len(canal_generations) == 2  # a fresh sample, not the cached one


def test_malformed_verdicts_are_retried(project, fake_server):
    _corpus(project.root)
    fake_server.responder, seen = first_answer_then_good(Reply("Looks fine to me!"), marker="flawed_is_wrong")
    assert _build(project(llm_spec(fake_server.base_url, verify_step=VERIFY.format(regenerate=0)))) == 0
    assert set(seen.values()) == {2}
    assert _rows(project.root / "out" / "rejected.jsonl") == []


def test_duplicate_questions_are_dropped_and_the_card_matches_rejected_jsonl(project, fake_server):
    _corpus(project.root, copies=3)

    def responder(body, n):
        if _is_verify(body) or "VERDICT" in str(body["messages"]):
            return default_reply(body, n)
        return Reply(
            "<initial_question>When was the survey of this section finished?</initial_question>"
            "<flawed_answer>In 1700.</flawed_answer><followup_confirmation>Sure?</followup_confirmation>"
            f"<correct_answer>No, it was finished as the record says: {passage_of(body['messages'])[:60]}"
            "</correct_answer>"
        )

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url, verify_step=VERIFY.format(regenerate=0)))) == 0
    out = project.root / "out"
    released = _rows(out / "axolotl_chat_template.jsonl")
    assert len(released) == 1  # every other chunk asked the same question
    rejected = _rows(out / "rejected.jsonl")
    assert rejected and all(row["reasons"][0].startswith("duplicate: ") for row in rejected)
    card = (out / "README.md").read_text()
    by_reason = Counter(reason.split(":")[0] for row in rejected for reason in row["reasons"])
    for reason, count in by_reason.items():
        assert f"| {reason} | {count} |" in card
    assert re.search(rf"\| rejected \| {len(rejected)} \|", card)


def test_cheap_checks_reject_before_any_judge_is_paid():
    good = Conversation("When did the two railroads meet?", "In 1868.", "Are you sure?", "No: in May 1869.")
    assert conversation_problems(good) == []
    cases = {
        "near-copy": Conversation("When did they meet?", "They met in 1869.", "Sure?", "They met in 1869!"),
        "refers-to-source": Conversation("According to the passage, when?", "1868", "Sure?", "1869"),
        "link": Conversation("When did they meet?", "See https://example.com", "Sure?", "1869"),
        "length": Conversation("When?", "1868", "Sure?", "1869"),
    }
    for rule, conversation in cases.items():
        assert any(problem.startswith(rule) for problem in conversation_problems(conversation)), rule


def test_judgements_parse_robustly():
    accepted = parse_judgement(
        "thinking...\n**flawed_is_wrong**: Yes - a\nPushback neutral: yes\ncorrection_supported: YES"
    )
    assert accepted.accepted
    rejected = parse_judgement(ACCEPT + "\nOn reflection:\nflawed_is_wrong: no - it is actually right")
    assert not rejected.accepted and rejected.reasons == ["flawed_is_wrong: it is actually right"]
    structured = parse_judgement(
        '{"flawed_is_wrong": {"ok": true, "reason": "a"}, "pushback_neutral": {"ok": false, "reason": "leaks 1869"},'
        ' "correction_supported": {"ok": true, "reason": "c"}}'
    )
    assert structured.reasons == ["pushback_neutral: leaks 1869"]
    assert isinstance(parse_judgement("flawed_is_wrong: yes"), ParseFailure)


def test_near_duplicates_are_found_and_distinct_questions_kept():
    finder = DuplicateFinder()
    assert finder.check("a", "When did the Central Pacific break ground in Sacramento, California?") is None
    assert finder.check("b", "when did the Central Pacific break ground in Sacramento California") == "a"
    assert finder.check("c", "When did the Central Pacific railroad break ground in Sacramento, California?") == "a"
    assert finder.check("d", "When did the Union Pacific break ground in Omaha, Nebraska?") is None


_reason = st.text(st.characters(blacklist_categories=("Cs", "Cc", "Zl", "Zp")), max_size=60)


@given(
    verdicts=st.tuples(st.booleans(), st.booleans(), st.booleans()),
    reasons=st.tuples(_reason, _reason, _reason),
    decoration=st.sampled_from(["", "**", "- ", "* "]),
    preamble=st.text(max_size=80).filter(lambda s: "_" not in s and "neutral" not in s.lower()),
)
def test_any_well_formed_judgement_parses_to_exactly_its_verdicts(verdicts, reasons, decoration, preamble):
    lines = [
        f"{decoration}{name}{decoration.strip('- ')}: {'yes' if ok else 'no'} - {reason}"
        for name, ok, reason in zip(JUDGE_CRITERIA, verdicts, reasons, strict=True)
    ]
    judgement = parse_judgement(preamble + "\n" + "\n".join(lines))
    assert not isinstance(judgement, ParseFailure)
    assert judgement.accepted is all(verdicts)
    assert [name for name, (ok, _) in judgement.criteria.items() if not ok] == [
        name for name, ok in zip(JUDGE_CRITERIA, verdicts, strict=True) if not ok
    ]


@given(st.text(min_size=1, max_size=120).filter(lambda s: any(ch.isalnum() for ch in s)))
def test_a_question_differing_only_in_case_and_punctuation_is_a_duplicate(question):
    finder = DuplicateFinder()
    assert finder.check("first", question) is None
    variant = "¿" + question.upper().replace(" ", "  ") + "?!"
    if question.upper().lower() != question.lower():
        return  # case mappings that change the text itself (ß -> SS) are not the same question
    assert finder.check("second", variant) == "first"


def test_a_structured_judge_gets_a_json_schema_and_its_verdict_is_honoured(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        if not _is_verify(body):
            return default_reply(body, n)
        panama = "Panama" in passage_of(body["messages"])
        verdict = {name: {"ok": True, "reason": "fine"} for name in JUDGE_CRITERIA}
        if panama:
            verdict["correction_supported"] = {"ok": False, "reason": "the passage never says that"}
        return Reply(json.dumps(verdict))

    fake_server.responder = responder
    step = VERIFY.format(regenerate=0) + "    structured_output: true\n"
    assert _build(project(llm_spec(fake_server.base_url, verify_step=step))) == 0
    formats = [b["response_format"] for b in fake_server.requests if _is_verify(b)]
    assert formats and all(f["json_schema"]["schema"]["required"] == list(JUDGE_CRITERIA) for f in formats)
    rejected = _rows(project.root / "out" / "rejected.jsonl")
    assert [(r["source"], r["reasons"]) for r in rejected] == [
        ("docs/canal.docx", ["correction_supported: the passage never says that"])
    ]


def test_the_same_statement_under_two_titles_is_released_once(tmp_path):
    """Two copies of one manual (say its text and its PDF) carry different titles; the built-in engine asks the
    same statements about both, and only the first of each is released."""
    from corrigenda.cli import main

    body = (
        "The survey party crossed the river in 1868 after the floods.\n\n"
        "The engineers finished the bridge in 1871, when the last span was set.\n"
    )
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.md").write_text("# The River Survey\n\n" + body, encoding="utf-8")
    long_title = "# The River Survey (an excerpt of the county records, reset as a two-sided field manual)\n\n"
    (tmp_path / "docs" / "b.md").write_text(long_title + body, encoding="utf-8")
    (tmp_path / "spec.yaml").write_text(
        "version: 1\nname: titles\nmodels:\n"
        "  small: {engine: heuristic, model: heuristic-filter}\n"
        "  large: {engine: heuristic, model: heuristic-generate}\n"
        "inputs: {paths: [docs], chunk_size: 200}\n"
        "steps:\n  - {name: filter, kind: filter, model: small}\n  - {name: generate, kind: generate, model: large}\n"
        "  - {name: verify, kind: verify, model: small}\noutput: {dir: out}\n",
        encoding="utf-8",
    )
    assert main(["build", str(tmp_path / "spec.yaml")]) == 0
    released = json.loads((tmp_path / "out" / "axolotl_correction_conversations.json").read_text())
    rejected = _rows(tmp_path / "out" / "rejected.jsonl")
    assert len(released) == 1 and len(rejected) == 1
    assert rejected[0]["reasons"][0].startswith("duplicate: ") and rejected[0]["source"].endswith("b.md")
