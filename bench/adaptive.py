"""Adaptive concurrency must not collapse: 5,000 calls at 256 in flight against a server answering 10% of requests
with 429 (Retry-After: 1) and 5% with 500, at 200 ms latency, once with the adaptive limit and once with the limit
fixed, in the same process against the same server. Prints throughput and the ratio adaptive / fixed (target: at
least 0.80), and the lowest limit the adaptive run reached.

Run: `python bench/adaptive.py [--calls N] [--concurrency C]`.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing
import random
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "tests"))


def serve(port_queue: multiprocessing.Queue) -> None:
    from fake_openai import FakeOpenAI, Reply, ServerThread

    rng = random.Random(7)

    def responder(body, n):
        draw = rng.random()
        if draw < 0.10:
            return Reply(status=429, retry_after=1, delay_s=0.2)
        if draw < 0.15:
            return Reply(status=500, delay_s=0.2)
        return Reply("The passage states facts.\nVERDICT: SUITABLE", delay_s=0.2)

    fake = FakeOpenAI(responder=responder)
    ServerThread(fake).start()
    port_queue.put(fake.base_url)
    while True:
        time.sleep(3600)


async def run(base_url: str, calls: int, concurrency: int, adaptive: bool, work: Path) -> tuple[float, int]:
    from corrigenda.compiler.spec import ModelSpec, Sampling
    from corrigenda.runtime.cache import CallCache
    from corrigenda.runtime.caller import Caller, StepStats
    from corrigenda.runtime.openai_backend import OpenAIBackend
    from corrigenda.runtime.request import Request

    model = ModelSpec(
        base_url=base_url, model="m", concurrency=concurrency, adaptive_concurrency=adaptive, max_attempts=20,
        backoff_s=0.5, backoff_max_s=4, timeout_s=60,
    )  # fmt: skip
    caller = Caller("m", model, OpenAIBackend("m", model, base_url), CallCache(work / f"{adaptive}.sqlite"))
    stats, lowest = StepStats(), [concurrency]

    async def one(i: int) -> None:
        request = Request("filter", "filter", f"d#{i}", 0, [{"role": "user", "content": f"p{i}"}], Sampling())
        await caller.call(request, stats)
        lowest[0] = min(lowest[0], caller.slots.limit)

    started = time.perf_counter()
    await asyncio.gather(*(one(i) for i in range(calls)))
    elapsed = time.perf_counter() - started
    await caller.backend.close()
    caller.cache.close()
    return elapsed, lowest[0]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, default=5_000)
    parser.add_argument("--concurrency", type=int, default=256)
    args = parser.parse_args()
    queue: multiprocessing.Queue = multiprocessing.Queue()
    server = multiprocessing.Process(target=serve, args=(queue,), daemon=True)
    server.start()
    base_url = queue.get(timeout=30)
    with tempfile.TemporaryDirectory() as tmp:
        fixed, _ = asyncio.run(run(base_url, args.calls, args.concurrency, False, Path(tmp)))
        adaptive, lowest = asyncio.run(run(base_url, args.calls, args.concurrency, True, Path(tmp)))
    server.terminate()
    print(f"{args.calls:,} calls at {args.concurrency} in flight, 10% 429 (Retry-After 1), 5% 500, 200 ms latency")
    print(f"fixed limit:    {fixed:6.2f} s, {args.calls / fixed:7.1f} calls/s")
    print(f"adaptive limit: {adaptive:6.2f} s, {args.calls / adaptive:7.1f} calls/s, lowest limit {lowest}")
    print(f"adaptive / fixed throughput: {fixed / adaptive:.2f} (target >= 0.80)")


if __name__ == "__main__":
    main()
