"""Reading a PDF corpus: one process against Ray read tasks, and a rerun that replays the ingest store.

Three ways to turn the same PDFs into chunks and an ingestion report, in the same process, rounds alternating:
- one process: `iter_chunks` reads and cuts every file in turn (what a one-process build does);
- Ray read tasks: `ingest_on_ray`, a task per PDF on a local Ray instance (one worker per CPU, started and warmed
  before timing), the driver keeping each result in a fresh ingest store (what `build --ray` does before its shards);
- replay: `iter_chunks` taking every file from the filled store (what each Ray shard, the counting child and the
  release build do, and a plain rerun).
Wall time, best of the rounds, each as a ratio to the one-process read. Before the ingest store, a Ray build of N
shards parsed every PDF 2N + 2 times (each shard and its counting child, the driver's release build and its child).

Run: `python bench/ingest.py [--manuals 8] [--rounds 3]`. Files: the PDFs of ../shared/corpus/pdf when present, and
`--manuals` generated 40-page field-manual-like PDFs (bench/pdf.py), so the work splits over the cores.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

from pypdf import PdfReader

sys.path.insert(0, str(Path(__file__).resolve().parent))

from pdf import generated

from corrigenda.compiler.spec import InputsSpec
from corrigenda.ingest.corpus import IngestionReport, iter_chunks
from corrigenda.ingest.store import IngestStore, StoredReading
from corrigenda.ray_executor import ingest_on_ray

REPO = Path(__file__).resolve().parent.parent


def corpus(folder: Path, manuals: int) -> Path:
    """The PDFs to read, linked into one folder."""
    docs = folder / "docs"
    docs.mkdir()
    shared = REPO.parent / "shared" / "corpus" / "pdf"
    for path in sorted(shared.glob("*.pdf")) if shared.is_dir() else []:
        (docs / path.name).symlink_to(path)
    made = folder / "made"
    made.mkdir()
    for round_ in range((manuals + 2) // 3):
        for path in generated(made):
            path.rename(docs / f"{round_}-{path.name}")
    for extra in sorted(docs.glob("[0-9]*-manual-*.pdf"))[manuals:]:
        extra.unlink()
    return docs


def best(rounds: int, *runs: Callable[[], object]) -> list[float]:
    times = [float("inf")] * len(runs)
    for _ in range(rounds):
        for index, run in enumerate(runs):
            start = time.perf_counter()
            run()
            times[index] = min(times[index], time.perf_counter() - start)
    return times


def main() -> None:
    import ray

    parser = argparse.ArgumentParser()
    parser.add_argument("--manuals", type=int, default=8)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        base = Path(scratch)
        docs = corpus(base, args.manuals)
        files = sorted(docs.glob("*.pdf"))
        pages = sum(len(PdfReader(p).pages) for p in files)
        inputs = InputsSpec(paths=("docs",))
        cpus = os.cpu_count() or 1
        print(f"files: {len(files)} PDFs, {pages} pages; {cpus} CPUs; best of {args.rounds} rounds, wall time")
        ray.init(num_cpus=cpus, include_dashboard=False, configure_logging=False, log_to_driver=False)
        stores = iter(range(10_000))

        def one_process() -> int:
            return sum(1 for _ in iter_chunks(inputs, base, IngestionReport()))

        def on_ray() -> None:
            ingest_on_ray(ray, inputs, base, IngestStore(base / f"store-{next(stores)}.sqlite"))

        filled = IngestStore(base / "filled.sqlite")
        ingest_on_ray(ray, inputs, base, filled)  # warms the workers (imports, encodings) and fills the replay's store
        ingest_on_ray(ray, inputs, base, IngestStore(base / "warm.sqlite"))

        def replay() -> int:
            return sum(1 for _ in iter_chunks(inputs, base, IngestionReport(), StoredReading(filled, inputs, base)))

        chunks = one_process()
        assert replay() == chunks
        single, spread, replayed = best(args.rounds, one_process, on_ray, replay)
        ray.shutdown()
        print(f"one process (iter_chunks):         {single:7.3f} s  {pages / single:7.1f} pages/s  {chunks} chunks")
        print(f"Ray read tasks ({cpus} workers):       {spread:7.3f} s  ratio {spread / single:.2f}")
        print(f"replay from the ingest store:      {replayed:7.3f} s  ratio {replayed / single:.3f}")


if __name__ == "__main__":
    main()
