"""The one error tree: its public names, exit codes, and that the CLI shows a user-caused condition without a
traceback."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import threading
import time

import corrigenda.errors as errors
from corrigenda.cli import main
from corrigenda.compiler.diagnostics import SpecError


def test_all_names_every_public_error_and_nothing_else():
    public = {
        name
        for name, value in vars(errors).items()
        if not name.startswith("_") and (isinstance(value, type) or name.startswith("EXIT_"))
    }
    assert set(errors.__all__) == public
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type):
            assert issubclass(value, errors.CorrigendaError), name


def test_exit_codes_follow_the_tree():
    assert errors.GateRefused("x").exit_code == errors.EXIT_GATE == 1
    for cls in (errors.InputError, errors.CacheError, errors.OutputError, errors.BuildLocked, errors.OfflineMiss):
        assert cls("x").exit_code == errors.EXIT_BAD_INPUT == 2
    assert errors.EndpointDown("x").exit_code == errors.EXIT_ENDPOINT == 3
    assert issubclass(SpecError, errors.UsageError)


def test_message_and_hint_read_as_one_line():
    error = errors.CacheError("the cache at out/c.db is not a SQLite database", "move it aside")
    assert str(error) == "the cache at out/c.db is not a SQLite database; move it aside"


def test_cli_prints_a_spec_error_without_a_traceback(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("models: [\n", encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{spec}:" in err


def test_ctrl_c_while_the_command_starts_is_one_line_and_exit_130(tmp_path):
    """The first seconds of every command import its modules; Ctrl-C there printed a KeyboardInterrupt traceback."""
    child = subprocess.Popen(
        [sys.executable, "-m", "corrigenda", "validate", str(tmp_path / "spec.yaml")],
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),  # as a terminal's Ctrl-C finds it
    )
    time.sleep(0.4)
    child.send_signal(signal.SIGINT)
    _, err = child.communicate(timeout=60)
    assert "Traceback" not in err
    assert child.returncode in (130, -signal.SIGINT)  # -SIGINT: before Python installed its handler at all
    assert "interrupted" in err or child.returncode < 0


def test_a_wrong_command_line_is_still_one_json_object_with_json(capsys):
    assert main(["build", "spec.yaml", "--json", "--limit", "0"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["command"] == "build" and data["exit_code"] == 2 and not data["ok"]
    assert "--limit" in data["error"]
    assert "usage: corrigenda build" in captured.err  # the screen still shows argparse's usage line
    assert main(["build", "spec.yaml", "--no-such-option"]) == 2
    assert capsys.readouterr().out == ""  # without --json, nothing on stdout


def _finishes(argv: list[str]) -> int:
    """main(argv)'s exit code, failing (not hanging) the test when it blocks: a daemon thread is left behind."""
    done: list[int] = []
    worker = threading.Thread(target=lambda: done.append(main(argv)), daemon=True)
    worker.start()
    worker.join(30)
    assert done, f"{argv} did not finish: it waits on a pipe"
    return done[0]


def test_a_named_pipe_or_device_given_as_a_file_is_refused_not_read_forever(project, capsys):
    """`validate FIFO`, `check FIFO`, `import-augmentoolkit FIFO` and a prompt that is a FIFO waited forever for a
    writer; /dev/zero as the spec read until memory ran out."""
    fifo = project.root / "pipe.yaml"
    os.mkfifo(fifo)
    spec = project()
    spec.write_text(spec.read_text().replace("prompt: filter.yaml", f"prompt: {fifo}"), encoding="utf-8")
    for argv, words in [
        (["validate", str(fifo)], f"{fifo}:1:1: <file>: a named pipe (FIFO), not a regular file"),
        (["validate", "/dev/zero"], "/dev/zero:1:1: <file>: a device, not a regular file"),
        (["check", str(fifo)], f"{fifo}: a named pipe (FIFO), not a regular file"),
        (["import-augmentoolkit", str(fifo), "-o", str(project.root / "x.yaml")], f"{fifo}: a named pipe"),
        (["validate", str(spec)], f"{fifo}:1:1: steps[0].prompt: a named pipe (FIFO)"),
    ]:
        assert _finishes(argv) == 2
        err = capsys.readouterr().err
        assert words in err and "Traceback" not in err


def test_ctrl_c_says_what_it_left_for_the_command_that_was_running(tmp_path, capsys, monkeypatch):
    """Every command said "in-flight calls were cancelled; every completed call is in the cache", also `check` and
    `cache merge`, which make no calls."""

    def interrupted(*_args: object, **_kwargs: object) -> None:
        raise KeyboardInterrupt

    monkeypatch.setattr("corrigenda.runtime.cache_merge.merge_caches", interrupted)
    monkeypatch.setattr("corrigenda.emit.check.check_path", interrupted)
    assert main(["cache", "merge", "a.sqlite", "-o", "m.sqlite"]) == 130
    assert "rerun the same merge to add the rest" in capsys.readouterr().err
    assert main(["check", str(tmp_path), "--json"]) == 130
    captured = capsys.readouterr()
    assert "interrupted: stopped before it finished" in captured.err and "cache" not in captured.err
    assert json.loads(captured.out)["exit_code"] == 130  # --json: still one object
