"""Live progress per step: a rich table on a terminal, plain periodic log lines otherwise (CI logs)."""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from typing import TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

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

    def _figures(self, runner: StepRunner, elapsed: float) -> dict[str, str]:
        """One step's figures, for both views. The ETA assumes the rate so far; the first step's total grows as
        chunks are read."""
        s = runner.stats
        total = max(s.total, self.ingested()) if runner is self.runners[0] else s.total
        return {
            "done/started": f"{s.done:,}/{s.total:,}",
            "in flight": f"{s.in_flight:,}",
            "failed": f"{s.failed:,}",
            "retries": f"{s.retries:,}",
            "cached": f"{s.cached:,}",
            "tokens in": f"{s.input_tokens:,}",
            "tokens out": f"{s.output_tokens:,}",
            "USD": f"{s.usd:,.4f}",
            "items/s": f"{s.done / elapsed:.1f}" if elapsed > 0 else "-",
            "ETA": _eta(s.done, total, elapsed),
        }

    def _last_error(self) -> str | None:
        errors = [runner.stats.last_error for runner in self.runners if runner.stats.last_error]
        return errors[-1] if errors else None

    def view(self) -> Group:
        """One column per step and one row per figure: a handful of steps fit an 80-column terminal whole, where a
        row per step with a dozen figures would have rich shorten the numbers to nothing."""
        elapsed = time.monotonic() - self.started
        table = Table(box=box.SIMPLE_HEAD)
        table.add_column(f"chunks read: {self.ingested():,}")
        for runner in self.runners:
            table.add_column(runner.step.name, justify="right", no_wrap=True)
        columns = [self._figures(runner, elapsed) for runner in self.runners]
        for figure in columns[0] if columns else ():
            table.add_row(figure, *(column[figure] for column in columns))
        error = self._last_error()
        return Group(table, Text(f"last error: {error[:300]}" if error else ""))

    def line(self) -> str:
        elapsed = time.monotonic() - self.started
        parts = [f"chunks read {self.ingested():,}"]
        for runner in self.runners:
            figures = self._figures(runner, elapsed)
            parts.append(f"{runner.step.name}: " + ", ".join(f"{value} {figure}" for figure, value in figures.items()))
        if error := self._last_error():
            parts.append(f"last error: {error[:200]}")
        return f"[{elapsed:6.0f}s] " + "; ".join(parts)

    async def run(self, work: asyncio.Future) -> None:
        """Show progress until `work` is done."""
        if self.interactive:
            console = Console(file=self.stream)
            with Live(self.view(), console=console, refresh_per_second=4, transient=False) as live:
                while not work.done():
                    await asyncio.wait([work], timeout=0.25)
                    live.update(self.view())
            return
        while not work.done():
            await asyncio.wait([work], timeout=self.log_every_s)
            print(self.line(), file=self.stream, flush=True)
