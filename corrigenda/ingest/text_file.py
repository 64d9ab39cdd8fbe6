"""Plain text and Markdown: find the encoding, never guess silently."""

from __future__ import annotations

import codecs
from collections import Counter
from pathlib import Path

import charset_normalizer

from corrigenda.ingest.cleaning import clean_text
from corrigenda.ingest.document import Document, Unreadable, normalise
from corrigenda.ingest.gutenberg import book_text
from corrigenda.ingest.info import info_title, is_info, strip_info
from corrigenda.ingest.pdf_repair import Vocabulary, join_hyphens, line_end_hyphens
from corrigenda.ingest.titles import gutenberg_title, real_title

_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32"),
    (codecs.BOM_UTF32_BE, "utf-32"),
    (codecs.BOM_UTF8, "utf-8-sig"),
    (codecs.BOM_UTF16_LE, "utf-16"),
    (codecs.BOM_UTF16_BE, "utf-16"),
)


def looks_binary(data: bytes) -> bool:
    """NUL bytes or many control bytes mean this is not a text file, whatever its name says."""
    if b"\x00" in data:
        return True
    sample = data[:65536]
    controls = sum(1 for byte in sample if byte < 32 and byte not in (9, 10, 12, 13))
    return controls > len(sample) * 0.05


def decode(data: bytes) -> tuple[str, str | None]:
    """Return the text and, when it was not UTF-8 (with or without a BOM), a note naming the detected encoding."""
    for bom, encoding in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(encoding), None
            except UnicodeDecodeError as exc:
                raise Unreadable(f"starts with a {encoding} byte-order mark but is not valid {encoding}") from exc
    try:
        return data.decode("utf-8"), None
    except UnicodeDecodeError:
        pass
    if looks_binary(data):
        raise Unreadable("binary data, not text")
    best = charset_normalizer.from_bytes(data).best()
    if best is None or best.encoding is None:
        raise Unreadable("not UTF-8 and no text encoding could be detected")
    return str(best), f"not UTF-8; decoded as {best.encoding} (detected)"


def markdown_title(text: str) -> str:
    """The first `# ` heading, or ""."""
    for line in text.splitlines():
        if line.startswith("# "):
            return real_title(line[2:].strip())
    return ""


def heading_line(text: str) -> str:
    """A plain-text file's first line when it reads like a heading: short, followed by a blank line, no full stop."""
    lines = text.lstrip().split("\n", 2)
    if len(lines) >= 2 and not lines[1].strip():
        first = lines[0].strip()
        if len(first) <= 80 and not first.endswith((".", ",", ";", ":")):
            return real_title(first)
    return ""


def plain_text(raw: str, counts: Counter[str]) -> str:
    """An Info manual's navigation removed, the shared clean-up, then words broken at line ends mended: text saved
    from PDFs, man pages and wrapped e-texts breaks them as PDF text does."""
    text = normalise(clean_text(strip_info(raw, counts), counts))
    if not line_end_hyphens(text):
        return text  # most text: the document's vocabulary costs as much as tokenizing it, so it is not built
    return join_hyphens(text, Vocabulary([text]), counts)


def read_text_file(path: Path, source: str) -> tuple[Document, str | None]:
    """Read a .txt or .md file; returns the document and an optional note for the ingestion report."""
    data = path.read_bytes()
    if not data.strip():
        raise Unreadable("empty file")
    raw, note = decode(data)
    counts: Counter[str] = Counter()
    text = plain_text(raw, counts)
    if not text.strip():
        raise Unreadable("no text (only whitespace)")
    if path.suffix.lower() == ".md":
        title = markdown_title(text)
    else:
        # An Info manual's first line after its navigation is a section heading ("1 Introduction"), not its title.
        title = real_title(info_title(raw)) if is_info(raw) else gutenberg_title(text) or heading_line(text)
    text, cut = book_text(text)
    if cut:
        counts["project_gutenberg_lines"] += cut
    if not text.strip():
        raise Unreadable("no text between the Project Gutenberg START and END markers")
    return Document(source=source, doc_id=source, title=title, text=text, cleaning=dict(counts)), note
