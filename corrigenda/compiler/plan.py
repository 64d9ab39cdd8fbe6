"""The plan: what the runtime executes, frozen, JSON-serialisable, and fingerprinted.

The fingerprint covers exactly what decides the dataset's content (input bytes, chunking, models and their sampling,
prompt texts, the conversation template, output formats) and nothing that only decides speed or cost reporting
(concurrency, rate limits, timeouts, pricing, where the key lives, where the output goes).
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from pydantic import BaseModel, ConfigDict

from corrigenda.compiler.spec import ModelSpec, Spec, StepSpec

# Bump when a change to corrigenda itself changes what the same plan would produce.
DATASET_FORMAT_VERSION = 1


class InputFile(BaseModel):
    model_config = ConfigDict(frozen=True)
    path: str
    sha256: str
    bytes: int


class PromptText(BaseModel):
    model_config = ConfigDict(frozen=True)
    path: str
    text: str


class Plan(BaseModel):
    model_config = ConfigDict(frozen=True)

    spec_file: str
    base_dir: str
    spec: Spec
    endpoints: dict[str, str | None]  # model name -> resolved base_url (None for heuristic)
    prompts: dict[str, PromptText]  # step name -> prompt
    inputs: tuple[InputFile, ...]
    fingerprint: str = ""

    def model(self, step: StepSpec) -> ModelSpec:
        return self.spec.models[step.model]

    @property
    def calls_endpoints(self) -> bool:
        """Whether any step runs on an HTTP model (the built-in engine needs no endpoint, no probe, no client)."""
        return any(self.model(step).engine == "openai" for step in self.spec.steps)

    def fingerprint_material(self) -> dict[str, Any]:
        spec = self.spec
        used = {step.model for step in spec.steps}
        models = {
            name: {
                "engine": model.engine,
                "endpoint": self.endpoints.get(name),
                "model": model.model,
                "mode": model.mode,
                "completion_template": model.completion_template,
            }
            for name, model in spec.models.items()
            if name in used
        }
        steps = [
            step.model_dump(mode="json", exclude={"expected_output_tokens", "sampling"})
            | {"sampling": spec.models[step.model].sampling.merged(step.sampling).model_dump(mode="json")}
            for step in spec.steps
        ]
        return {
            "format": DATASET_FORMAT_VERSION,
            "inputs": spec.inputs.model_dump(mode="json", exclude={"on_unreadable", "paths"}),
            "files": [(f.path, f.sha256) for f in self.inputs],
            "models": models,
            "steps": steps,
            "prompts": {name: prompt.text for name, prompt in self.prompts.items()},
            "template": spec.template.model_dump(mode="json"),
            "output": spec.output.model_dump(mode="json", include={"formats", "meta_datagen"}),
        }

    def with_fingerprint(self) -> Plan:
        canonical = json.dumps(self.fingerprint_material(), sort_keys=True, ensure_ascii=False, separators=(",", ":"))
        return self.model_copy(update={"fingerprint": hashlib.sha256(canonical.encode("utf-8")).hexdigest()})
