"""The Python API: the CLI's commands as functions that return results instead of exit codes, for scripts and
notebooks. Errors a user can fix raise `CorrigendaError` (message and hint), as the CLI prints them."""

from __future__ import annotations

from pathlib import Path

from corrigenda.build import Build, BuildOptions, BuildResult
from corrigenda.compiler.compile import compile_spec
from corrigenda.compiler.plan import Plan
from corrigenda.emit.check import CheckResult, check_path, release_built_from
from corrigenda.emit.show import shown
from corrigenda.emit.view import ViewItem


def plan(spec: str | Path) -> Plan:
    """Load, validate and compile a spec into its fingerprinted plan, spending nothing."""
    return compile_spec(Path(spec)).plan


def build(
    spec: str | Path,
    out: str | Path | None = None,
    *,
    limit: int | None = None,
    offline: bool = False,
    resume: bool = True,
    probe: bool = True,
) -> BuildResult:
    """Run the pipeline and write the release directory, as `corrigenda build` does; returns counts, usage, the
    released files and any gate problems (`result.released` is False when the gate refused it). Works inside a
    running event loop (a notebook cell)."""
    compiled = compile_spec(Path(spec), for_build=not offline)
    options = BuildOptions(
        offline=offline, resume=resume, limit=limit, out=Path(out) if out else None, interactive=False, probe=probe
    )
    return Build(compiled, options).run()


def check(path: str | Path, *, tokenizer: str | Path | None = None, spec: str | Path | None = None) -> CheckResult:
    """Gate a dataset file or release directory (schema, invariants, manifest hashes; with `spec`, also that it was
    built from that spec as it is now). `result.ok` says whether it passed and `result.problems` why not."""
    result = check_path(Path(path), Path(tokenizer) if tokenizer else None)
    if spec is not None:
        result.problems += release_built_from(Path(path), plan(spec).fingerprint)
    return result


def show(
    out: str | Path, n: int = 3, *, rejected: bool = False, failed: bool = False, item: str | None = None
) -> list[ViewItem]:
    """Print conversations of a release with the masked span marked, as `corrigenda show` does, and return them."""
    items, text = shown(Path(out), n, rejected=rejected, failed=failed, item=item)
    print(text, end="")
    return items
