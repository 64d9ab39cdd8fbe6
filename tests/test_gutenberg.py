"""Project Gutenberg's header and licence are not the book: cut at reading time, so neither a model's prompts nor the
released questions see "a full refund ... within 90 days" or "all 50 states"."""

from __future__ import annotations

import json
from pathlib import Path

from conftest import offline_project, shared
from hypothesis import given
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.ingest.gutenberg import book_text
from corrigenda.ingest.text_file import read_text_file

HEADER = (
    "\ufeffThe Project Gutenberg eBook of The Canal Years\n\n"
    "This ebook is for the use of anyone anywhere in the United States and most other parts of the world.\n\n"
    "Title: The Canal Years\n\nAuthor: A. Writer\n\nRelease date: June 25, 2008 [eBook #12]\n\n"
    "*** START OF THE PROJECT GUTENBERG EBOOK THE CANAL YEARS ***\n\n\n"
)
LICENCE = (
    "\n*** END OF THE PROJECT GUTENBERG EBOOK THE CANAL YEARS ***\n\n"
    "Updated editions will replace the previous one. Royalty payments must be paid within 60 days following each date "
    "on which you prepare your periodic tax returns. You provide a full refund of any money paid for a work if a "
    "defect is discovered and reported to you within 90 days of receipt of the work. The Foundation is committed to "
    "complying with the laws regulating charities and charitable donations in all 50 states of the United States.\n"
)
BODY = (
    "CHAPTER I.\n\n"
    "The canal opened in 1914 after ten years of work. Its locks lift ships 26 metres above the sea on the way across. "
    "The first ship to pass through it was the cargo steamer Ancon, which crossed on August 15, 1914, in 9 hours.\n\n"
    "CHAPTER II.\n\n"
    "The treaty of 1977 gave the canal to Panama at the end of 1999. About 14,000 ships passed through it in 2010."
)


def test_a_gutenberg_file_reads_as_the_book_alone(tmp_path: Path):
    (tmp_path / "canal.txt").write_text(HEADER + BODY + LICENCE, encoding="utf-8")
    document, _ = read_text_file(tmp_path / "canal.txt", "canal.txt")
    assert document.text == BODY
    assert document.title == "The Canal Years"  # read from the header before it is cut
    assert document.cleaning == {"project_gutenberg_lines": (HEADER + LICENCE).count("\n")}


def test_older_markers_and_closing_lines_and_a_missing_end_are_handled():
    old = "Header\n\n*** START OF THIS PROJECT GUTENBERG EBOOK CANALS ***\n" + BODY
    old += (
        "\n\n\nEnd of Project Gutenberg's Canals, by A. Writer\n\n*** END OF THIS PROJECT GUTENBERG EBOOK CANALS ***\n"
    )
    assert book_text(old)[0] == BODY
    assert book_text("Header\n***START OF THE PROJECT GUTENBERG EBOOK X***\n" + BODY)[0] == BODY
    plain = "This book mentions the Project Gutenberg licence in passing, 1971.\n\n" + BODY
    assert book_text(plain) == (plain, 0)  # no START marker: nothing is cut


_LINE = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\r\n*"), max_size=60)


@given(st.lists(_LINE, min_size=1, max_size=12), st.lists(_LINE, max_size=4), st.lists(_LINE, max_size=6))
def test_exactly_the_book_between_the_markers_is_kept(body_lines, header_lines, licence_lines):
    body = "\n".join(body_lines)
    framed = "\n".join(
        [
            *header_lines,
            "*** START OF THE PROJECT GUTENBERG EBOOK X ***",
            body,
            "*** END OF THE PROJECT GUTENBERG EBOOK X ***",
            *licence_lines,
        ]
    )
    text, cut = book_text(framed)
    assert text == body.strip("\n")  # every line of the book, in order; nothing of the header or the licence
    assert cut == framed.count("\n") - text.count("\n")


def test_a_default_build_of_a_gutenberg_book_asks_nothing_about_its_licence(tmp_path: Path):
    spec = offline_project(tmp_path)  # chunk_size 100: small chunks of the licence read like prose with numbers
    for sample in (tmp_path / "samples").iterdir():
        sample.unlink()
    (tmp_path / "samples" / "canal.txt").write_text(HEADER + BODY + LICENCE * 3, encoding="utf-8")
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    records = json.loads((tmp_path / "out" / "axolotl_correction_conversations.json").read_text())
    text = json.dumps(records)
    assert records and "canal" in text.lower()
    for licence_word in ("refund", "Foundation", "Royalty", "tax returns", "50 states"):
        assert licence_word not in text
    report = json.loads((tmp_path / "out" / "ingestion_report.json").read_text())
    assert report["cleaning"]["../samples/canal.txt"]["project_gutenberg_lines"] > 10


def test_the_shared_looking_glass_starts_at_its_illustration_and_ends_at_the_end():
    path = shared("corpus", "text", "through-the-looking-glass.txt")
    document, _ = read_text_file(path, "looking-glass.txt")
    assert document.text.startswith("[Illustration]") and document.text.endswith("THE END")
    assert "Gutenberg" not in document.text and document.title == "Through the Looking-Glass"
