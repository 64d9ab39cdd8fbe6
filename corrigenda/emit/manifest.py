"""`manifest.json`: what a release was built from and the hash of every file in it, so a release gate can prove the
directory is complete and unmodified."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corrigenda import __version__
from corrigenda.atomic import write_json
from corrigenda.compiler.plan import Plan
from corrigenda.digest import file_sha256
from corrigenda.emit.schemas import schema_ids

MANIFEST = "manifest.json"


def file_digest(path: Path) -> dict[str, Any]:
    digest, size = file_sha256(path)
    return {"sha256": digest, "bytes": size}


def record_entry(item: str, source: str, segments: list[dict[str, Any]]) -> dict[str, str]:
    """A released record by its stable id (the chunk it came from) and the hash of its segments, so two releases
    can be compared record by record (`corrigenda diff OLD NEW`)."""
    canonical = json.dumps(segments, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return {"id": item, "source": source, "sha256": hashlib.sha256(canonical.encode("utf-8")).hexdigest()}


def write_manifest(
    out_dir: Path,
    plan: Plan,
    files: list[Path],
    counts: dict[str, Any],
    records: Iterable[dict[str, str]] = (),
) -> Path:
    manifest = {
        "corrigenda": __version__,
        "plan_fingerprint": plan.fingerprint,
        "schemas": schema_ids(plan.spec.output.formats),
        "inputs": [f.model_dump() for f in plan.inputs],
        "outputs": {p.relative_to(out_dir).as_posix(): file_digest(p) for p in sorted(set(files))},
        "counts": counts,
        "records": list(records),
    }
    path = out_dir / MANIFEST
    write_json(path, manifest)
    return path


def verify_manifest(out_dir: Path) -> list[str]:
    """Every listed file present with its recorded hash; an empty list means the release is intact."""
    path = out_dir / MANIFEST
    try:
        manifest = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return [f"{path}: no manifest (build with `corrigenda build` to write one)"]
    except json.JSONDecodeError as exc:
        return [f"{path}:{exc.lineno}: not valid JSON: {exc.msg}"]
    outputs = manifest.get("outputs") if isinstance(manifest, dict) else None
    if not isinstance(outputs, dict):
        return [f"{path}: not a corrigenda manifest (no `outputs` object naming the released files)"]
    problems = []
    for name, expected in sorted(outputs.items()):
        target = out_dir / name
        if not target.is_file():
            problems.append(f"{name}: listed in the manifest but missing")
        elif file_digest(target) != expected:
            problems.append(f"{name}: changed since the build (sha256 differs from the manifest)")
    return problems


def built_from(out_dir: Path, fingerprint: str) -> list[str]:
    """Whether the release in `out_dir` was built from the plan with this fingerprint (the spec as it is now)."""
    try:
        recorded = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8")).get("plan_fingerprint")
    except (FileNotFoundError, json.JSONDecodeError, AttributeError):
        return []  # verify_manifest already names the problem (missing, not JSON, not an object)
    if recorded != fingerprint:
        return [
            f"{out_dir / MANIFEST}: built from plan {str(recorded)[:16]}, but the spec now compiles to "
            f"{fingerprint[:16]} (inputs, prompts, models or settings changed): rebuild"
        ]
    return []
