"""Which calls a build of a plan would make, counted before anything is spent.

The real pipeline runs with a caller that never reaches the network: a cached answer is returned as it is (so the
item goes on exactly as a build would take it), and a miss is counted and answered with a stand-in that passes
every step. Once an item has met a miss, its later calls depend on an answer nobody has yet, so they are counted as
estimates (every chunk assumed to pass; no retries); before that, every count is exact.

A review also counts the calls the change itself adds: the base spec is run the same way over the same cache to
collect every call key it would make, and a head call that is not cached counts as changed when the base would not
make it (or an earlier call of its item was already changed). Without a cache (a CI runner) that is the cost of the
change, where "to request" is the cost of a whole build.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corrigenda.compiler.compile import Compiled
from corrigenda.compiler.plan import Plan
from corrigenda.ingest.corpus import IngestionReport, iter_chunks
from corrigenda.runtime.backends import backend_for
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.caller import Answer, Caller, StepStats
from corrigenda.runtime.pipeline import Pipeline
from corrigenda.runtime.request import Completion, Request
from corrigenda.runtime.steps import StepRunner
from corrigenda.runtime.tokens import count_message_tokens

STAND_INS = {
    "filter": "A stand-in: this call is not cached yet.\nVERDICT: SUITABLE",
    "generate": (
        "<initial_question>Which stand-in question is this?</initial_question>\n"
        "<flawed_answer>It is the first stand-in answer.</flawed_answer>\n"
        "<followup_confirmation>Are you sure?</followup_confirmation>\n"
        "<correct_answer>No, it is another stand-in answer entirely.</correct_answer>"
    ),
    "verify": (
        "flawed_is_wrong: yes - stand-in\npushback_neutral: yes - stand-in\ncorrection_supported: yes - stand-in"
    ),
}
STRUCTURED_CONVERSATION = {
    "initial_question": "Which stand-in question is this?",
    "flawed_answer": "It is the first stand-in answer.",
    "followup_confirmation": "Are you sure?",
    "correct_answer": "No, it is another stand-in answer entirely.",
}
STRUCTURED_JUDGEMENT = {
    name: {"ok": True, "reason": "stand-in"} for name in ("flawed_is_wrong", "pushback_neutral", "correction_supported")
}


@dataclass
class StepCalls:
    """One step's calls: answered by the cache, requested (exact), requested (estimated), and the new calls' cost."""

    step: str
    model: str
    engine: str
    cached: int = 0
    requested: int = 0
    estimated: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    changed: int = 0  # of the calls to request, those the base spec would not make
    changed_usd: float = 0.0

    @property
    def new_calls(self) -> int:
        return self.requested + self.estimated

    def as_json(self) -> dict[str, Any]:
        return {
            "step": self.step,
            "model": self.model,
            "engine": self.engine,
            "cached": self.cached,
            "requested": self.requested,
            "estimated": self.estimated,
            "new_calls": self.new_calls,
            "exact": self.estimated == 0,
            "input_tokens": self.input_tokens,
            "output_tokens": self.output_tokens,
            "usd": round(self.usd, 6),
            "changed": self.changed,
            "changed_usd": round(self.changed_usd, 6),
        }


@dataclass
class CallCount:
    chunks: int = 0
    steps: list[StepCalls] = field(default_factory=list)

    @property
    def usd(self) -> float:
        return sum(step.usd for step in self.steps)

    @property
    def new_calls(self) -> int:
        return sum(step.new_calls for step in self.steps)

    @property
    def changed(self) -> int:
        return sum(step.changed for step in self.steps)

    @property
    def changed_usd(self) -> float:
        return sum(step.changed_usd for step in self.steps)


class _EmptyCache:
    """No cache file yet: every call is a miss (and none is created by looking)."""

    def get(self, key: str) -> None:
        return None

    def close(self) -> None:
        pass


class _NoSpend(Caller):
    """A caller that answers from the cache or with a stand-in, and counts which it was."""

    def __init__(
        self,
        name: str,
        plan: Plan,
        backend: Any,
        cache: Any,
        tally: dict[str, StepCalls],
        tainted: set,
        keys: Keys,
    ):
        super().__init__(name, plan.spec.models[name], backend, cache)
        self.plan, self.tally, self.tainted, self.keys = plan, tally, tainted, keys
        self.asked: dict[str, Completion] = {}  # calls this count has already met as misses
        self.budgets = {step.name: step.output_budget for step in plan.spec.steps}

    async def call_counted(self, request: Request, stats: StepStats) -> Answer:
        """As `Caller.call_counted`, but a miss is counted and answered with a stand-in, never requested."""
        row = self.tally[request.step]
        if self.backend.identity["engine"] != "openai":  # the built-in engine: free, local, deterministic
            return Answer(await self.backend.complete(request), False, 1, "")
        key = self.key(request)
        self.keys.seen.add(key)
        changed = self.keys.base is not None and (key not in self.keys.base or request.item in self.keys.diverged)
        if changed:
            self.keys.diverged.add(request.item)  # its later calls follow an answer the base would not get
        stored = self.cache.get(key)
        if stored is None and key in self.asked:  # the same call for a chunk with the same text: cached by then
            row.cached += 1
            return Answer(self.asked[key], True, 1, key)
        if stored is not None:
            row.cached += 1
            return Answer(Completion.from_record(stored["completion"]), True, 1, key)
        if request.item in self.tainted:
            row.estimated += 1
        else:
            row.requested += 1
            self.tainted.add(request.item)
        input_tokens = count_message_tokens(request.messages, self.plan.spec.inputs.encoding)
        output_tokens = self.budgets[request.step]
        row.input_tokens += input_tokens
        row.output_tokens += output_tokens
        row.usd += self.model.pricing.cost(input_tokens, output_tokens)
        if changed:
            row.changed += 1
            row.changed_usd += self.model.pricing.cost(input_tokens, output_tokens)
        self.asked[key] = Completion(_stand_in(request), None, "stop", input_tokens, output_tokens)
        return Answer(self.asked[key], False, 1, key)


def _stand_in(request: Request) -> str:
    if request.response_format is not None:
        return json.dumps(STRUCTURED_CONVERSATION if request.kind == "generate" else STRUCTURED_JUDGEMENT)
    return STAND_INS[request.kind]


@dataclass
class Keys:
    """The call keys a count met, and, when counting a head spec, those its base would make."""

    base: set[str] | None = None
    seen: set[str] = field(default_factory=set)
    diverged: set[str] = field(default_factory=set)  # items with a call the base would not make


def count_change(base: Compiled, head: Compiled) -> CallCount:
    """`count_calls` of the head, with the calls the base would not make counted as the change's own."""
    cache_path = Path(head.plan.base_dir) / head.plan.spec.output.cache
    base_keys = Keys()
    count_calls(base, cache_path, base_keys)
    return count_calls(head, cache_path, Keys(base=base_keys.seen))


def count_calls(compiled: Compiled, cache_path: Path | None = None, keys: Keys | None = None) -> CallCount:
    """Per step: the calls the cache answers and the calls a build of this plan would request, and their cost."""
    from corrigenda.build import corpus_items  # the build's own item stream, so keys match the build's exactly

    plan = compiled.plan
    base = Path(plan.base_dir)
    cache_path = cache_path or base / plan.spec.output.cache
    cache: Any = CallCache(cache_path, writable=False) if cache_path.is_file() else _EmptyCache()  # only read
    tally = {s.name: StepCalls(s.name, s.model, plan.model(s).engine) for s in plan.spec.steps}
    tainted: set[str] = set()
    keys = keys or Keys()
    used = list(dict.fromkeys(step.model for step in plan.spec.steps))
    callers = {name: _NoSpend(name, plan, backend_for(plan, name), cache, tally, tainted, keys) for name in used}
    runners = [
        StepRunner(
            step,
            compiled.prompt_files.get(step.name),
            callers[step.model],
            plan.spec.models[step.model].sampling.merged(step.sampling),
        )
        for step in plan.spec.steps
    ]
    needs_facts = any(plan.spec.models[name].engine == "heuristic" for name in used)
    chunks = iter_chunks(plan.spec.inputs, base, IngestionReport())

    async def run() -> int:
        try:
            items = await Pipeline(runners, 16).run(corpus_items(chunks, needs_facts))
            return len(items)
        finally:
            for caller in callers.values():
                await caller.backend.close()

    try:
        total = asyncio.run(run())
    finally:
        cache.close()
    return CallCount(total, list(tally.values()))
