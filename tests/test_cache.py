"""The call cache is checked when it is opened, before the first request: a broken one is a one-line `CacheError`
(exit 2) that costs nothing, never a traceback after calls were paid for."""

from __future__ import annotations

import errno
import json
import os
import sqlite3
from pathlib import Path

import pytest
from conftest import llm_spec
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_build import _corpus
from test_release import _cli, _skip_unless_permissions_bind

from corrigenda.cli import main
from corrigenda.errors import CacheError
from corrigenda.runtime.cache import SCHEMA_VERSION, CallCache

CACHE = Path(".corrigenda-cache") / "calls.sqlite"


def _filled_cache(path: Path, rows: int = 300) -> bytes:
    """A real cache with `rows` answers, checkpointed into one file; returns its bytes."""
    cache = CallCache(path)
    for index in range(rows):
        cache.put(f"key-{index}", "generate", f"docs/a.txt#{index}", "m", {"content": "answer " * 40})
    cache.close()
    return path.read_bytes()


def _refused(project, fake_server, capsys) -> str:
    """`corrigenda build` on the project: exit 2, one line on stderr, no traceback, no request. Returns the line."""
    assert main(["build", str(project.root / "spec.yaml")]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and len(err.splitlines()) == 1, err
    assert fake_server.count == 0
    return err


@pytest.fixture
def llm_project(project, fake_server):
    _corpus(project.root)
    project(llm_spec(fake_server.base_url))
    (project.root / CACHE.parent).mkdir()
    return project


def test_a_file_that_is_not_sqlite_is_refused_before_any_request(llm_project, fake_server, capsys):
    (llm_project.root / CACHE).write_text("these are notes, not a database\n" * 100)
    err = _refused(llm_project, fake_server, capsys)
    assert f"the cache at {llm_project.root / CACHE} is not a SQLite database" in err and "move it aside" in err
    assert "answers in it are lost" in err


def test_a_truncated_cache_is_refused_before_any_request(llm_project, fake_server, capsys):
    data = _filled_cache(llm_project.root / CACHE)
    (llm_project.root / CACHE).write_bytes(data[: len(data) // 2])
    assert "is not a SQLite database or is damaged" in _refused(llm_project, fake_server, capsys)


def test_a_corrupted_page_is_refused_before_any_request(llm_project, fake_server, capsys):
    data = bytearray(_filled_cache(llm_project.root / CACHE))
    data[len(data) // 2 : len(data) // 2 + 4096] = os.urandom(4096)
    (llm_project.root / CACHE).write_bytes(bytes(data))
    assert "is not a SQLite database or is damaged" in _refused(llm_project, fake_server, capsys)


def test_a_cache_from_a_newer_corrigenda_names_both_versions(llm_project, fake_server, capsys):
    _filled_cache(llm_project.root / CACHE, rows=1)
    with sqlite3.connect(llm_project.root / CACHE) as db:
        db.execute(f"PRAGMA user_version={SCHEMA_VERSION + 1}")
    err = _refused(llm_project, fake_server, capsys)
    assert f"schema version {SCHEMA_VERSION + 1}" in err and f"reads version {SCHEMA_VERSION} at most" in err


def test_a_cache_folder_that_is_a_file_is_refused(project, fake_server, capsys):
    _corpus(project.root)
    project(llm_spec(fake_server.base_url))
    (project.root / CACHE.parent).write_text("a file where the cache folder should be")
    err = _refused(project, fake_server, capsys)
    assert "a part of its folder is a file" in err


def test_a_cache_path_naming_the_users_own_file_does_not_say_move_it_aside(project, fake_server, capsys):
    """output.cache set to the spec (or a prompt, a document) by mistake: the message called it a damaged cache and
    said to move it aside, its answers lost: the user's spec."""
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url, output_extra="  cache: spec.yaml\n"))
    before = spec.read_bytes()
    err = _refused(project, fake_server, capsys)
    assert f"the cache at {spec} is not a SQLite database" in err and "it holds something else" in err
    assert "set output.cache to a path of its own" in err
    assert spec.read_bytes() == before


def test_a_full_disk_where_the_lock_file_goes_is_one_line(llm_project, fake_server, capsys, monkeypatch):
    """The lock file was created, but writing the pid into it on a full disk raised an OSError traceback."""

    def full(*_args: object) -> int:
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(os, "pwrite", full)
    err = _refused(llm_project, fake_server, capsys)
    assert "cannot write the lock file" in err and "No space left on device" in err and "free space" in err


def test_a_cache_path_that_is_a_folder_is_refused(llm_project, fake_server, capsys):
    (llm_project.root / CACHE).mkdir()
    assert "is a folder, not a file" in _refused(llm_project, fake_server, capsys)


def _refused_as_a_plain_user(project, fake_server) -> str:
    """`corrigenda build` in a child process whose file permissions bind (root's overrides dropped): exit 2, one
    line, no request. Returns the line."""
    result = _cli("build", str(project.root / "spec.yaml"))
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr and len(result.stderr.splitlines()) == 1, result.stderr
    assert fake_server.count == 0
    return result.stderr


def test_an_unwritable_cache_folder_is_refused(llm_project, fake_server):
    folder = llm_project.root / CACHE.parent
    folder.chmod(0o500)
    try:
        _skip_unless_permissions_bind(folder)
        err = _refused_as_a_plain_user(llm_project, fake_server)
        assert f"the cache at {llm_project.root / CACHE} cannot be" in err and "writable" in err
    finally:
        folder.chmod(0o700)


def test_a_read_only_cache_file_is_refused_before_any_request(llm_project, fake_server):
    _filled_cache(llm_project.root / CACHE, rows=3)  # opens, reads, even begins a transaction: only a write fails
    (llm_project.root / CACHE).chmod(0o444)
    try:
        _skip_unless_permissions_bind(llm_project.root / CACHE)
        err = _refused_as_a_plain_user(llm_project, fake_server)
        assert f"the cache at {llm_project.root / CACHE} cannot be written: attempt to write a readonly database" in err
    finally:
        (llm_project.root / CACHE).chmod(0o644)


def test_a_cache_another_process_is_writing_says_so_not_make_it_writable(llm_project, fake_server, capsys, monkeypatch):
    """A sqlite3 shell (or another corrigenda) holding a write transaction: after 30 s the build said "make it and
    its folder writable, or free space", which sends the user after permissions that are fine."""
    monkeypatch.setattr("corrigenda.runtime.cache.OPEN_WAIT_MS", 200)
    path = llm_project.root / CACHE
    _filled_cache(path, rows=3)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("PRAGMA journal_mode=WAL")
    holder.execute("BEGIN IMMEDIATE")
    try:
        err = _refused(llm_project, fake_server, capsys)
    finally:
        holder.execute("ROLLBACK")
        holder.close()
    assert f"the cache at {path} is locked: another process holds a write transaction" in err
    assert "writable" not in err and "wait for that process" in err
    assert main(["build", str(llm_project.root / "spec.yaml")]) == 0  # once it ends, the build goes on


def test_a_cache_written_before_versions_were_recorded_keeps_its_answers(tmp_path):
    path = tmp_path / "calls.sqlite"
    _filled_cache(path, rows=5)
    with sqlite3.connect(path) as db:
        db.execute("PRAGMA user_version=0")
    cache = CallCache(path)
    assert cache.count() == 5 and cache.get("key-3") == {"content": "answer " * 40}
    cache.close()
    with sqlite3.connect(path) as db:
        assert db.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(cut=st.integers(min_value=0))
def test_a_cache_cut_at_any_byte_is_refused_unless_whole(tmp_path_factory, cut):
    """A file cut short anywhere (a copy interrupted, a full disk) is a CacheError; only the whole file opens, with
    every answer as stored."""
    folder = tmp_path_factory.mktemp("cut")
    data = _filled_cache(folder / "good.sqlite", rows=40)
    cut = cut % (len(data) + 1)
    path = folder / "calls.sqlite"
    path.write_bytes(data[:cut])
    try:
        cache = CallCache(path)
    except CacheError as error:
        assert str(path) in str(error) and cut not in (0, len(data))
        return
    try:
        assert cut in (0, len(data))  # empty is a new cache
        expected = {"content": "answer " * 40} if cut else None
        assert [cache.get(f"key-{index}") for index in range(40)] == [expected] * 40
    finally:
        cache.close()


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(noise=st.binary(min_size=1, max_size=64), at=st.integers(min_value=0))
def test_bytes_overwritten_anywhere_give_a_cache_error_or_a_working_cache(tmp_path_factory, noise, at):
    """Opening or reading a damaged cache raises nothing but CacheError; a row too damaged to decode is a miss."""
    folder = tmp_path_factory.mktemp("noise")
    data = bytearray(_filled_cache(folder / "good.sqlite", rows=40))
    start = at % len(data)
    data[start : start + len(noise)] = noise
    path = folder / "calls.sqlite"
    path.write_bytes(bytes(data))
    try:
        cache = CallCache(path)
        try:
            answers = [cache.get(f"key-{index}") for index in range(40)]
        finally:
            cache.close()
    except CacheError as error:
        assert str(path) in str(error)
        return
    assert all(answer is None or isinstance(answer, dict) for answer in answers)


def test_a_cache_that_fails_mid_build_is_one_line_and_keeps_what_it_stored(
    llm_project, fake_server, capsys, monkeypatch
):
    stores = 0
    real_put = CallCache.put

    def filling_put(self, *args, **kwargs):
        nonlocal stores
        stores += 1
        if stores > 5:
            raise sqlite3.OperationalError("database or disk is full")
        return real_put(self, *args, **kwargs)

    monkeypatch.setattr(CallCache, "put", filling_put)
    assert main(["build", str(llm_project.root / "spec.yaml")]) == 2
    err = capsys.readouterr().err.splitlines()[-1]
    assert f"the cache at {llm_project.root / CACHE} failed during the build: database or disk is full" in err
    assert not (llm_project.root / "out").exists()
    monkeypatch.setattr(CallCache, "put", real_put)
    paid = fake_server.count
    assert main(["build", str(llm_project.root / "spec.yaml")]) == 0
    distinct = {json.dumps(body, sort_keys=True) for body in fake_server.requests}
    assert fake_server.count - paid == len(distinct) - 5  # the five stored answers were not bought again
