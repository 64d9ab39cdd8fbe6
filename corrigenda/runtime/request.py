"""What one call asks for and what it returns, independent of the engine that answers it."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from corrigenda.compiler.spec import Sampling


@dataclass(frozen=True)
class Request:
    step: str
    kind: str  # filter | generate | verify
    item: str  # chunk id
    sample: int  # 0 for the first try; a fresh sample after a parse failure gets the next index
    messages: list[dict[str, str]]
    sampling: Sampling
    response_format: dict[str, Any] | None = None
    output_budget: int | None = None  # the step's expected_output_tokens (or its kind's default): for the spending cap
    # What a non-LLM engine reads instead of messages (chunk text, earlier outputs); not sent over HTTP.
    context: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Completion:
    """One answer. `content` is the raw text; thinking is separated later (see reasoning.py)."""

    content: str
    reasoning: str | None
    finish_reason: str
    input_tokens: int
    output_tokens: int
    reasoning_tokens: int = 0
    usage_estimated: bool = False
    reasoning_estimated: bool = False  # the server gave no reasoning count: tiktoken's count of the thinking

    def to_record(self) -> dict[str, Any]:
        return {
            "content": self.content,
            "reasoning": self.reasoning,
            "finish_reason": self.finish_reason,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "reasoning_tokens": self.reasoning_tokens,
            "usage_estimated": self.usage_estimated,
            "reasoning_estimated": self.reasoning_estimated,
        }

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> Completion:
        """Records cached before a field existed get its default."""
        return cls(**{key: record[key] for key in cls.__dataclass_fields__ if key in record})


class TransientError(Exception):
    """Worth another attempt (429, 5xx, timeout, dropped connection). `retry_after` is the server's hint."""

    def __init__(self, reason: str, retry_after: float | None = None, status: int | None = None):
        super().__init__(reason)
        self.reason, self.retry_after, self.status = reason, retry_after, status  # status: HTTP, when one came


class PermanentError(Exception):
    """Another attempt would fail the same way (bad request, bad key, unknown model)."""


class EndpointRefused(PermanentError):
    """Every call to this endpoint would fail the same way (a refused key, an unknown model or route, an HTML page in
    place of the API): the build stops at the first, instead of failing each chunk in turn. `fix` says what to set."""

    def __init__(self, reason: str, fix: str):
        super().__init__(reason)
        self.fix = fix


class Unreachable(TransientError):
    """No connection could be made (refused, DNS, TLS, connect timeout): retried without using up the call's
    attempts, until the model's `give_up_after_s` passes with no success and the build stops."""
