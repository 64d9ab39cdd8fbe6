"""The dataset card (`README.md` in the release): what is in the dataset, how it was made, and what it cost.

It holds no timestamps or timings, so the same plan and cache give the same card.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from corrigenda.atomic import write_text
from corrigenda.compiler.plan import Plan
from corrigenda.emit.hub import hub_parts
from corrigenda.emit.reasons import ReasonTable
from corrigenda.emit.records import Record
from corrigenda.emit.writers import CHAT_FILE, CONFIG_FILE, MAIN_FILE
from corrigenda.runtime.usage import ModelUsage


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join(" --- " for _ in header) + "|"]
    lines += [
        "| " + " | ".join(str(cell).replace("|", "\\|").replace("\n", " ") for cell in row) + " |" for row in rows
    ]
    return lines


def _quote(text: str) -> str:
    return "\n".join("> " + line if line else ">" for line in text.splitlines())


def render_card(
    plan: Plan,
    counts: dict[str, Any],
    tables: list[ReasonTable],
    usage: list[ModelUsage],
    records: list[Record],
    chunks_per_source: dict[str, int],
    samples: int = 3,
    release_dir: Path | None = None,
) -> str:
    spec = plan.spec
    hub = hub_parts(plan, len(records), release_dir or Path(spec.output.dir))
    released_per_source = Counter(record.source for record in records)
    out = [
        hub["front_matter"],
        f"# {spec.name}: self-correction conversations",
        "",
        f"Built by corrigenda from {len(plan.inputs)} input files. Each record is a four-turn conversation:",
        "a question, a plausible but wrong answer (masked from training), a push-back, and the corrected answer.",
        "",
        f"- Main file: `{MAIN_FILE}` (Axolotl `input_output`); chat variant: `{CHAT_FILE}`; settings: `{CONFIG_FILE}`",
        f"- Plan fingerprint: `{plan.fingerprint}`",
        "",
        *hub["usage"],
        "## Counts",
        "",
        *_table(["stage", "count"], [[name, value] for name, value in counts.items()]),
        "",
    ]
    out += [
        "## Sources",
        "",
        *_table(
            ["source", "chunks", "released"],
            [[source, chunks, released_per_source[source]] for source, chunks in sorted(chunks_per_source.items())],
        ),
        "",
    ]
    for table in tables:
        if table.rows:
            out += [
                f"## {table.title}",
                "",
                *([table.note, ""] if table.note else []),
                *_table(table.header, table.rows),
            ]
            out.append("")
    out += ["## Models", ""]
    rows = []
    for entry in usage:
        model = spec.models[entry.name]
        rows.append(
            [
                entry.name,
                model.engine,
                entry.model,
                plan.endpoints.get(entry.name) or "-",
                f"{entry.calls}" + (f" ({entry.batch_calls} by batch API)" if entry.batch_calls else ""),
                f"{entry.input_tokens:,}",
                f"{entry.output_tokens:,}",
                f"{entry.reasoning_tokens:,}" + (" (estimated)" if entry.reasoning_estimated_calls else ""),
                f"{entry.usd:.4f}" + (" (estimated)" if entry.estimated_calls else ""),
            ]
        )
    out += _table(
        ["model", "engine", "name", "endpoint", "calls", "input tokens", "output tokens", "reasoning tokens", "USD"],
        rows,
    )
    out += ["", f"Total cost: ${sum(entry.usd for entry in usage):.4f}", ""]
    out += hub["provenance"]
    if records:
        out += ["## Samples", ""]
        for record in records[:samples]:
            c = record.conversation
            out += [
                f"### {record.item}",
                "",
                "**User:**",
                _quote(c.initial_question),
                "",
                "**AI (flawed, masked):**",
                _quote(c.flawed_answer),
                "",
                "**User:**",
                _quote(c.followup_confirmation),
                "",
                "**AI (corrected, trained):**",
                _quote(c.correct_answer),
                "",
            ]
    return "\n".join(out).rstrip() + "\n"


def write_card(out_dir: Path, text: str) -> Path:
    path = out_dir / "README.md"
    write_text(path, text)
    return path
