"""What each model cost: the `<model>_model_tokens.json` files, with Augmentoolkit's keys and more.

Tokens come from the API's `usage` when it reports one; otherwise they are tiktoken estimates and the file says so.
Calls answered from the cache count too, so the files describe what the dataset cost and a rerun writes the same.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corrigenda.atomic import write_json
from corrigenda.compiler.spec import Pricing
from corrigenda.runtime.request import Completion


@dataclass
class ModelUsage:
    name: str  # the spec's key for the model (small, large, ...)
    model: str
    pricing: Pricing
    input_tokens: int = 0
    output_tokens: int = 0
    reasoning_tokens: int = 0
    calls: int = 0
    requests: int = 0  # HTTP attempts, retries included
    retries: int = 0
    failures: int = 0
    estimated_calls: int = 0  # calls whose usage the server did not report
    reasoning_estimated_calls: int = 0  # calls whose thinking the server did not count separately
    cached_calls: int = 0  # answered from the cache in this run (not written: it differs between runs)
    batch_calls: int = 0  # answered by a batch API (their tokens are also in the totals)
    batch_input_tokens: int = 0
    batch_output_tokens: int = 0
    requests_this_run: int = 0

    @property
    def input_cost(self) -> float:
        online = self.pricing.cost(self.input_tokens - self.batch_input_tokens, 0)
        return online + self.pricing.cost(self.batch_input_tokens, 0, batch=True)

    @property
    def output_cost(self) -> float:
        online = self.pricing.cost(0, self.output_tokens - self.batch_output_tokens)
        return online + self.pricing.cost(0, self.batch_output_tokens, batch=True)

    @property
    def usd(self) -> float:
        return self.input_cost + self.output_cost

    def add(self, completion: Completion, attempts: int, batch: bool = False) -> None:
        """One finished call (from the server, a batch result file or the cache) and the HTTP attempts it took."""
        if batch:  # priced at the batch discount
            self.batch_calls += 1
            self.batch_input_tokens += completion.input_tokens
            self.batch_output_tokens += completion.output_tokens
        self.calls += 1
        self.requests += attempts
        self.retries += attempts - 1
        self.input_tokens += completion.input_tokens
        self.output_tokens += completion.output_tokens
        self.reasoning_tokens += completion.reasoning_tokens
        self.estimated_calls += completion.usage_estimated
        self.reasoning_estimated_calls += completion.reasoning_estimated

    def failed(self, attempts: int) -> None:
        """One call that never produced an answer."""
        self.failures += 1
        self.requests += attempts
        self.retries += attempts - 1

    def as_file(self) -> dict[str, Any]:
        return {
            "name": self.model,
            "input_tokens": self.input_tokens,
            "input_cost": round(self.input_cost, 6),
            "output_tokens": self.output_tokens,
            "output_cost": round(self.output_cost, 6),
            "reasoning_tokens": self.reasoning_tokens,
            "reasoning_tokens_estimated": self.reasoning_estimated_calls > 0,
            "calls": self.calls,
            "requests": self.requests,
            "retries": self.retries,
            "failures": self.failures,
            "usage_estimated": self.estimated_calls > 0,
            "estimated_calls": self.estimated_calls,
            "batch_calls": self.batch_calls,
            "batch_input_tokens": self.batch_input_tokens,
            "batch_output_tokens": self.batch_output_tokens,
        }

    def write(self, out_dir: Path) -> Path:
        path = out_dir / f"{self.name}_model_tokens.json"
        write_json(path, self.as_file())
        return path
