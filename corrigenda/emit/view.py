"""One reading of a release for people: every item with its conversation (masked span marked), its chunk and source,
how it ended and why. `corrigenda show` prints it and `viewer.html` embeds it, so both always agree.

It reads only the release's own files (the data files, `rejected.jsonl`, `failed.jsonl`, the debug outputs), so it
works on any release directory, including one copied elsewhere.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corrigenda.emit.writers import CHAT_FILE, MAIN_FILE
from corrigenda.runtime.debug_log import read_debug

RELEASED, REJECTED, FAILED, UNSUITABLE = "released", "rejected", "failed", "unsuitable"
ROLES = ("user", "assistant", "user", "assistant")
TURNS = ("initial_question", "flawed_answer", "followup_confirmation", "correct_answer")


@dataclass
class Part:
    """A stretch of conversation text; `masked` is what training never sees (the flawed answer)."""

    text: str
    masked: bool
    role: str = ""


@dataclass
class ViewItem:
    id: str
    status: str
    source: str = ""
    title: str = ""
    pages: list[int] | None = None
    chunk: str = ""
    step: str = ""  # the last step the item reached
    reasons: list[str] = field(default_factory=list)
    verdict: str = ""  # the verify step's answer, when there is one
    parts: list[Part] = field(default_factory=list)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


def _jsonl(path: Path) -> list[dict[str, Any]]:
    if not path.is_file():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def _debug(release: Path) -> dict[str, dict[str, Any]]:
    """Per item: its chunk, the last step it reached, how it ended there, and the verify verdict."""
    found: dict[str, dict[str, Any]] = {}
    records = read_debug(release / "debug_outputs").values()
    for record in sorted(records, key=lambda r: r.get("step_index", 0)):  # per item, in the order it ran its steps
        entry = found.setdefault(record["item"], {"chunk": record.get("chunk") or {}, "steps": []})
        entry["steps"].append(record["step"])
        entry["outcome"], entry["reason"] = record.get("outcome"), record.get("reason")
        attempts = [a for a in record.get("attempts", []) if a.get("answer") or a.get("raw")]
        if "verify" in record["step"] and attempts:
            entry["verdict"] = attempts[-1].get("answer") or attempts[-1].get("raw") or ""
    return found


def _conversation_parts(conversation: dict[str, str]) -> list[Part]:
    return [
        Part(conversation.get(turn, ""), turn == "flawed_answer", role) for turn, role in zip(TURNS, ROLES, strict=True)
    ]


def load_view(release: Path) -> list[ViewItem]:
    """Released conversations first (in file order), then rejected, failed and unsuitable items."""
    debug = _debug(release)
    main = json.loads((release / MAIN_FILE).read_text(encoding="utf-8")) if (release / MAIN_FILE).is_file() else None
    chat = _jsonl(release / CHAT_FILE)
    items: list[ViewItem] = []
    for index in range(len(main) if main is not None else len(chat)):
        meta = chat[index] if index < len(chat) else {}
        item = ViewItem(meta.get("id", f"record {index}"), RELEASED, source=meta.get("source", ""))
        if main is not None:
            item.parts = [Part(s["text"], not s["label"]) for s in main[index]["segments"]]
        else:
            item.parts = [
                Part(m["content"], not m["train"] and m["role"] == "assistant", m["role"]) for m in meta["messages"]
            ]
        items.append(item)
    rejected: dict[str, ViewItem] = {}
    for row in _jsonl(release / "rejected.jsonl"):
        item = rejected.setdefault(row["item"], ViewItem(row["item"], REJECTED, source=row.get("source", "")))
        item.reasons += [f"{row.get('step', '')}: {reason}" for reason in row.get("reasons", [])]
        if row.get("conversation"):
            item.parts = _conversation_parts(row["conversation"])
    by_id = {item.id: item for item in items}
    for item_id, item in rejected.items():  # rejected, regenerated, then accepted: released, its history kept
        if item_id in by_id:
            by_id[item_id].reasons += [f"an earlier attempt was rejected: {reason}" for reason in item.reasons]
        else:
            items.append(item)
    items += [
        ViewItem(r["item"], FAILED, source=r.get("source", ""), reasons=[r.get("reason") or ""])
        for r in _jsonl(release / "failed.jsonl")
    ]
    known = {item.id for item in items}
    for item_id, entry in debug.items():
        if item_id not in known and entry.get("outcome") == UNSUITABLE:
            items.append(ViewItem(item_id, UNSUITABLE, reasons=[entry.get("reason") or ""]))
    for item in items:
        entry = debug.get(item.id)
        if entry:
            chunk = entry["chunk"]
            item.source = item.source or chunk.get("source", "")
            item.title, item.pages, item.chunk = chunk.get("title") or "", chunk.get("pages"), chunk.get("text", "")
            item.step, item.verdict = entry["steps"][-1], entry.get("verdict", "")
    return items
