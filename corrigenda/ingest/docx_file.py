"""Word documents with python-docx: paragraphs and tables in document order."""

from __future__ import annotations

import zipfile
from pathlib import Path

import docx
from docx.opc.exceptions import PackageNotFoundError
from docx.table import Table
from docx.text.paragraph import Paragraph

from corrigenda.ingest.document import Document, Unreadable, normalise


def table_rows(table: Table) -> list[str]:
    """Each row as `cell | cell`; a merged cell, which python-docx repeats, is written once."""
    rows = []
    for row in table.rows:
        cells: list[str] = []
        for cell in row.cells:
            text = " ".join(cell.text.split())
            if text and (not cells or cells[-1] != text):
                cells.append(text)
        if cells:
            rows.append(" | ".join(cells))
    return rows


def read_docx(path: Path, source: str) -> Document:
    try:
        document = docx.Document(str(path))
    except (PackageNotFoundError, zipfile.BadZipFile, KeyError, ValueError) as exc:
        raise Unreadable(f"not a readable DOCX file: {exc}") from exc
    blocks: list[str] = []
    first_heading = None
    for item in document.iter_inner_content():
        if isinstance(item, Paragraph):
            text = item.text.strip()
            if not text:
                continue
            if first_heading is None and item.style is not None and item.style.name.startswith(("Heading", "Title")):
                first_heading = text
            blocks.append(text)
        else:
            rows = table_rows(item)
            if rows:
                blocks.append("\n".join(rows))
    text = normalise("\n\n".join(blocks))
    if not text.strip():
        raise Unreadable("no text in the document body")
    title = document.core_properties.title or first_heading or path.stem
    return Document(source=source, doc_id=source, title=title, text=text)
