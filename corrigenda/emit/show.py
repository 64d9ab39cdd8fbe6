"""`corrigenda show OUT`: conversations in the terminal, the masked (never trained) span marked so it cannot be
missed even without colour."""

from __future__ import annotations

import json
from collections import Counter
from pathlib import Path

from corrigenda.emit.view import FAILED, REJECTED, RELEASED, UNSUITABLE, ViewItem, load_view
from corrigenda.errors import InputError

MASK_OPEN, MASK_CLOSE = "[MASKED>>", "<<MASKED]"


def shown(
    release: Path, n: int = 3, rejected: bool = False, failed: bool = False, item: str | None = None
) -> tuple[list[ViewItem], str]:
    """The items to show (one by id, or the first `n` released, or rejected / failed, ones) and the text to print.
    When none is chosen, the text says what the folder holds instead and how to see it: a refused build's
    OUT.failed/ releases nothing, so a bare "nothing to show" would leave the user guessing."""
    items = _load(release)
    if item is not None:
        chosen = [i for i in items if i.id == item]
        if not chosen:
            raise InputError(
                f"no item {item!r} in {release}", "ids look like path#chunk; see failed.jsonl or the viewer"
            )
    else:
        wanted = ({REJECTED, UNSUITABLE} if rejected else set()) | ({FAILED} if failed else set()) or {RELEASED}
        chosen = [i for i in items if i.status in wanted][:n]
    if chosen:
        return chosen, "\n".join(render(i) for i in chosen)
    return chosen, _nothing_chosen(release, items, rejected, failed)


def _load(release: Path) -> list[ViewItem]:
    if not (release / "manifest.json").is_file() and not (release / "gate_failures.json").is_file():
        raise InputError(f"{release} is not a corrigenda release directory", "pass the folder a build wrote (--out)")
    try:
        return load_view(release)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:  # JSON, UTF-8 or shape
        raise InputError(
            f"{release} cannot be shown: a file in it is damaged ({type(exc).__name__}: {exc})",
            "it was changed or damaged after the build: rebuild the release (corrigenda check names a damaged file)",
        ) from None


def _nothing_chosen(release: Path, items: list[ViewItem], rejected: bool, failed: bool) -> str:
    asked = " or ".join([*(["rejected or unsuitable"] if rejected else []), *(["failed"] if failed else [])])
    held = Counter(i.status for i in items)
    lines = [f"no {asked or 'released'} item in {release}"]
    refusal = _refusal(release)
    if refusal:
        lines.append(f"the build was refused, nothing released: {refusal} (see gate_failures.json)")
    counts = ", ".join(f"{held[status]:,} {status}" for status in _ORDER if held[status])
    lines.append(f"it holds {counts}" if counts else "it holds no item at all")
    for what, flag, statuses, asked_for in (
        ("released", "", {RELEASED}, not (rejected or failed)),
        ("rejected and unsuitable", " --rejected", {REJECTED, UNSUITABLE}, rejected),
        ("failed", " --failed", {FAILED}, failed),
    ):
        if held.keys() & statuses and not asked_for:
            lines.append(f"to see the {what}: corrigenda show {release}{flag}")
    return "\n".join(lines) + "\n"


_ORDER = (RELEASED, REJECTED, UNSUITABLE, FAILED)


def _refusal(release: Path) -> str | None:
    """Why the build that wrote this folder released nothing, from its gate_failures.json."""
    try:
        gate = json.loads((release / "gate_failures.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return gate.get("reason") if isinstance(gate, dict) else None


def render(item: ViewItem) -> str:
    """Plain text: a header, the conversation with the masked span between markers, then the reasons."""
    pages = "-".join(map(str, sorted(set(item.pages or []))))
    where = item.source + (f" p.{pages}" if pages else "")
    lines = [f"=== {item.id} [{item.status}] {where}".rstrip()]
    if item.parts:
        pieces = []
        for part in item.parts:
            text = f"{MASK_OPEN}{part.text}{MASK_CLOSE}" if part.masked else part.text
            pieces.append(f"\n{part.role}: {text}" if part.role else text)
        lines.append("".join(pieces).strip("\n"))
    lines += [f"reason: {reason}" for reason in item.reasons]
    if item.verdict:
        lines.append("verdict: " + item.verdict.replace("\n", "; "))
    return "\n".join(lines) + "\n"
