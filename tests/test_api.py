"""The declared Python API: exactly the documented names, typed, and `build` works inside a running event loop (a
notebook cell) and returns what a notebook user needs."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from conftest import REPO, offline_project

import corrigenda
from corrigenda.errors import InputError

DOCUMENTED = {"build", "check", "plan", "show", "BuildResult", "CheckResult", "CorrigendaError", "Plan", "ViewItem"}


def test_the_package_exports_the_documented_names_and_is_typed():
    assert set(corrigenda.__all__) == DOCUMENTED | {"__version__"}
    for name in corrigenda.__all__:
        assert getattr(corrigenda, name) is not None, name
    assert (Path(corrigenda.__file__).parent / "py.typed").is_file()
    assert callable(corrigenda.build)  # the function, not the submodule of the same name
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    assert all(f"corrigenda.{name}(" in readme for name in ("build", "check", "plan", "show"))


def test_build_inside_a_running_event_loop_returns_the_result(tmp_path, capsys):
    spec, out = offline_project(tmp_path), tmp_path / "out"

    async def notebook_cell() -> corrigenda.BuildResult:
        return corrigenda.build(spec, out)  # asyncio.run() would refuse here: a loop is running

    result = asyncio.run(notebook_cell())
    assert result.released and result.out_dir == out and result.gate_problems == []
    assert result.counts["released"] > 0 and {u.name for u in result.usage} == {"small", "large"}
    assert out / "viewer.html" in result.files and all(path.is_file() for path in result.files)
    assert corrigenda.plan(spec).fingerprint in (out / "manifest.json").read_text()
    checked = corrigenda.check(out, spec=spec)
    assert checked.ok and checked.records == result.counts["released"]
    shown = corrigenda.show(out, n=1)
    assert len(shown) == 1 and shown[0].status == "released" and shown[0].id in capsys.readouterr().out


def test_api_errors_are_corrigenda_errors_with_a_hint(tmp_path):
    with pytest.raises(corrigenda.CorrigendaError) as caught:
        corrigenda.build(offline_project(tmp_path), tmp_path / "out", limit=0)
    assert isinstance(caught.value, InputError) and caught.value.hint
