"""What changed between two specs: settings (with FILE:LINE on both sides), prompt texts, input files, and what the
change means for consumers of the released data (breaking) and for the cache (chunking re-requests everything)."""

from __future__ import annotations

import difflib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corrigenda.compiler.compile import Compiled, compile_spec
from corrigenda.compiler.diagnostics import PathPart, SourceMap, dotted
from corrigenda.compiler.loader import read_yaml
from corrigenda.errors import UsageError

# Settings whose change alters the released data's shape for whoever trains on it.
BREAKING = ("template", "output.formats")
# Settings whose change gives every chunk new text, so no cached call matches any more.
CHUNKING = ("inputs.encoding", "inputs.chunk_size", "inputs.overlap", "inputs.min_chunk_tokens")


@dataclass
class SettingChange:
    path: str
    base: Any
    head: Any
    base_at: str  # FILE:LINE
    head_at: str
    breaking: bool = False
    rechunks: bool = False

    def as_json(self) -> dict[str, Any]:
        return dict(self.__dict__)


@dataclass
class SpecDiff:
    base_fingerprint: str
    head_fingerprint: str
    settings: list[SettingChange] = field(default_factory=list)
    prompts: dict[str, str] = field(default_factory=dict)  # step -> unified diff
    inputs: dict[str, list[str]] = field(default_factory=dict)  # added / removed / changed -> paths

    @property
    def breaking(self) -> list[SettingChange]:
        return [change for change in self.settings if change.breaking]

    @property
    def rechunks(self) -> bool:
        return any(change.rechunks for change in self.settings)


def _flatten(value: Any, path: tuple[PathPart, ...] = ()) -> Iterator[tuple[tuple[PathPart, ...], Any]]:
    """Leaves of a spec dump; a list of mappings (the steps) is walked by index, any other list is one value."""
    if isinstance(value, dict):
        for key, inner in value.items():
            yield from _flatten(inner, (*path, key))
    elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
        for index, inner in enumerate(value):
            yield from _flatten(inner, (*path, index))
    else:
        yield path, value


def _where(source: SourceMap, label: str, path: tuple[PathPart, ...]) -> str:
    line, _ = source.locate(list(path))
    return f"{label}:{line}"


def diff_specs(base: Compiled, head: Compiled, base_label: str | None = None) -> SpecDiff:
    """Every setting that differs (defaults included, so writing out a default is no change), the prompts' unified
    diffs, and which input files were added, removed or changed."""
    old, new = base.plan, head.plan
    old_source = SourceMap(old.spec_file, read_yaml(Path(old.spec_file)))
    new_source = SourceMap(new.spec_file, read_yaml(Path(new.spec_file)))
    old_label, new_label = base_label or old.spec_file, new.spec_file
    result = SpecDiff(old.fingerprint, new.fingerprint)
    before = dict(_flatten(old.spec.model_dump(mode="json")))
    after = dict(_flatten(new.spec.model_dump(mode="json")))
    for path in sorted(set(before) | set(after), key=lambda p: [str(part) for part in p]):
        if before.get(path) == after.get(path):
            continue
        name = dotted(path)
        result.settings.append(
            SettingChange(
                name,
                before.get(path),
                after.get(path),
                _where(old_source, old_label, path),
                _where(new_source, new_label, path),
                breaking=name.startswith(BREAKING),
                rechunks=name.startswith(CHUNKING),
            )
        )
    for step in sorted(set(old.prompts) | set(new.prompts)):
        was = old.prompts.get(step)
        now = new.prompts.get(step)
        if (was.text if was else "") == (now.text if now else ""):
            continue
        lines = difflib.unified_diff(
            (was.text if was else "").splitlines(keepends=True),
            (now.text if now else "").splitlines(keepends=True),
            fromfile=f"{base_label + ':' if base_label else ''}{was.path if was else '/dev/null'}",
            tofile=now.path if now else "/dev/null",
        )
        result.prompts[step] = "".join(line if line.endswith("\n") else line + "\n" for line in lines)
    old_files = {f.path: f.sha256 for f in old.inputs}
    new_files = {f.path: f.sha256 for f in new.inputs}
    result.inputs = {
        "added": sorted(set(new_files) - set(old_files)),
        "removed": sorted(set(old_files) - set(new_files)),
        "changed": sorted(p for p in set(old_files) & set(new_files) if old_files[p] != new_files[p]),
    }
    return result


def _git(repo: Path, *args: str) -> bytes:
    try:
        done = subprocess.run(["git", "-C", str(repo), *args], capture_output=True, check=False)
    except FileNotFoundError:
        raise UsageError("diff --base-ref needs git, which is not installed", "install git or pass BASE HEAD") from None
    if done.returncode != 0:
        detail = done.stderr.decode("utf-8", "replace").strip().splitlines()
        raise UsageError(
            f"git {' '.join(args)}: {detail[-1] if detail else 'failed'}",
            "pass a ref this repository has (fetch it first in CI: git fetch origin main), or two spec files",
        )
    return done.stdout


class BaseFromGit:
    """The spec as it was at REF, with its prompt files, in a temporary copy of the repository's tree at REF.
    Input paths (and a prompts_dir) that REF's tree does not hold (untracked corpora, folders beside the repository)
    are linked in from the working tree at the same relative place: only their contents count, as in the
    fingerprint."""

    NEST = 4  # the copy sits this deep in the temporary folder, so `../shared` still lands inside it

    def __init__(self, ref: str, spec: Path):
        self.ref, self.spec = ref, spec.resolve()
        self.root = Path(_git(self.spec.parent, "rev-parse", "--show-toplevel").decode().strip()).resolve()
        self.relative = self.spec.relative_to(self.root)
        self.label = f"{ref}:{self.relative.as_posix()}"
        self._tmp = Path(tempfile.mkdtemp(prefix="corrigenda-base-"))

    def __enter__(self) -> Path:
        archive = _git(self.root, "archive", "--format=tar", self.ref)
        tree = self._tmp.joinpath(*["tree"] * self.NEST)
        tree.mkdir(parents=True)
        subprocess.run(["tar", "-x", "-C", str(tree)], input=archive, check=True)
        copy = tree / self.relative
        if not copy.is_file():
            raise UsageError(f"{self.label}: no such file at {self.ref}", "a new spec: diff it against another one")
        raw = read_yaml(copy) or {}
        paths = [
            *((raw.get("inputs") or {}).get("paths") or []),
            *([raw["prompts_dir"]] if raw.get("prompts_dir") else []),
        ]
        for entry in map(str, paths):
            if any(c in entry for c in "*?["):
                continue
            here = Path(os.path.normpath(copy.parent / entry))
            real = (self.spec.parent / entry).resolve()
            if not here.exists() and real.exists() and here.is_relative_to(self._tmp):
                here.parent.mkdir(parents=True, exist_ok=True)
                here.symlink_to(real, target_is_directory=real.is_dir())
        return copy

    def compile(self, copy: Path) -> Compiled:
        """The base compiled from the copy, its linked-in input files named as the working tree names them (the
        fingerprint covers input paths, so the base's must be what a checkout of REF would give)."""
        compiled = compile_spec(copy)
        plan = compiled.plan
        inside, here = os.path.realpath(self._tmp), os.path.realpath(self.spec.parent)
        inputs = []
        for file in plan.inputs:
            real = os.path.realpath(copy.parent / file.path)
            if not real.startswith(inside + os.sep):
                file = file.model_copy(update={"path": Path(os.path.relpath(real, here)).as_posix()})
            inputs.append(file)
        compiled.plan = plan.model_copy(update={"inputs": tuple(inputs)}).with_fingerprint()
        return compiled

    def __exit__(self, *exc: object) -> None:
        shutil.rmtree(self._tmp, ignore_errors=True)
