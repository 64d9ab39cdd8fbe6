"""What a user watching a build sees, and can plan by: each step's items done of the planned total, an ETA and a
projected spend from what remains, and failures apart from retries that recovered. A live table on a terminal,
periodic plain lines in a CI log, the same figures in both."""

from __future__ import annotations

import asyncio
import io
import itertools
import json
import re
import time
from pathlib import Path
from types import SimpleNamespace

import pytest
from conftest import llm_spec
from fake_openai import Reply, default_reply, passage_of
from hypothesis import given
from hypothesis import strategies as st
from rich.console import Console

from corrigenda.build import Build, BuildOptions
from corrigenda.compiler.compile import compile_spec
from corrigenda.compiler.spec import InputsSpec, Subset
from corrigenda.ingest.corpus import IngestionReport, iter_chunks
from corrigenda.runtime.caller import StepStats
from corrigenda.runtime.chunk_count import ChunkCount
from corrigenda.runtime.progress import Progress, StepFigures, Summary, rows, step_figures

# --- the figures, from fixed numbers -------------------------------------------------------------------------------


def _stats(done: int, passed: int, usd: float = 0.0, **more) -> StepStats:
    stats = StepStats(**more)
    stats.items_done, stats.items_passed, stats.usd = done, passed, usd
    return stats


def test_eta_and_projected_spend_come_from_what_remains_of_the_planned_total():
    filter_, generate = step_figures(
        [("filter", _stats(40, 10, usd=0.4)), ("generate", _stats(5, 5, usd=0.5))], planned=100, elapsed=20.0
    )
    assert (filter_.total, filter_.projected, filter_.remaining) == (100, False, 60)
    assert filter_.eta_s == pytest.approx(30.0)  # 40 done in 20 s: 60 left take 30 s
    assert filter_.usd_projected == pytest.approx(1.0)  # 0.01 USD per item, 60 items to go
    # The filter passed 10 of 40 so far: a quarter of the 100 chunks, 25 items, are expected to reach generate.
    assert (generate.total, generate.projected) == (25, True)
    assert generate.eta_s == pytest.approx(80.0)  # 5 done in 20 s: 20 left take 80 s
    assert generate.usd_projected == pytest.approx(2.5)
    assert rows(filter_)["done"] == "40 of 100" and rows(filter_)["ETA"] == "0m30s"
    assert rows(generate)["done"] == "5 of ~25" and rows(generate)["ETA"] == "~1m20s"
    assert rows(generate)["USD projected"] == "~2.5000"
    summary = Summary.of([filter_, generate])
    assert summary.usd == pytest.approx(0.9) and summary.usd_projected == pytest.approx(3.5)
    assert summary.eta_s == pytest.approx(80.0) and summary.projected


def test_a_later_step_total_is_exact_once_the_filter_is_complete():
    filter_, generate = step_figures(
        [("filter", _stats(100, 30)), ("generate", _stats(12, 12))], planned=100, elapsed=50.0
    )
    assert (filter_.remaining, filter_.eta_s) == (0, 0.0)
    assert (generate.total, generate.projected) == (30, False)
    assert rows(generate)["done"] == "12 of 30" and rows(generate)["ETA"] == "1m15s"  # 50 s × 18 / 12


def test_until_the_corpus_is_counted_totals_eta_and_projection_are_unknown():
    figures = step_figures([("filter", _stats(7, 3, usd=0.1)), ("generate", _stats(0, 0))], planned=None, elapsed=9)
    for figure in figures:
        assert figure.total is None and figure.eta_s is None and figure.usd_projected is None
        assert rows(figure)["done"].endswith(" of ?") and rows(figure)["ETA"] == "?"
    assert Summary.of(figures).usd_projected is None


def test_long_etas_read_in_hours():
    (figure,) = step_figures([("filter", _stats(1, 1))], planned=10_000, elapsed=60.0)
    assert rows(figure)["ETA"] == "166h39m"  # 60 s × 9,999


@st.composite
def _pipelines(draw):
    """Counters a real run can reach: a step has done at most what the step before it passed on."""
    planned = draw(st.integers(0, 5_000))
    reaching, steps = planned, []
    for index in range(draw(st.integers(1, 4))):
        done = draw(st.integers(0, reaching))
        passed = draw(st.integers(0, done))
        usd = draw(st.floats(0, 100, allow_nan=False))
        steps.append((f"step{index}", _stats(done, passed, usd=usd)))
        reaching = passed  # the next step has done no more than was passed on so far
    return planned, steps


@given(_pipelines(), st.floats(0.1, 1e6, allow_nan=False))
def test_figures_keep_their_contract(pipeline, elapsed):
    planned, steps = pipeline
    figures = step_figures(steps, planned, elapsed)
    assert figures[0].total == planned and not figures[0].projected
    for index, (figure, (_, stats)) in enumerate(zip(figures, steps, strict=True)):
        assert figure.done == stats.items_done
        if figure.total is None:
            assert figure.eta_s is None and figure.usd_projected is None
            continue
        assert figure.done <= figure.total
        if figure.usd_projected is not None:
            assert figure.usd_projected >= figure.usd - 1e-9
        if figure.eta_s is not None and figure.done:
            assert figure.eta_s == pytest.approx(elapsed * figure.remaining / figure.done)
        if index:
            before, passed_on = figures[index - 1], steps[index - 1][1].items_passed
            assert before.total is not None and before.remaining is not None
            # Never more than could still reach this step, never fewer than have already been passed on to it.
            assert passed_on <= figure.total <= passed_on + before.remaining
            assert figure.projected == (before.projected or before.remaining > 0)


# --- the two views ----------------------------------------------------------------------------------------------


def _runners():
    filter_stats = _stats(30, 20, usd=0.0123, total=40, in_flight=4, failed=1, input_tokens=12_345, output_tokens=678)
    filter_stats.retries, filter_stats.cached = 2, 5
    filter_stats.last_error = "filter: HTTP 503: injected 503"  # recovered by a retry: counted, not shown
    filter_stats.last_failure = "filter: HTTP 500: gave up after 4 attempts"
    generate_stats = _stats(10, 10, usd=0.5, total=20, in_flight=8, input_tokens=50_000, output_tokens=9_000)
    return [
        SimpleNamespace(step=SimpleNamespace(name="filter"), stats=filter_stats),
        SimpleNamespace(step=SimpleNamespace(name="generate"), stats=generate_stats),
    ]


def _show(interactive: bool, planned: int | None = 60) -> str:
    stream = io.StringIO()

    async def go():
        progress = Progress(
            _runners(), lambda: 45, stream=stream, interactive=interactive, log_every_s=0.05, planned=lambda: planned
        )
        progress.started -= 10  # ten seconds into the run
        await progress.run(asyncio.ensure_future(asyncio.sleep(0.12)))

    asyncio.run(go())
    return stream.getvalue()


def test_plain_lines_carry_every_figure_a_ci_log_reader_needs():
    lines = _show(interactive=False).splitlines()
    assert len(lines) >= 2  # periodic, plus one when the work ends
    last = lines[-1]
    assert "chunks read 45 of 60" in last
    assert "filter: 30 of 60 done, 4 in flight, 1 failed, 2 retries, 5 cached, 12,345 tokens in, 678 tokens out" in last
    # 30 of 60 done in ~10 s: ~10 s left; 0.0123 USD for 30 items, twice that for all 60
    assert "0.0123 USD so far, 0.0246 USD projected, 3.0 items/s, 0m10s ETA" in last
    # generate: the filter passed 20 of 30, so ~40 of the 60 chunks will reach it; 10 done, 30 to go
    assert "generate: 10 of ~40 done, 8 in flight" in last and "0.5000 USD so far, ~2.0000 USD projected" in last
    assert "~0m30s ETA" in last
    assert "all steps: 0.5123 USD so far, ~2.0246 USD projected, ETA ~0m30s" in last
    assert "latest failure: filter: HTTP 500: gave up after 4 attempts" in last
    assert "503" not in last  # a retry that recovered is a count, not the latest error


def test_a_terminal_gets_one_column_per_step_that_fits_80_columns_unshortened():
    shown = _show(interactive=True)
    assert "…" not in shown  # rich shortens cells that do not fit; a shortened count tells nothing
    rows_ = {cells[0]: cells[1:] for cells in (re.split(r"\s{2,}", line.strip()) for line in shown.splitlines())}
    assert rows_["step"] == ["filter", "generate"]
    assert "chunks read: 45 of 60" in shown
    assert rows_["done"] == ["30 of 60", "10 of ~40"]
    assert rows_["in flight"] == ["4", "8"]
    assert rows_["tokens in"] == ["12,345", "50,000"]
    assert rows_["USD so far"] == ["0.0123", "0.5000"]
    assert rows_["USD projected"] == ["0.0246", "~2.0000"]
    assert rows_["ETA"] == ["0m10s", "~0m30s"]
    assert "latest failure: filter: HTTP 500: gave up after 4 attempts" in shown
    assert "503" not in shown


def test_before_the_corpus_is_counted_the_total_shows_as_unknown():
    last = _show(interactive=False, planned=None).splitlines()[-1]
    assert "chunks read 45 of ?" in last and "filter: 30 of ? done" in last and "? ETA" in last


# --- the planned total --------------------------------------------------------------------------------------------


def _corpus(root: Path, n: int = 12) -> InputsSpec:
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    for index in range(n):
        text = f"Entry {index}: the bridge over river {index} opened in {1900 + index}, a year after work began. "
        (docs / f"entry-{index:02d}.txt").write_text(text * (1 + index % 3) + "\n", encoding="utf-8")
    return InputsSpec(paths=("docs",), chunk_size=32, min_chunk_tokens=0)


def _wait_for(count: ChunkCount) -> int | None:
    deadline = time.monotonic() + 30
    while count.total is None and time.monotonic() < deadline:
        time.sleep(0.02)
    return count.total


@pytest.mark.parametrize("limit, subset", [(None, None), (5, None), (None, 4)])
def test_the_planned_count_is_what_the_build_will_read(tmp_path, limit, subset):
    inputs = _corpus(tmp_path)
    if subset:
        inputs = inputs.model_copy(update={"subset": Subset(size=subset)})
    chunks = iter_chunks(inputs, tmp_path, IngestionReport())
    expected = sum(1 for _ in (itertools.islice(chunks, limit) if limit else chunks))
    everything = sum(1 for _ in iter_chunks(_corpus(tmp_path), tmp_path, IngestionReport()))
    assert everything > 12  # some entries take more than one chunk
    assert expected == (limit or subset or everything)
    count = ChunkCount(inputs, tmp_path, limit).start()  # a child process: returns at once
    try:
        assert _wait_for(count) == expected
    finally:
        count.stop()


def test_the_build_reading_its_last_chunk_settles_the_total_and_ends_the_count(tmp_path):
    inputs = _corpus(tmp_path)
    count = ChunkCount(inputs, tmp_path).start()
    read = list(count.follow(iter_chunks(inputs, tmp_path, IngestionReport())))
    assert count.total == len(read)
    assert count._process is None  # no counting process outlives what it was for


# --- a real build against the fake server ---------------------------------------------------------------------------


def _notes(root: Path, n: int) -> None:
    """`n` one-chunk documents; every fourth is an index page the filter rejects."""
    for index in range(n):
        kind = "Index page" if index % 4 == 0 else "Survey"
        text = f"{kind} {index}: the section {index} was surveyed in {1800 + index} by the county office."
        (root / "docs" / f"note-{index:02d}.txt").write_text(text + "\n", encoding="utf-8")


def _build(project, fake_server, limit: int | None = None) -> tuple[Build, list[list[StepFigures]]]:
    """Runs a build whose server, at each generate request, records the display's figures at a fixed 100 s."""
    snapshots: list[list[StepFigures]] = []
    seen: dict[str, int] = {}
    build: Build | None = None

    def responder(body, count):
        prompt = str(body["messages"])
        passage = passage_of(body["messages"])
        if "VERDICT" in prompt:
            verdict = "UNSUITABLE" if "Index page" in passage else "SUITABLE"
            return Reply(f"The passage states facts.\nVERDICT: {verdict}", delay_s=0.01)
        if build is not None and build.progress is not None:
            snapshots.append(build.progress.figures(elapsed=100.0))
        seen[passage] = seen.get(passage, 0) + 1
        if "Survey 7:" in passage:
            return Reply(status=500)  # given up on after max_attempts: a failure
        if "Survey 5:" in passage and seen[passage] == 1:
            return Reply(status=503)  # recovered by the next attempt: a retry, not a failure
        return default_reply(body, count)

    fake_server.responder = responder
    spec = project(llm_spec(fake_server.base_url, concurrency="1"))
    build = Build(compile_spec(spec), BuildOptions(interactive=False, limit=limit))
    build.run()
    return build, snapshots


def test_a_build_shows_done_of_the_planned_total_eta_from_what_remains_and_failures_apart(project, fake_server, capsys):
    _notes(project.root, 24)  # with the fixture's a.txt: 25 chunks, 6 of them index pages
    build, snapshots = _build(project, fake_server)
    planned = json.loads((project.root / "out" / "ingestion_report.json").read_text())["chunks"]
    assert planned == 25

    # Mid-build, once counted: the filter's total is the planned chunk count, its ETA is from what remains of it,
    # and generate's total is projected from the filter's pass rate so far.
    counted = [s for s in snapshots if s[0].total is not None and s[0].done < planned]
    assert counted, "the corpus was not counted while the filter was still running"
    filter_, generate, *_ = counted[0]
    assert filter_.total == planned and not filter_.projected
    assert filter_.eta_s == pytest.approx(100.0 * (planned - filter_.done) / filter_.done)
    passed = build.runners[0].stats.items_passed  # by the end of the build
    assert generate.projected and rows(generate)["done"].endswith(f" of ~{generate.total}")
    assert generate.total <= planned

    # At the end: every step's total is exact, and equals what it really saw.
    final = build.progress.figures(elapsed=100.0)
    assert [(f.done, f.total, f.projected) for f in final] == [(25, 25, False), (passed, passed, False)]
    assert passed == 19  # the 6 index pages were unsuitable
    line = capsys.readouterr().err.strip().splitlines()[-1]  # the CI log's last line: the same figures
    assert "chunks read 25 of 25" in line and "filter: 25 of 25 done" in line and "generate: 19 of 19 done" in line
    assert "~" not in line
    # One chunk failed for good (4 attempts: 3 retries); another recovered after one retry.
    assert "generate: 19 of 19 done, 0 in flight, 1 failed, 4 retries" in line
    assert "latest failure: generate: HTTP 500" in line and "gave up after 4 attempts" in line
    assert "503" not in line


def test_the_planned_total_honours_limit(project, fake_server, capsys):
    _notes(project.root, 24)
    build, _ = _build(project, fake_server, limit=10)
    assert build.progress is not None
    assert build.progress.figures(elapsed=1.0)[0].total == 10
    assert "chunks read 10 of 10" in capsys.readouterr().err


def test_three_steps_over_a_hundred_thousand_chunks_still_fit_80_columns():
    runners = [
        SimpleNamespace(step=SimpleNamespace(name=name), stats=_stats(done, passed, usd=usd, input_tokens=123_456_789))
        for name, done, passed, usd in [
            ("filter", 98_765, 40_000, 12.5),
            ("generate", 34_567, 34_000, 456.7),
            ("verify", 33_000, 30_000, 123.4),
        ]
    ]
    stream = io.StringIO()
    progress = Progress(runners, lambda: 99_999, stream=stream, interactive=True, planned=lambda: 123_456)
    Console(file=stream, width=80).print(progress.view())
    shown = stream.getvalue()
    assert "…" not in shown and max(len(line) for line in shown.splitlines()) <= 80
    assert "98,765 of 123,456" in shown and "34,567 of ~50,000" in shown and "123,456,789" in shown
