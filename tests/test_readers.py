"""Every reader on real files (../shared/corpus) and on fixtures made here, bad inputs included."""

from __future__ import annotations

import json
import re
import textwrap
import zipfile
from pathlib import Path

import docx
import pytest
from conftest import offline_project, shared
from fpdf import FPDF
from pypdf import PdfReader, PdfWriter
from pypdf.generic import NameObject

from corrigenda.cli import main
from corrigenda.compiler.spec import InputsSpec
from corrigenda.ingest.corpus import IngestionReport, iter_chunks, read_documents
from corrigenda.ingest.document import Unreadable
from corrigenda.ingest.docx_file import read_docx
from corrigenda.ingest.pdf_file import read_pdf
from corrigenda.ingest.text_file import read_text_file
from corrigenda.templating import load_prompt

REPO = Path(__file__).resolve().parent.parent


def ingest(paths, base: Path, **options) -> tuple[list, IngestionReport]:
    report = IngestionReport()
    inputs = InputsSpec(paths=tuple(paths), **options)
    return list(iter_chunks(inputs, base, report)), report


# --- fixtures made here -------------------------------------------------------------------------------------------


def make_pdf(path: Path, pages: list[str]) -> Path:
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    for text in pages:
        pdf.add_page()
        pdf.multi_cell(0, 6, text, new_x="LMARGIN", new_y="NEXT")
    pdf.output(str(path))
    return path


def manual_pdf(path: Path, bodies: list[list[str]], title: str | None = None) -> Path:
    """A two-sided field manual: alternating heads and footers, drawn before the body on each page so that pypdf
    reads both as the page's first lines (as it does on real manuals). A line with `|` is set in pieces with a
    character-positioning gap between them."""
    pdf = FPDF()
    pdf.set_font("Helvetica", size=11)
    if title:
        pdf.set_title(title)
    for n, lines in enumerate(bodies, start=1):
        pdf.add_page()
        odd = n % 2
        pdf.text(20 if odd else 150, 12, "Chapter 2" if odd else "Training Management")
        pdf.text(20, 285, f"14 June 2021   FM 7-0   2-{n}" if odd else f"2-{n}   FM 7-0   14 June 2021")
        for row, line in enumerate(lines):
            x = 20.0
            for piece in line.split("|"):
                pdf.text(x, 30 + 6 * row, piece)
                x += pdf.get_string_width(piece) + 0.8
    pdf.output(str(path))
    return path


TOPICS = "gunnery medical signal engineer aviation logistics maintenance intelligence".split()


def manual_bodies() -> list[list[str]]:
    bodies = [
        textwrap.wrap(
            f"Page {n} covers {topic} training. Leaders plan {topic} events weeks ahead, assign trainers, and check "
            f"that every Soldier in the {TOPICS[(n + 3) % 8]} section meets the standard before the unit moves on",
            60,
        )
        for n, topic in enumerate(TOPICS)
    ]
    bodies[1] += ["The brigade ran a large-", "scale exercise with an exam-", "ple of every task."]
    bodies[2] += ["On 21 J|anuary the unit met."]
    bodies[5] += ["In January it met again."]
    return bodies


def test_text_encodings(tmp_path: Path):
    (tmp_path / "bom8.txt").write_bytes(b"\xef\xbb\xbfCaf\xc3\xa9 1869\r\nnext line\r\n")
    (tmp_path / "u16.txt").write_bytes("Zürich 1848\n".encode("utf-16"))
    (tmp_path / "latin.txt").write_bytes("Café au lait, 1685, Johann Sebastian Bach wrote fugues.\n".encode("latin-1"))
    (tmp_path / "bin.txt").write_bytes(bytes(range(256)) * 4)
    (tmp_path / "empty.md").write_bytes(b"")
    doc, note = read_text_file(tmp_path / "bom8.txt", "bom8.txt")
    assert doc.text == "Café 1869\nnext line\n" and note is None
    doc, note = read_text_file(tmp_path / "u16.txt", "u16.txt")
    assert doc.text == "Zürich 1848\n" and note is None
    doc, note = read_text_file(tmp_path / "latin.txt", "latin.txt")
    assert doc.text.startswith("Café au lait") and "not UTF-8" in note
    with pytest.raises(Unreadable, match="binary"):
        read_text_file(tmp_path / "bin.txt", "bin.txt")
    with pytest.raises(Unreadable, match="empty"):
        read_text_file(tmp_path / "empty.md", "empty.md")


def test_markdown_title_is_the_first_heading(tmp_path: Path):
    (tmp_path / "a.md").write_text("Intro line\n\n# The Real Title\n\nBody 1869.\n")
    assert read_text_file(tmp_path / "a.md", "a.md")[0].title == "The Real Title"


def test_docx_paragraphs_and_tables_in_order(tmp_path: Path):
    document = docx.Document()
    document.add_heading("Canal History", level=1)
    document.add_paragraph("The canal opened on August 15, 1914.")
    table = document.add_table(rows=2, cols=2)
    for row, values in zip(table.rows, [["Lock", "Side"], ["Gatun", "Atlantic"]], strict=True):
        for cell, value in zip(row.cells, values, strict=True):
            cell.text = value
    document.add_paragraph("It was handed over in 1999.")
    path = tmp_path / "canal.docx"
    document.save(str(path))
    doc = read_docx(path, "canal.docx")
    assert doc.text == (
        "Canal History\n\nThe canal opened on August 15, 1914.\n\nLock | Side\nGatun | Atlantic\n\n"
        "It was handed over in 1999."
    )
    assert doc.title == "Canal History"
    document.core_properties.title = "Microsoft Word - canal.doc"
    document.save(str(path))
    assert read_docx(path, "canal.docx").title == "Canal History", "a tool's file name is not a title"
    (tmp_path / "fake.docx").write_bytes(b"not a zip")
    with pytest.raises(Unreadable, match="DOCX"):
        read_docx(tmp_path / "fake.docx", "fake.docx")


def test_docx_nested_tables_stay_inside_their_cell(tmp_path: Path):
    document = docx.Document()
    document.add_paragraph("Units report readiness monthly.")
    table = document.add_table(rows=1, cols=2)
    table.cell(0, 0).text = "Company A"
    cell = table.cell(0, 1)
    cell.text = "Ratings:"
    inner = cell.add_table(rows=2, cols=2)
    for row, values in zip(inner.rows, [["Task", "Rating"], ["Gunnery", "T"]], strict=True):
        for inner_cell, value in zip(row.cells, values, strict=True):
            inner_cell.text = value
    document.add_paragraph("\uf0b7 Ratings are reviewed each quarter.")
    document.save(str(tmp_path / "ready.docx"))
    doc = read_docx(tmp_path / "ready.docx", "ready.docx")
    assert doc.text == (
        "Units report readiness monthly.\n\n"
        "Company A | Ratings: [Task | Rating; Gunnery | T]\n\n"
        "• Ratings are reviewed each quarter."
    )
    assert doc.cleaning == {"private_use_bullets": 1}
    assert doc.title == ""


def test_text_and_jsonl_are_cleaned_the_same_way_and_counted(tmp_path: Path):
    (tmp_path / "notes.txt").write_text("\uf0a7 Plan\x07\n\uf0a7 Prepare\nCafe\u0301 opened in 1901.\n")
    (tmp_path / "r.jsonl").write_text(
        json.dumps({"text": "\uf06c First step, 1901.\x00"})
        + "\n"
        + json.dumps({"text": "\uf06c Second, 1902."})
        + "\n"
    )
    report = IngestionReport()
    docs = list(read_documents([tmp_path / "notes.txt", tmp_path / "r.jsonl"], tmp_path, report))
    assert [d.text for d in docs] == [
        "• Plan\n• Prepare\nCafé opened in 1901.\n",
        "• First step, 1901.",
        "• Second, 1902.",
    ]
    assert report.cleaning == {
        "notes.txt": {"private_use_bullets": 2, "control_chars": 1, "nfc_composed": 1},
        "r.jsonl": {"private_use_bullets": 2, "control_chars": 1},
    }
    assert docs[0].title == "" and docs[1].title == "", "never the file stem or an id"


def test_text_titles_come_from_gutenberg_headers_and_heading_lines_only(tmp_path: Path):
    (tmp_path / "book.txt").write_text("Project Gutenberg header\n\nTitle: Through the Looking-Glass\n\nChapter I\n")
    (tmp_path / "heading.txt").write_text("The First Railroad\n\nThe body of 1901.\n")
    (tmp_path / "plain.txt").write_text("The body begins at once, in 1901.\nIt goes on.\n")
    (tmp_path / "scan.txt").write_text("ARN31505-FM_3-96-000-WEB-1\n\nThe body of 1901.\n")
    assert read_text_file(tmp_path / "book.txt", "book.txt")[0].title == "Through the Looking-Glass"
    assert read_text_file(tmp_path / "heading.txt", "heading.txt")[0].title == "The First Railroad"
    assert read_text_file(tmp_path / "plain.txt", "plain.txt")[0].title == "", "never the file stem"
    assert read_text_file(tmp_path / "scan.txt", "scan.txt")[0].title == ""
    (tmp_path / "man.txt").write_text("BASH(1) General Commands Manual BASH(1)\n\nNAME\n  bash - GNU shell\n")
    assert read_text_file(tmp_path / "man.txt", "man.txt")[0].title == "", "a mirrored running head"


def test_text_files_mend_words_broken_at_line_ends(tmp_path: Path):
    """Text saved from a PDF or a man page breaks words at line ends ("speci-\\n fied"); the reader joins them as
    the PDF reader does, keeps real compounds, and counts both."""
    (tmp_path / "manual.txt").write_text(
        "A default completion speci\u2010\n       fied with complete -D is used. The large-\n"
        "scale exercise set the exam-\nple; a specified default and a large-scale plan.\n"
    )
    document, _ = read_text_file(tmp_path / "manual.txt", "manual.txt")
    assert "completion specified with" in document.text
    assert "large-scale exercise" in document.text and "the example;" in document.text
    assert document.cleaning == {"line_end_hyphens_joined": 2, "line_end_hyphens_kept": 1}


def test_prompts_render_with_an_empty_title():
    for path in sorted((REPO / "prompts").glob("*.yaml")):
        prompt = load_prompt(path)
        variables = dict.fromkeys(prompt.variables, "x") | {"title": "", "metadata": {}}
        messages = prompt.render(variables)
        assert all("{{" not in m["content"] for m in messages), path.name


def test_pdf_pages_lines_and_running_headers(tmp_path: Path):
    seasons = ["spring", "summer", "autumn", "winter"]
    pages = [
        f"ANNUAL REPORT {n}\nThe committee met in the\n{seasons[n - 1]} of 19{50 + n} to vote." for n in range(1, 5)
    ]
    path = make_pdf(tmp_path / "r.pdf", pages)
    doc, note = read_pdf(path, "r.pdf")
    assert note is None
    assert "ANNUAL REPORT" not in doc.text, "a header on every page is dropped"
    assert "The committee met in the spring of 1951 to vote." in doc.text, "a line broken mid-sentence is joined"
    assert len(doc.page_starts) == 4
    assert doc.page_of(doc.text.index("1953")) == 3


def test_field_manual_pdf_reads_as_a_person_reads_it(tmp_path: Path):
    path = manual_pdf(tmp_path / "fm.pdf", manual_bodies(), title="ARN31505-FM_7-0-000-WEB-1")
    report = IngestionReport()
    [doc] = read_documents([path], tmp_path, report)
    lines = doc.text.split("\n")
    assert not {"Chapter 2", "Training Management"} & set(lines), "alternating running heads are dropped"
    assert "June 2021" not in doc.text and "FM 7-0" not in doc.text, "footers in either word order are dropped"
    assert "Page 0 covers gunnery training." in lines[0], "the body starts the page, not the head"
    assert "the unit moves on Page 1 covers" not in doc.text, "a page is not run on into the next page's start"
    assert "ran a large-scale exercise with an example of every task." in doc.text
    assert "On 21 January the unit met." in doc.text, "a positioning gap does not split a word"
    assert doc.title == "", "an id-like /Title is not a title"
    assert [doc.page_of(doc.text.index(f"Page {n} covers")) for n in range(8)] == list(range(1, 9))
    assert report.cleaning == {
        "fm.pdf": {
            "running_lines": 16,
            "line_end_hyphens_kept": 1,
            "line_end_hyphens_joined": 1,
            "split_words_joined": 1,
        }
    }
    assert "cleaned 1 file(s): line end hyphens joined 1, line end hyphens kept 1, running lines 16, " in "\n".join(
        report.lines()
    )


def test_pdf_titles_are_real_titles_or_empty(tmp_path: Path):
    for given, expected in [
        ("Binder1.pdf", ""),
        ("Microsoft Word - minutes.doc", ""),
        ("The Siege of Vicksburg", "The Siege of Vicksburg"),
        (None, ""),
    ]:
        path = manual_pdf(tmp_path / "t.pdf", [["Only one page of text about 1863."]], title=given)
        assert read_pdf(path, "t.pdf")[0].title == expected


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-128", "AES-256"])
def test_pdf_with_only_an_owner_password_is_read(tmp_path: Path, algorithm: str):
    writer = PdfWriter(clone_from=PdfReader(make_pdf(tmp_path / "g.pdf", ["Restricted text from 1944."])))
    writer.encrypt(user_password="", owner_password="owner-secret", algorithm=algorithm)
    writer.write(tmp_path / "restricted.pdf")
    doc, _ = read_pdf(tmp_path / "restricted.pdf", "restricted.pdf")
    assert doc.text == "Restricted text from 1944."


@pytest.mark.parametrize("algorithm", ["RC4-128", "AES-256"])
def test_pdf_that_needs_a_user_password_says_so(tmp_path: Path, algorithm: str):
    writer = PdfWriter(clone_from=PdfReader(make_pdf(tmp_path / "g.pdf", ["Secret text from 1944."])))
    writer.encrypt(user_password="hunter2", owner_password="owner", algorithm=algorithm)
    writer.write(tmp_path / "locked.pdf")
    report = IngestionReport()
    assert list(read_documents([tmp_path / "locked.pdf"], tmp_path, report)) == []
    [skipped] = report.skipped
    assert "password required" in skipped["reason"] and "malformed" not in skipped["reason"]


def test_pdf_failures_are_named(tmp_path: Path):
    (tmp_path / "junk.pdf").write_bytes(b"%PDF-1.4\n garbage garbage")
    with pytest.raises(Unreadable, match="PDF"):
        read_pdf(tmp_path / "junk.pdf", "junk.pdf")
    blank = FPDF()
    blank.add_page()
    blank.output(str(tmp_path / "scan.pdf"))
    with pytest.raises(Unreadable, match="no extractable text"):
        read_pdf(tmp_path / "scan.pdf", "scan.pdf")


def test_jsonl_bad_lines_are_reported_and_good_ones_kept(tmp_path: Path):
    lines = [
        json.dumps({"id": "a", "text": "First record, 1648.", "source": "x"}),
        json.dumps({"text": 42}),
        "{broken",
        json.dumps(["a list"]),
        json.dumps({"title": "no text"}),
        "",
        json.dumps({"text": "Last record, 1815."}),
    ]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    report = IngestionReport()
    docs = list(read_documents([tmp_path / "r.jsonl"], tmp_path, report))
    assert [d.text for d in docs] == ["First record, 1648.", "Last record, 1815."]
    assert docs[0].metadata == {"id": "a", "source": "x"} and docs[0].title == "", "an id is not a title"
    assert [d.doc_id for d in docs] == ["r.jsonl:1", "r.jsonl:7"]
    assert report.bad_lines == [
        "r.jsonl:2: `text` is not a string (got int)",
        "r.jsonl:3: not valid JSON (Expecting property name enclosed in double quotes)",
        "r.jsonl:4: not a JSON object (got list)",
        "r.jsonl:5: no `text` key (keys found: `title`)",
    ]


def test_jsonl_lines_nested_too_deeply_or_holding_lone_surrogates_do_not_stop_the_file(tmp_path: Path):
    fact = "The canal opened in 1914 after ten years of work."
    lines = [
        "[" * 100_000 + "]" * 100_000,  # valid JSON that Python's parser cannot hold
        '{"text": "' + fact + ' \\ud800Broken exporters write lone surrogates.", "note": "x\\udfff"}',
        json.dumps({"text": fact}),
    ]
    (tmp_path / "r.jsonl").write_text("\n".join(lines) + "\n")
    report = IngestionReport()
    docs = list(read_documents([tmp_path / "r.jsonl"], tmp_path, report))
    assert report.bad_lines == ["r.jsonl:1: not valid JSON (nested too deeply)"]
    assert [d.text for d in docs] == [f"{fact} Broken exporters write lone surrogates.", fact]
    assert docs[0].metadata == {"note": "x"}
    assert report.cleaning == {"r.jsonl": {"lone_surrogates": 2}}
    for doc in docs:  # what every later step does with the text: hash it, write it as UTF-8
        doc.text.encode("utf-8")
        json.dumps(doc.metadata, ensure_ascii=False).encode("utf-8")


def _damaged_docx(source: Path, target: Path, part: str, data: bytes) -> Path:
    """A copy of a real DOCX package with one part replaced, as a cut-off or mangled save leaves it."""
    with zipfile.ZipFile(source) as zin, zipfile.ZipFile(target, "w") as zout:
        for item in zin.infolist():
            zout.writestr(item, data if item.filename == part else zin.read(item.filename))
    return target


@pytest.mark.parametrize(
    "part", ["word/document.xml", "docProps/core.xml", "word/styles.xml", "word/_rels/document.xml.rels"]
)
def test_a_docx_with_a_damaged_part_is_reported_and_the_rest_is_read(tmp_path: Path, part: str):
    document = docx.Document()
    document.add_paragraph("The canal opened on August 15, 1914, after ten years of work by many thousands.")
    document.save(str(tmp_path / "good.docx"))
    _damaged_docx(tmp_path / "good.docx", tmp_path / "bad.docx", part, b"<w:document><cut off")
    report = IngestionReport()
    docs = list(read_documents([tmp_path / "bad.docx", tmp_path / "good.docx"], tmp_path, report))
    assert [d.source for d in docs] == ["good.docx"]
    [skipped] = report.skipped
    assert skipped["file"] == "bad.docx" and skipped["reason"].startswith("damaged DOCX")


def test_a_build_over_damaged_docx_and_jsonl_reports_them_and_releases_the_rest(tmp_path: Path):
    from corrigenda.cli import main

    spec = offline_project(tmp_path)
    samples = tmp_path / "samples"
    document = docx.Document()
    document.add_paragraph("The canal opened on August 15, 1914, after ten years of work by many thousands.")
    document.save(str(tmp_path / "good.docx"))
    _damaged_docx(tmp_path / "good.docx", samples / "minutes.docx", "docProps/core.xml", b"<cp:coreProperties x")
    (samples / "records.jsonl").write_text('{"text": "A record from 1901 with a lone \\udc00 surrogate."}\n')
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    report = json.loads((tmp_path / "out" / "ingestion_report.json").read_text())
    assert [item["file"] for item in report["skipped"]] == ["../samples/minutes.docx"]
    assert report["cleaning"]["../samples/records.jsonl"] == {"lone_surrogates": 1}
    assert main(["check", str(tmp_path / "out")]) == 0


def test_directories_walk_in_stable_order_and_unknown_types_are_listed(tmp_path: Path):
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "z.txt").write_text("Zed wrote this in 1901. " * 3)
    (tmp_path / "a.md").write_text("# A\n\nAlpha was founded in 1850. " * 3)
    (tmp_path / "notes.csv").write_text("x,y\n")
    (tmp_path / ".hidden.txt").write_text("secret")
    chunks, report = ingest(["."], tmp_path, min_chunk_tokens=0)
    assert report.files_read == ["a.md", "b/z.txt"]
    assert {"file": "notes.csv", "reason": "unsupported type .csv"} in report.skipped
    assert all(".hidden" not in item["file"] for item in report.skipped)
    assert [c.source for c in chunks] == ["a.md", "b/z.txt"]


def test_subset_is_deterministic_and_independent_of_file_order(tmp_path: Path):
    for name in ("one", "two", "three"):
        (tmp_path / f"{name}.txt").write_text("\n\n".join(f"{name} fact {i}: the year {1800 + i}." for i in range(30)))
    options = {"chunk_size": 16, "min_chunk_tokens": 0}
    full, _ = ingest(["."], tmp_path, **options)
    picked, report = ingest(["."], tmp_path, subset={"size": 10, "seed": 7}, **options)
    reordered, _ = ingest(["three.txt", "one.txt", "two.txt"], tmp_path, subset={"size": 10, "seed": 7}, **options)
    other_seed, _ = ingest(["."], tmp_path, subset={"size": 10, "seed": 8}, **options)
    assert len(picked) == 10 and report.subset_size == 10
    assert {c.chunk_id for c in picked} == {c.chunk_id for c in reordered}
    assert [c.chunk_id for c in picked] == [c.chunk_id for c in reordered]
    assert {c.chunk_id for c in picked} != {c.chunk_id for c in other_seed}
    assert {c.chunk_id for c in picked} <= {c.chunk_id for c in full}


# --- the shared corpus --------------------------------------------------------------------------------------------


def test_shared_corpus_every_file_is_read_or_reported():
    corpus = shared("corpus")
    chunks, report = ingest(["."], corpus, chunk_size=1000)
    every_file = sorted(p.relative_to(corpus).as_posix() for p in corpus.rglob("*") if p.is_file())
    accounted = set(report.files_read) | {item["file"] for item in report.skipped}
    assert accounted == set(every_file), "no file is silently dropped"
    skipped = {item["file"]: item["reason"] for item in report.skipped}
    assert skipped["broken/binary-garbage.txt"] == "binary data, not text"
    assert skipped["broken/empty.md"] == "empty file"
    assert "password required" in skipped["broken/encrypted-file.pdf"]
    assert "broken/utf16-with-bom.txt" in report.files_read
    assert "broken/latin1.txt" in report.files_read
    assert report.bad_lines[0].startswith("broken/mixed-bad-lines.jsonl:2: ")
    assert len(report.bad_lines) == 3
    for name in (
        "text/fm-7-0-training.txt",
        "pdf/crazyones.pdf",
        "docx/blk-paras-and-tables.docx",
        "markdown/pypdf-extract-text.md",
        "jsonl/fm-3-13.4-records.jsonl",
    ):
        assert name in report.files_read
    assert all(c.tokens <= 1000 for c in chunks)
    by_source = {c.source for c in chunks}
    assert "pdf/Seige_of_Vicksburg_Sample_OCR.pdf" in by_source
    assert all(c.pages for c in chunks if c.source.endswith(".pdf"))


def test_shared_field_manual_loses_its_running_heads_and_footers():
    doc, _ = read_pdf(shared("corpus", "pdf", "fm-7-0-manual-layout.pdf"), "fm")
    lines = [line.strip() for line in doc.text.split("\n")]
    assert "Chapter 2" not in lines and "Training Management" not in lines
    for n in range(1, 16):
        assert not re.search(rf"14 June 2021\s+FM 7-0\s+2-{n}\b", doc.text), f"footer of page {n}"
    assert doc.cleaning["running_lines"] == 30
    assert "mission-essential" in doc.text and "missionessential" not in doc.text
    assert doc.title.startswith("Training") and len(doc.page_starts) == 15
    vicksburg, _ = read_pdf(shared("corpus", "pdf", "Seige_of_Vicksburg_Sample_OCR.pdf"), "v")
    assert vicksburg.title == "", "Binder1.pdf is a file name"
    assert vicksburg.text.count("THE SIEGE OF VICKSBURG") == 0


def test_shared_broken_files_keep_their_good_content():
    broken = shared("corpus", "broken")
    chunks, _ = ingest(["."], broken, min_chunk_tokens=0)
    texts = " ".join(c.text for c in chunks)
    assert "Treaty of Westphalia" in texts and "Thirty Years War" in texts, "valid JSONL lines survive"
    assert "Hello UTF-16" in texts
    assert "Café au lait" in texts


def test_shared_docx_tables_and_paragraphs():
    doc = read_docx(shared("corpus", "docx", "blk-paras-and-tables.docx"), "blk")
    assert doc.text == (
        "Lorem ipsum dolor sit amet, consectetur adipiscing elit.\n\n"
        "Text before [Table; Between] Text after\n\n"  # a table cell, its nested table in its place
        "Donec semper facilisis metus finibus malesuada."
    )
    table = read_docx(shared("corpus", "docx", "hdr-header-footer.docx"), "hdr")
    assert table.text.strip()


def test_report_is_written_atomically_and_strict_policy_names_files(tmp_path: Path):
    (tmp_path / "good.txt").write_text("Fine text from 1900. " * 5)
    (tmp_path / "bad.pdf").write_bytes(b"%PDF-1.4 nothing else")
    (tmp_path / "table.csv").write_text("a,b\n")
    _, report = ingest(["."], tmp_path)
    assert report.policy_violations("report") == []
    violations = report.policy_violations("strict")
    assert len(violations) == 1 and violations[0].startswith("bad.pdf: malformed PDF"), "unsupported types never count"
    written = json.loads(report.write(tmp_path / "out").read_text())
    assert written["files_read"] == ["good.txt"]
    assert sorted(item["file"] for item in written["skipped"]) == ["bad.pdf", "table.csv"]
    assert [p.name for p in (tmp_path / "out").iterdir()] == ["ingestion_report.json"], "no temp files left behind"
    plain = tmp_path / "out" / "plain.txt"
    plain.write_text("as open() creates it")
    mode = (tmp_path / "out" / "ingestion_report.json").stat().st_mode & 0o777
    assert mode == plain.stat().st_mode & 0o777, "readable by whoever could read a plainly written file"


def test_plan_refuses_unreadable_inputs_under_strict(project, capsys):
    from corrigenda.cli import main

    spec = project()
    (spec.parent / "docs" / "broken.pdf").write_bytes(b"%PDF-1.4 nothing else")
    assert main(["plan", str(spec)]) == 0
    assert "skipped docs/broken.pdf: malformed PDF" in capsys.readouterr().out
    spec.write_text(spec.read_text().replace("  chunk_size: 200", "  chunk_size: 200\n  on_unreadable: strict"))
    assert main(["plan", str(spec)]) == 2
    assert (
        "unreadable input (inputs.on_unreadable is strict): docs/broken.pdf: malformed PDF" in capsys.readouterr().err
    )


def _one_page_broken(path: Path, bodies: list[str], broken: int) -> Path:
    """A PDF whose page `broken` (from 0) has a content stream in a filter no reader knows."""
    writer = PdfWriter(clone_from=PdfReader(make_pdf(path, bodies)))
    contents = writer.pages[broken].get_contents()
    contents[NameObject("/Filter")] = NameObject("/NoSuchDecode")
    writer.pages[broken][NameObject("/Contents")] = writer._add_object(contents)
    writer.write(path)
    return path


def test_a_pdf_page_that_raises_loses_that_page_not_the_document(tmp_path: Path):
    """pypdf raising on one page skipped the whole file as 'malformed PDF'."""
    bodies = [f"Page {n} says the bridge opened in 19{10 + n} after {n} years of work." for n in range(3)]
    path = _one_page_broken(tmp_path / "m.pdf", bodies, broken=1)
    report = IngestionReport()
    [doc] = read_documents([path], tmp_path, report)
    assert "Page 0 says" in doc.text and "Page 2 says" in doc.text and "Page 1 says" not in doc.text
    [note] = report.notes
    assert note["file"] == "m.pdf" and "1 of 3 pages could not be read" in note["reason"]
    assert "page 2 (" in note["reason"] and "NoSuchDecode" in note["reason"]
    every = _one_page_broken(tmp_path / "all.pdf", bodies[:1], broken=0)
    with pytest.raises(Unreadable, match="no page could be read"):
        read_pdf(every, "all.pdf")


def test_a_jsonl_export_with_no_text_key_is_one_line_on_screen_and_every_line_in_the_report(tmp_path: Path, capsys):
    spec = offline_project(tmp_path)
    rows = [json.dumps({"id": n, "content": f"Record {n}."}) for n in range(1, 5001)]
    (tmp_path / "samples" / "export.jsonl").write_text("\n".join(rows) + "\n", encoding="utf-8")
    assert main(["plan", str(spec)]) == 0
    out = capsys.readouterr().out
    named = [line for line in out.splitlines() if "export.jsonl" in line]
    reason = "no `text` key (keys found: `id`, `content`)"
    assert len(named) == 2, named  # the file skipped, and its bad lines: not 5,000 lines
    assert f"skipped ../samples/export.jsonl: no valid records, every line: {reason}" in named[0]
    assert f"bad lines ../samples/export.jsonl:1, 2, 3 and 4,997 more: {reason}" in (named[1])
    report = IngestionReport()
    list(read_documents([tmp_path / "samples" / "export.jsonl"], tmp_path / "samples", report))
    assert len(report.bad_lines) == 5000 and report.bad_lines[-1] == f"export.jsonl:5000: {reason}"
