"""One model's calls: cache first, then rate limits, the concurrency slot, the request, and retries.

Transient errors (429, 5xx, timeouts, dropped connections) are retried with exponential backoff and jitter, or after
the server's `Retry-After`. A call that still fails is raised as `CallFailed` with its reason, never dropped. Every
answer is stored before it is returned, so an interrupted run loses nothing it paid for. A failure to connect at all
(refused, DNS, TLS) uses up no attempt: it is waited out, and when the endpoint stays unreachable for the model's
`give_up_after_s` the build stops with `EndpointDown` rather than failing every chunk in turn.
"""

from __future__ import annotations

import asyncio
import heapq
import random
import time
from dataclasses import dataclass, field
from typing import Any, NamedTuple, Protocol

from corrigenda.compiler.spec import DEFAULT_EXPECTED_OUTPUT_TOKENS, ModelSpec
from corrigenda.errors import EndpointDown, EndpointError, OfflineMiss
from corrigenda.runtime.adaptive import AdaptiveLimit
from corrigenda.runtime.budget import Budget
from corrigenda.runtime.cache import CallCache, call_key
from corrigenda.runtime.limits import RateLimiter
from corrigenda.runtime.request import Completion, EndpointRefused, PermanentError, Request, TransientError, Unreachable
from corrigenda.runtime.tokens import count_message_tokens
from corrigenda.runtime.usage import ModelUsage


class Backend(Protocol):
    @property
    def identity(self) -> dict[str, Any]: ...

    async def complete(self, request: Request) -> Completion: ...

    async def close(self) -> None: ...


class Deferred(Exception):
    """The call was not made now: it waits for a batch, or the spending cap holds it back. The item stops here and
    is taken up again on a later pass (batch mode) or not at all (the cap)."""


class Answer(NamedTuple):
    completion: Completion
    cached: bool
    attempts: int  # HTTP tries, this run's or the stored ones
    key: str
    batch: bool = False  # answered by a batch (charged at the batch price)


class CallFailed(Exception):
    def __init__(self, reason: str, attempts: int):
        super().__init__(reason)
        self.reason, self.attempts = reason, attempts


@dataclass
class StepStats:
    """Live counters for the progress display."""

    total: int = 0
    done: int = 0
    in_flight: int = 0
    failed: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    cached: int = 0
    retries: int = 0
    last_error: str | None = None  # the latest transient error, so a struggling endpoint shows while it happens
    items_done: int = 0  # distinct items through the step's first pass (a regeneration is more work, not an item)
    items_passed: int = 0  # of those, the ones handed on to the next step: its total, once this step is complete
    last_failure: str | None = None  # the latest item that failed for good here (a recovered retry is no failure)
    limit: int | None = None  # the model's adaptive concurrency limit at its latest request


@dataclass
class Outage:
    """Since when (monotonic seconds) no connection to a model's endpoint has succeeded; None while it answers.
    Tries end out of order (an answer sent before the server went down arrives after the first refusal; a connect
    timeout fails late), so both are dated by when the try began: the outage began with the earliest refused try
    begun after the latest answered one."""

    answered: float = float("-inf")  # when the latest answered try began
    refusals: list[float] = field(default_factory=list)  # a heap: when each refused try after it began

    @property
    def since(self) -> float | None:
        return self.refusals[0] if self.refusals else None

    def refused(self, started: float) -> float:
        """Record a try that could not connect; returns when the outage began (never before the latest answer)."""
        if started > self.answered:
            heapq.heappush(self.refusals, started)
        return self.refusals[0] if self.refusals else self.answered

    def succeeded(self, started: float) -> None:
        """Record an answered try: refusals of tries begun before it no longer count."""
        self.answered = max(self.answered, started)
        while self.refusals and self.refusals[0] <= self.answered:
            heapq.heappop(self.refusals)


class Caller:
    def __init__(
        self,
        name: str,
        model: ModelSpec,
        backend: Backend,
        cache: CallCache,
        offline: bool = False,
        read_cache: bool = True,
        rng: random.Random | None = None,
        batch: Any = None,
        budget: Budget | None = None,
    ):
        self.name, self.model, self.backend, self.cache, self.offline = name, model, backend, cache, offline
        self.usage = ModelUsage(name, model.model, model.pricing)
        self.limiter = RateLimiter(model.rpm, model.tpm)
        self.slots = AdaptiveLimit(model.concurrency, fixed=not model.adaptive_concurrency)
        self._rng = rng or random.Random()
        self.outage = Outage()
        self.read_cache = read_cache  # False (--no-resume): ask again even when an answer is stored; still store it
        self.batch = batch  # a Batcher (batcher.py) when this model's misses wait for a batch
        self.budget = budget or Budget(None)

    def key(self, request: Request) -> str:
        material: dict[str, Any] = {
            "backend": self.backend.identity,
            "kind": request.kind,
            "messages": request.messages,
            "sampling": request.sampling.model_dump(mode="json"),
            "response_format": request.response_format,
            "sample": request.sample,
        }
        if not request.messages:  # an engine that reads the context instead of a prompt
            material["context"] = request.context.get("digest")
        return call_key(material)

    def _account(self, completion: Completion, attempts: int, stats: StepStats, batch: bool = False) -> float:
        self.usage.add(completion, attempts, batch)
        stats.input_tokens += completion.input_tokens
        stats.output_tokens += completion.output_tokens
        usd = self.model.pricing.cost(completion.input_tokens, completion.output_tokens, batch)
        stats.usd += usd
        return usd

    def worst_case_usd(self, request: Request, batch: bool = False) -> float:
        """The most this call can cost: its prompt's tokens and every token max_tokens allows. Without max_tokens
        the endpoint decides: the rest of the model's context if the spec gives it, else the step's usual output,
        its expected_output_tokens (counting no output would let every request in flight start on the cap's last
        cents)."""
        prompt = count_message_tokens(request.messages) if request.messages else 0
        output = request.sampling.max_tokens
        if output is None:
            context = self.model.context_tokens
            usual = request.output_budget or DEFAULT_EXPECTED_OUTPUT_TOKENS[request.kind]
            output = context - prompt if context and context > prompt else usual
        return self.model.pricing.cost(prompt, output, batch)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.model.backoff_max_s, self.model.backoff_s * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    async def call(self, request: Request, stats: StepStats) -> tuple[Completion, bool]:
        """The answer and whether it came from the cache."""
        answer = await self.call_counted(request, stats)
        return answer.completion, answer.cached

    def replay(
        self, record: dict[str, Any], attempts: int, stats: StepStats, batch: bool = False, key: str | None = None
    ) -> Completion:
        """An answer from the cache, counted as a cached call (at the batch price when a batch answered it) and
        charged to the spending cap once per key: it was paid for, and a cap counts the whole dataset's cost."""
        completion = Completion.from_record(record)
        self.usage.cached_calls += 1
        stats.cached += 1
        usd = self._account(completion, attempts, stats, batch)
        self.budget.charge(usd, key)
        return completion

    async def call_counted(self, request: Request, stats: StepStats) -> Answer:
        """The answer, whether it came from the cache, the HTTP attempts it took, its key and whether a batch
        answered it (what a stored item needs to count it again on a rerun)."""
        key = self.key(request)
        stored = self.cache.get(key) if self.read_cache else None
        if stored is not None:
            attempts = stored.get("attempts", 1)
            batch = bool(stored.get("batch", False))
            return Answer(self.replay(stored["completion"], attempts, stats, batch, key), True, attempts, key, batch)
        if self.offline:
            raise OfflineMiss(
                f"--offline: cache miss: {request.step} for {request.item} (sample {request.sample}) is not cached",
                "run without --offline to fetch it",
            )
        if self.batch is not None:
            sent, error = self.batch.store.submissions(key)
            if sent <= self.model.batch_resubmits:
                self.batch.want(self, key, request)
                raise Deferred("waits for a batch")
            if self.model.batch_fallback == "fail":
                self.usage.failed(0)
                raise CallFailed(f"no result after {sent} batches (last: {error or 'no answer'})", 0)
        worst = self.worst_case_usd(request) if self.budget.cap is not None else 0.0  # counting tokens costs CPU
        if not self.budget.reserve(worst):
            raise Deferred("max_usd reached")
        try:
            completion, tries = await self._request(request, stats, key)
        except BaseException:
            self.budget.settle(worst, 0.0)
            raise
        self.budget.settle(worst, self.model.pricing.cost(completion.input_tokens, completion.output_tokens), key)
        return Answer(completion, False, tries, key)

    async def _request(self, request: Request, stats: StepStats, key: str) -> tuple[Completion, int]:
        """The HTTP attempts of one call, until an answer (stored before it is returned) or a `CallFailed`; the
        answer and the tries it took."""
        estimate = 0  # tokens to reserve under a TPM limit; counting costs CPU, so only when one is set
        if self.limiter.active and request.messages:
            estimate = count_message_tokens(request.messages) + (request.sampling.max_tokens or 0)
        reason = "no attempt made"
        attempt = tries = refused = 0  # attempts the server answered (max_attempts), HTTP tries, failed connects
        first_refusal = 0.0  # when this call first failed to connect
        while True:
            tries += 1
            retry_after: float | None = None
            unreachable = False
            reservation = await self.limiter.acquire(estimate)
            async with self.slots:
                stats.in_flight += 1
                stats.limit = self.slots.limit
                started = time.monotonic()  # a connect timeout fails late: the outage began when the try did
                self.usage.requests_this_run += 1
                try:
                    completion = await self.backend.complete(request)
                except Unreachable as exc:
                    reason, unreachable = exc.reason, True
                    stats.retries += 1
                    stats.last_error = f"{self.name}: {reason}"
                except TransientError as exc:
                    self.slots.record(time.monotonic() - started, exc.status)
                    attempt += 1
                    reason, retry_after = exc.reason, exc.retry_after
                    stats.retries += attempt < self.model.max_attempts
                    stats.last_error = f"{self.name}: {reason}"
                except EndpointRefused as exc:  # every other call would fail alike: stop, as for a dead endpoint
                    self.usage.failed(tries)
                    raise EndpointError(
                        f"models.{self.name} ({self.model.model}) at {self.backend.identity.get('endpoint')}: {exc}; "
                        "the build stopped",
                        f"{exc.fix}; every finished call is cached, so the rerun pays only for the rest",
                    ) from None
                except PermanentError as exc:
                    self.usage.failed(tries)
                    raise CallFailed(str(exc), tries) from None
                else:
                    self.slots.record(time.monotonic() - started)
                    self.outage.succeeded(started)
                    self.cache.put(
                        key,
                        request.step,
                        request.item,
                        self.name,
                        {"completion": completion.to_record(), "attempts": tries},
                    )
                    RateLimiter.settle(reservation, completion.input_tokens + completion.output_tokens)
                    self._account(completion, tries, stats)
                    return completion, tries
                finally:
                    stats.in_flight -= 1
            RateLimiter.settle(reservation, 0)
            if unreachable:
                refused += 1
                first_refusal = first_refusal or started
                remaining = self._outage_left(reason, started)  # raises EndpointDown once the endpoint is given up on
                if time.monotonic() - first_refusal >= self.model.give_up_after_s:
                    break  # others get through now and then, this call never does
                await asyncio.sleep(min(self._backoff(refused), remaining + 0.01))
                continue
            if attempt >= self.model.max_attempts:
                break
            await asyncio.sleep(retry_after if retry_after is not None else self._backoff(attempt))
        self.usage.failed(tries)
        raise CallFailed(f"{reason} (gave up after {tries} attempts)", tries)

    def _outage_left(self, reason: str, started: float) -> float:
        """Seconds left before the endpoint is given up on; raises `EndpointDown` (the build stops) when none are.
        The outage runs from the first failure to connect after a success, over all of this model's calls, so a
        short blip is waited out and only a dead endpoint stops the build."""
        now = time.monotonic()
        down_for = now - self.outage.refused(started)
        give_up = self.model.give_up_after_s
        if down_for >= give_up:
            raise EndpointDown(
                f"models.{self.name} ({self.model.model}) at {self.backend.identity.get('endpoint')}: no connection "
                f"for {down_for:.0f} s, the last try: {reason}; the build stopped",
                "every finished call is cached: once the endpoint is back, rerun the same command to resume "
                f"(models.{self.name}.give_up_after_s, now {give_up:g} s, sets how long an outage is waited out)",
            )
        return give_up - down_for
