"""GNU Info manuals saved as text (`zcat sed.info.gz > sed.txt`): the navigation is page furniture.

Why at reading time: an Info file heads every node with "File: sed.info,  Node: Top,  Next: ...,  Up: (dir)" after a
`\\x1f` separator, ends many with a "* Menu:" of "* Node name::  description" lines, opens with makeinfo's note and a
START-INFO-DIR-ENTRY block and closes with a tag table. None of it is the manual a person reads (an Info reader shows
it as links), yet glued into chunks it reads as prose ("... Up: Comparison 1.6 Summarizing Which Files Differ
==== When you ..."), costs prompt tokens and spoils the sentence that follows. Headings keep their words; their
`****`/`====` underline becomes a paragraph break. A node holding the GNU GPL or FDL is cut whole, as Project
Gutenberg's licence is. Every other line is kept as it is.
"""

from __future__ import annotations

import re
from collections import Counter

SEPARATOR = "\x1f"
_INFO = re.compile(r"\x1f\r?\n(?:File: [^\n]*\bNode: |Tag Table:|Indirect:)")
_NODE_HEADER = re.compile(r"^File: [^,\n]+,\s+Node: ")
_MAKEINFO = re.compile(r"^This is \S+, produced by (?:makeinfo|texi2any)\b")
_UNDERLINE = re.compile(r"^([*=\-.])\1+$")
_FOOTNOTES = re.compile(r"^\s*-{3,} Footnotes -{3,}\s*$")
_CONTINUATION = re.compile(r"^(?:\s{8,}|\t)\S")
# The sentence that opens the GNU GPL, LGPL and FDL, which manuals append whole.
_LICENCE = "Everyone is permitted to copy and distribute verbatim copies of this license document"
_TOP_HEADING = re.compile(r"^File: [^,\n]+,\s+Node: Top,[^\n]*\n+([^\n]+)\n\*+\n", re.MULTILINE)


def is_info(raw: str) -> bool:
    """Whether `raw` is an Info file: a `\\x1f` separator followed by a node header, tag table or indirect table."""
    return SEPARATOR in raw and bool(_INFO.search(raw))


def info_title(raw: str) -> str:
    """The manual's title: the heading of its Top node ("GNU ‘sed’"), or ""."""
    match = _TOP_HEADING.search(raw.replace("\r\n", "\n"))
    return match.group(1).strip() if match else ""


def _heads_entries(lines: list[str], start: int) -> bool:
    """Whether `lines[start]` is a menu's section title: a short line or two, then a menu entry."""
    short = 0
    for line in lines[start:]:
        if line.startswith("* "):
            return True
        if line.strip():
            short += 1
            if short > 2 or len(line) > 60 or line.startswith(SEPARATOR):
                return False
    return False


def _menu_end(lines: list[str], start: int) -> int:
    """The index just past the menu whose "* Menu:" line is `lines[start]`: its entries, their wrapped
    descriptions, blank lines and the section titles between entries ("-- The Detailed Node Listing --")."""
    i = start + 1
    previous = "entry"
    while i < len(lines) and not lines[i].startswith(SEPARATOR):
        line = lines[i]
        if line.startswith("* "):
            previous = "entry"
        elif not line.strip():
            previous = "blank"
        elif previous == "entry" and _CONTINUATION.match(line):
            pass
        elif _heads_entries(lines, i):
            previous = "comment"
        else:
            break  # running text after the menu ("Statements (as in most ... ) provide the sequencing of")
        i += 1
    while i > start + 1 and not lines[i - 1].strip():
        i -= 1  # the blank lines that close the menu stay, as the paragraph break they are
    return i


def strip_info(raw: str, counts: Counter[str]) -> str:
    """`raw` without its Info navigation: separators, node headers, menus, the directory entry, makeinfo's note,
    footnote rules and the tag table; heading underlines become blank lines. Counts what went in `counts`
    ("info_navigation_lines", "info_heading_underlines"). Text that is not an Info file comes back unchanged."""
    if not is_info(raw):
        return raw
    lines = raw.replace("\r\n", "\n").split("\n")
    kept: list[str] = []
    dropped = underlines = 0
    i = 0
    while i < len(lines):
        line = lines[i]
        if line.startswith(SEPARATOR):
            body = line[1:] or (lines[i + 1] if i + 1 < len(lines) else "")
            if body.startswith(("Tag Table:", "Indirect:", "End Tag Table")):
                # To the next separator; after "End Tag Table" only Emacs's "Local Variables:" block follows, up to
                # the next file of a split manual (`zcat find.info.gz find.info-1.gz ...`).
                stop = _MAKEINFO if body.startswith("End Tag Table") else re.compile(SEPARATOR)
                end = next((j for j in range(i + 1, len(lines)) if stop.match(lines[j])), len(lines))
                dropped += end - i
                i = end
                continue
            dropped += 1
            i += 1
            continue
        if _NODE_HEADER.match(line) and i > 0 and lines[i - 1].startswith(SEPARATOR):
            end = next((j for j in range(i + 1, len(lines)) if lines[j].startswith(SEPARATOR)), len(lines))
            if _LICENCE in " ".join(" ".join(lines[i:end])[:3000].split()):
                counts["licence_lines"] += end - i  # an appendix holding the GPL or the GFDL: not the manual
                i = end
                continue
            dropped += 1
        elif line == "* Menu:":
            end = _menu_end(lines, i)
            dropped += end - i
            i = end
            continue
        elif line == "START-INFO-DIR-ENTRY":
            end = next((j for j in range(i, len(lines)) if lines[j] == "END-INFO-DIR-ENTRY"), i)
            dropped += end - i + 1
            i = end + 1
            continue
        elif line.startswith("INFO-DIR-SECTION ") or _MAKEINFO.match(line) or _FOOTNOTES.match(line):
            dropped += 1
        elif _UNDERLINE.match(line) and kept and len(kept[-1].rstrip()) == len(line) and kept[-1].strip():
            underlines += 1
            kept.append("")
        else:
            kept.append(line)
        i += 1
    counts["info_navigation_lines"] += dropped
    if underlines:
        counts["info_heading_underlines"] += underlines
    return "\n".join(kept)
