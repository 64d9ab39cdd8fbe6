"""What a user watching a build sees: a live table on a terminal, periodic plain lines in a CI log."""

from __future__ import annotations

import asyncio
import io
from types import SimpleNamespace

from corrigenda.runtime.caller import StepStats
from corrigenda.runtime.progress import Progress


def _runners():
    filter_stats = StepStats(total=40, done=30, in_flight=4, failed=1, input_tokens=12_345, output_tokens=678)
    filter_stats.usd, filter_stats.retries, filter_stats.cached = 0.0123, 2, 5
    filter_stats.last_error = "HTTP 503: injected 503"
    generate_stats = StepStats(total=20, done=10, in_flight=8, input_tokens=50_000, output_tokens=9_000, usd=0.5)
    return [
        SimpleNamespace(step=SimpleNamespace(name="filter"), stats=filter_stats),
        SimpleNamespace(step=SimpleNamespace(name="generate"), stats=generate_stats),
    ]


def _show(interactive: bool) -> str:
    stream = io.StringIO()

    async def go():
        progress = Progress(_runners(), lambda: 60, stream=stream, interactive=interactive, log_every_s=0.05)
        progress.started -= 10  # ten seconds into the run
        await progress.run(asyncio.ensure_future(asyncio.sleep(0.12)))

    asyncio.run(go())
    return stream.getvalue()


def test_plain_lines_carry_every_figure_a_ci_log_reader_needs():
    lines = _show(interactive=False).splitlines()
    assert len(lines) >= 2  # periodic, plus one when the work ends
    last = lines[-1]
    assert "chunks read 60" in last
    assert (
        "filter: 30/40 done/started, 4 in flight, 1 failed, 2 retries, 5 cached, 12,345 tokens in, 678 tokens out"
        in last
    )
    assert "0.0123 USD, 3.0 items/s, 0m10s ETA" in last  # 30 done in ~10 s; 30 of the 60 chunks read are left
    assert "generate: 10/20 done/started, 8 in flight" in last and "0.5000 USD" in last
    assert "last error: HTTP 503: injected 503" in last


def test_a_terminal_gets_one_column_per_step_that_fits_80_columns_unshortened():
    shown = _show(interactive=True)
    assert "…" not in shown  # rich shortens cells that do not fit; a shortened count tells nothing
    rows = {" ".join(line.split()[:-2]): line.split()[-2:] for line in shown.splitlines() if len(line.split()) > 2}
    assert rows["chunks read: 60"] == ["filter", "generate"]
    assert rows["done/started"] == ["30/40", "10/20"]
    assert rows["in flight"] == ["4", "8"]
    assert rows["tokens in"] == ["12,345", "50,000"]
    assert rows["tokens out"] == ["678", "9,000"]
    assert rows["USD"] == ["0.0123", "0.5000"]
    assert rows["ETA"] == ["0m10s", "0m10s"]
    assert "last error: HTTP 503: injected 503" in shown
