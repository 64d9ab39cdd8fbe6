"""Finished items, stored in the cache, so a rerun whose every answer is known goes straight to emission.

Replaying a cached run call by call costs a rendered prompt, a hashed key, a cache read, a parse and a debug file per
call. Instead each finished item is stored under a key of the plan (its fingerprint and this corrigenda's version)
and its chunk (id, content, title, source, and the heuristic engine's fact pool): its outcome, conversation,
rejections, and each call's answer and attempts, so the rerun counts tokens, USD and progress exactly as before.
Items are looked up a batch at a time, in one query. An item with a call that failed for good is never stored (a
rerun asks it again), and none is read under `--no-resume`.

An item's debug lines are not stored: they are copied from the previous release (`debug_outputs/STEP.jsonl` of a
release built from the same plan fingerprint), found by their `id` without decoding them, so nothing is encoded again;
a step whose every line comes from there gets the previous file itself, hard-linked. An item whose lines are not
there runs the steps again, from the call cache.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from corrigenda import __version__
from corrigenda.emit.segmenter import Conversation
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.debug_log import index_lines, record_id
from corrigenda.runtime.item import FAILED, Item
from corrigenda.runtime.steps import StepRunner


class ItemResults:
    def __init__(
        self,
        cache: CallCache,
        fingerprint: str,
        runners: list[StepRunner],
        previous_debug: Path | None = None,
        read: bool = True,
    ):
        self.cache, self.runners, self.read = cache, {r.step.name: r for r in runners}, read
        self.salt = f"{__version__}:{fingerprint}"
        self.previous_debug = previous_debug  # None: no release of this plan to reuse debug lines from
        self._listed: dict[str, tuple[Path, dict[str, tuple[int, int]]]] = {}  # step -> its file, lines by id

    def key(self, item: Item) -> str:
        chunk = item.chunk
        material = (
            self.salt,
            chunk.chunk_id,
            chunk.content_hash,
            chunk.title,
            chunk.source,
            item.context.get("digest"),
        )
        return hashlib.sha256(json.dumps(material, ensure_ascii=False).encode("utf-8")).hexdigest()

    def lookup(self, items: list[Item]) -> dict[str, dict[str, Any]]:
        """Gives every item its key; returns the stored results among them, from one query."""
        for item in items:
            item.result_key = self.key(item)
        if not self.read or not items:
            return {}
        return self.cache.get_items([item.result_key for item in items if item.result_key])

    def debug_lines(self, item: Item, steps: list[str]) -> list[tuple[str, Path, int, int]] | None:
        """Where the previous release holds the item's line of each step (step, file, offset, length), or None
        when one is missing."""
        if self.previous_debug is None:
            return None  # no release of this plan to take them from: the steps run again, from the call cache
        found = []
        for step in steps:
            listed = self._listed.get(step)
            if listed is None:
                path = self.previous_debug / f"{step}.jsonl"
                listed = self._listed[step] = (path, index_lines(path))
            where = listed[1].get(record_id(step, item.chunk.chunk_id))
            if where is None:
                return None
            found.append((step, listed[0], *where))
        return found

    def restore(self, item: Item, result: dict[str, Any]) -> bool:
        """Finishes `item` from its stored result, counting its calls and passes as a cached run would."""
        if any(step not in self.runners for step, *_ in result["passes"] + result["calls"]):
            return False
        if any(len(call) != 5 for call in result["calls"]):  # stored before calls kept their key and batch flag
            return False
        for step, record, attempts, key, batch in result["calls"]:
            runner = self.runners[step]
            runner.caller.replay(record, attempts, runner.stats, batch, key)
        for step, round_, passed, failed in result["passes"]:
            stats = self.runners[step].stats
            stats.total += 1
            stats.done += 1
            if round_ == 0:
                stats.items_done += 1
                stats.items_passed += passed
            if failed:
                stats.failed += 1
                stats.last_failure = result["reason"]
        item.finish(result["outcome"], result["reason_key"], result["reason"])
        conversation = result["conversation"]
        item.conversation = Conversation(**conversation) if conversation else None
        item.rejections = result["rejections"]
        item.reached = set(result["reached"])
        return True

    def store(self, item: Item) -> None:
        if item.result_key is None or item.call_failed or (item.outcome == FAILED and not item.calls):
            return
        self.cache.put_item(
            item.result_key,
            {
                "outcome": item.outcome,
                "reason_key": item.reason_key,
                "reason": item.reason,
                "conversation": asdict(item.conversation) if item.conversation else None,
                "rejections": item.rejections,
                "reached": sorted(item.reached),
                "calls": item.calls,
                "passes": item.passes,
            },
        )
