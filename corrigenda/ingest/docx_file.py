"""Word documents with python-docx: paragraphs and tables in document order, nested tables inside their cell."""

from __future__ import annotations

import zipfile
from collections import Counter
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table, _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from corrigenda.ingest.cleaning import clean_text
from corrigenda.ingest.document import Document, Unreadable, normalise
from corrigenda.ingest.titles import real_title


def cell_text(cell: _Cell) -> str:
    """A cell's paragraphs on one line; a table nested in it, in its place, as `[row; row]`."""
    parts: list[str] = []
    for item in cell.iter_inner_content():
        if isinstance(item, Paragraph):
            text = " ".join(item.text.split())
        else:
            rows = table_rows(item)
            text = f"[{'; '.join(rows)}]" if rows else ""
        if text:
            parts.append(text)
    return " ".join(parts)


def table_rows(table: Table) -> list[str]:
    """Each row as `cell | cell`; a merged cell, which python-docx repeats, is written once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        seen: set[int] = set()
        for cell in row.cells:
            if id(cell._tc) in seen:
                continue
            seen.add(id(cell._tc))
            text = cell_text(cell)
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def read_docx(path: Path, source: str) -> Document:
    try:
        return _read(path, source)
    except Unreadable:
        raise
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"not a readable DOCX file: {exc}") from exc
    except etree.XMLSyntaxError as exc:  # a part of the package is not well-formed XML (a cut or mangled save)
        raise Unreadable(f"damaged DOCX: a part of it is not valid XML ({exc})") from exc
    except Exception as exc:  # python-docx raises many kinds on damaged files; one must not stop the corpus
        raise Unreadable(f"damaged DOCX ({type(exc).__name__}): {exc}") from exc


def _read(path: Path, source: str) -> Document:
    document = docx.Document(str(path))
    blocks: list[str] = []
    first_heading = ""
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            if not first_heading and item.style is not None and item.style.name.startswith(("Heading", "Title")):
                first_heading = real_title(text)
            blocks.append(text)
        else:
            rows = table_rows(item)
            if rows:
                blocks.append("\n".join(rows))
    counts: Counter[str] = Counter()
    text = normalise(clean_text("\n\n".join(blocks), counts))
    if not text.strip():
        raise Unreadable("no text in the document body")
    title = real_title(document.core_properties.title) or first_heading
    return Document(source=source, doc_id=source, title=title, text=text, cleaning=dict(counts))
