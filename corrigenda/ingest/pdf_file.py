"""PDF with pypdf: page by page, lines re-joined, running headers and footers dropped, pages recorded."""

from __future__ import annotations

import logging
import re
import unicodedata
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from pypdf import PdfReader
from pypdf.errors import PdfReadError

from corrigenda.ingest.document import Document, Unreadable, normalise

_HYPHENATED = re.compile(r"(?<=[a-z])-\n(?=[a-z])")
_BROKEN_LINE = re.compile(r"(?<=[^\s.!?:;])\n(?=[a-z(])")
_EDGE_NOISE = re.compile(r"^[\W\d_]+|[\W\d_]+$")
_NUMBER = re.compile(r"\d+")
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


def clean_page(text: str) -> str:
    """Ligatures and presentation forms unfolded (NFKC), runs of spaces collapsed, line ends trimmed."""
    text = unicodedata.normalize("NFKC", normalise(text))
    return _TRAILING_SPACE.sub("\n", _SPACE_RUN.sub(" ", text)).strip()


def join_broken_lines(page: str) -> str:
    """`exam-\\nple` -> `example`; a line that stops mid-sentence runs on into the next."""
    return _BROKEN_LINE.sub(" ", _HYPHENATED.sub("", page))


def _edge_key(line: str) -> str:
    """Page numbers and punctuation aside, so `49 THE SIEGE.` and `THE SIEGE. 50` match."""
    return _NUMBER.sub("#", _EDGE_NOISE.sub("", line.lower()))


def drop_running_lines(pages: list[str]) -> list[str]:
    """Remove a first or last line that recurs (numbers aside) on at least half the pages of a 3+ page PDF."""
    if len(pages) < 3:
        return pages
    counts: Counter[str] = Counter()
    for page in pages:
        lines = [line for line in page.split("\n") if line.strip()]
        counts.update({_edge_key(line) for line in (lines[:1] + lines[-1:])})
    running = {key for key, count in counts.items() if len(key) >= 3 and count >= max(3, len(pages) / 2)}
    if not running:
        return pages
    cleaned = []
    for page in pages:
        lines = page.split("\n")
        content = [i for i, line in enumerate(lines) if line.strip()]
        drop = {i for i in (content[:1] + content[-1:]) if _edge_key(lines[i]) in running}
        cleaned.append("\n".join(line for i, line in enumerate(lines) if i not in drop))
    return cleaned


def read_pdf(path: Path, source: str) -> tuple[Document, str | None]:
    """Read a PDF; returns the document and a note when pypdf had to repair the file."""
    try:
        with pypdf_warnings() as warnings:
            reader = PdfReader(path)
            if reader.is_encrypted and not reader.decrypt(""):
                raise Unreadable("encrypted PDF (a password is needed)")
            raw_pages = [page.extract_text() or "" for page in reader.pages]
            title = (reader.metadata.title if reader.metadata else None) or path.stem
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
    pages = drop_running_lines([clean_page(page) for page in raw_pages])
    pages = [join_broken_lines(page) for page in pages]
    if not any(page.strip() for page in pages):
        raise Unreadable(f"no extractable text in {len(pages)} page(s) (scanned images need OCR first)")
    text_parts, starts, offset = [], [], 0
    for page in pages:
        starts.append(offset)
        text_parts.append(page)
        offset += len(page) + 2
    document = Document(
        source=source,
        doc_id=source,
        title=str(title),
        text="\n\n".join(text_parts),
        page_starts=tuple(starts),
    )
    note = f"damaged PDF, repaired while reading: {'; '.join(dict.fromkeys(warnings))}" if warnings else None
    return document, note
