"""The first things a new user gets wrong, each met with what happened and what to do, before anything is spent."""

from __future__ import annotations

import json

from conftest import MINIMAL_SPEC, llm_spec

from corrigenda.cli import main

OFFLINE = """\
version: 1
models:
  small: {engine: heuristic, model: heuristic-filter}
  large: {engine: heuristic, model: heuristic-generate}
inputs:
  paths: [docs]
steps:
  - {name: filter, kind: filter, model: small}
  - {name: generate, kind: generate, model: large}
output:
  dir: out
"""


def test_an_empty_folder_is_refused_before_the_build(project, capsys):
    spec = project(OFFLINE.replace("[docs]", "[empty]"))
    (spec.parent / "empty").mkdir()
    for command in ("validate", "plan", "build"):
        assert main([command, str(spec)]) == 2, command
        err = capsys.readouterr().err
        assert "inputs.paths: no input file found" in err and "point inputs.paths at your documents" in err
        assert "Traceback" not in err
    assert not (spec.parent / "out").exists() and not (spec.parent / "out.failed").exists()


def test_a_folder_of_unread_types_names_what_it_passed_over(project, capsys):
    spec = project(OFFLINE.replace("  paths: [docs]\n", "  paths: [docs]\n  types: [pdf]\n"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "passed over: docs/a.txt (unsupported type .txt)" in err
    assert "add their type to inputs.types" in err  # .txt is read once it is listed


def test_a_type_corrigenda_cannot_read_is_not_offered_as_a_type_to_add(project, capsys):
    spec = project(OFFLINE.replace("[docs]", "[pages]"))
    (spec.parent / "pages").mkdir()
    (spec.parent / "pages" / "index.html").write_text("<p>The canal opened in 1914.</p>", encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "pages/index.html (unsupported type .html)" in err and "inputs.types" not in err


def test_a_jsonl_file_without_text_says_the_inputs_gave_nothing(project, capsys):
    spec = project(OFFLINE.replace("[docs]", "[records.jsonl]"))
    record = {"body": "The Golden Spike was driven at Promontory Summit on May 10, 1869, by Leland Stanford."}
    (spec.parent / "records.jsonl").write_text(json.dumps(record) + "\n", encoding="utf-8")
    assert main(["build", str(spec)]) == 1
    err = capsys.readouterr().err
    assert "NOT RELEASED: no chunk was read from the inputs" in err and "needs a `text` string" in err
    refused = json.loads((spec.parent / "out.failed" / "gate_failures.json").read_text(encoding="utf-8"))
    assert refused["reason"].startswith("no chunk was read from the inputs")


def test_a_missing_prompt_file_is_named_with_the_ones_there(project, capsys):
    spec = project(MINIMAL_SPEC.replace("prompt: generate.yaml", "prompt: generat.yaml"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "steps[1].prompt: prompt file not found" in err
    assert "did you mean generate.yaml?" in err


def test_a_prompt_name_like_none_there_lists_the_folder(project, capsys):
    spec = project(MINIMAL_SPEC.replace("prompt: generate.yaml", "prompt: judge.yaml"))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "holds: filter.yaml, generate.yaml, verify.yaml" in err and "did you mean" not in err


def test_a_wrong_prompts_dir_is_named_as_the_folder_to_fix(project, capsys):
    spec = project(MINIMAL_SPEC, prompts_dir="promts")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "check prompts_dir, relative to the spec file" in err


def _from_environment(text: str) -> str:
    """The shipped spec's way: a base_url in the spec that CORRIGENDA_BASE_URL overrides."""
    return text.replace("    base_url: ", "    base_url_env: CORRIGENDA_BASE_URL\n    base_url: ")


def test_a_wrong_url_from_the_environment_names_the_variable_not_the_spec(project, fake_server, capsys, monkeypatch):
    """Editing the spec's base_url changes nothing while CORRIGENDA_BASE_URL overrides it: the advice says so."""
    spec = project(_from_environment(llm_spec(fake_server.base_url)))
    monkeypatch.setenv("CORRIGENDA_BASE_URL", fake_server.base_url.removesuffix("/v1"))
    assert main(["plan", str(spec), "--probe"]) == 3
    err = capsys.readouterr().err
    assert (
        f"set CORRIGENDA_BASE_URL (the environment variable that overrides models.small.base_url and "
        f"models.large.base_url) to {fake_server.base_url}"
    ) in err
    monkeypatch.setenv("CORRIGENDA_BASE_URL", fake_server.base_url)  # doing what it says
    assert main(["plan", str(spec), "--probe"]) == 0
    assert fake_server.count == 0  # nothing was paid for


def test_a_url_written_in_the_spec_is_still_named_as_the_spec_field(project, fake_server, capsys, monkeypatch):
    monkeypatch.delenv("CORRIGENDA_BASE_URL", raising=False)
    url = fake_server.base_url.removesuffix("/v1")
    spec = project(_from_environment(llm_spec(url)))
    assert main(["plan", str(spec), "--probe"]) == 3
    err = capsys.readouterr().err
    assert f"set models.small.base_url and models.large.base_url to {fake_server.base_url}" in err
    assert "CORRIGENDA_BASE_URL" not in err


def test_the_shipped_specs_advice_on_a_keyless_endpoint_is_what_a_build_accepts(monkeypatch, capsys):
    """spec/correction.yaml said to leave the key unset for a keyless endpoint; a build refuses that (exit 2)."""
    from conftest import REPO

    spec = REPO / "spec" / "correction.yaml"
    advice = next(line for line in spec.read_text(encoding="utf-8").splitlines() if "CORRIGENDA_API_KEY=" in line)
    assert "any value" in advice
    monkeypatch.delenv("CORRIGENDA_API_KEY", raising=False)
    monkeypatch.setenv("CORRIGENDA_BASE_URL", "http://127.0.0.1:9/v1")
    assert main(["build", str(spec), "--no-probe", "--out", str(REPO / "never-written")]) == 2
    assert "CORRIGENDA_API_KEY is not set (for an endpoint that needs no key, set it to any value" in (
        capsys.readouterr().err
    )
    assert not (REPO / "never-written").exists()


def test_a_pattern_that_matches_nothing_is_called_a_pattern(project, capsys):
    spec = project(OFFLINE.replace("[docs]", '["docs/**/*.pdf"]'))
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "inputs.paths[0]: no file matches the pattern docs/**/*.pdf (relative to the spec file: " in err
    assert "no such file or directory" not in err
