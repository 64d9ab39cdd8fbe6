"""A spec diff as Markdown for a pull-request comment, or as one JSON object for a bot."""

from __future__ import annotations

import json
from typing import Any

from corrigenda.review.calls import CallCount
from corrigenda.review.spec_diff import SpecDiff


def _value(value: Any) -> str:
    text = json.dumps(value, ensure_ascii=False)
    text = text if len(text) <= 60 else text[:57] + "..."
    return "`" + text.replace("|", "\\|").replace("`", "'") + "`"


def spec_diff_json(diff: SpecDiff, calls: CallCount) -> dict[str, Any]:
    return {
        "command": "diff",
        "ok": True,
        "kind": "spec",
        "fingerprints": {"base": diff.base_fingerprint, "head": diff.head_fingerprint},
        "fingerprint_changed": diff.base_fingerprint != diff.head_fingerprint,
        "settings": [change.as_json() for change in diff.settings],
        "prompts": diff.prompts,
        "inputs": diff.inputs,
        "breaking": [change.path for change in diff.breaking],
        "everything_rerequested": diff.rechunks,
        "chunks": calls.chunks,
        "calls": [step.as_json() for step in calls.steps],
        "new_calls": calls.new_calls,
        "usd": round(calls.usd, 6),
        "changed_calls": calls.changed,
        "changed_usd": round(calls.changed_usd, 6),
    }


def spec_diff_markdown(diff: SpecDiff, calls: CallCount, base: str, head: str) -> str:
    out = [f"## corrigenda diff: `{base}` → `{head}`", ""]
    same = diff.base_fingerprint == diff.head_fingerprint
    out.append(
        f"Plan fingerprint: `{diff.base_fingerprint[:16]}` → `{diff.head_fingerprint[:16]}`"
        + (" (unchanged: the dataset would be the same)" if same else "")
    )
    out.append("")
    if diff.breaking:
        names = ", ".join(f"`{change.path}`" for change in diff.breaking)
        out += [f"**⚠ Breaking for consumers of the released data** (its text or files change shape): {names}", ""]
    if diff.rechunks:
        out += ["**Chunking changed: every chunk gets new text, so everything is re-requested.**", ""]
    if diff.settings:
        out += ["### Settings", "", "| setting | base | head | base at | head at |", "|---|---|---|---|---|"]
        for change in diff.settings:
            flag = " ⚠ breaking" if change.breaking else " (re-chunks)" if change.rechunks else ""
            out.append(
                f"| `{change.path}`{flag} | {_value(change.base)} | {_value(change.head)} "
                f"| {change.base_at} | {change.head_at} |"
            )
        out.append("")
    for step, text in diff.prompts.items():
        out += [f"### Prompt of `{step}`", "", "```diff", text.rstrip("\n"), "```", ""]
    changed_inputs = {kind: paths for kind, paths in diff.inputs.items() if paths}
    if changed_inputs:
        out += ["### Input files", ""]
        for kind, paths in changed_inputs.items():
            shown = ", ".join(f"`{p}`" for p in paths[:20]) + (
                f" and {len(paths) - 20} more" if len(paths) > 20 else ""
            )
            out.append(f"- {kind}: {shown}")
        out.append("")
    out += [
        f"### Calls for the head spec ({calls.chunks} chunks)",
        "",
        "| step | model | from cache | to request | USD (new calls) | of them changed by this diff | USD (changed) |",
        "|---|---|---:|---:|---:|---:|---:|",
    ]
    for step in calls.steps:
        if step.engine != "openai":
            out.append(f"| {step.step} | {step.model} | - | built-in engine: no requests | 0 | 0 | 0 |")
            continue
        ask = f"{step.requested:,}"
        if step.estimated:
            ask = f"~{step.new_calls:,} ({step.requested:,} exact + ~{step.estimated:,} estimated)"
        out.append(
            f"| {step.step} | {step.model} | {step.cached:,} | {ask} | {step.usd:.4f} "
            f"| {step.changed:,} | {step.changed_usd:.4f} |"
        )
    approx = "~" if any(step.estimated for step in calls.steps) else ""
    out += [
        "",
        f"**Estimated cost of this change: {approx}${calls.changed_usd:.4f}** for {approx}{calls.changed:,} calls "
        "the base spec would not make (cached calls cost nothing; retries not included).",
        f"Building the head spec with this cache: {approx}${calls.usd:.4f} for {approx}{calls.new_calls:,} new calls"
        + (" (the calls the base would make too are not cached here)." if calls.new_calls > calls.changed else "."),
    ]
    if approx:
        out.append(
            "`~`: these calls follow an answer that is not cached yet; counted as if every chunk passes every step."
        )
    return "\n".join(out) + "\n"
