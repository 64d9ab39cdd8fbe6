"""Chunking throughput against tiktoken's raw `encode_ordinary` of the same text, in the same process.

Raw encoding is the floor any token-exact chunker pays; the ratio says what ingestion does on top of it after a file
is read: the text reader's clean-up (private-use glyphs, NFC, control characters, words broken at line ends),
boundaries, packing, overlap and the balancing of short tails (`min_chunk_tokens`, default 16). Run:
`python bench/chunking.py` (or `make bench`). The corpus is at least 10 MB, built from the shared text files (or the
repo's samples when ../shared is absent).
"""

from __future__ import annotations

import sys
import time
from collections import Counter
from pathlib import Path

from corrigenda.ingest.chunker import Chunker, balance, get_encoding
from corrigenda.ingest.document import normalise
from corrigenda.ingest.text_file import plain_text

REPO = Path(__file__).resolve().parent.parent
TARGET_BYTES = 10 * 1024 * 1024
SETTINGS = [(3000, 0), (1000, 100), (512, 64)]
ROUNDS = 3
MIN_CHUNK_TOKENS = 16  # the spec default


def corpus() -> tuple[list[str], str]:
    shared = REPO.parent / "shared" / "corpus" / "text"
    sources = sorted(shared.glob("*.txt")) if shared.is_dir() else sorted((REPO / "samples").glob("*.txt"))
    texts = [normalise(p.read_text(encoding="utf-8")) for p in sources]
    documents, size, copy = [], 0, 0
    while size < TARGET_BYTES:
        for text in texts:
            # A distinct first line per copy, so no cache anywhere could help.
            document = f"Copy {copy}.\n\n{text}"
            documents.append(document)
            size += len(document.encode("utf-8"))
        copy += 1
    return documents, ", ".join(p.name for p in sources)


def best_of(rounds: int, run) -> float:
    best = float("inf")
    for _ in range(rounds):
        start = time.perf_counter()
        run()
        best = min(best, time.perf_counter() - start)
    return best


def main() -> None:
    documents, names = corpus()
    megabytes = sum(len(d.encode("utf-8")) for d in documents) / 1e6
    encoding = get_encoding("cl100k_base")
    print(f"corpus: {len(documents)} documents, {megabytes:.1f} MB, from {names}")
    print(f"python {sys.version.split()[0]}, best of {ROUNDS} rounds")
    baseline = best_of(ROUNDS, lambda: [encoding.encode_ordinary(d) for d in documents])
    print(f"baseline  tiktoken encode_ordinary: {megabytes / baseline:7.2f} MB/s  ({baseline:.2f} s)")
    for chunk_size, overlap in SETTINGS:
        chunker = Chunker("cl100k_base", chunk_size, overlap)
        chunker.split(documents[0])  # warm the regex and encoder caches

        def ingest(c: Chunker = chunker) -> list[int]:
            counts: Counter[str] = Counter()
            out = []
            for document in documents:
                text = plain_text(document, counts)
                out.append(len(balance(c, text, c.split(text), MIN_CHUNK_TOKENS).spans))
            return out

        elapsed = best_of(ROUNDS, ingest)
        chunks = sum(ingest())
        print(
            f"chunk_size={chunk_size:<5} overlap={overlap:<4}: {megabytes / elapsed:7.2f} MB/s  ({elapsed:.2f} s, "
            f"{chunks} chunks)  ratio to raw encode: {elapsed / baseline:.2f}x"
        )


if __name__ == "__main__":
    main()
