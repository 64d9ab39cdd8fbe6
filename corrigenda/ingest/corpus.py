"""From the spec's `inputs` to a stream of chunks, with a report of everything that was read, skipped or dropped.

Documents are read and chunked one at a time, so memory is bounded by the largest document, not the corpus (a
subset keeps only its `size` best-ranked chunks in a heap).
"""

from __future__ import annotations

import hashlib
import heapq
import os
import posixpath
import re
from collections.abc import Callable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corrigenda.atomic import write_json
from corrigenda.compiler.spec import InputsSpec
from corrigenda.ingest.chunker import Chunker, balance
from corrigenda.ingest.document import Document, Unreadable
from corrigenda.ingest.docx_file import read_docx
from corrigenda.ingest.jsonl_file import read_jsonl
from corrigenda.ingest.pdf_file import read_pdf
from corrigenda.ingest.text_file import read_text_file
from corrigenda.ingest.walk import open_problem, os_reason, walk_entry

EXTENSIONS = {
    ".txt": "txt",
    ".md": "md",
    ".markdown": "md",
    ".pdf": "pdf",
    ".docx": "docx",
    ".jsonl": "jsonl",
}


@dataclass(frozen=True)
class Chunk:
    """A piece of a document small enough for one prompt, with everything needed to trace it back."""

    source: str
    doc_id: str
    title: str
    index: int
    text: str
    char_start: int
    char_end: int
    overlap_chars: int
    tokens: int
    content_hash: str
    pages: tuple[int, int] | None = None
    metadata: dict[str, Any] = field(default_factory=dict)

    @property
    def chunk_id(self) -> str:
        return f"{self.doc_id}#{self.index}"

    def variables(self) -> dict[str, Any]:
        """What prompts may use about the chunk (see spec.INPUT_VARIABLES)."""
        return {
            "text": self.text,
            "metadata": self.metadata,
            "source": self.source,
            "title": self.title,
            "chunk_index": self.index,
        }


_BAD_LINES_SHOWN = 3  # per file and reason, on screen; ingestion_report.json lists every one
_BAD_LINE = re.compile(r"(.*?):(\d+): (.*)", re.DOTALL)  # FILE:LINE: reason (a reason may quote a key with colons)


@dataclass
class IngestionReport:
    files_read: list[str] = field(default_factory=list)
    skipped: list[dict[str, str]] = field(default_factory=list)  # {"file": ..., "reason": ...}
    notes: list[dict[str, str]] = field(default_factory=list)  # read, but worth knowing (detected encodings)
    bad_lines: list[str] = field(default_factory=list)  # FILE:LINE: reason
    documents: int = 0
    characters: int = 0
    chunks: int = 0
    tiny_merged: int = 0  # short chunks joined to a neighbour
    tiny_rebalanced: int = 0  # short chunks cut again with a neighbour so that both are long enough
    # Documents shorter than inputs.min_chunk_tokens, skipped whole: {"file", "doc_id", "tokens"}. Nothing else is.
    short_documents: list[dict[str, Any]] = field(default_factory=list)
    subset_size: int | None = None
    # What the readers' clean-up changed in each file, by kind: {"a.pdf": {"running_lines": 40, ...}}.
    cleaning: dict[str, dict[str, int]] = field(default_factory=dict)

    def bad_line(self, source: str, line: int, reason: str) -> None:
        self.bad_lines.append(f"{source}:{line}: {reason}")

    def bad_line_groups(self) -> dict[tuple[str, str], list[int]]:
        """(file, reason) -> line numbers, in the order met: a file whose lines all fail alike is one line on
        screen. Read back from `bad_lines`, which is what a stored reading replays."""
        groups: dict[tuple[str, str], list[int]] = {}
        for entry in self.bad_lines:
            if match := _BAD_LINE.match(entry):  # always, as `bad_line` writes them
                source, number, reason = match.groups()
                groups.setdefault((source, reason), []).append(int(number))
        return groups

    def no_valid_records(self, source: str) -> None:
        """A JSONL file that gave no document: skipped, with its lines' one reason when they share one."""
        reasons = set()
        for entry in reversed(self.bad_lines):  # the file was just read: its bad lines are the last ones
            match = _BAD_LINE.match(entry)
            if match is None or match.group(1) != source:
                break
            reasons.add(match.group(3))
        why = "no valid records" + (f", every line: {reasons.pop()}" if len(reasons) == 1 else "")
        self.skipped.append({"file": source, "reason": why})

    def count_cleaning(self, source: str, changes: dict[str, int]) -> None:
        """Add one document's clean-up counts to its file's (a JSONL file sums its records)."""
        if not changes:
            return
        totals = self.cleaning.setdefault(source, {})
        for kind, count in changes.items():
            totals[kind] = totals.get(kind, 0) + count

    @property
    def unreadable(self) -> list[dict[str, str]]:
        return [item for item in self.skipped if not item["reason"].startswith("unsupported")]

    def as_dict(self) -> dict[str, Any]:
        return asdict(self)

    def write(self, out_dir: Path) -> Path:
        """`ingestion_report.json` in the output directory, written atomically."""
        path = out_dir / "ingestion_report.json"
        write_json(path, self.as_dict())
        return path

    def policy_violations(self, on_unreadable: str) -> list[str]:
        """Under `strict`, every unreadable input file is a reason to stop the build."""
        if on_unreadable != "strict":
            return []
        return [f"{item['file']}: {item['reason']}" for item in self.unreadable]

    def lines(self) -> list[str]:
        out = [
            f"files read: {len(self.files_read)}, documents: {self.documents}, characters: {self.characters:,}, "
            f"chunks: {self.chunks} (short chunks merged {self.tiny_merged}, re-split {self.tiny_rebalanced})"
        ]
        if self.subset_size is not None:
            out.append(f"subset: {self.subset_size} chunks kept")
        out += [f"skipped {item['file']}: {item['reason']}" for item in self.skipped]
        out += [
            f"skipped short document {item['doc_id']} ({item['tokens']} tokens, under inputs.min_chunk_tokens)"
            for item in self.short_documents
        ]
        out += [f"note {item['file']}: {item['reason']}" for item in self.notes]
        for (source, reason), numbers in self.bad_line_groups().items():
            if len(numbers) <= _BAD_LINES_SHOWN:
                out += [f"bad line {source}:{number}: {reason}" for number in numbers]
            else:
                shown = ", ".join(str(number) for number in numbers[:_BAD_LINES_SHOWN])
                more = len(numbers) - _BAD_LINES_SHOWN
                out.append(f"bad lines {source}:{shown} and {more:,} more: {reason}")
        if self.cleaning:
            totals: dict[str, int] = {}
            for changes in self.cleaning.values():
                for kind, count in changes.items():
                    totals[kind] = totals.get(kind, 0) + count
            summary = ", ".join(f"{kind.replace('_', ' ')} {count:,}" for kind, count in sorted(totals.items()))
            out.append(f"cleaned {len(self.cleaning)} file(s): {summary}")
        return out


def display_path(path: Path, base: Path) -> str:
    """The path as the user wrote it relative to the spec (`../samples/a.txt`), the same on every machine."""
    # realpath, not Path.resolve: a symlink loop must be named in the report, not raise RuntimeError
    return Path(os.path.relpath(os.path.realpath(path), os.path.realpath(base))).as_posix()


def _own_name(path: Path, base: Path) -> str:
    """Like `display_path`, but a symlink is named as itself, not its target (which may be gone or a loop)."""
    if path.name in ("", ".", ".."):
        return display_path(path, base)
    return posixpath.normpath(posixpath.join(display_path(path.parent, base), path.name))


def discover(inputs: InputsSpec, base: Path, report: IngestionReport) -> list[Path]:
    """Every file the inputs name, walked recursively, in a stable (sorted, de-duplicated) order.

    Walks follow symlinked folders but enter each real folder once, so symlink loops end; a file reached by two
    names is read once. A folder or file the user may not read is reported ("permission denied"), never a crash:
    the `on_unreadable` policy decides whether that stops the build.
    """
    wanted = set(inputs.types)
    found: dict[str, Path] = {}
    seen: set[str] = set()  # real paths already considered: each is reported or read once

    def unusable(path: Path, reason: str, folder: bool) -> None:
        item = {"file": _own_name(path, base) + ("/" if folder else ""), "reason": reason}  # each once
        if item not in report.skipped:
            report.skipped.append(item)

    for entry in inputs.paths:
        files = walk_entry(entry, base, unusable)
        if files is None:
            report.skipped.append({"file": entry, "reason": "not found"})
            continue
        for file in files:
            real = os.path.realpath(file)
            if real in seen:
                continue
            seen.add(real)
            kind = EXTENSIONS.get(file.suffix.lower())
            name = display_path(file, base)
            if kind is None or kind not in wanted:
                report.skipped.append({"file": name, "reason": f"unsupported type {file.suffix or '(none)'}"})
                continue
            problem = open_problem(file)
            if problem:
                report.skipped.append({"file": name, "reason": problem})
                continue
            found[real] = file
    return sorted(found.values(), key=lambda p: display_path(p, base))


def read_documents(files: list[Path], base: Path, report: IngestionReport) -> Iterator[Document]:
    """Lazily read each file; a file that cannot be read is reported and the rest go on."""
    for file in files:
        source = display_path(file, base)
        kind = EXTENSIONS[file.suffix.lower()]
        try:
            if kind == "jsonl":
                yielded = False
                for document in read_jsonl(file, source, lambda line, why, s=source: report.bad_line(s, line, why)):
                    if not yielded:
                        report.files_read.append(source)
                    yielded = True
                    report.count_cleaning(source, document.cleaning)
                    yield document
                if not yielded:
                    report.no_valid_records(source)
                continue
            if kind in ("txt", "md"):
                document, note = read_text_file(file, source)
            elif kind == "pdf":
                document, note = read_pdf(file, source)
            else:
                document, note = read_docx(file, source), None
            if note:
                report.notes.append({"file": source, "reason": note})
        except Unreadable as exc:
            report.skipped.append({"file": source, "reason": str(exc)})
            continue
        except OSError as exc:
            report.skipped.append({"file": source, "reason": os_reason(exc)})
            continue
        report.files_read.append(source)  # before yielding: a consumer may stop early (--limit)
        report.count_cleaning(source, document.cleaning)
        yield document


def chunk_document(document: Document, chunker: Chunker, inputs: InputsSpec, report: IngestionReport) -> list[Chunk]:
    """The document's chunks, none under `inputs.min_chunk_tokens`; a whole document under it is skipped and named."""
    balanced = balance(chunker, document.text, chunker.split(document.text), inputs.min_chunk_tokens)
    report.tiny_merged += balanced.merged
    report.tiny_rebalanced += balanced.rebalanced
    spans = balanced.spans
    if len(spans) == 1 and spans[0].tokens < inputs.min_chunk_tokens:
        report.short_documents.append({"file": document.source, "doc_id": document.doc_id, "tokens": spans[0].tokens})
        return []
    chunks = []
    for index, span in enumerate(spans):
        text = document.text[span.start : span.end]
        pages = None
        if document.page_starts:
            first, last = document.page_of(span.start), document.page_of(max(span.start, span.end - 1))
            pages = (first or 1, last or 1)
        chunks.append(
            Chunk(
                source=document.source,
                doc_id=document.doc_id,
                title=document.title,
                index=index,
                text=text,
                char_start=span.start,
                char_end=span.end,
                overlap_chars=span.overlap_chars,
                tokens=span.tokens,
                content_hash=hashlib.sha256(text.encode("utf-8")).hexdigest(),
                pages=pages,
                metadata=document.metadata,
            )
        )
    return chunks


def _subset_rank(seed: int, chunk: Chunk) -> int:
    return int(hashlib.sha256(f"{seed}\0{chunk.content_hash}\0{chunk.chunk_id}".encode()).hexdigest()[:16], 16)


def file_chunks(
    file: Path, base: Path, chunker: Chunker, inputs: InputsSpec, report: IngestionReport
) -> Iterator[Chunk]:
    """One file's chunks, read and cut as `iter_chunks` does, with everything about it added to `report`."""
    for document in read_documents([file], base, report):
        report.documents += 1
        report.characters += len(document.text)
        chunks = chunk_document(document, chunker, inputs, report)
        report.chunks += len(chunks)
        yield from chunks


# How one file becomes chunks: (file, report) -> its chunks, `report` told what happened. The default reads and cuts
# it (`file_chunks`); a build passes one that replays what was already read (ingest/store.py).
FileReader = Callable[[Path, IngestionReport], Iterator[Chunk]]


def iter_chunks(
    inputs: InputsSpec, base: Path, report: IngestionReport, read: FileReader | None = None
) -> Iterator[Chunk]:
    """All chunks of the corpus in document order; with `subset`, a seed-determined sample, also in document order.

    The sample ranks each chunk by a hash of (seed, content, id), so it does not depend on the order files are found.
    """
    chunker = Chunker(inputs.encoding, inputs.chunk_size, inputs.overlap)
    files = discover(inputs, base, report)
    reader = read or (lambda file, into: file_chunks(file, base, chunker, inputs, into))

    def all_chunks() -> Iterator[Chunk]:
        for file in files:
            yield from reader(file, report)

    if inputs.subset is None:
        yield from all_chunks()
        return
    # Keep the `size` lowest ranks: a max-heap (ranks negated) whose top is the worst rank kept so far.
    heap: list[tuple[int, int, Chunk]] = []
    for order, chunk in enumerate(all_chunks()):
        rank = -_subset_rank(inputs.subset.seed, chunk)
        if len(heap) < inputs.subset.size:
            heapq.heappush(heap, (rank, order, chunk))
        elif rank > heap[0][0]:
            heapq.heapreplace(heap, (rank, order, chunk))
    report.subset_size = len(heap)
    yield from (chunk for _, _, chunk in sorted(heap, key=lambda item: (item[2].source, item[1])))
