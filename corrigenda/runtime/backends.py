"""Which backend answers a model's calls: the built-in heuristic engine or an OpenAI-compatible endpoint."""

from __future__ import annotations

from typing import Any

from corrigenda.compiler.plan import Plan
from corrigenda.heuristic.backend import HeuristicBackend
from corrigenda.startup import import_held


def backend_for(plan: Plan, name: str) -> Any:
    """The backend for model `name` of `plan`; a build and `review`'s call count must build the same one, so that
    their cache keys agree."""
    model = plan.spec.models[name]
    if model.engine == "heuristic":
        return HeuristicBackend(model.model)
    openai_backend = import_held("corrigenda.runtime.openai_backend")  # not for a build on the built-in engine
    return openai_backend.OpenAIBackend(name, model, plan.endpoints[name] or "")
