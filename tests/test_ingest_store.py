"""The ingest store: a document read once is replayed with the same chunks and the same report entries, so a rerun
(and every Ray shard) skips parsing, and nothing a build reports about its inputs changes."""

from __future__ import annotations

import itertools
import shutil
import sqlite3
import tempfile
from pathlib import Path

import pytest
from conftest import offline_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import corrigenda.ingest.corpus as corpus
from corrigenda.cli import main
from corrigenda.compiler.spec import InputsSpec, Subset
from corrigenda.ingest.corpus import IngestionReport, iter_chunks
from corrigenda.ingest.store import IngestStore, StoredReading, store_path

WORDS = st.sampled_from("the survey was finished in spring and the river rose over its banks at dawn".split())
PARAGRAPH = st.lists(WORDS, min_size=1, max_size=60).map(" ".join)
DOCUMENT = st.lists(PARAGRAPH, min_size=0, max_size=6).map("\n\n".join)
NAMES = ("a.txt", "b.md", "c.txt", "d.pdf", "e.jsonl")
BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def _corpus(folder: Path, texts: list[str]) -> None:
    (folder / "docs").mkdir(parents=True)
    for name, text in zip(NAMES, texts, strict=False):
        if name.endswith(".pdf"):
            (folder / "docs" / name).write_bytes(BROKEN_PDF)  # unreadable: reported by name, the rest goes on
        elif name.endswith(".jsonl"):
            (folder / "docs" / name).write_text(f'{{"text": "{text}"}}\nnot json\n', encoding="utf-8")
        else:
            (folder / "docs" / name).write_text(text, encoding="utf-8")


def _read(inputs: InputsSpec, base: Path, limit: int | None, reading: StoredReading | None):
    report = IngestionReport()
    chunks = iter_chunks(inputs, base, report, reading)
    taken = list(itertools.islice(chunks, limit) if limit is not None else chunks)
    return taken, report.as_dict()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    texts=st.lists(DOCUMENT, min_size=1, max_size=len(NAMES)),
    limit=st.one_of(st.none(), st.integers(1, 12)),
    chunk_size=st.integers(32, 120),
    subset=st.one_of(st.none(), st.integers(1, 6)),
)
def test_a_replay_gives_the_chunks_and_report_that_reading_gives(texts, limit, chunk_size, subset):
    """Whatever the documents, the sample and wherever --limit stops, the stored replay and a fresh read agree."""
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        _corpus(base, texts)
        sample = None if subset is None else Subset(size=subset, seed=7)
        inputs = InputsSpec(paths=("docs",), chunk_size=chunk_size, min_chunk_tokens=16, subset=sample)
        expected = _read(inputs, base, limit, None)
        store = IngestStore(base / "cache" / "calls.ingest.sqlite")
        reading = StoredReading(store, inputs, base)
        filling = _read(inputs, base, limit, reading)  # reads, then stores
        reading.flush()
        replaying = StoredReading(store, inputs, base)
        replayed = _read(inputs, base, limit, replaying)
        assert filling == expected
        assert replayed == expected
        named = set(expected[1]["files_read"]) | {item["file"] for item in expected[1]["skipped"]}
        reached = [name for name in NAMES[: len(texts)] if f"docs/{name}" in named]  # --limit may stop early
        assert replaying.replayed == sum(1 for name in reached if not name.endswith(".jsonl"))


def test_a_rerun_replays_every_document_without_parsing_it(tmp_path, monkeypatch):
    spec = offline_project(tmp_path)
    assert main(["build", str(spec), "--out", str(tmp_path / "first")]) == 0
    assert store_path(spec.parent / ".corrigenda-cache" / "calls.sqlite").exists()

    def no_parsing(*_args, **_kwargs):
        raise AssertionError("a stored document was parsed again")

    monkeypatch.setattr(corpus, "read_pdf", no_parsing)
    monkeypatch.setattr(corpus, "read_docx", no_parsing)
    monkeypatch.setattr(corpus, "read_text_file", no_parsing)
    assert main(["build", str(spec), "--out", str(tmp_path / "first")]) == 0
    report = (tmp_path / "first" / "ingestion_report.json").read_text(encoding="utf-8")
    assert "magna-carta.pdf" in report and "panama-canal.docx" in report


def test_a_changed_document_is_read_again(tmp_path):
    _corpus(tmp_path, ["The river rose over its banks at dawn. " * 20])
    inputs = InputsSpec(paths=("docs",), chunk_size=64)
    store = IngestStore(tmp_path / "calls.ingest.sqlite")
    reading = StoredReading(store, inputs, tmp_path)
    before, _ = _read(inputs, tmp_path, None, reading)
    reading.flush()
    (tmp_path / "docs" / "a.txt").write_text("The survey was finished in spring. " * 20, encoding="utf-8")
    changed = StoredReading(store, inputs, tmp_path)
    after, _ = _read(inputs, tmp_path, None, changed)
    assert after[0].text.startswith("The survey") and before[0].text.startswith("The river")
    changed.flush()
    again = StoredReading(store, inputs, tmp_path)
    assert _read(inputs, tmp_path, None, again)[0] == after and (changed.replayed, again.replayed) == (0, 1)
    wider = InputsSpec(paths=("docs",), chunk_size=128)  # another chunk size: other chunks, not the stored ones
    other = StoredReading(store, wider, tmp_path)
    assert _read(wider, tmp_path, None, other) == _read(wider, tmp_path, None, None) and other.replayed == 0


@pytest.mark.parametrize("damage", [b"this is not a database" * 100, b""])
def test_a_damaged_store_is_passed_by_and_the_build_reads_the_files(tmp_path, damage):
    spec = offline_project(tmp_path)
    assert main(["build", str(spec), "--out", str(tmp_path / "one")]) == 0
    store = store_path(spec.parent / ".corrigenda-cache" / "calls.sqlite")
    store.write_bytes(damage)
    assert main(["build", str(spec), "--out", str(tmp_path / "two")]) == 0
    with sqlite3.connect(store) as db:  # replaced by a working store, holding every document again
        assert db.execute("SELECT count(*) FROM files").fetchone()[0] == 4
    db.close()
    for name in ("ingestion_report.json", "dataset.jsonl"):
        one, two = tmp_path / "one" / name, tmp_path / "two" / name
        if one.exists():
            assert one.read_bytes() == two.read_bytes()
    shutil.rmtree(tmp_path / "two")


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    files=st.lists(st.tuples(st.sampled_from([".pdf", ".txt", ".md", ".docx"]), st.integers(0, 3 << 20)), max_size=12)
)
def test_reading_is_split_into_tasks_that_cover_every_file_once(tmp_path, files):
    """A Ray build's read tasks: every file in exactly one, a parsed file (PDF, DOCX) alone, text files together."""
    from corrigenda.ray_executor import GROUP_BYTES, size_groups

    folder = Path(tempfile.mkdtemp(dir=tmp_path))
    paths = []
    for index, (suffix, size) in enumerate(files):
        path = folder / f"f{index}{suffix}"
        with path.open("wb") as handle:
            handle.truncate(size)  # sparse: no bytes written
        paths.append(path)
    groups = size_groups(paths)
    assert sorted(p for group in groups for p in group) == sorted(paths)
    for group in groups:
        if len(group) > 1:
            assert all(p.suffix in (".txt", ".md") and p.stat().st_size < GROUP_BYTES for p in group)
            assert sum(p.stat().st_size for p in group[:-1]) < GROUP_BYTES  # closed once a MiB is reached


def test_a_damaged_entry_is_read_again(tmp_path):
    _corpus(tmp_path, ["The river rose over its banks at dawn. " * 20])
    inputs = InputsSpec(paths=("docs",), chunk_size=64)
    store = IngestStore(tmp_path / "calls.ingest.sqlite")
    reading = StoredReading(store, inputs, tmp_path)
    expected = _read(inputs, tmp_path, None, reading)
    reading.flush()
    with sqlite3.connect(store.path) as db:
        db.execute("UPDATE files SET events = ?", (b"\x78\x9cnot zlib",))
    db.close()
    damaged = StoredReading(store, inputs, tmp_path)
    assert _read(inputs, tmp_path, None, damaged) == expected and damaged.replayed == 0
