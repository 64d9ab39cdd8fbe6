"""What a plan will cost before anything is spent: tokens counted on the real rendered prompts."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from corrigenda.compiler.compile import Compiled
from corrigenda.compiler.spec import STEP_OUTPUTS
from corrigenda.ingest.corpus import Chunk
from corrigenda.runtime.tokens import count_message_tokens


@dataclass
class StepEstimate:
    step: str
    model: str
    engine: str
    requests: int = 0
    input_tokens: int = 0
    output_tokens: int = 0
    usd: float = 0.0
    batch_usd: float = 0.0  # the same calls through a batch API, at the model's batch_discount
    note: str = ""


@dataclass
class Estimate:
    documents: int = 0
    chunks: int = 0
    steps: list[StepEstimate] = field(default_factory=list)

    @property
    def usd(self) -> float:
        return sum(step.usd for step in self.steps)

    @property
    def batch_usd(self) -> float:
        return sum(step.batch_usd for step in self.steps)


def estimate(compiled: Compiled, chunks: Iterable[Chunk]) -> Estimate:
    """Every LLM step is priced once per chunk, as if every chunk reached it (the filter drops some; retries after
    errors or unusable answers, and regenerations of rejected conversations, each add one more call)."""
    plan = compiled.plan
    encoding = plan.spec.inputs.encoding
    result = Estimate()
    steps = [StepEstimate(s.name, s.model, plan.model(s).engine) for s in plan.spec.steps]
    doc_ids: set[str] = set()
    for chunk in chunks:
        result.chunks += 1
        doc_ids.add(chunk.doc_id)
        variables = chunk.variables()
        for step, row in zip(plan.spec.steps, steps, strict=True):
            if row.engine != "openai":
                continue
            prompt = compiled.prompt_files[step.name]
            messages = prompt.render(variables | _placeholder_outputs(plan, step.name), chunk.chunk_id)
            row.requests += 1
            row.input_tokens += count_message_tokens(messages, encoding)
            row.output_tokens += step.output_budget
    for step, row in zip(plan.spec.steps, steps, strict=True):
        pricing = plan.model(step).pricing
        row.usd = pricing.cost(row.input_tokens, row.output_tokens)
        row.batch_usd = pricing.cost(row.input_tokens, row.output_tokens, batch=True)
        if row.engine != "openai":
            row.note = "built-in engine: no requests, no cost"
        elif step.kind != "filter":
            row.note = "every chunk assumed to pass the filter; one call each (retries not included)"
        else:
            row.note = "one call per chunk (retries not included)"
    result.documents = len(doc_ids)
    result.steps = steps
    return result


def _placeholder_outputs(plan, step_name: str) -> dict[str, object]:
    """Earlier steps' outputs do not exist yet; stand-ins let later prompts render for counting."""
    values: dict[str, object] = {}
    for step in plan.spec.steps:
        if step.name == step_name:
            break
        for name in STEP_OUTPUTS[step.kind]:
            values[name] = "x " * (step.output_budget // 8) if step.kind == "generate" else True
    return values
