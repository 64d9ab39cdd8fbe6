"""`build --ray`: shards as tasks on a local Ray instance (the machine's CPUs), caches merged, one release identical
to a one-process build. Skipped where Ray is not installed (`pip install 'corrigenda[ray]'`; CI installs it)."""

from __future__ import annotations

import dataclasses
import re
import socket
import time
from pathlib import Path

import pytest
from conftest import llm_spec, offline_project
from fake_openai import default_reply

import corrigenda.ray_executor as executor
from corrigenda.cli import main
from corrigenda.compiler.spec import ModelSpec
from corrigenda.ray_executor import shard_limits

ray = pytest.importorskip("ray")


def _release(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "debug_outputs" not in p.parts
    }


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()


def test_each_shard_gets_an_even_share_of_every_limit():
    model = ModelSpec(base_url="http://x/v1", model="m", concurrency=10, rpm=100, tpm=None)
    assert shard_limits(model, 4) == {"concurrency": 3, "rpm": 25, "tpm": None}
    assert shard_limits(model, 64)["concurrency"] == 1  # never 0


BROKEN_PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 9 0 R >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


def test_a_ray_build_releases_what_one_process_releases(tmp_path, local_ray, capsys):
    single = offline_project(tmp_path / "single")
    (single.parent.parent / "samples" / "broken.pdf").write_bytes(BROKEN_PDF)
    assert main(["build", str(single), "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "single-out")  # both built at one path, which the card names
    spread = offline_project(tmp_path / "ray")
    (spread.parent.parent / "samples" / "broken.pdf").write_bytes(BROKEN_PDF)
    capsys.readouterr()
    assert main(["build", str(spread), "--ray", "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "ray-out")  # both built at one path, which the card names
    assert _release(tmp_path / "ray-out") == _release(tmp_path / "single-out")
    shown = capsys.readouterr()
    # Every document but the JSONL file, read once as Ray tasks (a PDF or DOCX each, the text files together); the
    # broken one named, the rest built.
    assert "ingestion: 5 document file(s) read and chunked as 4 Ray task(s)" in shown.err
    assert "ingestion: skipped ../samples/broken.pdf" in shown.out
    caches = sorted((spread.parent / ".corrigenda-cache").glob("calls.shard-*-of-2.sqlite"))
    assert len(caches) == 2  # one shard per CPU of the instance
    capsys.readouterr()
    assert main(["build", str(spread), "--ray", "--out", str(tmp_path / "out")]) == 0
    assert "read and chunked" not in capsys.readouterr().err  # every document already in the ingest store
    assert _release(tmp_path / "out") == _release(tmp_path / "single-out")


def test_a_ray_build_on_models_pays_each_call_once(project, fake_server, tmp_path, local_ray):
    for index in range(8):
        (project.root / "docs" / f"d{index}.txt").write_text(f"Survey {index} was finished in {1800 + index}. " * 12)
    spec = project(llm_spec(fake_server.base_url))
    assert main(["build", str(spec), "--ray", "--no-probe", "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "ray-out")  # both built at one path, which the card names
    asked = fake_server.count
    (spec.parent / ".corrigenda-cache" / "calls.sqlite").unlink()
    assert main(["build", str(spec), "--offline", "--out", str(tmp_path / "check-out")]) == 2  # the cache is gone
    fake_server.requests.clear()
    assert main(["build", str(spec), "--no-probe", "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "single-out")  # both built at one path, which the card names
    assert fake_server.count == asked  # the shards together asked exactly what one process asks
    assert _release(tmp_path / "ray-out") == _release(tmp_path / "single-out")


def _shard_workers() -> list[int]:
    """Pids of this test's Ray workers that are running a shard (Ray names the process after its task)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                if b"ray::run_shard" in (entry / "cmdline").read_bytes():
                    pids.append(int(entry.name))
            except OSError:
                continue
    return pids


def test_a_killed_worker_is_retried_and_pays_again_only_for_calls_in_flight(project, fake_server, tmp_path, local_ray):
    import os
    import signal

    for index in range(8):
        (project.root / "docs" / f"d{index}.txt").write_text(f"Survey {index} was finished in {1800 + index}. " * 12)
    spec = project(llm_spec(fake_server.base_url))
    killed: list[int] = []

    def responder(body, n):
        if n == 8 and not killed:
            workers = _shard_workers()
            if workers:
                killed.append(workers[0])
                os.kill(workers[0], signal.SIGKILL)
        return default_reply(body, n)

    fake_server.responder = responder
    assert main(["build", str(spec), "--ray", "--no-probe", "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "ray-out")  # both built at one path, which the card names
    assert killed, "no shard worker was found to kill"
    asked = fake_server.count
    fake_server.responder = default_reply
    fake_server.requests.clear()
    (spec.parent / ".corrigenda-cache" / "calls.sqlite").unlink()
    for shard_cache in (spec.parent / ".corrigenda-cache").glob("calls.shard-*"):
        shard_cache.unlink()
    assert main(["build", str(spec), "--no-probe", "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "single-out")  # both built at one path, which the card names
    assert asked - fake_server.count <= 4  # at most the killed shard's calls in flight (2 per model) were paid twice
    assert _release(tmp_path / "ray-out") == _release(tmp_path / "single-out")


def _progress_lines(text: str) -> list[str]:
    return [line for line in text.splitlines() if re.match(r"^\[\s*\d+s\] chunks read", line)]


def test_the_driver_shows_one_display_summed_over_the_shards(
    project, fake_server, tmp_path, local_ray, capsys, monkeypatch
):
    """Lines a user sees in a CI log: the shards' figures summed, streamed while the shards run."""
    for index in range(8):
        (project.root / "docs" / f"d{index}.txt").write_text(f"Survey {index} was finished in {1800 + index}. " * 12)
    spec = project(llm_spec(fake_server.base_url))
    # slow answers (each shard works for several seconds), so lines are streamed mid-build even on a loaded machine
    fake_server.responder = lambda body, n: dataclasses.replace(default_reply(body, n), delay_s=0.8)
    monkeypatch.setattr(executor, "LOG_EVERY_S", 0.3)  # a line every 0.3 s, not 10 s, in this short build
    assert main(["build", str(spec), "--ray", "--no-probe", "--out", str(tmp_path / "out")]) == 0
    shown = _progress_lines(capsys.readouterr().err)
    release = shown.pop()  # the driver's offline release build replays every answer from the merged cache
    assert "filter: 9 of 9 done" in release and "9 cached" in release
    assert len(shown) >= 2, shown  # streamed while the shards ran, not only at the end
    # items done over all steps: it grew while the shards worked (under load the filter alone may be done already)
    done = [sum(int(n) for n in re.findall(r"\w+: (\d+) of \S+ done", line)) for line in shown]
    finished = sum(int(n) for n in re.findall(r"\w+: (\d+) of \S+ done", shown[-1]))
    assert done == sorted(done) and done[0] < finished, shown
    last = shown[-1]
    assert last.startswith("[") and "chunks read 9 of 9" in last  # both shards' chunks, one total
    assert "filter: 9 of 9 done, 0 in flight, 0 failed" in last and ", 0 cached" in last
    assert "4 concurrency limit" in last  # each shard's share (2 of the spec's 4) summed
    spend = re.compile(r"([\d,]+ tokens in, [\d,]+ tokens out, [\d.]+ USD so far)")
    assert spend.findall(last) == spend.findall(release)  # per step and in all: what the whole build's usage says
    assert float(re.search(r"all steps: ([\d.]+) USD", last)[1]) > 0


def test_a_limited_ray_build_releases_what_a_limited_one_process_build_releases(tmp_path, local_ray):
    single = offline_project(tmp_path / "single")
    assert main(["build", str(single), "--limit", "7", "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "single-out")  # both built at one path, which the card names
    spread = offline_project(tmp_path / "ray")
    assert main(["build", str(spread), "--ray", "--limit", "7", "--out", str(tmp_path / "out")]) == 0
    assert _release(tmp_path / "out") == _release(tmp_path / "single-out")  # the report stops where --limit did


def test_a_cluster_address_nobody_listens_at_is_named_in_seconds(tmp_path, capsys, monkeypatch):
    """`--ray 127.0.0.1:9` printed nothing and waited over two minutes inside ray.init."""
    monkeypatch.setattr(ray, "is_initialized", lambda: False)  # as in a fresh process, whatever other tests started
    spec = offline_project(tmp_path)
    with socket.socket() as unused:
        unused.bind(("127.0.0.1", 0))
        port = unused.getsockname()[1]
    started = time.monotonic()
    assert main(["build", str(spec), "--ray", f"127.0.0.1:{port}"]) == 2
    assert time.monotonic() - started < 10
    err = capsys.readouterr().err
    assert f"--ray 127.0.0.1:{port}: no Ray cluster answers at 127.0.0.1:{port}" in err and "ray start" in err
