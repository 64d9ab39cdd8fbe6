"""Which metadata titles are titles a person would recognise, and which are file names or ids left by tools.

Why it matters: the title reaches every prompt and question; "Binder1.pdf" or "ARN31505-FM_3-96-000-WEB-1" there
reads as noise, so a document without a real title gets "" and the prompts phrase around it.
"""

from __future__ import annotations

import re

_FILE_NAME = re.compile(r"\.(pdf|docx?|rtf|odt|txt|md|indd|pptx?|xlsx?|html?|tex|dvi|ps)\s*$", re.IGNORECASE)
_TOOL_PREFIX = re.compile(r"^(microsoft (word|powerpoint|excel)|untitled|document\d*|doc\d+)\b", re.IGNORECASE)
_GUTENBERG_TITLE = re.compile(r"^Title:[ \t]*(\S.*?)[ \t]*$", re.MULTILINE)
_GUTENBERG_FIRST_LINE = re.compile(r"^\ufeff?The Project Gutenberg e[Bb]ook,? of\s+(\S[^\n]*)")


def real_title(candidate: object) -> str:
    """`candidate` when it reads like a title, else "": not a file name, not "Microsoft Word - x.doc" or
    "Untitled", not an id-like token without spaces (one plain word such as "Lorem" is kept), not a running head
    that names the same thing at both ends."""
    if not isinstance(candidate, str):
        return ""
    title = " ".join(candidate.split())
    if len(title) < 2 or len(title) > 200 or not any(ch.isalpha() for ch in title):
        return ""
    if _FILE_NAME.search(title) or _TOOL_PREFIX.match(title):
        return ""
    if " " not in title and (any(ch.isdigit() for ch in title) or re.search(r"[_\-.]", title)):
        return ""
    words = title.split()
    if len(words) >= 3 and words[0] == words[-1] and re.search(r"[\d(]", words[0]):
        return ""  # a mirrored running head ("BASH(1) General Commands Manual BASH(1)"), not a title
    return title


def gutenberg_title(text: str) -> str:
    """The `Title:` line of a Project Gutenberg header (in its first few thousand characters), or the book named by
    its first line ("The Project Gutenberg eBook of ...")."""
    match = _GUTENBERG_TITLE.search(text[:10_000]) or _GUTENBERG_FIRST_LINE.match(text.lstrip())
    return real_title(match.group(1)) if match else ""
