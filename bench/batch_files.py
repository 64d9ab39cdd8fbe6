"""Writing batch request files and reading result files for many calls: throughput, and peak memory flat in the
number of calls.

The measured path is the real one: every call recorded in the cache database (`BatchStore.want`, as a pass over the
items does), then streamed into request files split at the provider's limits (`to_send` -> `write_request_files`);
and a result file read into the cache (`ingest_file`: parse, build the completion, store it). The baseline, in the
same process on the same lines, is the floor of any implementation: `json.dumps` of each line to a file, and
`json.loads` of each result line. Peak Python memory (tracemalloc) is measured in a separate run, since tracing slows
everything down; it should not grow with the number of calls. tracemalloc does not see SQLite's own allocations, so
each size also runs once in a fresh child process that reports its peak RSS, beside what it held after the imports.

Run: `python bench/batch_files.py [--calls 10000 100000] [--prompt-chars 2000]`
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
import tracemalloc
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from corrigenda.runtime.batch_files import request_line, write_request_files  # noqa: E402
from corrigenda.runtime.batch_store import BatchStore  # noqa: E402
from corrigenda.runtime.batcher import ingest_file  # noqa: E402
from corrigenda.runtime.cache import CallCache, call_key  # noqa: E402


def body(index: int, prompt_chars: int) -> dict:
    text = (f"Passage {index}: " + "the survey of the northern section was finished in 1851. " * 64)[:prompt_chars]
    return {"model": "m", "max_tokens": 1024, "messages": [{"role": "user", "content": text}]}


def result_row(key: str, index: int) -> str:
    answer = f"<initial_question>What year, passage {index}?</initial_question> " * 8
    payload = {
        "id": f"c{index}",
        "object": "chat.completion",
        "choices": [{"index": 0, "message": {"role": "assistant", "content": answer}, "finish_reason": "stop"}],
        "usage": {"prompt_tokens": 500, "completion_tokens": 120, "total_tokens": 620},
    }
    response = {"status_code": 200, "request_id": f"r{index}", "body": payload}
    return json.dumps({"id": f"r{index}", "custom_id": key, "response": response, "error": None})


def ours(calls: int, prompt_chars: int, folder: Path) -> tuple[float, float]:
    """Seconds to record and write the request files, seconds to read the results into the cache."""
    cache = CallCache(folder / "calls.sqlite")
    store = BatchStore(cache.db)
    started = time.perf_counter()
    with cache.db:
        cache.db.execute("BEGIN")  # a pass records its calls as it goes; one transaction here, as in a fast pass
        for index in range(calls):
            key = call_key({"i": index})
            store.want(
                key,
                "m",
                "generate",
                f"item-{index}",
                request_line(key, "/v1/chat/completions", body(index, prompt_chars)),
            )
    written = sum(f.requests for f in write_request_files(store.to_send("m"), folder / "requests", "m"))
    write_s = time.perf_counter() - started
    assert written == calls
    results = folder / "results.jsonl"
    with open(results, "w", encoding="utf-8") as out:
        for index in range(calls):
            out.write(result_row(call_key({"i": index}), index) + "\n")
    started = time.perf_counter()
    ingest_file(cache, store, results)
    read_s = time.perf_counter() - started
    assert cache.count() == calls
    cache.close()
    return write_s, read_s


def baseline(calls: int, prompt_chars: int, folder: Path) -> tuple[float, float]:
    started = time.perf_counter()
    with open(folder / "plain.jsonl", "w", encoding="utf-8") as out:
        for index in range(calls):
            key = call_key({"i": index})
            out.write(request_line(key, "/v1/chat/completions", body(index, prompt_chars)) + "\n")
    write_s = time.perf_counter() - started
    started = time.perf_counter()
    with open(folder / "results.jsonl", "rb") as lines:
        for line in lines:
            json.loads(line)
    return write_s, time.perf_counter() - started


def peak_kib(calls: int, prompt_chars: int) -> float:
    with tempfile.TemporaryDirectory() as folder:
        tracemalloc.start()
        ours(calls, prompt_chars, Path(folder))
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
    return peak / 2**10


def peak_rss_mib(calls: int, prompt_chars: int) -> tuple[float, float]:
    """Peak RSS of a fresh process running `ours` once (SQLite's memory included), and its peak after the imports."""
    child = [sys.executable, __file__, "--rss-child", str(calls), "--prompt-chars", str(prompt_chars)]
    peak, imports = subprocess.run(child, check=True, capture_output=True, text=True).stdout.split()
    return float(peak), float(imports)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--calls", type=int, nargs="+", default=[10_000, 100_000])
    parser.add_argument("--prompt-chars", type=int, default=2000)
    parser.add_argument("--rss-child", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.rss_child:
        imports = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10  # KiB on Linux
        with tempfile.TemporaryDirectory() as folder:
            ours(args.rss_child, args.prompt_chars, Path(folder))
        print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**10, imports)
        return
    print(
        "| calls | request files: calls/s (ratio to plain json.dumps) | results into the cache: calls/s (ratio to "
        "json.loads) | peak Python memory | peak RSS (after imports) |"
    )
    print("|---|---|---|---|---|")
    for calls in args.calls:
        with tempfile.TemporaryDirectory() as folder:
            write_s, read_s = ours(calls, args.prompt_chars, Path(folder))
            base_write, base_read = baseline(calls, args.prompt_chars, Path(folder))
        peak = peak_kib(calls, args.prompt_chars)
        rss, imports = peak_rss_mib(calls, args.prompt_chars)
        print(
            f"| {calls:,} | {calls / write_s:,.0f} ({write_s / base_write:.1f}x) | {calls / read_s:,.0f} "
            f"({read_s / base_read:.1f}x) | {peak:,.0f} KiB | {rss:.0f} MiB ({imports:.0f}) |",
            flush=True,
        )


if __name__ == "__main__":
    main()
