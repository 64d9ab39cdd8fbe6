"""`--json`: what `plan`, `build`, `check` and `diff` report, as one JSON object on stdout, so a CI bot reads figures
instead of scraping the screen. Human-readable lines go to stderr in this mode (or nowhere)."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Any

from corrigenda.errors import CorrigendaError


def emit(data: dict[str, Any]) -> None:
    sys.stdout.write(json.dumps(data, indent=2, ensure_ascii=False, default=str) + "\n")


def error_json(command: str, error: CorrigendaError) -> dict[str, Any]:
    """A refused command's object: the same message and hint the screen shows, and the exit code."""
    return {
        "command": command,
        "ok": False,
        "exit_code": error.exit_code,
        "error": error.message,
        "hint": error.hint,
        "problems": error.lines(),
    }


def plan_json(plan: Any, result: Any, report: Any, warnings: list[Any], violations: list[str]) -> dict[str, Any]:
    """The compiled plan (as before) with the estimate, ingestion figures and warnings beside it."""
    return json.loads(plan.model_dump_json()) | {
        "command": "plan",
        "ok": not violations,
        "estimate": {
            "documents": result.documents,
            "chunks": result.chunks,
            "usd": round(result.usd, 6),
            "steps": [
                {
                    "step": row.step,
                    "model": row.model,
                    "engine": row.engine,
                    "requests": row.requests,
                    "input_tokens": row.input_tokens,
                    "output_tokens": row.output_tokens,
                    "usd": round(row.usd, 6),
                    "note": row.note,
                }
                for row in result.steps
            ],
        },
        "ingestion": report.lines(),
        "unreadable": violations,
        "warnings": [str(w) for w in warnings],
    }


def build_json(result: Any, report: Any, fingerprint: str) -> dict[str, Any]:
    return {
        "command": "build",
        "ok": result.released,
        "released": result.released,
        "refusal": result.refusal,
        "out_dir": str(result.out_dir),
        "reports_dir": str(result.reports_dir) if result.reports_dir else None,
        "plan_fingerprint": fingerprint,
        "counts": result.counts,
        "failures": result.failures,
        "failure_examples": result.failure_examples,
        "gate_problems": [{"record": p.index, "item": p.item, "rule": p.rule} for p in result.gate_problems],
        "usage": [
            usage.as_file()
            | {
                "model_key": usage.name,
                "usd": round(usage.usd, 6),
                "requests_this_run": usage.requests_this_run,
                "cached_calls": usage.cached_calls,
            }
            for usage in result.usage
        ],
        "requests": result.requests,
        "wall_s": round(result.wall_s, 3),
        "ingestion": report.lines(),
        "files": [str(Path(p)) for p in result.files],
    }


def check_json(result: Any, ok: bool) -> dict[str, Any]:
    tokens = result.tokens
    return {
        "command": "check",
        "ok": ok,
        "path": str(result.path),
        "records": result.records,
        "problems": result.problems,
        "tokens": None
        if tokens is None
        else {
            "trained": tokens.trained_tokens,
            "masked": tokens.masked_tokens,
            "boundary_mismatches": tokens.boundary_mismatches,
            "note": tokens.note,
        },
    }
