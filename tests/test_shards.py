"""Shards and cache merge: N shard builds, their caches merged, and `build --offline` release exactly what one
process releases; a merge keeps one answer per key, the first, and counts the conflicts."""

from __future__ import annotations

import json
import sqlite3
import tempfile
from pathlib import Path

import pytest
from conftest import llm_spec, offline_project
from hypothesis import given, settings
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.errors import CacheError, InputError
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.cache_merge import merge_caches
from corrigenda.runtime.shard import Shard


def _release(out: Path) -> dict[str, bytes]:
    """The released files, debug outputs aside (they record which run paid for each call)."""
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "debug_outputs" not in p.parts
    }


def _cache(spec: Path) -> Path:
    return spec.parent / ".corrigenda-cache" / "calls.sqlite"


def _sharded_then_offline(spec: Path, shards: int, out: Path) -> list[Path]:
    caches = []
    for index in range(shards):
        assert main(["build", str(spec), "--shard", f"{index}/{shards}", "--no-probe"]) == 0
        caches.append(_cache(spec).with_name(f"calls.shard-{index}-of-{shards}.sqlite"))
    assert main(["cache", "merge", *map(str, caches), "-o", str(_cache(spec))]) == 0
    assert main(["build", str(spec), "--offline", "--out", str(out)]) == 0  # every answer is in the merge
    return caches


def test_a_sharded_heuristic_build_releases_what_one_process_releases(tmp_path):
    single = offline_project(tmp_path / "single")
    assert main(["build", str(single), "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "single-out")  # both built at one path, which the card names
    sharded = offline_project(tmp_path / "sharded")
    caches = _sharded_then_offline(sharded, 3, tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "sharded-out")  # both built at one path, which the card names
    assert _release(tmp_path / "sharded-out") == _release(tmp_path / "single-out")
    db = sqlite3.connect(_cache(sharded))
    assert db.execute("SELECT COUNT(*) FROM items").fetchone()[0] > 0  # the shards' finished items came along
    db.close()
    sizes = [CallCache(c).count() for c in caches]
    assert all(sizes) and sum(sizes) == CallCache(_cache(single)).count()  # disjoint shards, nothing asked twice


def test_sharded_llm_builds_pay_once_and_release_what_one_process_releases(project, fake_server, tmp_path):
    docs = project.root / "docs"
    for index in range(12):
        (docs / f"d{index}.txt").write_text(f"Survey {index} of the valley was finished in {1800 + index}.\n")
    spec = project(llm_spec(fake_server.base_url))
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    (tmp_path / "out").rename(tmp_path / "single-out")  # both built at one path, which the card names
    single_requests = fake_server.count
    _cache(spec).unlink()
    fake_server.requests.clear()
    _sharded_then_offline(spec, 4, tmp_path / "out")
    (tmp_path / "out").rename(tmp_path / "sharded-out")  # both built at one path, which the card names
    assert fake_server.kind_count("") <= single_requests  # model calls: each asked by exactly one shard
    assert _release(tmp_path / "sharded-out") == _release(tmp_path / "single-out")


def _write(path: Path, rows: dict[str, str]) -> Path:
    cache = CallCache(path)
    for key, answer in rows.items():
        cache.put(key, "generate", "doc#0", "large", {"answer": answer})
    cache.close()
    return path


@settings(max_examples=40, deadline=None)
@given(st.lists(st.dictionaries(st.sampled_from("abcdefgh"), st.sampled_from("xyz"), max_size=8), min_size=1,
                max_size=4))  # fmt: skip
def test_a_merge_keeps_one_answer_per_key_the_first_and_counts_conflicts(sources):
    with tempfile.TemporaryDirectory() as tmp:
        paths = [_write(Path(tmp) / f"s{i}.sqlite", rows) for i, rows in enumerate(sources)]
        report = merge_caches(paths, Path(tmp) / "merged.sqlite")
        expected: dict[str, str] = {}
        conflicts = 0
        for rows in sources:
            for key, answer in rows.items():
                conflicts += key in expected and expected[key] != answer
                expected.setdefault(key, answer)
        db = sqlite3.connect(Path(tmp) / "merged.sqlite")
        merged = {
            key: json.loads(response)["answer"] for key, response in db.execute("SELECT key, response FROM calls")
        }
        db.close()
        assert merged == expected and report.total == len(expected) and report.conflicts == conflicts


def test_merging_again_adds_nothing_and_sources_are_left_alone(tmp_path):
    a = _write(tmp_path / "a.sqlite", {"k1": "x", "k2": "y"})
    b = _write(tmp_path / "b.sqlite", {"k2": "z", "k3": "w"})
    before = b.read_bytes()
    first = merge_caches([a, b], tmp_path / "m.sqlite")
    assert [(s.added, s.conflicts) for s in first.sources] == [(2, 0), (1, 1)]
    again = merge_caches([a, b], tmp_path / "m.sqlite")
    assert [s.added for s in again.sources] == [0, 0] and again.total == 3
    assert b.read_bytes() == before


def test_a_newer_damaged_or_missing_source_is_refused_and_the_target_untouched(tmp_path, capsys):
    good = _write(tmp_path / "good.sqlite", {"k": "x"})
    newer = _write(tmp_path / "newer.sqlite", {"k2": "y"})
    db = sqlite3.connect(newer)
    db.execute("PRAGMA user_version=99")
    db.close()
    (tmp_path / "junk.sqlite").write_bytes(b"not a database at all" * 100)
    for bad, words in [
        (newer, "schema version 99"),
        (tmp_path / "junk.sqlite", "damaged"),
        (tmp_path / "no", "no such"),
    ]:
        assert main(["cache", "merge", str(good), str(bad), "-o", str(tmp_path / "m.sqlite")]) == 2
        assert words in capsys.readouterr().err
    assert not (tmp_path / "m.sqlite").exists()
    with pytest.raises(CacheError):
        merge_caches([good], good)


def test_a_merge_target_or_source_that_is_not_a_cache_names_the_option_to_change(tmp_path, capsys):
    """The target's errors spoke of a build ("set output.cache", "the answers in it are lost"), a folder given as a
    source was "no such file"."""
    good = _write(tmp_path / "good.sqlite", {"k": "x"})
    notes = tmp_path / "notes.txt"
    notes.write_text("my notes\n" * 50)
    for target, words in [(notes, "is not a SQLite database"), (tmp_path, "is a folder")]:
        assert main(["cache", "merge", str(good), "-o", str(target)]) == 2
        err = capsys.readouterr().err
        assert f"cannot merge into {target}: the cache at {target} {words}" in err
        assert "give -o a new file" in err and "output.cache" not in err and "lost" not in err
    assert notes.read_text() == "my notes\n" * 50
    assert main(["cache", "merge", str(tmp_path), "-o", str(tmp_path / "m.sqlite")]) == 2
    assert f"cannot merge {tmp_path}: a folder, not a cache file" in capsys.readouterr().err


def _disk_full_at(target: Path, monkeypatch) -> None:
    """SQLite's own "database or disk is full" for the merge's writes to `target`, as a full disk gives it: the
    connection may grow the file by a few pages only."""
    real = sqlite3.connect

    def connect(database, *args, **kwargs):
        db = real(database, *args, **kwargs)
        if str(database).startswith(target.resolve().as_uri()):
            db.execute(f"PRAGMA max_page_count = {db.execute('PRAGMA page_count').fetchone()[0] + 3}")
        return db

    monkeypatch.setattr(sqlite3, "connect", connect)


def test_a_merge_onto_a_full_disk_says_what_is_in_and_leaves_no_empty_cache(tmp_path, capsys, monkeypatch):
    small = _write(tmp_path / "small.sqlite", {"s1": "x"})
    big = _write(tmp_path / "big.sqlite", {f"b{i}": "y" * 500 + str(i) for i in range(200)})
    target = tmp_path / "m.sqlite"
    _disk_full_at(target, monkeypatch)
    assert main(["cache", "merge", str(big), "-o", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"merging {big} into {target} failed: database or disk is full" in err
    assert "nothing was merged and the new target was removed" in err and "Traceback" not in err
    assert not target.exists()
    assert main(["cache", "merge", str(small), str(big), "-o", str(target)]) == 2
    assert "1 of 2 sources are in it, each whole" in capsys.readouterr().err
    assert _rows(target) == 1  # the small source, whole; nothing of the big one
    monkeypatch.undo()  # space freed
    assert main(["cache", "merge", str(small), str(big), "-o", str(target)]) == 0
    assert _rows(target) == 201


def _rows(path: Path) -> int:
    cache = CallCache(path)
    try:
        return cache.count()
    finally:
        cache.close()


@given(st.text("0123456789abcdef", min_size=16, max_size=64), st.integers(1, 64))
def test_every_chunk_is_in_exactly_one_shard(content_hash, count):
    content_hash = content_hash.ljust(16, "0")
    assert sum(Shard(i, count).holds(content_hash) for i in range(count)) == 1


@pytest.mark.parametrize("text", ["3/3", "1", "a/b", "-1/2", "0/0"])
def test_a_bad_shard_is_refused_with_the_numbering(text):
    with pytest.raises(InputError, match="0 <= I < N"):
        Shard.parse(text)


def test_a_merge_keeps_batch_answers_but_not_the_sources_batch_bookkeeping(tmp_path):
    source = _write(tmp_path / "a.sqlite", {"k1": "from a batch", "k2": "online"})
    db = sqlite3.connect(source)
    db.execute("INSERT INTO batch_calls (key, model, step, item, line) VALUES ('k3', 'm', 'generate', 'i', '{}')")
    db.execute(
        "INSERT INTO batches (id, model, endpoint, input_file, status, requests, created, updated) "
        "VALUES ('batch_1', 'm', '/v1/chat/completions', 'file_1', 'in_progress', 1, 0, 0)"
    )
    db.commit()
    db.close()
    report = merge_caches([source], tmp_path / "m.sqlite")
    merged = sqlite3.connect(tmp_path / "m.sqlite")
    assert report.total == 2  # the answers, a batch's among them, are merged
    assert merged.execute("SELECT COUNT(*) FROM batch_calls").fetchone()[0] == 0  # the batch stays with its cache
    assert merged.execute("SELECT COUNT(*) FROM batches").fetchone()[0] == 0
    merged.close()


def test_a_cache_from_before_items_gains_the_table_and_keeps_its_batches(tmp_path):
    path = _write(tmp_path / "v2.sqlite", {"k1": "x"})
    db = sqlite3.connect(path)
    db.execute("DROP TABLE items")
    db.execute(
        "INSERT INTO batches (id, model, endpoint, input_file, status, requests, created, updated) "
        "VALUES ('batch_1', 'm', '/v1/chat/completions', 'file_1', 'in_progress', 1, 0, 0)"
    )
    db.execute("PRAGMA user_version=2")  # as main wrote it: batch tables, no items
    db.commit()
    db.close()
    cache = CallCache(path)
    cache.put_item("item", {"outcome": "accepted"})
    assert cache.get_items(["item"]) == {"item": {"outcome": "accepted"}} and cache.count() == 1
    assert cache.db.execute("SELECT id FROM batches").fetchall() == [("batch_1",)]
    cache.close()
