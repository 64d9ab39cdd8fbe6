"""The built-in heuristic engine: a real baseline that never invents a fact."""

from __future__ import annotations

import json
import re

from conftest import REPO, offline_project, shared
from hypothesis import given
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.heuristic.facts import FactPool
from corrigenda.heuristic.rules import judge, write_conversation
from corrigenda.runtime.parsing import parse_tagged_conversation, parse_verdict

QUOTED = re.compile(r"“(.*)”")


def test_offline_spec_builds_correct_corrections_from_the_samples(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(offline_project(tmp_path)), "--out", str(out)]) == 0
    assert main(["check", str(out)]) == 0
    samples = {p.name: p for p in (REPO / "samples").iterdir()}
    lines = (out / "axolotl_chat_template.jsonl").read_text().splitlines()
    assert len(lines) >= 10
    for line in lines:
        record = json.loads(line)
        question, flawed, _, correct = (m["content"] for m in record["messages"])
        fact_sentence = QUOTED.search(correct).group(1)
        wrong_sentence = QUOTED.search(flawed).group(1)
        source = samples[record["source"].split("/")[-1]]
        if source.suffix in (".txt", ".md"):
            text = " ".join(source.read_text().split())
            assert fact_sentence in text  # the correct answer states the text's fact
            assert wrong_sentence not in text  # the flawed answer does not
        assert fact_sentence != wrong_sentence
        blank = QUOTED.search(question).group(1)
        before, after = blank.split("____")
        assert fact_sentence.startswith(before) and fact_sentence.endswith(after)
        right = fact_sentence[len(before) : len(fact_sentence) - len(after)]
        wrong = wrong_sentence[len(before) : len(wrong_sentence) - len(after)]
        assert right != wrong and right in correct and wrong in correct


def test_the_wrong_value_is_the_same_kind_from_the_same_document():
    text = (
        "The bridge opened in 1932. Work on the tunnel began in 1927 and it carried 4,000 cars a day. "
        "The ferry, which had carried 3,500 cars a day, closed in 1935 when John Bradfield retired."
    )
    pool = FactPool.from_texts([text])
    conversation = parse_tagged_conversation(write_conversation(text, "Sydney Harbour", pool, 0))
    assert "____ and it carried" in conversation.initial_question  # the first full sentence with a year
    assert "in 1932 and" in conversation.flawed_answer  # a year for a year, the closest one in the text
    assert "1927" in conversation.correct_answer


def test_filter_rejects_boilerplate_and_accepts_facts():
    facts = (
        "The Panama Canal opened on August 15, 1914. The United States took over the project in 1904, after the "
        "French effort led by Ferdinand de Lesseps collapsed in 1889 amid disease and financial scandal."
    )
    toc = "\n".join(f"Chapter {i} Something important ........ {i * 7}" for i in range(1, 12))
    licence = (
        "This eBook is for the use of anyone anywhere. You may copy it under the terms of the Project Gutenberg "
        "License included with this eBook. Copyright laws vary; all rights reserved where applicable, and the "
        "disclaimer of warranty applies to every copy you redistribute."
    )
    numbers = " ".join(str(n) for n in range(200, 320))
    for text, suitable in ((facts, True), (toc, False), (licence, False), (numbers, False), ("Too short.", False)):
        assert parse_verdict(judge(text, FactPool.from_texts([text]))) is suitable, text[:40]


def test_filter_rejects_the_gutenberg_licence_header():
    text = shared("corpus", "text", "through-the-looking-glass.txt").read_text(encoding="utf-8-sig")[:1500]
    assert parse_verdict(judge(text, FactPool.from_texts([text]))) is False


years = st.integers(1500, 2030).map(str)


@given(st.lists(years, min_size=2, max_size=6, unique=True), st.integers(0, 5))
def test_generated_conversations_are_always_valid_corrections(values, sample):
    text = " ".join(f"The great fair of Aberton was held there in {year}." for year in values)
    pool = FactPool.from_texts([text])
    answer = write_conversation(text, "Aberton", pool, sample)
    conversation = parse_tagged_conversation(answer)
    if not hasattr(conversation, "correct_answer"):
        assert "No fact" in answer  # years too far apart to make a plausible swap
        return
    right = re.search(r"It is (\d+), not|is (\d+), not|right year is (\d+)", conversation.correct_answer)
    right_value = next(group for group in right.groups() if group)
    assert right_value in values
    assert conversation.flawed_answer != conversation.correct_answer
    wrong_sentence = QUOTED.search(conversation.flawed_answer).group(1)
    assert wrong_sentence not in text


def test_page_headers_and_sentence_openers_are_not_facts_to_ask_about():
    from corrigenda.heuristic.facts import facts_in
    from corrigenda.heuristic.rules import is_prose

    assert not is_prose("Planning 26 February 2019 FM 3-13.4 2-7 2-36.")
    assert not is_prose("The manual is available at https://armypubs.army.mil for every unit.")
    assert is_prose("The Central Pacific broke ground in Sacramento on January 8, 1863.")
    names = [
        f.value for f in facts_in("So Alice hunted among the chessmen until Humpty Dumpty arrived.") if f.kind == "name"
    ]
    assert names == ["Humpty Dumpty"]  # "So Alice" is a sentence opener plus a one-word name


def test_a_correction_that_quotes_the_statement_with_the_right_value_is_not_a_near_copy():
    from corrigenda.runtime.parsing import near_copy

    statement = "The Central Pacific broke ground in Sacramento on January 8, {year}, after two years of surveys."
    flawed = f"It is 1862: “{statement.format(year=1862)}”"
    correct = f"I got that wrong. It is 1863, not 1862. The correct statement is: “{statement.format(year=1863)}”"
    assert not near_copy(flawed, correct)
    assert near_copy("The answer is 1869.", "Yes, sorry, actually the answer is 1869!")


def test_gutenberg_titles_lose_their_boilerplate_prefix(tmp_path):
    from corrigenda.ingest.text_file import read_text_file

    path = tmp_path / "book.txt"
    path.write_text("\ufeffThe Project Gutenberg eBook of Through the Looking-Glass\n\nThis ebook is for the use...\n")
    document, _ = read_text_file(path, "book.txt")
    assert document.title == "Through the Looking-Glass"


_sentence = st.lists(
    st.one_of(
        st.sampled_from(["the", "canal", "opened", "in", "on", "May", "President", "Abraham", "Lincoln", "So", "and"]),
        st.integers(0, 3000).map(str),
        st.integers(1000, 99999).map(lambda n: f"{n:,}"),
        st.text(st.characters(blacklist_categories=("Cs",)), min_size=1, max_size=8),
    ),
    min_size=1,
    max_size=20,
).map(" ".join)


@given(_sentence)
def test_every_fact_is_exactly_where_it_says_it_is(sentence):
    from corrigenda.heuristic.facts import facts_in

    for fact in facts_in(sentence):
        assert sentence[fact.start : fact.end] == fact.value
        assert fact.kind in ("year", "number", "name")
        if fact.kind == "year":
            assert len(fact.value) == 4 and fact.value.isdigit()
        if fact.kind == "name":
            assert len(fact.value.split()) >= 2 and fact.value.split()[0] not in ("So", "The", "And")
