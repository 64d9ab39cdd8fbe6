"""JSONL: one document per line with a string `text`; other keys travel as metadata."""

from __future__ import annotations

import json
import re
from collections import Counter
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

from corrigenda.ingest.cleaning import clean_text
from corrigenda.ingest.document import Document, Unreadable, normalise
from corrigenda.ingest.titles import real_title

_LONE_SURROGATE = re.compile(r"[\ud800-\udfff]")


def without_lone_surrogates(value: Any, counts: Counter[str]) -> Any:
    """The record with every lone surrogate ("\\ud800" escapes a broken exporter wrote) taken out of its strings,
    keys included: JSON lets them through, but they are not characters and no UTF-8 file can hold them."""
    if isinstance(value, str):
        cleaned, removed = _LONE_SURROGATE.subn("", value)
        if removed:
            counts["lone_surrogates"] += removed
        return cleaned
    if isinstance(value, list):
        return [without_lone_surrogates(item, counts) for item in value]
    if isinstance(value, dict):
        return {without_lone_surrogates(k, counts): without_lone_surrogates(v, counts) for k, v in value.items()}
    return value


def read_jsonl(path: Path, source: str, bad_line: Callable[[int, str], None]) -> Iterator[Document]:
    """Yield each valid record; report each bad line as (line number, reason) and go on."""
    try:
        handle = path.open("rb")
    except OSError as exc:
        raise Unreadable(str(exc)) from exc
    with handle:
        for number, raw in enumerate(handle, start=1):
            try:
                line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
            except UnicodeDecodeError:
                bad_line(number, "not UTF-8")
                continue
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except json.JSONDecodeError as exc:
                bad_line(number, f"not valid JSON ({exc.msg})")
                continue
            except RecursionError:
                bad_line(number, "not valid JSON (nested too deeply)")
                continue
            if not isinstance(record, dict):
                bad_line(number, f"not a JSON object (got {type(record).__name__})")
                continue
            if "text" not in record:
                found = ", ".join(f"`{key}`" for key in list(record)[:8]) or "none"
                bad_line(number, f"no `text` key (keys found: {found})")
                continue
            if not isinstance(record["text"], str):
                bad_line(number, f"`text` is not a string (got {type(record['text']).__name__})")
                continue
            counts: Counter[str] = Counter()
            try:
                record = without_lone_surrogates(record, counts)
            except RecursionError:
                bad_line(number, "not valid JSON (nested too deeply)")
                continue
            text = normalise(clean_text(record["text"], counts))
            if not text.strip():
                bad_line(number, "`text` is empty")
                continue
            metadata = {key: value for key, value in record.items() if key != "text"}
            title = real_title(record.get("title"))  # an id or the file name is not a title
            yield Document(
                source=source,
                doc_id=f"{source}:{number}",
                title=title,
                text=text,
                metadata=metadata,
                cleaning=dict(counts),
            )
