"""`build --ray` reports what the run asked as a one-process build does: per model, the shards' requests and cached
answers (the release build only replays them), summing to the total."""

from __future__ import annotations

import json

import pytest
from conftest import offline_project

from corrigenda.cli import main

ray = pytest.importorskip("ray")


@pytest.fixture(scope="module")
def local_ray():
    ray.init(num_cpus=2, include_dashboard=False, configure_logging=False)
    yield
    ray.shutdown()


def _build(spec, capsys) -> dict:
    capsys.readouterr()
    assert main(["build", str(spec), "--ray", "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def test_the_summary_counts_the_shards_requests_per_model(tmp_path, local_ray, capsys):
    spec = offline_project(tmp_path / "p")
    first = _build(spec, capsys)
    asked = [entry["requests_this_run"] for entry in first["usage"]]
    assert all(asked) and sum(asked) == first["requests"]  # per model as in total, not 0 beside 50
    assert not any(entry["cached_calls"] for entry in first["usage"])
    again = _build(spec, capsys)
    assert again["requests"] == 0 and not any(entry["requests_this_run"] for entry in again["usage"])
    assert [entry["cached_calls"] for entry in again["usage"]] == asked  # every call answered from the cache
