"""How well the progress display's ETA predicts the end of a build, against the ETA it showed before (the baseline).

A real build (filter -> generate -> verify, the real `openai` client) runs against the local fake server with a
fixed latency; the filter passes about half the chunks. Every half second the display's figures are sampled; when
the build is over, each sample's ETA is divided by the time that really remained (1.00 is a perfect forecast). The
baseline is the former formula: the first step's rate so far times (chunks *read so far* - done), which knows
nothing of the chunks not yet read nor of the items later steps will still see. Then, on the PDF corpus, the time to
the first request and the wall time with the counting thread, as ratios to the same build without it (run in the
same process), since counting reads every document a second time.

Run: `python bench/progress_eta.py [--chunks N] [--latency-ms MS]` (uses ../shared's corpus when present).
"""

from __future__ import annotations

import argparse
import shutil
import statistics
import sys
import tempfile
import threading
import time
import zlib
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "corpus"
sys.path.insert(0, str(REPO / "tests"))

from conftest import llm_spec  # noqa: E402
from fake_openai import FakeOpenAI, Reply, ServerThread, default_reply, passage_of  # noqa: E402

from corrigenda.build import Build, BuildOptions  # noqa: E402
from corrigenda.compiler.compile import compile_spec  # noqa: E402
from corrigenda.runtime import chunk_count  # noqa: E402
from corrigenda.runtime.progress import Summary  # noqa: E402

VERIFY = "  - {name: verify, kind: verify, model: small, prompt: verify.yaml}\n"


def _project(root: Path, sources: list[Path], base_url: str, concurrency: int) -> Path:
    (root / "docs").mkdir()
    for source in sources:
        shutil.copy(source, root / "docs" / source.name)
    shutil.copytree(REPO / "prompts", root / "prompts")
    spec = root / "spec.yaml"
    body = llm_spec(base_url, concurrency=str(concurrency), chunk_size="300", verify_step=VERIFY)
    spec.write_text("prompts_dir: prompts\n" + body, encoding="utf-8")
    return spec


def _server(latency_s: float) -> FakeOpenAI:
    def responder(body, count):
        prompt = str(body["messages"])
        if "VERDICT" in prompt:  # about half the chunks pass, decided by their text
            verdict = "SUITABLE" if zlib.crc32(passage_of(body["messages"]).encode()) % 2 else "UNSUITABLE"
            return Reply(f"Facts.\nVERDICT: {verdict}", delay_s=latency_s)
        return Reply(**vars(default_reply(body, count)) | {"delay_s": latency_s})

    return ServerThread(FakeOpenAI(responder=responder)).start()


def eta_accuracy(chunks: int, latency_s: float, concurrency: int) -> None:
    sources = sorted((SHARED / "text").glob("*.txt")) or sorted((REPO / "samples").glob("*.txt"))
    fake = _server(latency_s)
    with tempfile.TemporaryDirectory() as tmp:
        spec = _project(Path(tmp), sources, fake.base_url, concurrency)
        build = Build(compile_spec(spec), BuildOptions(interactive=False, limit=chunks))
        samples: list[tuple[float, float | None, float | None]] = []  # (at, new ETA, former ETA)
        spend: list[float | None] = []  # the projected USD of the whole build, at each sample

        def sample() -> None:
            while not finished:
                time.sleep(0.5)
                progress = build.progress
                if progress is None or finished:
                    continue
                elapsed = time.monotonic() - progress.started
                figures = progress.figures(elapsed)
                summary = Summary.of(figures)
                samples.append((time.monotonic(), summary.eta_s, _former_eta(build, elapsed)))
                spend.append(summary.usd_projected)

        finished = False
        sampler = threading.Thread(target=sample, daemon=True)
        started = time.monotonic()
        sampler.start()
        result = build.run()
        ended = time.monotonic()
        finished = True
    print(f"ETA accuracy: {result.counts['chunks']} chunks, {result.requests} requests, {ended - started:.1f} s")
    print("  at (s)  left (s)  new ETA  ratio   former ETA  ratio")
    new_ratios, former_ratios = [], []
    for at, new, former in samples:
        left = ended - at
        if left < 1.0:
            continue
        new_ratio = new / left if new is not None else None
        former_ratio = former / left if former is not None else None
        if new_ratio is not None:
            new_ratios.append(new_ratio)
        if former_ratio is not None:
            former_ratios.append(former_ratio)
        print(
            f"  {at - started:6.1f}  {left:8.1f}  {_fmt(new):>7}  {_fmt(new_ratio, 2):>5}"
            f"   {_fmt(former):>10}  {_fmt(former_ratio, 2):>5}"
        )
    final_usd = sum(usage.usd for usage in result.usage)
    projected = [value / final_usd for value in spend if value is not None] if final_usd else []
    if projected:
        print(
            f"  projected USD / final USD ({final_usd:.4f}): median {statistics.median(projected):.2f}, "
            f"range {min(projected):.2f}-{max(projected):.2f} over {len(projected)} samples"
        )
    if new_ratios and former_ratios:
        print(
            f"  median ETA / time really left: new {statistics.median(new_ratios):.2f}, "
            f"former {statistics.median(former_ratios):.2f} (1.00 is exact)"
        )


def _former_eta(build: Build, elapsed: float) -> float | None:
    """What the display said before: per step, the rate so far times (requests started, or for the first step the
    chunks read so far, minus done); a user reads the longest."""
    assert build.progress is not None
    etas = []
    for index, runner in enumerate(build.runners):
        stats = runner.stats
        total = max(stats.total, build.progress.ingested()) if index == 0 else stats.total
        if stats.done:
            etas.append(elapsed / stats.done * (total - stats.done) if total > stats.done else 0.0)
    return max(etas) if etas else None


def _fmt(value: float | None, digits: int = 1) -> str:
    return "?" if value is None else f"{value:.{digits}f}"


def counting_cost(latency_s: float, concurrency: int, rounds: int = 3) -> None:
    """Time to the first request and wall time with the counting thread, as ratios to a build without it."""
    sources = sorted((SHARED / "pdf").glob("*.pdf")) + sorted((SHARED / "text").glob("*.txt"))
    if not sources:
        print("counting cost: ../shared is absent; skipped")
        return
    real_start = chunk_count.ChunkCount.start
    results: dict[str, list[tuple[float, float]]] = {"with": [], "without": []}
    for _ in range(rounds):
        for label in ("without", "with"):
            chunk_count.ChunkCount.start = real_start if label == "with" else (lambda self: self)
            fake = _server(latency_s)
            first_at: list[float] = []
            responder = fake.responder

            def timed(body, count, responder=responder, first_at=first_at):
                if not first_at:
                    first_at.append(time.monotonic())
                return responder(body, count)

            fake.responder = timed
            with tempfile.TemporaryDirectory() as tmp:
                spec = _project(Path(tmp), sources, fake.base_url, concurrency)
                build = Build(compile_spec(spec), BuildOptions(interactive=False, limit=300))
                started = time.monotonic()
                build.run()
                results[label].append((first_at[0] - started, time.monotonic() - started))
    chunk_count.ChunkCount.start = real_start
    best = {label: (min(r[0] for r in runs), min(r[1] for r in runs)) for label, runs in results.items()}
    (first_with, wall_with), (first_without, wall_without) = best["with"], best["without"]
    print(f"counting cost over {len(sources)} files (PDFs first), best of {rounds}:")
    print(f"  first request: {first_with * 1000:.0f} ms with counting, {first_without * 1000:.0f} ms without")
    print(f"  wall time:     {wall_with:.2f} s with counting, {wall_without:.2f} s without")
    print(
        f"  ratios (with / without): first request {first_with / first_without:.2f}, "
        f"wall {wall_with / wall_without:.2f}"
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chunks", type=int, default=400)
    parser.add_argument("--latency-ms", type=float, default=40.0)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    eta_accuracy(args.chunks, args.latency_ms / 1000, args.concurrency)
    counting_cost(args.latency_ms / 1000, args.concurrency)


if __name__ == "__main__":
    main()
