"""One model's calls: cache first, then rate limits, the concurrency slot, the request, and retries.

Transient errors (429, 5xx, timeouts, dropped connections) are retried with exponential backoff and jitter, or after
the server's `Retry-After`. A call that still fails is raised as `CallFailed` with its reason, never dropped. Every
answer is stored before it is returned, so an interrupted run loses nothing it paid for.
"""

from __future__ import annotations

import asyncio
import random
from dataclasses import dataclass
from typing import Any, Protocol

from corrigenda.compiler.spec import ModelSpec
from corrigenda.errors import OfflineMiss
from corrigenda.runtime.cache import CallCache, call_key
from corrigenda.runtime.limits import RateLimiter
from corrigenda.runtime.request import Completion, PermanentError, Request, TransientError
from corrigenda.runtime.tokens import count_message_tokens
from corrigenda.runtime.usage import ModelUsage


class Backend(Protocol):
    @property
    def identity(self) -> dict[str, Any]: ...

    async def complete(self, request: Request) -> Completion: ...

    async def close(self) -> None: ...


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
    ):
        self.name, self.model, self.backend, self.cache, self.offline = name, model, backend, cache, offline
        self.usage = ModelUsage(name, model.model, model.pricing)
        self.limiter = RateLimiter(model.rpm, model.tpm)
        self.slots = asyncio.Semaphore(model.concurrency)
        self._rng = rng or random.Random()
        self.read_cache = read_cache  # False (--no-resume): ask again even when an answer is stored; still store it

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

    def _account(self, completion: Completion, attempts: int, stats: StepStats) -> None:
        self.usage.add(completion, attempts)
        stats.input_tokens += completion.input_tokens
        stats.output_tokens += completion.output_tokens
        stats.usd += self.model.pricing.cost(completion.input_tokens, completion.output_tokens)

    def _backoff(self, attempt: int) -> float:
        ceiling = min(self.model.backoff_max_s, self.model.backoff_s * 2 ** (attempt - 1))
        return ceiling * (0.5 + 0.5 * self._rng.random())

    async def call(self, request: Request, stats: StepStats) -> tuple[Completion, bool]:
        """The answer and whether it came from the cache."""
        key = self.key(request)
        stored = self.cache.get(key) if self.read_cache else None
        if stored is not None:
            completion = Completion.from_record(stored["completion"])
            self.usage.cached_calls += 1
            stats.cached += 1
            self._account(completion, stored.get("attempts", 1), stats)
            return completion, True
        if self.offline:
            raise OfflineMiss(
                f"--offline: cache miss: {request.step} for {request.item} (sample {request.sample}) is not cached",
                "run without --offline to fetch it",
            )
        estimate = 0  # tokens to reserve under a TPM limit; counting costs CPU, so only when one is set
        if self.limiter.active and request.messages:
            estimate = count_message_tokens(request.messages) + (request.sampling.max_tokens or 0)
        reason = "no attempt made"
        for attempt in range(1, self.model.max_attempts + 1):
            reservation = await self.limiter.acquire(estimate)
            async with self.slots:
                stats.in_flight += 1
                self.usage.requests_this_run += 1
                try:
                    completion = await self.backend.complete(request)
                except TransientError as exc:
                    reason, retry_after = exc.reason, exc.retry_after
                    stats.retries += attempt < self.model.max_attempts
                    stats.last_error = f"{self.name}: {reason}"
                except PermanentError as exc:
                    self.usage.failed(attempt)
                    raise CallFailed(str(exc), attempt) from None
                else:
                    self.cache.put(
                        key,
                        request.step,
                        request.item,
                        self.name,
                        {"completion": completion.to_record(), "attempts": attempt},
                    )
                    RateLimiter.settle(reservation, completion.input_tokens + completion.output_tokens)
                    self._account(completion, attempt, stats)
                    return completion, False
                finally:
                    stats.in_flight -= 1
            RateLimiter.settle(reservation, 0)
            if attempt < self.model.max_attempts:
                await asyncio.sleep(retry_after if retry_after is not None else self._backoff(attempt))
        self.usage.failed(self.model.max_attempts)
        raise CallFailed(f"{reason} (gave up after {self.model.max_attempts} attempts)", self.model.max_attempts)
