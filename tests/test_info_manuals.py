"""GNU Info manuals saved as text: their navigation is page furniture, removed at reading time and counted, and the
title is the manual's own, never a node header or a section heading."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from conftest import offline_project
from hypothesis import given
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.ingest.info import strip_info
from corrigenda.ingest.text_file import read_text_file

PREAMBLE = (
    "This is widget.info, produced by makeinfo version 6.8 from widget.texi.\n\n"
    "This manual documents version 2.1 of GNU Widget, a tool that turns gears.\n\n"
    "INFO-DIR-SECTION Basics\nSTART-INFO-DIR-ENTRY\n* widget: (widget).        Turn gears.\nEND-INFO-DIR-ENTRY\n\n"
)
TOP = (
    "\x1f\nFile: widget.info,  Node: Top,  Next: Gears,  Up: (dir)\n\n"
    "GNU Widget\n**********\n\n"
    "This manual documents version 2.1 of GNU Widget, a tool that turns gears.\n\n"
    "* Menu:\n\n"
    "* Gears::                     How the gears turn.\n"
    "* Invoking widget::           Options, in the order\n"
    "                                the program reads them.\n\n"
    " -- The Detailed Node Listing --\n\n"
    "Gears\n\n"
    "* Teeth::                     Counting teeth.\n\n"
)
GEARS = (
    "\x1f\nFile: widget.info,  Node: Gears,  Next: Invoking widget,  Prev: Top,  Up: Top\n\n"
    "1 Gears\n*******\n\n"
    "The widget turns two gears at once, and a third when it is asked to.(1)\n\n"
    "* Menu:\n\n* Teeth::\n\n"
    "Statements after a menu are text too: the widget stops after 40 turns.\n\n"
    "   ---------- Footnotes ----------\n\n   (1) Only on Tuesdays.\n\n"
)
LICENCE = (
    "\x1f\nFile: widget.info,  Node: GNU Free Documentation License,  Prev: Gears,  Up: Top\n\n"
    "Appendix A GNU Free Documentation License\n"
    "*****************************************\n\n"
    "     Everyone is permitted to copy and distribute verbatim copies\n"
    "     of this license document, but changing it is not allowed.\n\n"
    "A Front-Cover Text may be at most 5 words, and a Back-Cover Text may be at most 25 words.\n\n"
)
TAGS = (
    "\x1f\nTag Table:\nNode: Top210\nNode: Gears1002\n\x1f\nEnd Tag Table\n\n\nLocal Variables:\ncoding: utf-8\nEnd:\n"
)


def test_an_info_manual_reads_as_its_text_with_its_own_title(tmp_path: Path):
    (tmp_path / "widget.txt").write_text(PREAMBLE + TOP + GEARS + LICENCE + TAGS, encoding="utf-8")
    document, _ = read_text_file(tmp_path / "widget.txt", "widget.txt")
    assert document.title == "GNU Widget"  # the Top node's heading, not "1 Gears" or a node header
    text = document.text
    for furniture in ("File:", "Node:", "* Menu", "::", "INFO-DIR", "makeinfo", "Tag Table", "Local Variables",
                      "Detailed Node Listing", "Footnotes ---", "*****", "\x1f", "Front-Cover"):  # fmt: skip
        assert furniture not in text, furniture
    for kept in (
        "The widget turns two gears at once, and a third when it is asked to.(1)",
        "Statements after a menu are text too: the widget stops after 40 turns.",
        "(1) Only on Tuesdays.",
        "1 Gears\n\n\nThe widget",  # the heading stands apart from the paragraph it heads
    ):
        assert kept in text, kept
    assert document.cleaning["info_navigation_lines"] > 20
    assert document.cleaning["info_heading_underlines"] == 2
    assert document.cleaning["licence_lines"] == LICENCE.count("\n") - 1
    assert "control_chars" not in document.cleaning  # the separators are counted as navigation


def test_a_split_manual_read_as_one_file_keeps_every_part(tmp_path: Path):
    """`zcat find.info.gz find.info-1.gz`: the main file holds only the tables, the parts hold the text."""
    main_file = PREAMBLE + "\x1f\nIndirect:\nwidget.info-1: 1201\n\x1f\nTag Table:\n(Indirect)\nNode: Top1201\n"
    main_file += "\x1f\nEnd Tag Table\n\n\nLocal Variables:\ncoding: utf-8\nEnd:\n"
    (tmp_path / "widget.txt").write_text(main_file + PREAMBLE + TOP + GEARS, encoding="utf-8")
    document, _ = read_text_file(tmp_path / "widget.txt", "widget.txt")
    assert "The widget turns two gears at once" in document.text
    assert "Indirect" not in document.text and "coding: utf-8" not in document.text


def test_a_text_without_a_node_header_is_not_an_info_manual(tmp_path: Path):
    text = "Manual\n\n* Menu:\n\n* Gears::  How the gears turn.\n\nFile: a.info,  Node: Top\n\nThe widget turns.\n"
    counts: Counter[str] = Counter()
    assert strip_info(text, counts) == text and not counts
    (tmp_path / "manual.txt").write_text(text, encoding="utf-8")
    assert read_text_file(tmp_path / "manual.txt", "manual.txt")[0].title == "Manual"


_BODY_LINE = st.text(
    st.characters(blacklist_categories=("Cs", "Cc"), blacklist_characters="\r\n\x1f\x85\u2028\u2029"),
    min_size=1,
    max_size=50,
).filter(
    lambda line: (
        line.strip()
        and not line.startswith(("* ", "File: ", "INFO-DIR-SECTION ", "START-INFO", "This is "))
        and not set(line) <= set("*=-.")  # an underline: its own test above
        and "Footnotes" not in line
    )
)


@given(st.lists(st.lists(_BODY_LINE, min_size=1, max_size=4), min_size=1, max_size=5))
def test_removal_never_drops_a_line_that_is_not_navigation(nodes):
    """Whatever a node's text, every line of it survives in order; only node headers, menus and the like go."""
    raw = PREAMBLE
    for number, body in enumerate(nodes):
        raw += f"\x1f\nFile: widget.info,  Node: N{number},  Up: Top\n\n" + "\n".join(body) + "\n\n"
        raw += "* Menu:\n\n* Gears::                     How the gears turn.\n\n"
    counts: Counter[str] = Counter()
    kept = [line for line in strip_info(raw, counts).split("\n") if line.strip()]
    assert kept[0].startswith("This manual documents")  # the manual's own sentence before the first node
    assert kept[1:] == [line for body in nodes for line in body]
    assert counts["info_navigation_lines"] == 5 + 5 * len(nodes)  # the note and directory entry; per node 5 lines


def test_a_default_build_of_an_info_manual_counts_its_navigation_and_asks_nothing_about_it(tmp_path: Path):
    spec = offline_project(tmp_path)
    for sample in (tmp_path / "samples").iterdir():
        sample.unlink()
    (tmp_path / "samples" / "widget.txt").write_text(PREAMBLE + TOP + GEARS * 3 + LICENCE + TAGS, encoding="utf-8")
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    text = (tmp_path / "out" / "axolotl_correction_conversations.json").read_text(encoding="utf-8")
    assert "GNU Widget" in text  # a record was released, named by the manual's own title
    for furniture in ("Node:", "Menu", "Front-Cover", "makeinfo"):
        assert furniture not in text
    report = json.loads((tmp_path / "out" / "ingestion_report.json").read_text(encoding="utf-8"))
    cleaned = report["cleaning"]["../samples/widget.txt"]
    assert cleaned["info_navigation_lines"] > 20 and cleaned["licence_lines"] > 5
