"""`build --ray [ADDRESS]`: documents read as Ray tasks, the shards of the build as Ray tasks, then the driver merges
their caches and releases.

No address starts a local Ray instance (one shard per CPU); an address (`ray://host:10001`, `auto`) joins a running
cluster, one shard per CPU of the cluster. First the driver has every document not yet in the ingest store
(ingest/store.py) read and chunked as Ray tasks, a PDF or DOCX each and text files together, and keeps what they
return; the shards, their counting children and the release build then replay those chunks and report entries, so
each PDF is parsed once however many shards there are (with `--limit` the shards read, and keep, only what they
need). Each shard gets an even share of every model's `concurrency`, `rpm` and `tpm` (divided by the number of
shards, rounded up, at least 1), so the cluster as a whole keeps the spec's limits (a shard's adaptive limit moves
within its share). A shard writes its own cache file beside `output.cache`, so the workers must see the spec's folder
(a local instance does; on a cluster, a shared filesystem). A worker that dies is retried by Ray (up to `MAX_RETRIES`
times): its shard starts again from its cache and pays again only for the calls that were in flight. The shards push
their figures to a small actor that the driver polls, and the driver shows their sum in the one progress display
(ray_progress.py). Then the driver merges the caches into `output.cache` and runs the ordinary offline build: gate,
card, manifest, release.
"""

from __future__ import annotations

import asyncio
import dataclasses
import math
import socket
import sys
import time
from pathlib import Path
from typing import Any

from corrigenda.compiler.spec import InputsSpec
from corrigenda.errors import InputError, UsageError
from corrigenda.ingest.corpus import IngestionReport, discover, iter_chunks
from corrigenda.ingest.store import IngestStore, StoredReading, store_path
from corrigenda.ray_progress import Board, Polled
from corrigenda.runtime.loop import run_sync
from corrigenda.runtime.progress import Progress

MAX_RETRIES = 3
LOG_EVERY_S = 10.0  # a line of the summed figures this often where stderr is no terminal


def shard_limits(model: Any, shards: int) -> dict[str, int | None]:
    """One shard's share of a model's limits."""

    def part(value: int | None) -> int | None:
        return None if value is None else max(1, math.ceil(value / shards))

    return {"concurrency": part(model.concurrency), "rpm": part(model.rpm), "tpm": part(model.tpm)}


def run_shard(spec_file: str, index: int, count: int, options: dict[str, Any], board: Any) -> dict[str, Any]:
    """In a Ray worker: one shard of the build, with its share of each model's limits, its figures pushed to the
    driver's display through `board` (a `ray_progress.Board` actor)."""
    import ray

    from corrigenda.build import Build, BuildOptions
    from corrigenda.compiler.compile import compile_spec
    from corrigenda.ray_progress import Pusher
    from corrigenda.runtime.shard import Shard

    compiled = compile_spec(Path(spec_file), for_build=not options["offline"])
    models = compiled.plan.spec.models
    for name, model in list(models.items()):
        models[name] = model.model_copy(update=shard_limits(model, count))
    shard_options = BuildOptions(
        offline=options["offline"],
        resume=options["resume"],
        limit=options["limit"],
        interactive=False,
        show_progress=False,  # the driver shows the sum of every shard's figures
        probe=False,  # the driver probed once
        shard=Shard(index, count),
        max_usd=options.get("max_usd"),
    )
    build = Build(compiled, shard_options)

    def send(figures: dict[str, Any], last: bool) -> None:
        sent = board.push.remote(index, figures)
        if last:
            ray.get(sent)

    with Pusher(send, build):
        result = build.run()
    asked = {u.name: (u.requests_this_run, u.cached_calls) for u in result.usage}  # the driver reports these
    return {"cache": str(result.out_dir), "requests": result.requests, "counts": result.counts, "asked": asked}


GROUP_BYTES = 1 << 20  # text files are read together, a task per MiB of them, so a task is worth its start
PARSED = (".pdf", ".docx")  # parsed, costly per file: a task each


def read_files(files: list[str], base: str, inputs_json: str) -> list[tuple[str, bytes]]:
    """In a Ray worker: read and chunk some documents into ingest-store entries for the driver to keep."""
    reading = StoredReading(None, InputsSpec.model_validate_json(inputs_json), Path(base))
    return [entry for entry in (reading.entry(Path(file)) for file in files) if entry is not None]


def size_groups(files: list[Path]) -> list[list[Path]]:
    """The files to read as tasks, largest first: a PDF, DOCX or large text file alone, small text files together up
    to `GROUP_BYTES` a task."""
    sizes = {file: file.stat().st_size for file in files}
    groups: list[list[Path]] = []
    small: list[Path] = []
    held = 0
    for file in sorted(files, key=lambda f: -sizes[f]):
        if sizes[file] >= GROUP_BYTES or file.suffix.lower() in PARSED:
            groups.append([file])
            continue
        small.append(file)
        held += sizes[file]
        if held >= GROUP_BYTES:
            groups.append(small)
            small, held = [], 0
    return groups + ([small] if small else [])


def ingest_on_ray(ray: Any, inputs: InputsSpec, base: Path, store: IngestStore) -> tuple[int, int]:
    """Read every document not yet in the ingest store as Ray tasks, keeping what they return; (files read, tasks).

    A task that fails (a worker lost past its retries) leaves its files out of the store: each reader then reads
    them itself, as a one-process build does, and meets and reports the same problem."""
    reading = StoredReading(store, inputs, base)
    missing = []
    for file in discover(inputs, base, IngestionReport()):
        key = reading.key(file)
        if key is not None and store.get(key) is None:
            missing.append(file)
    groups = size_groups(missing)
    task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(read_files)
    waiting = [task.remote([str(f) for f in group], str(base), inputs.model_dump_json()) for group in groups]
    while waiting:
        done, waiting = ray.wait(waiting, num_returns=1)
        try:
            store.put(ray.get(done[0]))
        except ray.exceptions.RayError:
            continue
    if inputs.on_unreadable == "strict":  # said once here, not as a failed task in every shard
        from corrigenda.build import UnreadableInputs

        report = IngestionReport()
        for _ in iter_chunks(inputs, base, report, reading):
            pass
        if violations := report.policy_violations(inputs.on_unreadable):
            raise UnreadableInputs(violations)
    return len(missing), len(groups)


async def _watch(refs: list[Any], polled: Polled, interactive: bool | None) -> list[dict[str, Any]]:
    """The shards' results, once all are in, with their summed figures shown meanwhile."""
    work = asyncio.ensure_future(asyncio.gather(*(asyncio.wrap_future(ref.future()) for ref in refs)))
    work.add_done_callback(lambda _: polled.invalidate())  # before the display's last look
    progress = Progress(
        [],
        polled.ingested,
        interactive=interactive,
        log_every_s=LOG_EVERY_S,
        planned=polled.planned,
        steps=polled.steps,
    )
    try:
        await progress.run(work)
        return await work
    finally:
        if not work.done():
            work.cancel()


def check_address(address: str) -> None:
    """A cluster address nobody listens at made `ray.init` retry silently for minutes; find that in a second."""
    host, _, port = address.split("://", 1)[-1].rstrip("/").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto" and other forms Ray resolves itself
    try:
        socket.create_connection((host.strip("[]"), int(port)), timeout=3).close()
    except OSError as exc:
        raise UsageError(
            f"--ray {address}: no Ray cluster answers at {host}:{port} ({exc.strerror or exc})",
            "start one there (`ray start --head`), pass the address it printed, or leave the address out to start "
            "a local instance",
        ) from None


def ray_build(compiled: Any, options: Any, address: str | None) -> Any:
    """Every shard as a Ray task, the caches merged, then the offline build that releases."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray, which is not installed", "pip install 'corrigenda[ray]'") from None
    from corrigenda.build import Build
    from corrigenda.runtime.cache_merge import merge_caches
    from corrigenda.runtime.probe import probe

    started = time.monotonic()
    if options.batch:
        raise UsageError(
            "--ray cannot run a batch build (a batch belongs to the cache that sent it, and shard caches are merged)",
            "leave out --ray, or --batch",
        )
    if options.probe and not options.offline:
        probe(compiled.plan)  # once, before any worker starts
    cache = Path(compiled.plan.base_dir) / compiled.plan.spec.output.cache
    started_here = not ray.is_initialized()
    if started_here:
        if address:
            check_address(address)
        ray.init(address=address or None, include_dashboard=False, log_to_driver=True, configure_logging=False)
    try:
        board = ray.remote(num_cpus=0)(Board).remote()  # its worker starts while the documents are read
        read, tasks = 0, 0
        if options.limit is None or compiled.plan.spec.inputs.on_unreadable == "strict":
            # With --limit only the first documents are needed: the shards read those as they go (and keep them).
            inputs, base = compiled.plan.spec.inputs, Path(compiled.plan.base_dir)
            read, tasks = ingest_on_ray(ray, inputs, base, IngestStore(store_path(cache)))
        if read:
            print(f"ingestion: {read} document file(s) read and chunked as {tasks} Ray task(s)", file=sys.stderr)
        count = max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(run_shard)
        cap = options.max_usd or compiled.plan.spec.max_usd
        flags = {"offline": options.offline, "resume": options.resume, "limit": options.limit}
        flags["max_usd"] = cap / count if cap is not None else None  # an even share each, so the sum stays under
        spec_file = str(Path(compiled.plan.spec_file).resolve())
        refs = [task.remote(spec_file, index, count, flags, board) for index in range(count)]
        names = [step.name for step in compiled.plan.spec.steps]
        polled = Polled(lambda: ray.get(board.read.remote()), names, count)
        shards = run_sync(lambda: _watch(refs, polled, options.interactive))
    finally:
        if started_here:
            ray.shutdown()
    merge_caches([Path(shard["cache"]) for shard in shards], cache)
    release = Build(compiled, dataclasses.replace(options, offline=True, probe=False, resume=True))
    result = release.run()
    # What this run asked is what the shards asked (the release only replays their answers), in the time it all took.
    result.requests = sum(shard["requests"] for shard in shards)
    for usage in result.usage:
        usage.requests_this_run = sum(shard["asked"].get(usage.name, (0, 0))[0] for shard in shards)
        usage.cached_calls = sum(shard["asked"].get(usage.name, (0, 0))[1] for shard in shards)
    result.wall_s = time.monotonic() - started
    return release, result
