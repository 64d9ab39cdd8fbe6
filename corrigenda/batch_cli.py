"""`corrigenda batch status|cancel|export|import`: the batches a spec's cache knows, and request files for servers
without a batch API (`vllm run-batch` on local GPUs).

export writes the calls of one step that the cache cannot answer (earlier steps must be answered already) in the
OpenAI batch format; import reads the result file back into the cache, where `build --offline` finds every answer.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import sys
from pathlib import Path
from typing import Any

from corrigenda.build import Build, BuildOptions
from corrigenda.compiler.compile import compile_spec
from corrigenda.errors import EXIT_OK, EndpointError, InputError, OutputError, UsageError
from corrigenda.runtime.batch_files import read_result_line
from corrigenda.runtime.batch_store import BatchRow, BatchStore
from corrigenda.runtime.cache import CallCache
from corrigenda.startup import import_held

STATUS_TIMEOUT_S = 15.0  # one quick question per running batch; the stored state is shown if it goes unanswered


def _cache(spec: str) -> tuple[CallCache, object]:
    from corrigenda.cli import spec_path

    plan = compile_spec(spec_path(spec)).plan
    return CallCache(Path(plan.base_dir) / plan.spec.output.cache), plan


def _record(store: BatchStore, row: BatchRow, batch: Any) -> None:
    """What the provider says of a batch now, stored (its counts, or the stored ones when it gives none)."""
    counts = batch.request_counts
    done, failed = (counts.completed, counts.failed) if counts else (row.completed, row.failed)
    store.update(row.id, batch.status, batch.output_file_id, batch.error_file_id, done, failed)


async def _refresh(store: BatchStore, plan: Any) -> dict[str, str]:
    """Ask the provider for each running batch's state and counts and store them: what the cache holds is only as
    new as a build's last poll (a Ctrl-C'd build polls no more). Returns, per batch it could not ask, why."""
    import openai

    from corrigenda.runtime.batcher import batch_client

    stale: dict[str, str] = {}
    for row in store.batches(live_only=True):
        if not row.running:
            continue
        model = plan.spec.models.get(row.model)
        client = batch_client(row.endpoint, model.api_key_env if model else None).with_options(
            max_retries=0, timeout=STATUS_TIMEOUT_S
        )
        try:
            batch = await client.batches.retrieve(row.id)
        except openai.APIError as exc:
            stale[row.id] = f"as of the last poll; asking {row.endpoint} failed: {type(exc).__name__}"
            continue
        finally:
            await client.close()
        _record(store, row, batch)
    return stale


def cmd_status(args: argparse.Namespace) -> int:
    import_held("corrigenda.runtime.batcher")  # the openai client, for the provider's side
    cache, plan = _cache(args.spec)
    try:
        store = BatchStore(cache.db)
        stale = asyncio.run(_refresh(store, plan))
        rows = store.batches()
        if not rows:
            print("no batches in this spec's cache")
        for row in rows:
            missing = store.missing(row.id)
            read = "results read" if row.ingested else "results not read yet"
            when = f"; {stale[row.id]}" if row.id in stale else ""
            print(
                f"{row.id}  {row.model}  {row.status}  {row.requests} requests, {row.completed} completed, "
                f"{row.failed} failed, {missing} without a result ({read}{when})"
            )
    finally:
        cache.close()
    return EXIT_OK


def cmd_cancel(args: argparse.Namespace) -> int:
    batch_client = import_held("corrigenda.runtime.batcher").batch_client
    openai = import_held("openai")  # loaded with the batcher

    cache, plan = _cache(args.spec)
    try:
        store = BatchStore(cache.db)
        live = [row for row in store.batches(live_only=True) if row.running]

        failures: list[str] = []

        async def cancel() -> None:
            for row in live:
                model = plan.spec.models.get(row.model)
                client = batch_client(row.endpoint, model.api_key_env if model else None).with_options(
                    max_retries=1, timeout=STATUS_TIMEOUT_S
                )
                try:
                    batch = await client.batches.cancel(row.id)
                except openai.APIError as exc:  # the others are still cancelled; this one is named below
                    failures.append(f"{row.id} ({row.endpoint}: {type(exc).__name__})")
                    continue
                finally:
                    await client.close()
                _record(store, row, batch)
                print(f"{row.id}  {row.model}  {batch.status}")

        asyncio.run(cancel())
        if not live:
            print("no running batches to cancel")
        elif len(failures) < len(live):
            print("a rerun of the build reads whatever they finished and sends the rest again", file=sys.stderr)
        if failures:
            raise EndpointError(
                f"could not cancel {', '.join(failures)}: it may still be running at the provider",
                "rerun `corrigenda batch cancel SPEC` once the endpoint answers",
            )
    finally:
        cache.close()
    return EXIT_OK


def cmd_export(args: argparse.Namespace) -> int:
    from corrigenda.cli import spec_path

    compiled = compile_spec(spec_path(args.spec))
    steps = [step.name for step in compiled.plan.spec.steps]
    if args.step not in steps:
        raise UsageError(f"the spec has no step {args.step!r}", f"its steps are {', '.join(steps)}")
    output = Path(args.output)
    if not output.parent.is_dir() or output.is_dir():  # found before the pass over the items, not after it
        where = "is a directory" if output.is_dir() else f"its folder {output.parent} does not exist"
        raise OutputError(f"cannot write the request file {output}: {where}", "pass -o FILE in an existing folder")
    build = Build(compiled, BuildOptions(batch=True, probe=False, limit=args.limit))
    if build.batcher is None:
        build.cache.close()
        raise UsageError(f"step {args.step!r} runs on the built-in engine", "only model calls can be exported")

    async def collect() -> None:
        try:
            await build.collect_pass(build.needs_facts)
        finally:
            for caller in build.callers.values():
                await caller.backend.close()

    try:
        asyncio.run(collect())
        store = build.batcher.store
        earlier = sum(1 for _ in store.wanted(args.step, other_than=True))
        count = 0
        tmp = output.with_name(f".{output.name}.{os.getpid()}.tmp")  # streamed, then renamed: never half-written
        try:
            with open(tmp, "w", encoding="utf-8") as handle:
                for _, line in store.wanted(args.step):
                    handle.write(line + "\n")
                    count += 1
            os.replace(tmp, output)
        except OSError as exc:
            raise OutputError(
                f"cannot write the request file {output}: {exc.strerror or exc}", "pass -o FILE in a writable folder"
            ) from None
        finally:
            with contextlib.suppress(OSError):  # a read-only folder refuses this too: the error above says why
                tmp.unlink(missing_ok=True)
    finally:
        build.cache.close()
    print(f"{count} {args.step} requests written to {args.output} (OpenAI batch format)")
    if earlier:
        print(
            f"{earlier} calls of other steps are not cached yet: the chunks waiting on them are not in this file; "
            "export, run and import those steps first",
            file=sys.stderr,
        )
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    store_result = import_held("corrigenda.runtime.batcher").store_result
    path = Path(args.results)
    if not path.is_file():
        raise InputError(f"{path} is not a file", "give the output file `vllm run-batch` or a batch API wrote")
    cache, _ = _cache(args.spec)
    stored = errors = unknown = unreadable = 0
    try:
        store = BatchStore(cache.db)
        with open(path, "rb") as lines, cache.db:
            cache.db.execute("BEGIN")
            for line in lines:
                if not line.strip():
                    continue
                result = read_result_line(line)
                if result is None:
                    unreadable += 1
                elif store.call(result.key) is None:
                    unknown += 1
                elif store_result(cache, store, result):
                    stored += 1
                else:
                    errors += 1
            if unreadable and not stored + errors + unknown:
                raise InputError(
                    f"{path}: none of its {unreadable} lines is a batch result (a JSON object with a custom_id)",
                    "give the output file `vllm run-batch` (its -o) or a batch API wrote",
                )
    finally:
        cache.close()
    from corrigenda.cli import plural

    print(
        f"{plural(stored, 'result')} stored in the cache, {plural(errors, 'error')}, "
        f"{plural(unknown, 'id')} this cache never exported"
    )
    if unreadable:
        print(f"{unreadable} lines of {path} are not batch results and were skipped", file=sys.stderr)
    print("now `corrigenda build SPEC --offline` (or a later export) goes on from them")
    return EXIT_OK


def add_batch_commands(commands: argparse._SubParsersAction) -> None:
    from corrigenda.cli import positive_int

    batch = commands.add_parser("batch", help="batch API jobs, and request files for vllm run-batch")
    sub = batch.add_subparsers(dest="batch_command", required=True)
    status = sub.add_parser(
        "status", help="list this spec's batches, running ones with their state and counts asked of the provider now"
    )
    status.add_argument("spec")
    status.set_defaults(run=cmd_status)
    cancel = sub.add_parser("cancel", help="cancel this spec's running batches")
    cancel.add_argument("spec")
    cancel.set_defaults(run=cmd_cancel)
    export = sub.add_parser("export", help="write one step's uncached calls as an OpenAI batch request file")
    export.add_argument("spec")
    export.add_argument("--step", required=True)
    export.add_argument("-o", "--output", required=True, help="requests.jsonl to write")
    export.add_argument("--limit", type=positive_int, help="only the first N chunks")
    export.set_defaults(run=cmd_export)
    imp = sub.add_parser("import", help="store a batch result file (vllm run-batch output) in the cache")
    imp.add_argument("results")
    imp.add_argument("--spec", required=True, help="the spec whose cache the requests were exported from")
    imp.set_defaults(run=cmd_import)
