"""`build --ray [ADDRESS]`: the shards of a build run as Ray tasks, then the driver merges their caches and releases.

No address starts a local Ray instance (one shard per CPU); an address (`ray://host:10001`, `auto`) joins a running
cluster, one shard per CPU of the cluster. Each shard gets an even share of every model's `concurrency`, `rpm` and
`tpm` (divided by the number of shards, rounded up, at least 1), so the cluster as a whole keeps the spec's limits
(a shard's adaptive limit moves within its share). A shard writes its own cache file beside `output.cache`, so the
workers must see the spec's folder (a local instance does; on a cluster, a shared filesystem). A worker that dies is
retried by Ray (up to `MAX_RETRIES` times): its shard starts again from its cache and pays again only for the calls
that were in flight. Each shard's progress lines reach the driver's terminal through Ray's log forwarding. Then the
driver merges the caches into `output.cache` and runs the ordinary offline build: gate, card, manifest, release.
"""

from __future__ import annotations

import dataclasses
import math
import sys
from pathlib import Path
from typing import Any

from corrigenda.errors import InputError, UsageError

MAX_RETRIES = 3


def shard_limits(model: Any, shards: int) -> dict[str, int | None]:
    """One shard's share of a model's limits."""

    def part(value: int | None) -> int | None:
        return None if value is None else max(1, math.ceil(value / shards))

    return {"concurrency": part(model.concurrency), "rpm": part(model.rpm), "tpm": part(model.tpm)}


def run_shard(spec_file: str, index: int, count: int, options: dict[str, Any]) -> dict[str, Any]:
    """In a Ray worker: one shard of the build, with its share of each model's limits."""
    from corrigenda.build import Build, BuildOptions
    from corrigenda.compiler.compile import compile_spec
    from corrigenda.runtime.shard import Shard

    compiled = compile_spec(Path(spec_file), for_build=not options["offline"])
    models = compiled.plan.spec.models
    for name, model in list(models.items()):
        models[name] = model.model_copy(update=shard_limits(model, count))
    shard_options = BuildOptions(
        offline=options["offline"],
        resume=options["resume"],
        limit=options["limit"],
        interactive=False,  # lines, not a live table: they are forwarded to the driver's terminal
        probe=False,  # the driver probed once
        shard=Shard(index, count),
        max_usd=options.get("max_usd"),
    )
    build = Build(compiled, shard_options)
    print(f"shard {index}/{count}: started", file=sys.stderr, flush=True)
    result = build.run()
    print(f"shard {index}/{count}: done, {result.requests} requests", file=sys.stderr, flush=True)
    return {"cache": str(result.out_dir), "requests": result.requests, "counts": result.counts}


def ray_build(compiled: Any, options: Any, address: str | None) -> Any:
    """Every shard as a Ray task, the caches merged, then the offline build that releases."""
    try:
        import ray
    except ImportError:
        raise InputError("--ray needs Ray, which is not installed", "pip install 'corrigenda[ray]'") from None
    from corrigenda.build import Build
    from corrigenda.runtime.cache_merge import merge_caches
    from corrigenda.runtime.probe import probe

    if options.batch:
        raise UsageError(
            "--ray cannot run a batch build (a batch belongs to the cache that sent it, and shard caches are merged)",
            "leave out --ray, or --batch",
        )
    if options.probe and not options.offline:
        probe(compiled.plan)  # once, before any worker starts
    started_here = not ray.is_initialized()
    if started_here:
        ray.init(address=address or None, include_dashboard=False, log_to_driver=True, configure_logging=False)
    try:
        count = max(1, int(ray.cluster_resources().get("CPU", 1)))
        task = ray.remote(num_cpus=1, max_retries=MAX_RETRIES)(run_shard)
        cap = options.max_usd or compiled.plan.spec.max_usd
        flags = {"offline": options.offline, "resume": options.resume, "limit": options.limit}
        flags["max_usd"] = cap / count if cap is not None else None  # an even share each, so the sum stays under
        spec_file = str(Path(compiled.plan.spec_file).resolve())
        shards = ray.get([task.remote(spec_file, index, count, flags) for index in range(count)])
    finally:
        if started_here:
            ray.shutdown()
    cache = Path(compiled.plan.base_dir) / compiled.plan.spec.output.cache
    merge_caches([Path(shard["cache"]) for shard in shards], cache)
    release = Build(compiled, dataclasses.replace(options, offline=True, probe=False, resume=True))
    result = release.run()
    result.requests = sum(shard["requests"] for shard in shards)
    return release, result
