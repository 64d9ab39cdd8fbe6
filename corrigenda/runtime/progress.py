"""Live progress per step: a rich table on a terminal, plain periodic log lines otherwise (CI logs).

Both views print the same figures, computed in one place (`step_figures`, `Summary`) so a user can plan by them:
each step's items done of the items it will see, an ETA and a projected spend from what remains. The first step
sees the planned chunk count (counted alongside the build, "?" until known); a later step sees only the items the
steps before it passed on, known once those steps are complete and projected from their pass rate so far until
then (marked "~", as is everything computed from a projected total). Failures (items given up on) are shown apart
from retries that recovered, which are only counted.
"""

from __future__ import annotations

import asyncio
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TextIO

from rich import box
from rich.console import Console, Group
from rich.live import Live
from rich.table import Table
from rich.text import Text

from corrigenda.runtime.caller import StepStats
from corrigenda.runtime.steps import StepRunner


@dataclass(frozen=True)
class StepFigures:
    """One step at one moment. Items, not requests: a regenerated conversation is more work for the same item."""

    name: str
    done: int
    total: int | None  # items this step will see; None while unknown
    projected: bool  # `total` is estimated from an earlier step's pass rate so far
    elapsed: float  # seconds since the build started: the rates' denominator
    in_flight: int = 0
    limit: int | None = None  # the model's adaptive concurrency limit now
    failed: int = 0
    retries: int = 0
    cached: int = 0
    tokens_in: int = 0
    tokens_out: int = 0
    usd: float = 0.0

    @property
    def remaining(self) -> int | None:
        return None if self.total is None else max(0, self.total - self.done)

    @property
    def eta_s(self) -> float | None:
        """Seconds left at the rate so far: elapsed × remaining ÷ done; None while there is no rate or no total."""
        remaining = self.remaining
        if remaining == 0:
            return 0.0
        if remaining is None or self.done == 0 or self.elapsed <= 0:
            return None
        return self.elapsed * remaining / self.done

    @property
    def usd_projected(self) -> float | None:
        """Spend so far plus the spend per finished item times the items that remain."""
        remaining = self.remaining
        if remaining == 0:
            return self.usd
        if remaining is None or self.done == 0:
            return None
        return self.usd + self.usd / self.done * remaining


def _handed_on(stats: StepStats, total: int | None, projected: bool) -> tuple[int | None, bool]:
    """How many items the next step will see: exact once this step has seen all of its own (exactly known) items,
    projected from its pass rate so far before that."""
    if total is None:
        return None, False
    if stats.items_done >= total and not projected:
        return stats.items_passed, False
    if stats.items_done == 0:
        return None, False
    return max(stats.items_passed, round(total * stats.items_passed / stats.items_done)), True


def step_figures(steps: list[tuple[str, StepStats]], planned: int | None, elapsed: float) -> list[StepFigures]:
    """Every step's figures, in pipeline order; `planned` is the chunk count the first step will see (None: not
    known yet)."""
    figures = []
    total, projected = planned, False
    for name, stats in steps:
        if total is not None and projected:
            total = max(total, stats.items_done)  # a projection never shows fewer items than already done
        figures.append(
            StepFigures(
                name,
                stats.items_done,
                total,
                projected,
                elapsed,
                in_flight=stats.in_flight,
                limit=stats.limit,
                failed=stats.failed,
                retries=stats.retries,
                cached=stats.cached,
                tokens_in=stats.input_tokens,
                tokens_out=stats.output_tokens,
                usd=stats.usd,
            )
        )
        total, projected = _handed_on(stats, total, projected)
    return figures


@dataclass(frozen=True)
class Summary:
    """The whole build: spend so far and projected (the sum over steps), and the ETA of the step that ends last."""

    usd: float
    usd_projected: float | None
    eta_s: float | None
    projected: bool

    @classmethod
    def of(cls, figures: list[StepFigures]) -> Summary:
        projections = [f.usd_projected for f in figures]
        etas = [f.eta_s for f in figures]
        return cls(
            usd=sum(f.usd for f in figures),
            usd_projected=None if None in projections else sum(p for p in projections if p is not None),
            eta_s=None if None in etas or not etas else max(e for e in etas if e is not None),
            projected=any(f.projected for f in figures),
        )


def _duration(seconds: float) -> str:
    whole = int(seconds)
    if whole >= 3600:
        return f"{whole // 3600}h{whole % 3600 // 60:02d}m"
    return f"{whole // 60}m{whole % 60:02d}s"


def _eta(seconds: float | None, mark: str) -> str:
    if seconds is None:
        return "?"
    return _duration(0) if seconds == 0 else mark + _duration(seconds)


def _usd(value: float | None, mark: str) -> str:
    return "?" if value is None else f"{mark}{value:,.4f}"


def rows(figures: StepFigures) -> dict[str, str]:
    """One step's figures as text, label -> value, for both views."""
    mark = "~" if figures.projected else ""
    total = "?" if figures.total is None else f"{mark}{figures.total:,}"
    limit = {} if figures.limit is None else {"concurrency limit": f"{figures.limit:,}"}
    return {
        "done": f"{figures.done:,} of {total}",
        "in flight": f"{figures.in_flight:,}",
        "failed": f"{figures.failed:,}",
        "retries": f"{figures.retries:,}",
        "cached": f"{figures.cached:,}",
        "tokens in": f"{figures.tokens_in:,}",
        "tokens out": f"{figures.tokens_out:,}",
        "USD so far": f"{figures.usd:,.4f}",
        "USD projected": _usd(figures.usd_projected, mark),
        "items/s": f"{figures.done / figures.elapsed:.1f}" if figures.elapsed > 0 else "-",
        "ETA": _eta(figures.eta_s, mark),
        **limit,
    }


def summary_text(summary: Summary) -> str:
    mark = "~" if summary.projected else ""
    return (
        f"all steps: {summary.usd:,.4f} USD so far, {_usd(summary.usd_projected, mark)} USD projected, "
        f"ETA {_eta(summary.eta_s, mark)}"
    )


class Progress:
    def __init__(
        self,
        runners: list[StepRunner],
        ingested: Callable[[], int],
        stream: TextIO | None = None,
        interactive: bool | None = None,
        log_every_s: float = 10.0,
        planned: Callable[[], int | None] = lambda: None,
        steps: Callable[[], list[tuple[str, StepStats]]] | None = None,
        quiet: bool = False,
    ):
        """`steps`: where the figures come from when not from `runners` (a Ray build sums its shards'); `quiet`:
        show nothing (a Ray shard, whose figures the driver shows)."""
        self.runners, self.ingested, self.planned = runners, ingested, planned
        self.steps = steps or (lambda: [(r.step.name, r.stats) for r in self.runners])
        self.quiet = quiet
        self.stream = stream or sys.stderr
        self.interactive = self.stream.isatty() if interactive is None else interactive
        self.log_every_s = log_every_s
        self.started = time.monotonic()
        self._seen_failures: dict[str, str | None] = {}
        self._latest_failure: str | None = None

    def figures(self, elapsed: float | None = None) -> list[StepFigures]:
        """Every step's figures now (`elapsed` fixed for a test, else the time since the build started)."""
        steps, planned = self.steps(), self.planned()  # first: asking a Ray build's shards takes a moment
        elapsed = time.monotonic() - self.started if elapsed is None else elapsed
        return step_figures(steps, planned, elapsed)

    def latest_failure(self) -> str | None:
        """The newest item given up on, of any step; a retry that recovered never shows here."""
        for name, stats in self.steps():
            failure = stats.last_failure
            if failure and self._seen_failures.get(name) != failure:
                self._seen_failures[name] = failure
                self._latest_failure = failure
        return self._latest_failure

    def _chunks(self) -> str:
        planned = self.planned()
        return f"{self.ingested():,} of {'?' if planned is None else f'{planned:,}'}"

    def view(self) -> Group:
        """One column per step and one row per figure: a handful of steps fit an 80-column terminal whole, where a
        row per step with a dozen figures would have rich shorten the numbers to nothing."""
        figures = self.figures()
        table = Table(box=box.SIMPLE_HEAD)
        table.add_column("step")
        for step in figures:
            table.add_column(step.name, justify="right", no_wrap=True)
        columns = [rows(step) for step in figures]
        for label in columns[0] if columns else ():
            table.add_row(label, *(column.get(label, "-") for column in columns))
        failure = self.latest_failure()
        return Group(
            Text(f"chunks read: {self._chunks()}"),
            table,
            Text(summary_text(Summary.of(figures))),
            Text(f"latest failure: {failure[:300]}" if failure else ""),
        )

    def line(self) -> str:
        figures = self.figures()
        elapsed = figures[0].elapsed if figures else time.monotonic() - self.started
        parts = [f"chunks read {self._chunks()}"]
        for step in figures:
            parts.append(f"{step.name}: " + ", ".join(f"{value} {label}" for label, value in rows(step).items()))
        parts.append(summary_text(Summary.of(figures)))
        if failure := self.latest_failure():
            parts.append(f"latest failure: {failure[:200]}")
        return f"[{elapsed:6.0f}s] " + "; ".join(parts)

    async def run(self, work: asyncio.Future) -> None:
        """Show progress until `work` is done."""
        if self.quiet:
            await asyncio.wait([work])
            return
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
