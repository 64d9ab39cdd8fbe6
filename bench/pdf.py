"""PDF reading throughput: our reader (extraction plus clean-up, running-line removal and word repairs) against
pypdf's bare `extract_text` on the same files, in the same process.

Bare extraction is the floor any pypdf-based reader pays; the ratio says what making the text readable costs on top.
Run: `python bench/pdf.py` (`--generated` to force generated files). Files: ../shared/corpus/pdf/*.pdf when present,
else three 40-page field-manual-like PDFs generated here with fpdf2 (the test extra). The two readers alternate round
by round and CPU time of this process is measured, so a busy machine slows both alike.
"""

from __future__ import annotations

import sys
import tempfile
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader

from corrigenda.ingest.pdf_file import read_pdf

REPO = Path(__file__).resolve().parent.parent
ROUNDS = 9


def generated(folder: Path) -> list[Path]:
    """Three 40-page two-sided manuals: alternating heads and footers, wrapped body text with hyphenated line ends."""
    from fpdf import FPDF

    words = "training leaders plan prepare execute assess soldiers units standard large-scale mission-essential".split()
    paths = []
    for number in range(3):
        pdf = FPDF()
        pdf.set_font("Helvetica", size=10)
        for page in range(1, 41):
            pdf.add_page()
            pdf.text(20, 12, "Chapter 2" if page % 2 else "Training Management")
            pdf.text(20, 285, f"14 June 2021   FM 7-0   2-{page}")
            body = " ".join(words[(page * 7 + i * (number + 3)) % len(words)] for i in range(700))
            for row, line in enumerate(textwrap.wrap(body, 95, break_on_hyphens=True)[:42]):
                pdf.text(20, 24 + 6 * row, line)
        paths.append(folder / f"manual-{number}.pdf")
        pdf.output(str(paths[-1]))
    return paths


def best_of_alternating(rounds: int, *runs: Callable[[], object]) -> list[float]:
    best = [float("inf")] * len(runs)
    for _ in range(rounds):
        for index, run in enumerate(runs):
            start = time.process_time()
            run()
            best[index] = min(best[index], time.process_time() - start)
    return best


def bare(paths: list[Path]) -> None:
    for path in paths:
        reader = PdfReader(path)
        if reader.is_encrypted:
            reader.decrypt("")
        [page.extract_text() for page in reader.pages]


def ours(paths: list[Path]) -> None:
    for path in paths:
        read_pdf(path, path.name)


def main() -> None:
    shared = REPO.parent / "shared" / "corpus" / "pdf"
    use_shared = shared.is_dir() and "--generated" not in sys.argv[1:]
    with tempfile.TemporaryDirectory() as scratch:
        paths = sorted(shared.glob("*.pdf")) if use_shared else generated(Path(scratch))
        pages = sum(len(PdfReader(p).pages) for p in paths)
        print(f"files: {len(paths)} PDFs, {pages} pages, from {paths[0].parent}")
        print(f"python {sys.version.split()[0]}, best of {ROUNDS} rounds")
        ours(paths)  # warm imports and regex caches
        baseline, elapsed = best_of_alternating(ROUNDS, lambda: bare(paths), lambda: ours(paths))
        print(f"baseline  pypdf extract_text: {pages / baseline:8.1f} pages/s  ({baseline:.3f} s)")
        print(f"corrigenda read_pdf:          {pages / elapsed:8.1f} pages/s  ({elapsed:.3f} s)")
        print(f"ratio to bare extract_text: {elapsed / baseline:.2f}x (target ≤ 1.5x)")


if __name__ == "__main__":
    main()
