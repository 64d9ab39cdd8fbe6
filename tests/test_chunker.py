"""The chunker's contract, for any text: within budget, exact counts and offsets, and nothing lost."""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st
from pydantic import ValidationError

from corrigenda.compiler.spec import InputsSpec
from corrigenda.ingest.chunker import Chunker
from corrigenda.ingest.corpus import IngestionReport, chunk_document
from corrigenda.ingest.document import Document, normalise

PIECES = st.sampled_from(
    [
        " ",
        "  ",
        "\t",
        "\n",
        "\n\n",
        "\n\n\n",
        " \n",
        "\n  ",
        ". ",
        "? ",
        "!\n",
        '." ',
        "-",
        "'s",
        "'ll",
        "Hello",
        "world",
        "Promontory",
        "1869",
        "12345678901234",
        "é",
        "e\u0301",
        "😀",
        "👩‍👩‍👧",
        "数字の本",
        "مرحبا",
        "Привет",
        "{{ x }}",
        "{% if %}",
        "<|endoftext|>",
        "\u00a0",
        "\u2028",
        "aaaaaaaaaaaaaaaa",
        "==========",
        "http://example.com/a_b",
    ]
)
TEXTS = st.one_of(
    st.lists(PIECES, max_size=400).map("".join),
    st.text(st.characters(blacklist_categories=("Cs",)), max_size=600),
    st.lists(st.sampled_from(["x", "yz", "😀", "数"]), min_size=50, max_size=2000).map("".join),  # no spaces at all
).map(normalise)


def check_contract(text: str, chunker: Chunker) -> None:
    spans = chunker.split(text)
    if not text.strip():
        assert spans == []
        return
    rebuilt = []
    previous_end = 0
    for span in spans:
        assert 0 <= span.start <= span.start + span.overlap_chars < span.end <= len(text)
        assert span.start + span.overlap_chars == previous_end, "new content starts where the last chunk ended"
        assert span.tokens <= chunker.chunk_size
        assert span.tokens == chunker.count(text[span.start : span.end]), "recorded count is the real count"
        assert span.overlap_tokens <= chunker.overlap
        if span.overlap_chars:
            assert span.overlap_tokens == chunker.count(text[span.start : span.start + span.overlap_chars])
        rebuilt.append(text[span.start + span.overlap_chars : span.end])
        previous_end = span.end
    assert "".join(rebuilt) == text, "the chunks minus overlap reproduce the text exactly"


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(text=TEXTS, chunk_size=st.integers(16, 120), overlap_share=st.floats(0, 0.5))
@example(text="a" * 5000, chunk_size=16, overlap_share=0.5)
@example(text="😀" * 300, chunk_size=16, overlap_share=0.0)
@example(text="\n\n  Indented paragraph.\n\n   Another one here." * 30, chunk_size=16, overlap_share=0.25)
def test_chunks_are_within_budget_exact_and_lossless(text: str, chunk_size: int, overlap_share: float):
    check_contract(text, Chunker("cl100k_base", chunk_size, int(chunk_size * overlap_share)))


@settings(max_examples=40, deadline=None)
@given(text=TEXTS, chunk_size=st.integers(16, 80))
def test_chunk_records_carry_provenance(text: str, chunk_size: int):
    inputs = InputsSpec(paths=("x",), chunk_size=chunk_size, min_chunk_tokens=0)
    document = Document(source="docs/a.txt", doc_id="docs/a.txt", title="A", text=text)
    chunks = chunk_document(document, Chunker("cl100k_base", chunk_size), inputs, IngestionReport())
    assert [c.index for c in chunks] == list(range(len(chunks)))
    for chunk in chunks:
        assert chunk.text == text[chunk.char_start : chunk.char_end]
        assert chunk.source == "docs/a.txt" and chunk.title == "A"
        assert len(chunk.content_hash) == 64
        assert chunk.chunk_id == f"docs/a.txt#{chunk.index}"


def test_boundaries_prefer_paragraphs_then_sentences():
    paragraph = "The line met at Promontory Summit in 1869. " * 6
    text = "\n\n".join(paragraph.strip() for _ in range(8))
    chunker = Chunker("cl100k_base", chunk_size=200)
    spans = chunker.split(text)
    assert len(spans) > 1
    for span in spans[:-1]:
        assert text[span.end : span.end + 2] == "\n\n" or text[span.end - 2 : span.end] == "\n\n"
    sentences = "Stanford drove the spike in 1869. " * 80
    for span in chunker.split(sentences)[:-1]:
        assert sentences[span.end - 1] == "." and sentences[span.end] == " ", "cut after a sentence, space moves on"


def test_pdf_pages_are_recorded_on_chunks():
    text = "Page one text. " * 20 + "\n\n" + "Page two text. " * 20
    document = Document("a.pdf", "a.pdf", "A", text, page_starts=(0, text.index("Page two")))
    inputs = InputsSpec(paths=("x",), chunk_size=40, min_chunk_tokens=0)
    chunks = chunk_document(document, Chunker("cl100k_base", 40), inputs, IngestionReport())
    assert chunks[0].pages == (1, 1)
    assert chunks[-1].pages == (2, 2)
    assert any(c.pages == (1, 2) for c in chunks) or all(c.pages in ((1, 1), (2, 2)) for c in chunks)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    text=TEXTS,
    chunk_size=st.integers(16, 120),
    overlap_share=st.floats(0, 0.5),
    min_share=st.floats(0, 0.5),
)
@example(text="Word " * 99 + "\n\nEnd.", chunk_size=100, overlap_share=0.0, min_share=0.1)
@example(text="a" * 5000, chunk_size=16, overlap_share=0.5, min_share=0.5)
@example(text="Hi. " + "x" * 300, chunk_size=16, overlap_share=0.0, min_share=0.5)
@example(  # three hard-cut chunks (54, 53, 2 tokens) of a 109-token text: the pair 107 + 2 is re-cut near 54 + 55
    text="0\x800÷0:00÷0÷0÷÷÷÷0÷0:00:0:0000:÷÷÷0÷0:00÷0:0000÷0:ra00:÷0::yy00÷0:0÷:0÷÷÷0÷0::K00÷÷0÷0÷:0÷0÷xyy00÷",
    chunk_size=108,
    overlap_share=0.5,
    min_share=0.5,
)
def test_short_chunks_are_balanced_never_dropped(text: str, chunk_size: int, overlap_share: float, min_share: float):
    """Any text, any settings: the chunks still cover every character, stay within budget with exact counts, and
    each holds at least min_chunk_tokens unless the whole document is shorter, in which case it is named."""
    overlap, min_tokens = int(chunk_size * overlap_share), int(chunk_size * min_share)
    inputs = InputsSpec(paths=("x",), chunk_size=chunk_size, overlap=overlap, min_chunk_tokens=min_tokens)
    chunker = Chunker("cl100k_base", chunk_size, overlap)
    report = IngestionReport()
    chunks = chunk_document(Document("docs/a.txt", "docs/a.txt#0", "A", text), chunker, inputs, report)
    if not text.strip():
        assert chunks == [] and report.short_documents == []
        return
    whole = chunker.count(text)
    if whole < min_tokens:
        assert chunks == []
        assert report.short_documents == [{"file": "docs/a.txt", "doc_id": "docs/a.txt#0", "tokens": whole}]
        assert "skipped short document docs/a.txt#0" in "\n".join(report.lines())
        return
    assert report.short_documents == []
    previous_end = 0
    for chunk in chunks:
        assert chunk.char_start + chunk.overlap_chars == previous_end, "no character lost or repeated beyond overlap"
        assert chunk.text == text[chunk.char_start : chunk.char_end]
        assert chunk.tokens == chunker.count(chunk.text)
        assert min_tokens <= chunk.tokens <= chunk_size
        previous_end = chunk.char_end
    assert previous_end == len(text)


def test_a_short_tail_that_cannot_join_is_re_split_with_its_neighbour():
    text = "Word " * 99 + "\n\nThe end came at last."
    inputs = InputsSpec(paths=("x",), chunk_size=100, min_chunk_tokens=10)
    chunker = Chunker("cl100k_base", 100)
    assert chunker.split(text)[-1].tokens < 10  # the tail the old code dropped
    report = IngestionReport()
    chunks = chunk_document(Document("a", "a", "A", text), chunker, inputs, report)
    assert report.tiny_rebalanced == 1 and report.short_documents == []
    assert chunks[-1].text.endswith("The end came at last.")
    assert "".join(c.text for c in chunks) == text
    assert all(10 <= c.tokens <= 100 for c in chunks)


def test_a_short_first_paragraph_before_an_unbroken_run_is_kept():
    text = "A short line.\n\n" + "x" * 400  # the run has no safe cut, so the paragraph ends up a chunk of its own
    inputs = InputsSpec(paths=("x",), chunk_size=40, min_chunk_tokens=10)
    chunker = Chunker("cl100k_base", 40)
    assert chunker.split(text)[0].tokens < 10
    report = IngestionReport()
    chunks = chunk_document(Document("a", "a", "A", text), chunker, inputs, report)
    assert chunks[0].text.startswith("A short line.")
    assert "".join(c.text for c in chunks) == text
    assert all(10 <= c.tokens <= 40 for c in chunks)
    assert report.tiny_merged + report.tiny_rebalanced == 1


def test_short_documents_are_named_in_the_report():
    inputs = InputsSpec(paths=("x",), chunk_size=100, min_chunk_tokens=10)
    report = IngestionReport()
    assert chunk_document(Document("b.txt", "b.txt", "B", "Hi."), Chunker("cl100k_base", 100), inputs, report) == []
    assert report.short_documents == [{"file": "b.txt", "doc_id": "b.txt", "tokens": 2}]
    assert report.as_dict()["short_documents"] == report.short_documents
    assert "skipped short document b.txt (2 tokens, under inputs.min_chunk_tokens)" in report.lines()


def test_min_chunk_tokens_over_half_the_chunk_size_is_a_spec_error():
    with pytest.raises(ValidationError, match="min_chunk_tokens must be at most half of chunk_size"):
        InputsSpec(paths=("x",), chunk_size=100, min_chunk_tokens=51)
    assert InputsSpec(paths=("x",), chunk_size=100, min_chunk_tokens=50).min_chunk_tokens == 50
