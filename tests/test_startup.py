"""Start-up: commands that call no model never load the HTTP client (about a second of imports), and a Ctrl-C
during a slow import made later is acted on once the import is done, never inside it."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap

import pytest
from conftest import REPO, offline_project

from corrigenda.startup import import_held


def test_commands_on_the_built_in_engine_do_not_load_the_openai_client(tmp_path):
    spec = offline_project(tmp_path)
    script = textwrap.dedent(
        f"""
        import sys
        from corrigenda.cli import main
        for argv in (["validate", {str(spec)!r}], ["plan", {str(spec)!r}], ["build", {str(spec)!r}]):
            assert main(argv) == 0, argv
        print(sorted(name for name in ("openai", "httpx2", "httpx") if name in sys.modules))
        """
    )
    result = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        cwd=tmp_path,
        env={**os.environ, "PYTHONPATH": str(REPO)},
        timeout=300,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "[]"


def test_ctrl_c_during_a_held_import_is_raised_once_the_module_is_whole(tmp_path, monkeypatch):
    (tmp_path / "slow_module_for_test.py").write_text(
        "import os, signal, time\n"
        "os.kill(os.getpid(), signal.SIGINT)  # Ctrl-C half-way through the import\n"
        "time.sleep(0.05)\n"
        "WHOLE = True\n",
        encoding="utf-8",
    )
    monkeypatch.syspath_prepend(str(tmp_path))
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler
    with pytest.raises(KeyboardInterrupt):
        import_held("slow_module_for_test")
    assert sys.modules["slow_module_for_test"].WHOLE  # imported to the end, not cut off inside
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler  # Ctrl-C works as usual again
    monkeypatch.delitem(sys.modules, "slow_module_for_test")
