"""Releases are all-or-nothing and one build writes a release directory at a time.

A build stages its files beside the release directory and swaps them in whole; a refused, failed or interrupted build
leaves the previous release exactly as it was, and a second build of the same directory is refused before it asks for
anything. The lock test runs two real `corrigenda build` processes against the real fake server.
"""

from __future__ import annotations

import ctypes
import errno
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import REPO, llm_spec
from fake_openai import Reply, default_reply
from test_build import _corpus, _outputs, _start_build

import corrigenda.atomic
from corrigenda.cli import main
from corrigenda.emit.release import Release
from corrigenda.errors import BuildLocked


def _build(spec, *extra: str) -> int:
    return main(["build", str(spec), *extra])


@pytest.fixture
def released(project, fake_server):
    """A project whose `out/` holds a good release of the first 3 chunks, and the files of that release."""
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec, "--limit", "3") == 0
    return spec, project.root / "out", _outputs(project.root / "out")


def _stopped_build(spec, fake_server) -> tuple[subprocess.Popen, int]:
    """A build in a child process, stopped (SIGSTOP) after its first requests while it holds its locks, and the
    requests paid by then (those already on the wire when it stopped still arrive)."""
    first = _start_build(spec, fake_server, 5)
    first.send_signal(signal.SIGSTOP)
    paid = -1
    while paid != fake_server.count:
        paid = fake_server.count
        time.sleep(0.3)
    return first, paid


@pytest.mark.parametrize(
    ("where", "locked"),
    [("out", "out"), ("elsewhere", ".corrigenda-cache/calls.sqlite")],
    ids=["same-release", "same-cache-other-folder"],
)
def test_a_second_build_of_the_same_release_or_cache_is_refused_and_the_lock_dies_with_its_holder(
    project, fake_server, where, locked
):
    """Two builds of one release, or into different folders over one cache, would each pay for every call."""
    _corpus(project.root, copies=40)
    fake_server.responder = lambda body, n: Reply(**vars(default_reply(body, n)) | {"delay_s": 0.05})
    spec = project(llm_spec(fake_server.base_url, concurrency="2"))
    first, paid = _stopped_build(spec, fake_server)
    try:
        second = subprocess.run(
            [sys.executable, "-m", "corrigenda", "build", str(spec), "--out", str(project.root / where)],
            env={**os.environ, "PYTHONPATH": str(REPO)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert second.returncode == 2
        assert f"another build (pid {first.pid}) is writing {project.root / locked}" in second.stderr
        assert "Traceback" not in second.stderr
        assert fake_server.count == paid  # the second build asked for nothing
    finally:
        first.send_signal(signal.SIGKILL)  # the kernel drops a killed process's flock
        first.wait()
    fake_server.responder = default_reply
    assert _build(spec) == 0
    assert main(["check", str(project.root / "out")]) == 0
    assert not (project.root / ".out.building").exists()  # the killed build's staging folder was cleared


def test_the_lock_is_refused_to_a_second_holder_and_free_after_release(tmp_path):
    release = Release(tmp_path / "out")
    release.lock.acquire()
    with pytest.raises(BuildLocked, match=f"pid {os.getpid()}"):
        Release(tmp_path / "out").lock.acquire()
    release.close()
    Release(tmp_path / "out").lock.acquire().release()


def test_a_disk_that_fills_at_any_file_leaves_the_old_release_whole(released, fake_server, monkeypatch, capsys):
    spec, out, before = released
    assert _build(spec, "--out", str(out.parent / "everything")) == 0  # every call cached for the offline runs
    writes = 0

    def counting(path, data, durable=True):
        nonlocal writes
        writes += 1
        return real(path, data, durable)

    real = corrigenda.atomic.write_bytes
    monkeypatch.setattr(corrigenda.atomic, "write_bytes", counting)
    assert _build(spec, "--offline", "--out", str(out.parent / "count")) == 0
    total = writes
    assert total >= 8  # reports, token files, dataset, chat file, config, card, manifest
    for fail_at in range(total):
        writes = 0

        def full(path, data, durable=True, fail_at=fail_at):
            nonlocal writes
            writes += 1
            if writes > fail_at:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), str(path))
            return real(path, data, durable)

        monkeypatch.setattr(corrigenda.atomic, "write_bytes", full)
        capsys.readouterr()
        assert _build(spec, "--offline") == 2
        err = capsys.readouterr().err
        assert "No space left on device" in err and f"{out} is as it was" in err and "Traceback" not in err
        assert _outputs(out) == before, f"write {fail_at + 1} of {total} changed the old release"
        assert not (out.parent / ".out.building").exists()  # the half-written staging folder was freed
    monkeypatch.setattr(corrigenda.atomic, "write_bytes", real)
    assert main(["check", str(out)]) == 0
    assert _build(spec, "--offline") == 0 and _outputs(out) != before  # with room, the new release goes in


def test_a_swap_cut_short_by_a_crash_is_undone_by_the_next_build(released, fake_server):
    spec, out, before = released
    os.rename(out, out.parent / ".out.previous")  # killed between "old aside" and "new in"
    (out.parent / ".out.building").mkdir()
    fake_server.responder = lambda body, n: Reply(status=500)
    assert _build(spec, "--no-resume") == 1  # refused: the old release must come back, not vanish
    assert _outputs(out) == before
    assert main(["check", str(out)]) == 0
    assert not (out.parent / ".out.previous").exists()


def test_a_cache_inside_the_output_directory_is_refused_before_anything(project, fake_server, capsys):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url, output_extra="  cache: out/calls.sqlite\n"))
    assert _build(spec) == 2
    err = capsys.readouterr().err
    assert f"{project.root / 'out' / 'calls.sqlite'} is inside the output directory" in err
    assert fake_server.count == 0 and not (project.root / "out").exists()


def test_an_output_directory_holding_the_project_is_never_swapped_away(project, fake_server, capsys):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec, "--out", str(project.root)) == 2
    assert "is inside the output directory" in capsys.readouterr().err
    assert spec.is_file() and (project.root / "docs" / "railroad.txt").is_file()
    assert fake_server.count == 0


def test_an_output_directory_with_files_corrigenda_did_not_write_is_refused(project, fake_server, capsys):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    mine = project.root / "mine"
    mine.mkdir()
    (mine / "notes.txt").write_text("my own notes")
    assert _build(spec, "--out", str(mine)) == 2
    assert f"{mine} holds files corrigenda did not write" in capsys.readouterr().err
    assert (mine / "notes.txt").read_text() == "my own notes" and fake_server.count == 0


def test_an_output_path_that_is_a_file_is_refused_before_any_request(project, fake_server, capsys):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    (project.root / "out").write_text("not a folder")
    assert _build(spec) == 2
    assert f"cannot write {project.root / 'out'}: it is a file" in capsys.readouterr().err
    assert fake_server.count == 0


def test_a_release_keeps_its_debug_outputs_and_meta_dataset(project, fake_server):
    _corpus(project.root)
    meta = "  meta_datagen: {enabled: true}\n"
    spec = project(llm_spec(fake_server.base_url, output_extra=meta))
    assert _build(spec) == 0
    out = project.root / "out"
    rows = (out / "meta_datagen" / "meta_dataset.jsonl").read_text().splitlines()
    assert len(rows) == fake_server.count  # read back from the staged debug files before the swap
    assert sorted(p.name for p in (out / "debug_outputs").iterdir()) == ["filter.jsonl", "generate.jsonl"]
    manifest = json.loads((out / "manifest.json").read_text())
    assert "meta_datagen/meta_dataset.jsonl" in manifest["outputs"]
    assert sorted(p.name for p in project.root.iterdir() if p.name.startswith(".out")) == [".out.lock"]


# --- releases whose folders the user protected: real permissions, also when the suite runs as root ----------------

PR_CAPBSET_DROP = 24
CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER = 1, 2, 3


def _as_a_plain_user() -> None:
    """In the child before exec: root keeps its uid but loses the capabilities that let it write into any folder or
    change the mode of files it does not own, so permissions bind it like any user."""
    libc = ctypes.CDLL(None, use_errno=True)
    for cap in (CAP_DAC_OVERRIDE, CAP_DAC_READ_SEARCH, CAP_FOWNER):
        if libc.prctl(PR_CAPBSET_DROP, cap, 0, 0, 0) != 0:
            raise OSError(ctypes.get_errno(), "prctl(PR_CAPBSET_DROP) failed")


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "corrigenda", *args],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        capture_output=True,
        text=True,
        timeout=120,
        preexec_fn=_as_a_plain_user if os.geteuid() == 0 else None,
    )


def _read_only(folder: Path) -> None:
    for path in [folder, *folder.rglob("*")]:
        os.chmod(path, 0o555 if path.is_dir() else 0o444)


def _skip_unless_permissions_bind(read_only: Path) -> None:
    """Skip unless a child as `_cli` starts it really cannot write `read_only` (a folder: a new file in it)."""
    target, mode = (read_only / "probe", "w") if read_only.is_dir() else (read_only, "a")
    try:
        touch = subprocess.run(
            [sys.executable, "-c", f"open({str(target)!r}, {mode!r})"],
            capture_output=True,
            text=True,
            preexec_fn=_as_a_plain_user if os.geteuid() == 0 else None,
        )
    except OSError as exc:  # the capability drop itself was refused (a container without CAP_SETPCAP)
        pytest.skip(f"cannot drop root's override capabilities here ({exc})")
    if touch.returncode == 0:
        pytest.skip(f"{read_only} stays writable on this machine although its mode says read-only")


def test_a_release_the_user_made_read_only_is_replaced_whole_and_leaves_nothing_behind(released, fake_server):
    spec, out, before = released
    _read_only(out)  # `chmod -R a-w out`, to keep a good release from being touched by hand
    _skip_unless_permissions_bind(out)
    rebuilt = _cli("build", str(spec))  # all 8 chunks this time
    assert rebuilt.returncode == 0, rebuilt.stderr
    assert _outputs(out) != before and len(json.loads((out / "axolotl_correction_conversations.json").read_text())) > 3
    assert main(["check", str(out)]) == 0
    assert not (out.parent / ".out.previous").exists()  # the old release did not stay behind to block the next swap
    again = _cli("build", str(spec))
    assert again.returncode == 0, again.stderr


def test_an_old_release_that_cannot_be_deleted_is_named_before_any_request(released, fake_server):
    spec, out, before = released
    if os.geteuid() != 0:
        pytest.skip("needs root to leave a folder owned by another user, as a shared machine can")
    stuck = out.parent / ".out.previous"
    (stuck / "debug_outputs").mkdir(parents=True)
    (stuck / "debug_outputs" / "generate.jsonl").write_text("{}\n")
    for path in [stuck, *stuck.rglob("*")]:
        os.chown(path, 65534, 65534)  # nobody's: neither deletable nor made deletable by this build
    _read_only(stuck)
    _skip_unless_permissions_bind(stuck)
    paid = fake_server.count
    refused = _cli("build", str(spec), "--no-resume")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr
    assert f"{stuck} (the release before the last, left by an earlier build) cannot be deleted" in refused.stderr
    assert f"nothing was requested; delete {stuck} by hand, then rerun" in refused.stderr
    assert fake_server.count == paid  # found before the first request, not at the swap after paying for all
    assert _outputs(out) == before
    for path in [stuck, *stuck.rglob("*")]:
        os.chmod(path, 0o755)
