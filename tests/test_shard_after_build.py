"""Moving from one process to shards (or `--ray`) after a build has run pays for nothing twice: a shard answers from
the spec's own cache before asking, and keeps a copy, so its cache alone still holds every answer of its shard."""

from __future__ import annotations

import os
from pathlib import Path

from conftest import llm_spec

from corrigenda.cli import main
from corrigenda.lock import BuildLock
from corrigenda.runtime.cache import CallCache


def _cache(spec: Path) -> Path:
    return spec.parent / ".corrigenda-cache" / "calls.sqlite"


def test_shards_after_a_finished_build_request_nothing_and_still_merge_to_a_release(project, fake_server, tmp_path):
    docs = project.root / "docs"
    for index in range(8):
        (docs / f"d{index}.txt").write_text(f"Survey {index} of the valley was finished in {1800 + index}.\n")
    spec = project(llm_spec(fake_server.base_url))
    assert main(["build", str(spec), "--no-probe", "--out", str(tmp_path / "one")]) == 0
    paid = fake_server.count
    assert paid > 0
    shards = []
    for index in range(2):
        assert main(["build", str(spec), "--shard", f"{index}/2", "--no-probe"]) == 0
        shards.append(_cache(spec).with_name(f"calls.shard-{index}-of-2.sqlite"))
    assert fake_server.count == paid  # every call was already paid for by the one-process build
    merged = tmp_path / "merged.sqlite"
    assert main(["cache", "merge", *map(str, shards), "-o", str(merged)]) == 0
    assert CallCache(merged).count() == CallCache(_cache(spec)).count()  # the shards' caches hold every answer


def test_a_shard_never_writes_the_specs_cache(project, fake_server):
    spec = project(llm_spec(fake_server.base_url))
    assert main(["build", str(spec), "--no-probe"]) == 0
    before = _cache(spec).read_bytes()
    assert main(["build", str(spec), "--shard", "0/1", "--no-probe"]) == 0
    assert _cache(spec).read_bytes() == before


def test_a_shard_and_a_whole_build_of_one_spec_never_run_at_once(project, fake_server, capsys):
    """Both ran: the shard paid for every call the whole build was paying for at the same time (a build and a shard
    of 97 chunks: 423 requests instead of 289)."""
    spec = project(llm_spec(fake_server.base_url))
    cache = _cache(spec)
    cache.parent.mkdir()
    lock = cache.with_name(f".{cache.name}.lock")
    with BuildLock(lock, cache):  # a whole build of the spec is running
        assert main(["build", str(spec), "--shard", "0/2", "--no-probe"]) == 2
        err = capsys.readouterr().err
        assert f"another build (pid {os.getpid()}) is writing the cache {cache}" in err
    with BuildLock(lock, cache, shared=True):  # a shard is running
        assert main(["build", str(spec), "--shard", "1/2", "--no-probe"]) == 0  # shards run side by side
        assert main(["build", str(spec), "--no-probe"]) == 2  # the whole build waits for them
        assert f"is writing {cache}" in capsys.readouterr().err
    assert main(["build", str(spec), "--no-probe"]) == 0
