"""The heuristic engine behind the same interface as an HTTP model, so it shares the cache and the parsers."""

from __future__ import annotations

from typing import Any

from corrigenda.heuristic.rules import check_conversation, judge, write_conversation
from corrigenda.runtime.request import Completion, PermanentError, Request

# Bump when a rule changes what the engine writes, so cached answers of the old rules are not reused.
HEURISTIC_VERSION = 15


class HeuristicBackend:
    def __init__(self, model: str):
        self.model = model

    @property
    def identity(self) -> dict[str, Any]:
        return {"engine": "heuristic", "version": HEURISTIC_VERSION, "model": self.model}

    async def close(self) -> None:
        return None

    async def complete(self, request: Request) -> Completion:
        context = request.context
        if request.kind == "filter":
            content = judge(context["text"], context["facts"])
        elif request.kind == "generate":
            content = write_conversation(context["text"], context["title"], context["facts"], request.sample)
        elif request.kind == "verify":
            content = check_conversation(context["text"], context["turns"])
        else:
            raise PermanentError(f"the heuristic engine has no `{request.kind}` step")
        return Completion(content=content, reasoning=None, finish_reason="stop", input_tokens=0, output_tokens=0)
