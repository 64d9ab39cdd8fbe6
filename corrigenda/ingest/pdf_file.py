"""PDF with pypdf: page by page, cleaned and repaired (see pdf_repair), encrypted files opened where no password
is needed, pages recorded."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import DependencyError, FileNotDecryptedError, PdfReadError, WrongPasswordError

from corrigenda.ingest.cleaning import clean_text
from corrigenda.ingest.document import Document, Unreadable, normalise
from corrigenda.ingest.pdf_repair import (
    Vocabulary,
    drop_running_lines,
    join_line_ends,
    page_separator,
    repair_split_words,
)
from corrigenda.ingest.titles import real_title

_PAGE_END_HYPHEN = re.compile(r"(?<![^\W\d_])([^\W\d_]+)-$")
_PAGE_START_WORD = re.compile(r"[^\W\d_]+")
_SPACE_RUN = re.compile(r"[ \t]{2,}")
_TRAILING_SPACE = re.compile(r"[ \t]+\n")


@contextmanager
def pypdf_warnings() -> Iterator[list[str]]:
    """Collect what pypdf logs while repairing a damaged file, instead of letting it print to the terminal."""
    messages: list[str] = []

    class Collect(logging.Handler):
        def emit(self, record: logging.LogRecord) -> None:
            messages.append(record.getMessage().strip())

    logger = logging.getLogger("pypdf")
    handler, propagate = Collect(level=logging.WARNING), logger.propagate
    logger.addHandler(handler)
    logger.propagate = False
    try:
        yield messages
    finally:
        logger.removeHandler(handler)
        logger.propagate = propagate


def clean_page(text: str, counts: Counter[str]) -> str:
    """Ligatures and presentation forms unfolded (NFKC), the shared clean-up, runs of spaces collapsed, line ends
    trimmed; a soft hyphen at a line end joins the word it broke."""
    text = unicodedata.normalize("NFKC", normalise(text.replace("\u00ad\n", "")))
    text = clean_text(text, counts)
    return _TRAILING_SPACE.sub("\n", _SPACE_RUN.sub(" ", text)).strip()


def _join_pages(pages: list[str], vocabulary: Vocabulary) -> tuple[str, tuple[int, ...]]:
    """One text from the pages, and where each page starts in it; a word hyphenated across a page break is
    treated as at a line end."""
    parts: list[str] = []
    starts: list[int] = []
    offset = 0
    for page in pages:
        separator = ""
        if parts:
            previous = parts[-1]
            broken = _PAGE_END_HYPHEN.search(previous[-64:])
            if broken and page[:1].isalpha():
                following = _PAGE_START_WORD.match(page)
                if following and not vocabulary.keeps_hyphen(broken.group(1), following.group()):
                    parts[-1] = previous[:-1]
                    offset -= 1
            else:
                separator = page_separator(previous, page)
        parts.append(separator)
        offset += len(separator)
        starts.append(offset)
        parts.append(page)
        offset += len(page)
    return "".join(parts), tuple(starts)


def _open(reader: PdfReader) -> None:
    """Decrypt with the empty user password, which opens every PDF restricted only by an owner password."""
    if not reader.is_encrypted:
        return
    try:
        opened = reader.decrypt("")
    except DependencyError as exc:
        raise Unreadable(f"encrypted PDF that needs the `cryptography` package to open ({exc})") from exc
    except (FileNotDecryptedError, WrongPasswordError, NotImplementedError) as exc:
        raise Unreadable(f"encrypted PDF with an unsupported scheme ({exc})") from exc
    if not opened:
        raise Unreadable("encrypted PDF: password required (it cannot be opened without the user password)")


def _page_texts(reader: PdfReader) -> tuple[list[str], list[str]]:
    """Each page's text, "" for a page pypdf cannot read (a bad filter, a broken content stream), and those pages
    named: one damaged page of a 500-page manual must not lose the other 499."""
    texts, bad = [], []
    for number, page in enumerate(reader.pages, start=1):
        try:
            texts.append(page.extract_text() or "")
        except Exception as exc:  # pypdf raises many kinds on a broken page; the file's own errors are raised above
            texts.append("")
            bad.append(f"page {number} ({type(exc).__name__}: {exc})")
    return texts, bad


def read_pdf(path: Path, source: str) -> tuple[Document, str | None]:
    """Read a PDF; returns the document and a note when pypdf had to repair the file."""
    try:
        with pypdf_warnings() as warnings:
            reader = PdfReader(path)
            _open(reader)
            raw_pages, bad_pages = _page_texts(reader)
            title = real_title(reader.metadata.title if reader.metadata else None)
    except Unreadable:
        raise
    except (
        PdfReadError,
        ValueError,
        KeyError,
        TypeError,
        AttributeError,
        OSError,
        NotImplementedError,
    ) as exc:
        raise Unreadable(f"malformed PDF: {exc}") from exc
    except Exception as exc:  # pypdf raises many kinds on broken files; one bad PDF must not stop the corpus
        raise Unreadable(f"malformed PDF ({type(exc).__name__}): {exc}") from exc
    if bad_pages and len(bad_pages) == len(raw_pages):
        raise Unreadable(f"malformed PDF: no page could be read ({bad_pages[0]})")
    counts: Counter[str] = Counter()
    pages, counts["running_lines"] = drop_running_lines([clean_page(page, counts) for page in raw_pages])
    vocabulary = Vocabulary(pages)
    pages = [repair_split_words(join_line_ends(page, vocabulary, counts), vocabulary, counts) for page in pages]
    if not any(page.strip() for page in pages):
        raise Unreadable(f"no extractable text in {len(pages)} page(s) (scanned images need OCR first)")
    text, starts = _join_pages(pages, vocabulary)
    document = Document(
        source=source,
        doc_id=source,
        title=title,
        text=text,
        page_starts=starts,
        cleaning={kind: count for kind, count in counts.items() if count},
    )
    notes = [f"damaged PDF, repaired while reading: {'; '.join(dict.fromkeys(warnings))}"] if warnings else []
    if bad_pages:
        notes.append(f"{len(bad_pages)} of {len(raw_pages)} pages could not be read and were left out: {bad_pages[0]}")
    return document, "; ".join(notes) or None
