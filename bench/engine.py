"""The LLM runtime at full concurrency: 10,000 generate calls against a local server with a fixed 200 ms latency.

For each concurrency level, the runtime runs as a build runs it (rendering, requests, cache, parsing, validation and
each item's file in `debug_outputs/`) and again without the debug files. Wall time is printed as a ratio to the ideal
(`calls x latency / concurrency`), beside two baselines run in the same process on the same passages: the client
floor (our backend's raw requests through the `openai` client under a semaphore, with no rendering, cache, parsing
or bookkeeping: no runtime built on that client can beat it) and the bare client as a user would call it
(`chat.completions.create`). Peak memory (max RSS) is printed per run, and one level is repeated with a fifth of the
items to show memory does not grow with the number of items. The server runs in its own process so that it does not
compete with the client for the interpreter.

Run: `python bench/engine.py [--calls N] [--levels 64,256,1024]` (or `make bench`). `--shards 1,2,4,8` prints
instead the wall time against the ideal with the calls and the concurrency split over N local shard processes (as
`build --shard I/N` splits them), each with its own cache. The last line of the default table is the cached rerun:
20,000 calls replayed from stored items against the same replayed call by call.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))  # the fake OpenAI-compatible server lives with the tests

LATENCY_S = 0.2
BODY = (REPO / "samples" / "transcontinental-railroad.txt").read_text(encoding="utf-8")  # ~1.5 kB, realistic
ANSWER = (
    "<initial_question>When did the lines meet?</initial_question><flawed_answer>In 1868.</flawed_answer>"
    "<followup_confirmation>Are you sure?</followup_confirmation><correct_answer>No: on May 10, 1869.</correct_answer>"
)


def serve(port_queue: multiprocessing.Queue) -> None:
    from fake_openai import FakeOpenAI, Reply, ServerThread

    fake = FakeOpenAI(
        responder=lambda body, n: Reply(ANSWER, delay_s=LATENCY_S, prompt_tokens=100, completion_tokens=50)
    )
    fake.requests = _Counter()  # type: ignore[assignment]  # keep the server's memory flat too
    ServerThread(fake).start()
    port_queue.put(fake.base_url)
    while True:
        time.sleep(3600)


class _Counter(list):
    def append(self, item: object) -> None:  # count only
        pass


def _items(count: int):
    from corrigenda.ingest.corpus import Chunk
    from corrigenda.runtime.item import Item

    for index in range(count):
        text = _passage(index)
        chunk = Chunk("bench.txt", "bench.txt", "Bench", index, text, 0, len(text), 0, 20, f"{index:064x}")
        yield Item(index, chunk, chunk.variables())


async def run_runtime(
    base_url: str,
    calls: int,
    concurrency: int,
    work_dir: Path,
    debug: bool = True,
    results: bool = True,
    debug_into: str = "debug_outputs",
) -> float:
    """What a build does per call: render, request, cache, parse, validate, and (`debug`) append the item's debug
    line to `debug_into`. With `results`, finished items are stored, and found again on a rerun in the same
    `work_dir`, their debug lines taken from `debug_outputs` (the previous release's, as a build does)."""
    from corrigenda.compiler.spec import ModelSpec, StepSpec
    from corrigenda.runtime.cache import CallCache
    from corrigenda.runtime.caller import Caller
    from corrigenda.runtime.item import ACCEPTED
    from corrigenda.runtime.openai_backend import OpenAIBackend
    from corrigenda.runtime.pipeline import Pipeline
    from corrigenda.runtime.results import ItemResults
    from corrigenda.runtime.steps import StepRunner
    from corrigenda.templating import load_prompt

    model = ModelSpec(base_url=base_url, model="bench", concurrency=concurrency, timeout_s=120)
    caller = Caller("large", model, OpenAIBackend("large", model, base_url), CallCache(work_dir / "calls.sqlite"))
    step = StepSpec(name="generate", kind="generate", model="large", prompt="generate.yaml")
    runner = StepRunner(step, load_prompt(REPO / "prompts" / "generate.yaml"), caller, model.sampling)
    accepted = [0]

    def count(item):
        accepted[0] += item.outcome == ACCEPTED

    # A build also keeps each finished item's conversation for the output file; the runtime itself keeps nothing.
    debug_dir = work_dir / debug_into if debug else None
    stored = ItemResults(caller.cache, "bench", [runner], work_dir / "debug_outputs") if results else None
    pipeline = Pipeline([runner], concurrency, debug_dir, on_item_done=count, collect=False, results=stored)
    started = time.perf_counter()
    await pipeline.run(_items(calls))
    elapsed = time.perf_counter() - started
    await caller.backend.close()
    caller.cache.close()
    assert accepted[0] == calls, f"only {accepted[0]} of {calls} accepted"
    return elapsed


def _passage(index: int) -> str:
    return f"Passage {index}. {BODY}"


async def _fire(calls: int, concurrency: int, one) -> float:
    """`calls` coroutines with at most `concurrency` running, scheduled a little ahead like the runtime's window."""
    slots = asyncio.Semaphore(concurrency)

    async def bounded(index: int) -> None:
        async with slots:
            await one(index)

    started = time.perf_counter()
    pending: set[asyncio.Future] = set()
    for index in range(calls):  # bounded, so a baseline is not penalised by 10,000 waiting tasks
        if len(pending) >= concurrency * 2:
            _, pending = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
        pending.add(asyncio.ensure_future(bounded(index)))
    await asyncio.gather(*pending)
    return time.perf_counter() - started


async def run_floor(base_url: str, calls: int, concurrency: int) -> float:
    """The client's floor: our backend's requests (the openai client's raw `post()`, same transport and headers) on
    the same passages, with no prompt rendering, cache, parsing or bookkeeping."""
    from corrigenda.compiler.spec import ModelSpec, Sampling
    from corrigenda.runtime.openai_backend import OpenAIBackend
    from corrigenda.runtime.request import Request

    model = ModelSpec(base_url=base_url, model="bench", concurrency=concurrency, timeout_s=120)
    backend = OpenAIBackend("large", model, base_url)
    sampling = Sampling()

    async def one(index: int) -> None:
        messages = [{"role": "user", "content": _passage(index)}]
        await backend.complete(Request("generate", "generate", str(index), 0, messages, sampling))

    elapsed = await _fire(calls, concurrency, one)
    await backend.close()
    return elapsed


async def run_bare(base_url: str, calls: int, concurrency: int) -> float:
    """What a user would write: `chat.completions.create` on the bare openai client, same transport, same passages."""
    import openai

    from corrigenda.runtime.openai_backend import http_client

    client = openai.AsyncOpenAI(
        base_url=base_url, api_key="x", max_retries=0, http_client=http_client(concurrency, 120)
    )

    async def one(index: int) -> None:
        await client.chat.completions.create(model="bench", messages=[{"role": "user", "content": _passage(index)}])

    elapsed = await _fire(calls, concurrency, one)
    await client.close()
    return elapsed


def client_main(base_url: str, calls: int, concurrency: int, baselines: bool) -> None:
    from corrigenda.runtime.pipeline import fewer_collections

    with tempfile.TemporaryDirectory() as tmp:
        runtime_s = asyncio.run(run_runtime(base_url, calls, concurrency, Path(tmp)))
    peak_mib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    result = {"runtime_s": runtime_s, "peak_mib": peak_mib}
    if baselines:
        with tempfile.TemporaryDirectory() as tmp:
            result["no_debug_s"] = asyncio.run(run_runtime(base_url, calls, concurrency, Path(tmp), debug=False))
        with fewer_collections():  # the runtime's own garbage-collection pacing, so the comparison is like for like
            result["floor_s"] = asyncio.run(run_floor(base_url, calls, concurrency))
            result["bare_s"] = asyncio.run(run_bare(base_url, calls, concurrency))
    print(json.dumps(result))


def rerun_main(base_url: str, calls: int, concurrency: int) -> None:
    """A finished run replayed in the same folder, each rerun writing a new debug folder as a build's staging
    release does: call by call (no stored items, every debug line encoded and written again), then from the stored
    items (one query per batch, the previous `debug_outputs/STEP.jsonl` linked). Zero requests either way."""
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run_runtime(base_url, calls, concurrency, Path(tmp)))
        call_by_call = asyncio.run(
            run_runtime(base_url, calls, concurrency, Path(tmp), results=False, debug_into="debug_call_by_call")
        )
        stored = asyncio.run(run_runtime(base_url, calls, concurrency, Path(tmp), debug_into="debug_rerun"))
        linked = (Path(tmp) / "debug_rerun" / "generate.jsonl").read_bytes()
        assert linked == (Path(tmp) / "debug_outputs" / "generate.jsonl").read_bytes(), "debug lines not reused"
    print(json.dumps({"call_by_call_s": call_by_call, "stored_s": stored}))


def shard_main(base_url: str, calls: int, concurrency: int, start_at: float) -> None:
    """One shard's client: its share of the calls and of the concurrency, started at the same moment as the others
    (the interpreter's start-up is not counted), in a folder (and cache) of its own."""
    with tempfile.TemporaryDirectory() as tmp:
        time.sleep(max(0.0, start_at - time.time()))
        asyncio.run(run_runtime(base_url, calls, concurrency, Path(tmp)))
        print(json.dumps({"end": time.time()}))


def _ray_shard(base_url: str, calls: int, concurrency: int, start_at: float) -> float:
    """One shard's client as a Ray task; returns when it finished."""
    with tempfile.TemporaryDirectory() as tmp:
        time.sleep(max(0.0, start_at - time.time()))
        asyncio.run(run_runtime(base_url, calls, concurrency, Path(tmp)))
        return time.time()


def measure_shards(base_url: str, calls: int, concurrency: int, shards: int, use_ray: bool = False) -> float:
    """Wall time of `shards` local client processes (or Ray tasks), each with 1/shards of the calls and of the
    concurrency."""
    start_at = time.time() + 3.0 + 0.3 * shards
    if use_ray:
        import ray

        task = ray.remote(num_cpus=0)(_ray_shard)
        ends = ray.get([task.remote(base_url, calls // shards, concurrency // shards, start_at) for _ in range(shards)])
        return max(ends) - start_at
    argv = [sys.executable, __file__, "--shard-client", base_url, str(calls // shards), str(concurrency // shards)]
    processes = [subprocess.Popen([*argv, repr(start_at)], stdout=subprocess.PIPE, text=True) for _ in range(shards)]
    ends = [json.loads(p.communicate()[0].strip().splitlines()[-1])["end"] for p in processes]
    return max(ends) - start_at


def measure(base_url: str, calls: int, concurrency: int, baselines: bool = True) -> dict:
    """One client process per run, so each peak-memory figure is its own."""
    output = subprocess.run(
        [sys.executable, __file__, "--client", base_url, str(calls), str(concurrency), str(int(baselines))],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=10_000)
    parser.add_argument("--levels", default="64,256,1024")
    parser.add_argument("--client", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--rerun-client", nargs=3, help=argparse.SUPPRESS)
    parser.add_argument("--shard-client", nargs=4, help=argparse.SUPPRESS)
    parser.add_argument("--shards", help="e.g. 1,2,4,8: only the table of local shard processes against the ideal")
    parser.add_argument("--ray", action="store_true", help="with --shards: the shards as tasks on a local Ray instance")
    parser.add_argument("--rerun-calls", type=int, default=20_000, help="calls in the cached-rerun row")
    args = parser.parse_args()
    if args.rerun_client:
        base_url, calls, concurrency = args.rerun_client
        rerun_main(base_url, int(calls), int(concurrency))
        return
    if args.shard_client:
        base_url, calls, concurrency, start_at = args.shard_client
        shard_main(base_url, int(calls), int(concurrency), float(start_at))
        return
    if args.client:
        base_url, calls, concurrency, baselines = args.client
        client_main(base_url, int(calls), int(concurrency), baselines == "1")
        return
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    base_url = queue.get(timeout=30)
    print(f"{args.calls:,} generate calls, {LATENCY_S * 1000:.0f} ms latency per call, server in its own process")
    if args.shards:
        if args.ray:
            import ray

            ray.init(include_dashboard=False, configure_logging=False, log_to_driver=False)
        levels = [int(level) for level in args.levels.split(",")]
        shard_table(base_url, args.calls, levels, args.shards, args.ray)
        server.terminate()
        return
    print(f"{'concurrency':>11} {'ideal s':>8} {'runtime s':>10} {'vs ideal':>9} {'no debug s':>11} {'vs ideal':>9} "
          f"{'floor s':>8} {'vs ideal':>9} "
          f"{'bare client s':>14} {'vs bare':>8} {'peak MiB':>9}")  # fmt: skip
    levels = [int(level) for level in args.levels.split(",")]
    for concurrency in levels:
        ideal = args.calls * LATENCY_S / concurrency
        result = measure(base_url, args.calls, concurrency)
        print(
            f"{concurrency:>11} {ideal:>8.2f} {result['runtime_s']:>10.2f} {result['runtime_s'] / ideal:>9.2f} "
            f"{result['no_debug_s']:>11.2f} {result['no_debug_s'] / ideal:>9.2f} "
            f"{result['floor_s']:>8.2f} {result['floor_s'] / ideal:>9.2f} "
            f"{result['bare_s']:>14.2f} {result['runtime_s'] / result['bare_s']:>8.2f} "
            f"{result['peak_mib']:>9.0f}"
        )
    rerun = json.loads(
        subprocess.run(
            [sys.executable, __file__, "--rerun-client", base_url, str(args.rerun_calls), str(levels[-1])],
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    print(
        f"cached rerun of {args.rerun_calls:,} calls (zero requests): {rerun['stored_s']:.2f} s from stored items, "
        f"{rerun['call_by_call_s']:.2f} s call by call ({rerun['call_by_call_s'] / rerun['stored_s']:.1f}x)"
    )
    small = max(args.calls // 5, 1)
    flat = measure(base_url, small, levels[0], baselines=False)
    print(f"memory with {small:,} calls at concurrency {levels[0]}: {flat['peak_mib']:.0f} MiB (compare the first row)")
    server.terminate()


def shard_table(base_url: str, calls: int, levels: list[int], shards_arg: str, use_ray: bool = False) -> None:
    """Wall time against the ideal with the calls and the concurrency split over N local shard processes."""
    counts = [int(n) for n in shards_arg.split(",")]
    kind = "Ray tasks on a local instance" if use_ray else "local processes"
    print(f"{os.cpu_count()} cores; each cell: wall s (ratio to the ideal) with N shards as {kind}")
    print(f"{'in flight':>9} {'ideal s':>8} " + " ".join(f"{f'N={n}':>14}" for n in counts))
    for level in levels:
        ideal = calls * LATENCY_S / level
        cells = []
        for shards in counts:
            wall = measure_shards(base_url, calls, level, shards, use_ray)
            cells.append(f"{wall:6.2f} ({wall / ideal:4.2f})")
        print(f"{level:>9} {ideal:>8.2f} " + " ".join(f"{cell:>14}" for cell in cells))


if __name__ == "__main__":
    main()
