"""The shared clean-up and the PDF text repairs, as functions: what they change, and the contracts that nothing else
changes."""

from __future__ import annotations

import unicodedata
from collections import Counter

from conftest import shared
from hypothesis import given, settings
from hypothesis import strategies as st

from corrigenda.ingest.cleaning import clean_text
from corrigenda.ingest.pdf_repair import (
    Vocabulary,
    drop_running_lines,
    edge_key,
    join_line_ends,
    repair_split_words,
    running_keys,
)

# --- shared clean-up ---------------------------------------------------------------------------------------------


def test_private_use_bullets_become_bullets_and_other_glyphs_go():
    counts: Counter[str] = Counter()
    text = clean_text("\uf0b7 Plan\n\uf06c Prepare\n\uf0a7 Execute\x07 \ue123logo\ufeff", counts)
    assert text == "• Plan\n• Prepare\n• Execute logo"
    assert counts == {"private_use_bullets": 3, "private_use_removed": 1, "control_chars": 2}


def test_text_is_nfc_and_soft_hyphens_go():
    counts: Counter[str] = Counter()
    assert clean_text("Cafe\u0301 exam\u00adple", counts) == "Café example"
    assert counts == {"nfc_composed": 1, "soft_hyphens": 1}


def test_clean_text_leaves_clean_text_alone():
    counts: Counter[str] = Counter()
    text = "Plain text, tabs\tand newlines\n\nand form feeds\f stay."
    assert clean_text(text, counts) == text and not counts


@given(st.text())
def test_cleaned_text_has_no_private_use_controls_or_decomposed_forms(text):
    counts: Counter[str] = Counter()
    cleaned = clean_text(text, counts)
    assert unicodedata.is_normalized("NFC", cleaned)
    assert not any(0xE000 <= ord(ch) <= 0xF8FF for ch in cleaned)
    assert not any(unicodedata.category(ch) == "Cc" and ch not in "\t\n\r\f" for ch in cleaned)
    assert cleaned.count("•") == text.count("•") + counts["private_use_bullets"]


# --- running heads and footers -----------------------------------------------------------------------------------


def field_manual_pages(count: int) -> list[str]:
    """Pages as pypdf gives a two-sided manual: head and footer both first (content-stream order), alternating."""
    pages = []
    for n in range(1, count + 1):
        head = "Chapter 2" if n % 2 else "Training Management"
        foot = f"14 June 2021 FM 7-0 2-{n}" if n % 2 else f"2-{n} FM 7-0 14 June 2021"
        words = "plan prepare execute assess train lead brief rehearse sustain report".split()
        body = [
            f"2-{n * 3 + i}. Leaders {words[(n + i) % 10]} the {words[(n * i) % 10]} task {i} times." for i in range(6)
        ]
        pages.append("\n".join([head, foot, *body]))
    return pages


def test_alternating_heads_and_footers_in_the_first_lines_are_dropped():
    pages, dropped = drop_running_lines(field_manual_pages(9))
    assert dropped == 18
    text = "\n".join(pages)
    assert "Chapter 2" not in text and "Training Management" not in text and "June 2021" not in text
    assert all(len(page.split("\n")) == 6 for page in pages), "every body line stays"


def test_a_chapter_title_heading_only_its_own_pages_is_dropped_in_a_long_manual():
    """Real manuals put the chapter's title on its odd pages: in a 60-page manual of five chapters each title is on 6
    pages, a tenth of the whole, yet every one of them is a running head."""
    titles = ["Training Fundamentals", "Training Management", "Planning and Preparation", "Execution", "Assessment"]
    words = "plan prepare execute assess train lead brief rehearse sustain report".split()
    pages = []
    for chapter, title in enumerate(titles, start=1):
        for k in range(1, 13):
            n = len(pages) + 1
            head = title if n % 2 else f"Chapter {chapter}"
            foot = f"14 June 2021 FM 7-0 {chapter}-{k}" if n % 2 else f"{chapter}-{k} FM 7-0 14 June 2021"
            body = [f"Leaders {words[(n + i) % 10]} the {words[(n * i) % 10]} task {i} for page {n}." for i in range(6)]
            pages.append("\n".join([head, *body, foot]))
    cleaned, dropped = drop_running_lines(pages)
    assert dropped == 120  # a head and a footer on each of the 60 pages
    lines = "\n".join(cleaned).split("\n")
    assert not set(titles) & set(lines) and not any("June 2021" in line for line in lines)
    assert all(len(page.split("\n")) == 6 for page in cleaned), "every body line stays"


def test_short_chapters_heads_ending_in_the_page_number_and_bare_page_numbers_are_dropped():
    """A Texinfo manual (libtasn1.pdf): "Chapter 2: ASN.1 structure handling 3" heads only that chapter's two pages,
    each chapter's head on two or three pages of forty, and a chapter's first page carries only its page number."""
    words = "parse encode decode copy create delete read write find check".split()
    pages, heads = [], []
    for chapter in range(1, 9):
        for k in range(4):
            n = len(pages) + 1
            body = [
                f"The {words[(n + i) % 10]} call {words[(n * i + k) % 10]}s {i} fields on page {n}." for i in range(5)
            ]
            head = str(n) if k == 0 else f"Chapter {chapter}: Topic {'abcdefgh'[chapter - 1] * 3} handling {n}"
            heads.append(head)
            pages.append("\n".join([head, *body]))
    cleaned, dropped = drop_running_lines(pages)
    assert dropped == 32 and all(len(page.split("\n")) == 5 for page in cleaned), "only the heads go"
    assert not set(heads) & set("\n".join(cleaned).split("\n"))
    plain = ["\n".join(page.split("\n")[1:]) for page in pages[:4]]
    once = ["Chapter 9: Getting started with the library 12\n" + plain[0], *plain[1:]]
    assert drop_running_lines(once)[0][0].startswith("Chapter 9"), "a family on one page is not a running head"


def test_a_line_repeated_at_a_few_far_apart_page_edges_stays():
    pages = [f"Body line {n} about training.\nAnother line {n * 7} of text." for n in range(40)]
    for n in (3, 19, 35):  # three times over 33 pages: not a running head of any stretch of pages
        pages[n] = "Lessons learned\n" + pages[n]
    cleaned, _ = drop_running_lines(pages)
    assert sum(page.startswith("Lessons learned") for page in cleaned) == 3


def test_edge_keys_ignore_numbers_and_word_order():
    assert edge_key("14 June 2021 FM 7-0 2-3") == edge_key("2-14 FM 7-0 14 June 2021")
    assert edge_key("49 THE SIEGE OF VICKSBURG.") == edge_key("THE SIEGE OF VICKSBURG. 50")
    assert edge_key("Preface iv") == edge_key("Preface xii") == edge_key("Preface 3")
    assert edge_key("Chapter 2") != edge_key("Training Management")


def test_few_pages_or_few_repeats_remove_nothing():
    assert drop_running_lines(["Head\nbody one", "Head\nbody two"]) == (["Head\nbody one", "Head\nbody two"], 0)
    pages = [f"Head {n}\n" + "\n".join(f"line {n}.{i} unique {n * 10 + i}" for i in range(6)) for n in range(10)]
    pages[3] = "Odd head\n" + pages[3]
    pages[7] = "Odd head\n" + pages[7]  # on two pages only: below the three-page minimum
    cleaned, _ = drop_running_lines(pages)
    assert sum("Odd head" in page for page in cleaned) == 2
    assert not any("Head" in page for page in cleaned)


_WORDS = st.sampled_from("alpha beta gamma delta epsilon zeta eta theta iota kappa lambda mu".split())
_LINE = st.lists(_WORDS, min_size=1, max_size=5).map(" ".join)
_PAGE = st.lists(_LINE, min_size=0, max_size=10)


@settings(max_examples=120, deadline=None)
@given(st.lists(_PAGE, min_size=0, max_size=8), st.lists(_LINE, min_size=0, max_size=2), st.data())
def test_only_lines_repeated_at_page_edges_are_removed(bodies, heads, data):
    """Whatever the pages, the result is each page with some lines taken out, and each line taken out sits at the
    edge of its page and recurs (numbers aside) at the edges of at least three pages."""
    pages = []
    for n, body in enumerate(bodies):
        lines = list(body)
        for head in heads:
            if data.draw(st.booleans()):
                lines.insert(0 if data.draw(st.booleans()) else len(lines), f"{head} {n}")
        pages.append("\n".join(lines))
    cleaned, dropped = drop_running_lines(pages)
    keys = running_keys([page.split("\n") for page in pages])
    removed_total = 0
    for before, after in zip(pages, cleaned, strict=True):
        remaining = iter(after.split("\n") if after else [])
        pending = next(remaining, None)
        for line in before.split("\n") if before else []:
            if line == pending:
                pending = next(remaining, None)
            else:
                removed_total += 1
                assert edge_key(line) in keys, f"{line!r} was removed but is not a running line"
        assert pending is None, "lines only disappear; nothing is added or reordered"
    assert removed_total == dropped
    seen: Counter[str] = Counter(edge_key(line) for page in pages for line in page.split("\n"))
    assert all(seen[key] >= 3 for key in keys), "a line that occurs once or twice is never a running line"


# --- words and line ends -----------------------------------------------------------------------------------------


def repaired(text: str) -> tuple[str, Counter[str]]:
    counts: Counter[str] = Counter()
    vocabulary = Vocabulary([text])
    return repair_split_words(join_line_ends(text, vocabulary, counts), vocabulary, counts), counts


def test_line_end_hyphens_kept_for_compounds_and_joined_for_broken_words():
    text = (
        "The large-\nscale exercise was co-\nlocated with a live-fire range. A good exam-\nple of live-\nfire work; "
        "the results were high-\nly rated by non-\nEnglish observers."
    )
    out, counts = repaired(text)
    assert "large-scale" in out, "a known compound first part"
    assert "co-located" in out
    assert "live-fire work" in out, "the hyphenated form occurs elsewhere"
    assert "example" in out and "highly" in out, "syllable breaks are joined"
    assert "non-English" in out, "a capitalised second part"
    assert counts == {"line_end_hyphens_kept": 4, "line_end_hyphens_joined": 2}


def test_split_words_are_joined_only_where_the_document_shows_the_word():
    text = (
        "On 21 J anuary the Rel igious order met. In January the Religious order left, a part apart. War would "
        "break out after the breakout; they moved out, as the task’s T&EO said: St. Paul."
    )
    out, counts = repaired(text)
    assert out.startswith("On 21 January the Religious order met.")
    assert "a part apart" in out and "break out" in out, "two real words are never glued"
    assert "task’s T&EO" in out
    assert counts["split_words_joined"] == 2
    alone, _ = repaired("On 21 J anuary the order met.")
    assert "J anuary" in alone, "without the joined word elsewhere nothing is guessed"


def test_split_word_repair_leaves_real_prose_alone():
    """Three books' worth of real text (two field manuals, a novel): not one pair of words is glued."""
    for path in sorted(shared("corpus", "text").glob("*.txt")):
        text = path.read_text(encoding="utf-8")
        counts: Counter[str] = Counter()
        assert repair_split_words(text, Vocabulary([text]), counts) == text, path.name


@settings(max_examples=120, deadline=None)
@given(st.lists(st.sampled_from("a part apart in to into the re port report J anuary January".split()), max_size=40))
def test_split_word_repair_only_removes_single_spaces_between_non_words(words):
    text = "a. part. in. to. re. port. " + " ".join(words)  # every real word also occurs on its own
    counts: Counter[str] = Counter()
    vocabulary = Vocabulary([text])
    out = repair_split_words(text, vocabulary, counts)
    assert out.replace(" ", "") == text.replace(" ", "")
    assert len(text) - len(out) == counts["split_words_joined"]
    for glued in ("apart", "into", "report"):  # each piece also occurs alone, so is never glued
        assert out.count(glued) == text.count(glued)


_LINE_WORDS = st.sampled_from("large scale exam ple co located high ly live fire Soldier the unit".split())


@settings(max_examples=120, deadline=None)
@given(st.lists(st.tuples(_LINE_WORDS, st.sampled_from(["-\n", "\n", " ", ". ", ".\n"])), max_size=30))
def test_line_end_repairs_change_only_hyphens_and_line_breaks(pieces):
    text = "".join(word + separator for word, separator in pieces)
    counts: Counter[str] = Counter()
    out = join_line_ends(text, Vocabulary([text]), counts)
    assert "".join(out.replace("-", "").split()) == "".join(text.replace("-", "").split()), "every letter stays"
    assert out.count("-") == text.count("-") - counts["line_end_hyphens_joined"], "only line-end hyphens go"
    assert out.count("\n") <= text.count("\n")
