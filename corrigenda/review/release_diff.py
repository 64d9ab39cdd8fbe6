"""`corrigenda diff OLD_RELEASE NEW_RELEASE`: what changed in the released data, for release notes.

Records are matched by their stable id (the chunk each came from) and compared by the hash of their segments, both
recorded in each release's manifest; a release from before the manifest listed its records is read from its chat
file, which carries the same ids."""

from __future__ import annotations

import difflib
import hashlib
import json
from collections import Counter
from pathlib import Path
from typing import Any

from corrigenda.emit.manifest import MANIFEST, verify_manifest
from corrigenda.emit.writers import CHAT_FILE
from corrigenda.errors import UsageError

CARD = "README.md"


def _manifest(release: Path) -> dict[str, Any]:
    try:
        manifest = json.loads((release / MANIFEST).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(
            f"{release}: no {MANIFEST}, so not a corrigenda release", "pass two folders written by corrigenda build"
        ) from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise UsageError(f"{release / MANIFEST}: unreadable ({exc})", "run corrigenda check on it") from None
    if not isinstance(manifest, dict):
        raise UsageError(f"{release / MANIFEST}: not a JSON object", "run corrigenda check on it")
    # The notes are read from the manifest: over files changed since, they would describe data that is not there.
    damaged = verify_manifest(release) if isinstance(manifest.get("outputs"), dict) else []
    if damaged:
        more = f" (and {len(damaged) - 1} more)" if len(damaged) > 1 else ""
        raise UsageError(
            f"{release}: its files no longer match its manifest: {damaged[0]}{more}",
            f"release notes would describe the data as built, not as it is; rebuild it, or run corrigenda check "
            f"{release} for every problem",
        )
    return manifest


def _records(release: Path, manifest: dict[str, Any]) -> dict[str, dict[str, str]]:
    """Record id -> {source, sha256}."""
    if isinstance(manifest.get("records"), list):
        return {entry["id"]: entry for entry in manifest["records"]}
    chat = release / CHAT_FILE
    if not chat.is_file():
        raise UsageError(
            f"{release}: its manifest lists no records and it has no {CHAT_FILE}",
            "rebuild it with this corrigenda to compare it record by record",
        )
    found = {}
    for line in chat.read_text(encoding="utf-8").splitlines():
        if line.strip():
            entry = json.loads(line)
            digest = hashlib.sha256(json.dumps(entry["messages"], sort_keys=True).encode("utf-8")).hexdigest()
            found[entry["id"]] = {"id": entry["id"], "source": entry.get("source", ""), "sha256": digest}
    return found


def _card(release: Path) -> str:
    path = release / CARD
    return path.read_text(encoding="utf-8") if path.is_file() else ""


def diff_releases(old: Path, new: Path) -> dict[str, Any]:
    """The whole comparison as one JSON-ready object."""
    before, after = _manifest(old), _manifest(new)
    old_records, new_records = _records(old, before), _records(new, after)
    added = sorted(set(new_records) - set(old_records))
    removed = sorted(set(old_records) - set(new_records))
    changed = sorted(
        i for i in set(old_records) & set(new_records) if old_records[i]["sha256"] != new_records[i]["sha256"]
    )
    sources: dict[str, Counter[str]] = {}
    for kind, ids, table in (
        ("added", added, new_records),
        ("removed", removed, old_records),
        ("changed", changed, new_records),
    ):
        for record_id in ids:
            sources.setdefault(table[record_id].get("source", ""), Counter())[kind] += 1
    for kind, table in (("before", old_records), ("after", new_records)):
        for entry in table.values():
            sources.setdefault(entry.get("source", ""), Counter())[kind] += 1
    old_inputs = {f["path"]: f["sha256"] for f in before.get("inputs", [])}
    new_inputs = {f["path"]: f["sha256"] for f in after.get("inputs", [])}
    old_card, new_card = _card(old), _card(new)
    card_diff = "".join(
        difflib.unified_diff(
            old_card.splitlines(keepends=True), new_card.splitlines(keepends=True), f"{old}/{CARD}", f"{new}/{CARD}"
        )
    )
    schemas_before, schemas_after = before.get("schemas") or {}, after.get("schemas") or {}
    return {
        "command": "diff",
        "ok": True,
        "kind": "release",
        "old": str(old),
        "new": str(new),
        "manifests": {
            side: {"plan_fingerprint": m.get("plan_fingerprint"), "corrigenda": m.get("corrigenda")}
            for side, m in (("old", before), ("new", after))
        },
        "counts": {"old": before.get("counts", {}), "new": after.get("counts", {})},
        "records": {
            "old": len(old_records),
            "new": len(new_records),
            "added": added,
            "removed": removed,
            "changed": changed,
            "unchanged": len(set(old_records) & set(new_records)) - len(changed),
        },
        "sources": {source: dict(counts) for source, counts in sorted(sources.items())},
        "inputs": {
            "added": sorted(set(new_inputs) - set(old_inputs)),
            "removed": sorted(set(old_inputs) - set(new_inputs)),
            "changed": sorted(p for p in set(old_inputs) & set(new_inputs) if old_inputs[p] != new_inputs[p]),
        },
        "schemas": {
            name: {"old": schemas_before.get(name), "new": schemas_after.get(name)}
            for name in sorted(set(schemas_before) | set(schemas_after))
            if schemas_before.get(name) != schemas_after.get(name)
        },
        "card_diff": card_diff,
    }


def _ids(ids: list[str], limit: int = 30) -> str:
    shown = ", ".join(f"`{i}`" for i in ids[:limit])
    return shown + (f" and {len(ids) - limit} more" if len(ids) > limit else "")


def release_diff_markdown(diff: dict[str, Any]) -> str:
    records, old, new = diff["records"], diff["manifests"]["old"], diff["manifests"]["new"]
    out = [
        f"## Release notes: `{diff['old']}` → `{diff['new']}`",
        "",
        f"Plan fingerprint `{str(old['plan_fingerprint'])[:16]}` → `{str(new['plan_fingerprint'])[:16]}`; "
        f"corrigenda {old['corrigenda']} → {new['corrigenda']}.",
        "",
        f"**Records: {records['old']:,} → {records['new']:,}** ({len(records['added']):,} added, "
        f"{len(records['removed']):,} removed, {len(records['changed']):,} changed, "
        f"{records['unchanged']:,} unchanged)",
        "",
    ]
    if diff["schemas"]:
        out += ["### ⚠ Schema changes (consumers may need to change)", ""]
        out += [f"- {name}: `{ids['old']}` → `{ids['new']}`" for name, ids in diff["schemas"].items()]
        out.append("")
    counts_old, counts_new = diff["counts"]["old"], diff["counts"]["new"]
    names = list(dict.fromkeys([*counts_old, *counts_new]))
    if names:
        out += ["### Counts", "", "| | old | new |", "|---|---:|---:|"]
        out += [f"| {name} | {counts_old.get(name, '-')} | {counts_new.get(name, '-')} |" for name in names]
        out.append("")
    touched = {s: c for s, c in diff["sources"].items() if c.get("added") or c.get("removed") or c.get("changed")}
    if touched:
        out += ["### Per source", "", "| source | records | added | removed | changed |", "|---|---:|---:|---:|---:|"]
        for source, c in touched.items():
            out.append(
                f"| `{source}` | {c.get('before', 0)} → {c.get('after', 0)} | {c.get('added', 0)} "
                f"| {c.get('removed', 0)} | {c.get('changed', 0)} |"
            )
        out.append("")
    for kind in ("added", "removed", "changed"):
        if records[kind]:
            out.append(f"- {kind}: {_ids(records[kind])}")
    inputs = {kind: paths for kind, paths in diff["inputs"].items() if paths}
    if inputs:
        out += ["", "### Input files", ""] + [f"- {kind}: {_ids(paths)}" for kind, paths in inputs.items()]
    if diff["card_diff"]:
        out += ["", "<details><summary>Dataset card changes</summary>", "", "```diff", diff["card_diff"].rstrip("\n")]
        out += ["```", "", "</details>"]
    return "\n".join(out) + "\n"
