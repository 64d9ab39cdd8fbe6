"""The dataset card's reason tables: unsuitable chunks grouped by rule, rejections counted per conversation, and
every figure agreeing with the build's own files."""

from __future__ import annotations

import json
import re
from collections import Counter, defaultdict
from pathlib import Path

from conftest import llm_spec, offline_project
from fake_openai import ACCEPT, Reply, default_reply, passage_of
from test_build import _build, _corpus
from test_verify import VERIFY, _is_verify

from corrigenda.cli import main
from corrigenda.emit.reasons import rule_key


def _section(card: str, title: str) -> dict[str, list[str]]:
    """The rows of the card's table under `## title`, keyed by their first cell."""
    body = card.split(f"## {title}\n", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in body.splitlines() if line.startswith("| ") and "---" not in line][1:]
    return {cells[0]: cells[1:] for cells in ([c.strip() for c in row.strip("|").split(" | ")] for row in rows)}


def _rows(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_rule_keys_drop_particulars_only():
    assert rule_key("Unsuitable: too short to ask about (12 words).") == "too short to ask about"
    assert rule_key("too short to ask about (13 words)") == "too short to ask about"
    assert rule_key("mostly numbers or symbols (47% letters)") == "mostly numbers or symbols"
    assert rule_key("looks like an index") != rule_key("looks like a table of contents")


def test_a_rule_engine_s_reasons_are_one_row_per_rule(tmp_path):
    spec = offline_project(tmp_path)
    short = "The canal at {} was dug by hand and finished in the year {} after much work by many people."
    (tmp_path / "samples" / "short-a.txt").write_text(short.format("Ashby", 1804) + "\n", encoding="utf-8")
    (tmp_path / "samples" / "short-b.txt").write_text(short.format("Barrow", 1811) + " It still runs.\n")
    out = tmp_path / "out"
    assert main(["build", str(spec), "--out", str(out)]) == 0
    card = (out / "README.md").read_text(encoding="utf-8")
    unsuitable = _section(card, "Unsuitable chunks")
    too_short = unsuitable["too short to ask about"]
    assert too_short[0] == "2", "the (20 words) and (23 words) reasons are one rule"
    assert "(20 words)" in too_short[1] and "(23 words)" in too_short[1]  # with examples of the particulars
    assert not any(re.search(r"\d", rule) for rule in unsuitable)
    counts = _section(card, "Counts")
    assert sum(int(row[0]) for row in unsuitable.values()) == int(counts["unsuitable"][0])


def test_a_model_s_free_text_reasons_are_one_group_with_examples(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        messages = body["messages"]
        if "VERDICT" in str(messages) and "Panama" not in passage_of(messages):
            return Reply(f"This passage ({passage_of(messages)[:30]}) is not worth asking about.\nVERDICT: UNSUITABLE")
        return default_reply(body, n)

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url))) == 0
    card = (project.root / "out" / "README.md").read_text(encoding="utf-8")
    unsuitable = _section(card, "Unsuitable chunks")
    assert list(unsuitable) == ["model: unsuitable"]
    count, examples = unsuitable["model: unsuitable"]
    assert count == _section(card, "Counts")["unsuitable"][0] and int(count) >= 4
    assert examples.count("is not worth asking about") == 2  # a couple of examples, not one row each


TWO_REASONS = (
    "flawed_is_wrong: no - the passage says the same thing\n"
    "pushback_neutral: no - it gives the answer away\n"
    "correction_supported: yes - fine"
)


def test_rejections_count_conversations_once_and_attempts_apart(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        if _is_verify(body):
            return Reply(TWO_REASONS if "Panama" in passage_of(body["messages"]) else ACCEPT)
        return default_reply(body, n)

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url, verify_step=VERIFY.format(regenerate=1)))) == 0
    out = project.root / "out"
    rejected = _rows(out / "rejected.jsonl")
    card = (out / "README.md").read_text(encoding="utf-8")

    conversations = {row["item"] for row in rejected}
    summary = _section(card, "Rejected conversations")
    assert summary["rejected conversations (rejected at least once)"] == [str(len(conversations))]
    assert summary["rejected attempts (rows of rejected.jsonl)"] == [str(len(rejected))]
    assert summary["still rejected at the end (not released)"] == _section(card, "Counts")["rejected"]
    assert (len(conversations), len(rejected)) == (1, 2)  # one conversation, judged twice, two reasons each time

    rounds = _section(card, "Rejected attempts by regeneration round")
    assert rounds == {"first generation": ["1"], "regeneration 1": ["1"]}

    reasons: Counter[str] = Counter()
    items: dict[str, set[str]] = defaultdict(set)
    for row in rejected:
        for reason in row["reasons"]:
            reasons[reason.split(":")[0]] += 1
            items[reason.split(":")[0]].add(row["item"])
    table = _section(card, "Rejection reasons (rejected.jsonl)")
    assert table == {key: [str(count), str(len(items[key]))] for key, count in reasons.items()}
    assert sum(reasons.values()) == 4 and "Counts reasons, not conversations" in card
