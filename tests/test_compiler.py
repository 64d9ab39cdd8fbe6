"""The compiler: broken specs name file, line, column and field; valid ones compile to a fingerprinted plan."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import MINIMAL_SPEC, REPO

from corrigenda.cli import main
from corrigenda.compiler.compile import compile_spec
from corrigenda.compiler.spec_schema import render


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text().splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(f"{needle!r} not in {path}")


def validate(path: Path, capsys) -> tuple[int, list[str]]:
    code = main(["validate", str(path)])
    return code, capsys.readouterr().err.strip().splitlines()


def test_shipped_specs_compile():
    for name in ("correction.yaml", "offline.yaml"):
        plan = compile_spec(REPO / "spec" / name).plan
        assert [step.kind for step in plan.spec.steps] == ["filter", "generate", "verify"]
        assert len(plan.inputs) == 5, "the sample corpus has one file of each type"
        assert len(plan.fingerprint) == 64


def test_minimal_spec_validates(project, capsys):
    code = main(["validate", str(project())])
    assert code == 0
    assert "ok" in capsys.readouterr().out


def test_bad_yaml_points_at_the_line(project, capsys):
    spec = project(MINIMAL_SPEC.replace("model: small-model", "model: [small-model"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"{spec}:")
    assert "invalid YAML" in lines[0]
    reported_line = int(lines[0].split(":")[1])
    assert abs(reported_line - line_of(spec, "[small-model")) <= 2


def test_unknown_key(project, capsys):
    spec = project(MINIMAL_SPEC.replace("    model: small-model\n", "    model: small-model\n    colour: red\n"))
    code, lines = validate(spec, capsys)
    assert code == 2
    where = f"{spec}:{line_of(spec, 'colour')}:5: models.small.colour"
    assert lines == [f"{where}: unknown key (schemas/spec.schema.json lists every key)"]


def test_wrong_type(project, capsys):
    spec = project(MINIMAL_SPEC.replace("  chunk_size: 200", "  chunk_size: lots"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"{spec}:{line_of(spec, 'chunk_size')}:15: inputs.chunk_size: ")
    assert "integer" in lines[0]


def test_missing_required_key_names_it(project, capsys):
    spec = project(MINIMAL_SPEC.replace("  paths: [docs]\n", ""))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert lines[0].startswith(f"{spec}:{line_of(spec, 'chunk_size')}:")
    assert "inputs.paths: required key `paths` is missing" in lines[0]


def test_missing_prompt_file(project, capsys):
    spec = project(MINIMAL_SPEC.replace("prompt: generate.yaml", "prompt: nowhere.yaml"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert lines[0].startswith(f"{spec}:{line_of(spec, 'nowhere.yaml')}:13: steps[1].prompt: prompt file not found")


def test_unknown_model(project, capsys):
    spec = project(MINIMAL_SPEC.replace("model: large\n", "model: medium\n"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert lines == [
        f"{spec}:{line_of(spec, 'model: medium')}:12: steps[1].model: unknown model `medium` (defined: small, large)"
    ]


def test_jinja_syntax_error_is_reported_in_the_prompt_file(project, capsys):
    spec = project()
    prompt = project.root / "prompts" / "filter.yaml"
    prompt.write_text(prompt.read_text().replace("Title: {{ title }}", "Title: {% if title %}{{ title }}"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert len(lines) == 1
    assert lines[0].startswith(f"{prompt}:")
    assert "steps[0].prompt: Jinja2 syntax error" in lines[0]
    # Jinja reports the end of the template for an unclosed block; the line is inside the user message.
    assert int(lines[0].split(":")[1]) >= line_of(prompt, "Title: {% if")


def test_undefined_template_variable(project, capsys):
    spec = project()
    prompt = project.root / "prompts" / "generate.yaml"
    prompt.write_text(prompt.read_text().replace("Title: {{ title }}", "Title: {{ title }} {{ summary }}"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert lines[0].startswith(f"{prompt}:{line_of(prompt, '{{ summary }}')}:1: steps[1].prompt: ")
    assert "undefined variable `summary`" in lines[0]


def test_later_step_outputs_are_available_to_prompts(project, capsys):
    spec = project()
    prompt = project.root / "prompts" / "generate.yaml"
    prompt.write_text(prompt.read_text().replace("Title: {{ title }}", "Title: {{ title }} {{ initial_question }}"))
    code, lines = validate(spec, capsys)
    assert code == 2, "generate cannot use its own output"
    assert "undefined variable `initial_question`" in lines[0]


def test_conversation_template_syntax_error_located_in_spec(project, capsys):
    spec = project(MINIMAL_SPEC + 'template:\n  prompt_template: "{% for m in messages %}{{ m.content }}"\n')
    code, lines = validate(spec, capsys)
    assert code == 2
    assert lines[0].startswith(f"{spec}:{line_of(spec, 'prompt_template')}:")
    assert "template.prompt_template: Jinja2 syntax error" in lines[0]


def test_max_tokens_must_leave_room(project, capsys):
    spec = project(MINIMAL_SPEC.replace("sampling: {max_tokens: 1024}", "sampling: {max_tokens: 50}"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert "models.small.sampling.max_tokens: max_tokens 50 leaves no room" in lines[0]


def test_every_problem_is_reported_at_once(project, capsys):
    spec = project(
        MINIMAL_SPEC.replace("model: large\n", "model: medium\n").replace("chunk_size: 200", "chunk_size: x")
    )
    code, lines = validate(spec, capsys)
    assert code == 2
    assert len(lines) == 1, "pydantic errors stop compilation before cross-checks"
    spec = project(MINIMAL_SPEC.replace("model: large\n", "model: medium\n").replace("filter.yaml", "gone.yaml"))
    code, lines = validate(spec, capsys)
    assert [line.split(": ")[1] for line in lines] == ["steps[0].prompt", "steps[1].model"]


def test_missing_input_path(project, capsys):
    spec = project(MINIMAL_SPEC.replace("paths: [docs]", "paths: [docs, missing-dir]"))
    code, lines = validate(spec, capsys)
    assert code == 2
    assert lines == [
        f"{spec}:{line_of(spec, 'missing-dir')}:17: inputs.paths[1]: no such file or directory: missing-dir "
        f"(looked for {spec.parent.resolve() / 'missing-dir'})"
    ]


def test_unset_api_key_is_a_warning_at_validate_and_an_error_at_build(project, capsys, monkeypatch):
    monkeypatch.delenv("CORRIGENDA_TEST_KEY", raising=False)
    spec = project(
        MINIMAL_SPEC.replace(
            "    model: small-model\n", "    model: small-model\n    api_key_env: CORRIGENDA_TEST_KEY\n"
        )
    )
    code, lines = validate(spec, capsys)
    assert code == 0
    assert any("warning: environment variable CORRIGENDA_TEST_KEY is not set" in line for line in lines)
    with pytest.raises(Exception, match="CORRIGENDA_TEST_KEY is not set"):
        compile_spec(spec, for_build=True)


def test_fingerprint_is_stable_and_tracks_what_matters(project):
    base = compile_spec(project()).plan.fingerprint
    assert compile_spec(project()).plan.fingerprint == base, "same inputs, same fingerprint"

    def changed(spec_text: str) -> str:
        return compile_spec(project(spec_text)).plan.fingerprint

    assert changed(MINIMAL_SPEC.replace("concurrency", "concurrency")) == base
    assert (
        changed(MINIMAL_SPEC.replace("    model: large-model\n", "    model: large-model\n    concurrency: 3\n"))
        == base
    )
    assert (
        changed(
            MINIMAL_SPEC.replace(
                "    model: large-model\n", "    model: large-model\n    pricing: {input_per_million: 9}\n"
            )
        )
        == base
    )
    assert changed(MINIMAL_SPEC.replace("model: large-model", "model: other-model")) != base
    assert changed(MINIMAL_SPEC.replace("chunk_size: 200", "chunk_size: 300")) != base
    assert (
        changed(MINIMAL_SPEC.replace("sampling: {max_tokens: 1024}", "sampling: {max_tokens: 1024, temperature: 0.1}"))
        != base
    )
    assert changed(MINIMAL_SPEC + "template: {bos_token: '<s>'}\n") != base
    prompt = project.root / "prompts" / "filter.yaml"
    original = prompt.read_text()
    prompt.write_text(original.replace("suitable for writing", "good for writing"))
    assert compile_spec(project()).plan.fingerprint != base, "prompt text"
    prompt.write_text(original)
    (project.root / "docs" / "a.txt").write_text("Different words entirely, 1900.\n")
    assert compile_spec(project()).plan.fingerprint != base, "input file contents"


def test_plan_json_is_the_plan(project, capsys):
    spec = project()
    assert main(["plan", str(spec), "--json"]) == 0
    plan = json.loads(capsys.readouterr().out)
    assert plan["fingerprint"] == compile_spec(spec).plan.fingerprint
    assert plan["inputs"][0]["path"] == "docs/a.txt"


def test_plan_estimates_before_spending(project, capsys):
    assert main(["plan", str(project())]) == 0
    out = capsys.readouterr().out
    assert "1 documents, 1 chunks" in out
    assert "filter" in out and "generate" in out and "total: about $" in out
    assert "…" not in out, "nothing shortened at 80 columns (CI logs, pull request comments)"
    plan = compile_spec(project()).plan
    for name, model in plan.spec.models.items():
        assert f"{name}: {model.engine} {model.model}" in out


def test_spec_schema_is_generated_from_the_models():
    checked_in = (REPO / "schemas" / "spec.schema.json").read_text(encoding="utf-8")
    assert checked_in == render(), "schemas/spec.schema.json drifted: run `make schema`"


def test_regenerate_rejected_belongs_to_verify_steps(project, capsys):
    spec = project(
        MINIMAL_SPEC.replace("    prompt: generate.yaml\n", "    prompt: generate.yaml\n    regenerate_rejected: 2\n")
    )
    code, lines = validate(spec, capsys)
    assert code == 2
    assert "steps[1]: regenerate_rejected applies to verify steps only" in lines[0]
