"""The step kinds: render the prompt, call the model, split off the thinking, parse, validate, and retry with a fresh
sample when the answer cannot be used. Every attempt lands in the item's debug record."""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict
from typing import Any

from corrigenda.compiler.spec import Sampling, StepSpec
from corrigenda.emit.reasons import MODEL_UNSUITABLE, rule_key
from corrigenda.runtime.caller import Caller, CallFailed, StepStats
from corrigenda.runtime.debug_log import attempt_record, rendered_messages
from corrigenda.runtime.item import FAILED, PENDING, REJECTED, UNSUITABLE, Item
from corrigenda.runtime.parsing import (
    ParseFailure,
    conversation_json_schema,
    judgement_json_schema,
    parse_json_conversation,
    parse_judgement,
    parse_tagged_conversation,
    parse_verdict,
)
from corrigenda.runtime.quality import conversation_problems
from corrigenda.runtime.reasoning import split_reasoning
from corrigenda.runtime.request import Request
from corrigenda.templating import PromptFile


def _reason(answer: str) -> str:
    """The judge's last line of reasoning before its verdict line, for reports."""
    lines = [line.strip() for line in answer.strip().splitlines() if line.strip()]
    reasoning = [line for line in lines if not re.match(r"^\W*(final\s+)?verdict\b", line, re.IGNORECASE)]
    return (reasoning[-1] if reasoning else lines[-1] if lines else "no reason given")[:200]


class StepRunner:
    def __init__(self, step: StepSpec, prompt: PromptFile | None, caller: Caller, sampling: Sampling):
        self.step, self.prompt, self.caller, self.sampling = step, prompt, caller, sampling
        self.stats = StepStats()

    def response_format(self) -> dict[str, Any] | None:
        if not self.step.structured_output or self.step.kind == "filter":
            return None
        name, schema = (
            ("correction_conversation", conversation_json_schema())
            if self.step.kind == "generate"
            else ("correction_judgement", judgement_json_schema())
        )
        return {"type": "json_schema", "json_schema": {"name": name, "strict": True, "schema": schema}}

    def request(self, item: Item, sample: int) -> Request:
        messages = self.prompt.render(item.values, item.chunk.chunk_id) if self.prompt is not None else []
        context = item.context
        if context and self.step.kind == "verify" and item.conversation is not None:
            turns = asdict(item.conversation)
            digest = hashlib.sha256(json.dumps(turns, sort_keys=True).encode("utf-8")).hexdigest()
            context = {**context, "turns": turns, "digest": f"{context['digest']}:{digest}"}
        return Request(
            step=self.step.name,
            kind=self.step.kind,
            item=item.chunk.chunk_id,
            sample=sample,
            messages=messages,
            sampling=self.sampling,
            response_format=self.response_format(),
            output_budget=self.step.output_budget,
            context=context,
        )

    def parse(self, answer: str) -> Any:
        if self.step.kind == "filter":
            return parse_verdict(answer)
        if self.step.kind == "verify":
            return parse_judgement(answer)
        if self.step.structured_output:
            return parse_json_conversation(answer)
        return parse_tagged_conversation(answer)

    def reject(self, item: Item, rules: list[str], round_: int) -> None:
        conversation = asdict(item.conversation) if item.conversation else None
        rejection = {"step": self.step.name, "round": round_, "reasons": rules, "conversation": conversation}
        item.rejections.append(rejection)
        item.finish(REJECTED, f"{self.step.name}: {rules[0].split(':')[0]}", "; ".join(rules))

    def apply(self, item: Item, parsed: Any, answer: str, round_: int) -> None:
        if self.step.kind == "filter":
            item.values["suitable"] = parsed
            item.values["filter_reason"] = answer
            if not parsed:
                # An engine without a prompt answers by rule, so its reasons group by rule; a model's are free text.
                reason = _reason(answer)
                item.finish(UNSUITABLE, rule_key(reason) if self.prompt is None else MODEL_UNSUITABLE, reason)
            return
        if self.step.kind == "verify":
            item.values["verified"] = parsed.accepted
            item.values["verify_reasons"] = parsed.reasons
            if not parsed.accepted:
                self.reject(item, parsed.reasons, round_)
            return
        item.conversation = parsed
        item.values.update(asdict(parsed))

    async def run(self, item: Item, round_: int = 0) -> None:
        """One pass of the step; `round_` > 0 is a regeneration after a rejection and draws fresh samples."""
        attempts: list[dict[str, Any]] = item.debug.setdefault(self.step.name, [])
        item.reached.add(self.step.name)
        self.stats.total += 1
        if self.step.kind == "verify" and item.conversation is not None:
            problems = conversation_problems(item.conversation)
            if problems:  # cheap deterministic checks first: no judge is paid for a conversation they reject
                checks = attempt_record(round_, None, [])
                checks.update(checks=problems, error="checks: " + "; ".join(problems))
                attempts.append(checks)
                self.reject(item, problems, round_)
                self._count(item, round_)
                return
        await self._sample(item, round_, attempts)
        self._count(item, round_)  # not when the pass was cut short (the build stopping, Ctrl-C): it did not finish

    async def _sample(self, item: Item, round_: int, attempts: list[dict[str, Any]]) -> None:
        """Samples until one parses (or the step's retries run out); each attempt is recorded for the debug output."""
        last_problem = "no answer"
        first = round_ * (self.step.max_retries + 1)
        for sample in range(first, first + self.step.max_retries + 1):
            request = self.request(item, sample)
            record = attempt_record(round_, sample, rendered_messages(request))
            attempts.append(record)
            try:
                completion, cached, tries, key, batch = await self.caller.call_counted(request, self.stats)
            except CallFailed as exc:
                item.call_failed = True
                record["error"] = exc.reason
                item.finish(FAILED, f"{self.step.name}: request failed", f"{self.step.name}: {exc.reason}")
                return
            item.calls.append((self.step.name, completion.to_record(), tries, key, batch))
            reasoning, answer = split_reasoning(completion.content, completion.reasoning)
            record.update(
                cached=cached,
                raw=completion.content,
                reasoning=reasoning or None,
                answer=answer,
                finish_reason=completion.finish_reason,
            )
            if completion.finish_reason == "length":
                last_problem = "answer cut off at max_tokens (finish_reason=length)"
                record["error"] = last_problem
                if not self.step.retry_on_length:
                    item.finish(FAILED, f"{self.step.name}: cut off (length)", f"{self.step.name}: {last_problem}")
                    return
                continue
            parsed = self.parse(answer)
            if isinstance(parsed, ParseFailure):
                last_problem = parsed.reason
                record["error"] = f"parse: {parsed.reason}"
                continue
            record["parsed"] = parsed if isinstance(parsed, bool) else asdict(parsed)
            self.apply(item, parsed, answer, round_)
            return
        item.finish(
            FAILED,
            f"{self.step.name}: unusable answer",
            f"{self.step.name}: {last_problem} (after {self.step.max_retries + 1} samples)",
        )

    def _count(self, item: Item, round_: int) -> None:
        """After a pass, the counters the progress display plans by (see runtime/progress.py)."""
        item.passes.append((self.step.name, round_, item.outcome == PENDING, item.outcome == FAILED))
        self.stats.done += 1
        if round_ == 0:
            self.stats.items_done += 1
            self.stats.items_passed += item.outcome == PENDING
        if item.outcome == FAILED:
            self.stats.failed += 1
            self.stats.last_failure = item.reason
