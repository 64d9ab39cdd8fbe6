"""A rerun that asks nothing goes straight to emission: every finished item comes back from its stored result (one
query per batch), its debug lines are copied (whole files linked) from the previous release, and the release is
byte-identical."""

from __future__ import annotations

from pathlib import Path

from conftest import llm_spec, offline_project
from fake_openai import Reply, default_reply

from corrigenda.build import Build, BuildOptions
from corrigenda.cli import main
from corrigenda.compiler.compile import compile_spec
from corrigenda.runtime.debug_log import read_debug


def _build(spec: Path, **options) -> Build:
    build = Build(compile_spec(spec), BuildOptions(interactive=False, **options))
    result = build.run()
    assert result.released, result.refusal
    return build


def _files(out: Path) -> dict[str, bytes]:
    return {p.relative_to(out).as_posix(): p.read_bytes() for p in sorted(out.rglob("*")) if p.is_file()}


def _docs(root: Path, count: int = 10) -> None:
    for index in range(count):
        text = f"Survey {index} of the valley was finished in {1800 + index}. " * 12
        (root / "docs" / f"d{index}.txt").write_text(text + "\n")


def test_a_finished_build_reruns_from_stored_items_with_identical_files(project, fake_server):
    _docs(project.root)
    verify = "  - {name: verify, kind: verify, model: small, prompt: verify.yaml}"
    spec = project(llm_spec(fake_server.base_url, verify_step=verify))
    first = _build(spec)
    out = project.root / "out"
    before, requests = _files(out), fake_server.count
    again = _build(spec)
    assert fake_server.count == requests  # nothing asked
    assert again.pipeline.replayed == again.pipeline.ingested == first.pipeline.ingested > 0  # no step ran
    assert _files(out) == before  # debug files, token counts, card and manifest included
    assert sum(c.usage.cached_calls for c in again.callers.values()) == sum(
        c.usage.calls for c in first.callers.values()
    )


def _without_cached(record: dict) -> dict:
    """A debug record with each attempt's `cached` flag left out (a step run again reads its answers from the cache)."""
    return {**record, "attempts": [{**a, "cached": None} for a in record["attempts"]]}


def test_an_item_without_its_debug_line_runs_its_steps_again_from_the_call_cache(project, fake_server):
    _docs(project.root, 4)
    spec = project(llm_spec(fake_server.base_url))
    _build(spec)
    out = project.root / "out"
    debug = out / "debug_outputs"
    before, requests = read_debug(debug), fake_server.count
    generate = debug / "generate.jsonl"
    lines = generate.read_bytes().splitlines(keepends=True)
    generate.write_bytes(b"".join(lines[1:]))  # one item's line is gone
    again = _build(spec)
    assert fake_server.count == requests and again.pipeline.replayed == again.pipeline.ingested - 1
    after = read_debug(debug)
    assert after.keys() == before.keys()  # every line is back: three items' copied, one item's written again
    assert {k: _without_cached(v) for k, v in after.items()} == {k: _without_cached(v) for k, v in before.items()}
    assert sum(after[k] != before[k] for k in after) == 2  # the item that ran again (filter, generate), from the cache


def test_a_changed_prompt_or_no_resume_replays_nothing(project, fake_server):
    _docs(project.root, 4)
    spec = project(llm_spec(fake_server.base_url))
    _build(spec)
    assert _build(spec, resume=False).pipeline.replayed == 0
    prompt = project.root / "prompts" / "generate.yaml"
    prompt.write_text(prompt.read_text().replace("question", "question ", 1))
    assert _build(spec).pipeline.replayed == 0


def test_an_item_whose_call_failed_is_asked_again_on_the_rerun(project, fake_server):
    _docs(project.root, 4)
    spec = project(llm_spec(fake_server.base_url, max_attempts="1", output_extra="  max_failed_fraction: 1.0"))
    failing = {"on": True}

    def responder(body, n):
        if failing["on"] and "Survey 2 " in str(body["messages"]) and "VERDICT" not in str(body["messages"]):
            return Reply(status=500)
        return default_reply(body, n)

    fake_server.responder = responder
    first = _build(spec)
    assert first.pipeline.replayed == 0
    failing["on"] = False
    again = _build(spec)
    assert again.pipeline.replayed == again.pipeline.ingested - 1  # only the failed item ran its steps


def test_the_offline_heuristic_build_reruns_identically(tmp_path):
    spec = offline_project(tmp_path)
    _build(spec)
    out = tmp_path / "out"
    before = _files(out)
    again = _build(spec, offline=True)
    assert again.pipeline.replayed == again.pipeline.ingested and _files(out) == before


def test_offline_without_a_cache_says_there_is_none_and_creates_none(tmp_path, capsys):
    """It created an empty cache file and then named the first chunk "not cached", as if one call were missing."""
    spec = offline_project(tmp_path)
    assert main(["build", str(spec), "--offline"]) == 2
    err = capsys.readouterr().err
    assert "--offline: there is no cache at" in err and "build without --offline first" in err
    assert not list(tmp_path.rglob("*.sqlite")) and not (tmp_path / "out").exists()
