"""`corrigenda show OUT`: conversations in the terminal, the masked (never trained) span marked so it cannot be
missed even without colour."""

from __future__ import annotations

from pathlib import Path

from corrigenda.emit.view import FAILED, REJECTED, RELEASED, UNSUITABLE, ViewItem, load_view
from corrigenda.errors import InputError

MASK_OPEN, MASK_CLOSE = "[MASKED>>", "<<MASKED]"


def select(
    release: Path, n: int = 3, rejected: bool = False, failed: bool = False, item: str | None = None
) -> list[ViewItem]:
    """The items to show: one by id, or the first `n` released (or rejected / failed) ones."""
    if not (release / "manifest.json").is_file() and not (release / "gate_failures.json").is_file():
        raise InputError(f"{release} is not a corrigenda release directory", "pass the folder a build wrote (--out)")
    try:
        items = load_view(release)
    except (ValueError, TypeError, KeyError, IndexError, AttributeError) as exc:  # JSON, UTF-8 or shape
        raise InputError(
            f"{release} cannot be shown: a file in it is damaged ({type(exc).__name__}: {exc})",
            "it was changed or damaged after the build: rebuild the release (corrigenda check names a damaged file)",
        ) from None
    if item is not None:
        chosen = [i for i in items if i.id == item]
        if not chosen:
            raise InputError(
                f"no item {item!r} in {release}", "ids look like path#chunk; see failed.jsonl or the viewer"
            )
        return chosen
    wanted = ({REJECTED, UNSUITABLE} if rejected else set()) | ({FAILED} if failed else set()) or {RELEASED}
    return [i for i in items if i.status in wanted][:n]


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
