"""Live progress per step: a rich table on a terminal, plain periodic log lines otherwise (CI logs)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich.console import Console
from rich.live import Live
from rich.table import Table

from corrigenda.runtime.steps import StepRunner


def _eta(done: int, total: int, elapsed: float) -> str:
    if done == 0 or total <= done:
        return "-"
    seconds = elapsed / done * (total - done)
    return f"{int(seconds // 60)}m{int(seconds % 60):02d}s"


class Progress:
    def __init__(
        self,
        runners: list[StepRunner],
        ingested: Callable[[], int],
        stream: TextIO | None = None,
        interactive: bool | None = None,
        log_every_s: float = 10.0,
    ):
        self.runners, self.ingested = runners, ingested
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.log_every_s = log_every_s
        self.started = time.monotonic()

    def table(self) -> Table:
        elapsed = time.monotonic() - self.started
        errors = [runner.stats.last_error for runner in self.runners if runner.stats.last_error]
        title = f"chunks read: {self.ingested()}" + (f"   last error: {errors[-1][:120]}" if errors else "")
        table = Table(title=title, title_justify="left")
        for column in (
            "step",
            "done",
            "started",
            "in flight",
            "retries",
            "failed",
            "cached",
            "tokens in",
            "tokens out",
            "USD",
        ):
            table.add_column(column, justify="left" if column == "step" else "right")
        table.add_column("rate/s", justify="right")
        table.add_column("ETA", justify="right")
        for runner in self.runners:
            s = runner.stats
            table.add_row(
                runner.step.name,
                str(s.done),
                str(s.total),
                str(s.in_flight),
                str(s.retries),
                str(s.failed),
                str(s.cached),
                f"{s.input_tokens:,}",
                f"{s.output_tokens:,}",
                f"{s.usd:.4f}",
                f"{s.done / elapsed:.1f}" if elapsed > 0 else "-",
                _eta(s.done, max(s.total, self.ingested()) if runner is self.runners[0] else s.total, elapsed),
            )
        return table

    def line(self) -> str:
        parts = [f"chunks read {self.ingested()}"]
        for runner in self.runners:
            s = runner.stats
            parts.append(
                f"{runner.step.name}: {s.done}/{s.total} done, {s.in_flight} in flight, {s.retries} retries, "
                f"{s.failed} failed, {s.cached} cached, {s.input_tokens:,}/{s.output_tokens:,} tokens, ${s.usd:.4f}"
            )
        errors = [runner.stats.last_error for runner in self.runners if runner.stats.last_error]
        if errors:
            parts.append(f"last error: {errors[-1][:200]}")
        return f"[{time.monotonic() - self.started:6.0f}s] " + "; ".join(parts)

    async def run(self, work: asyncio.Future) -> None:
        """Show progress until `work` is done."""
        if self.interactive:
            console = Console(file=self.stream)
            with Live(self.table(), console=console, refresh_per_second=4, transient=False) as live:
                while not work.done():
                    await asyncio.wait([work], timeout=0.25)
                    live.update(self.table())
            return
        while not work.done():
            await asyncio.wait([work], timeout=self.log_every_s)
            print(self.line(), file=self.stream, flush=True)
