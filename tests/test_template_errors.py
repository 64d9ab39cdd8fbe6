"""Templates the user writes that compile but fail when rendered: each is a one-line error naming the file and line,
found before anything is paid for, never a traceback after every call was made."""

from __future__ import annotations

import pytest
from conftest import llm_spec
from test_build import _corpus

from corrigenda.cli import main


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    lines = [line for line in err.splitlines() if not line.startswith("[")]  # progress lines aside
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize(
    ("content", "error"),
    [
        ("{{ text.foo.bar }}", "UndefinedError: 'str object' has no attribute 'foo'"),
        ("{{ metadata.author }} wrote: {{ text }}", "UndefinedError: 'dict object' has no attribute 'author'"),
        ("{{ (text | length) / 0 }}", "ZeroDivisionError: division by zero"),
    ],
)
def test_a_prompt_that_fails_on_a_chunk_stops_plan_and_build_before_any_request(
    project, fake_server, capsys, content, error
):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    (project.root / "prompts" / "filter.yaml").write_text(f'- role: user\n  content: "{content}"\n')
    for command in (["plan", str(spec)], ["build", str(spec)]):
        assert main(command) == 2
        line = _one_line(capsys)
        assert line.startswith(
            f"{project.root / 'prompts' / 'filter.yaml'}:2: the user message cannot be rendered for "
        )
        assert error in line and "it can use chunk_index, metadata, source, text, title" in line
    assert fake_server.count == 0
    assert not (project.root / "out").exists()


def _with_template(text: str, template: str) -> str:
    return text.replace("output:\n", f'template:\n  prompt_template: "{template}"\noutput:\n')


@pytest.mark.parametrize(
    ("template", "error"),
    [
        ("{% for m in messages %}{{ m.content }}{% endfor %}{{ messages[7].content }}", "no element 7"),
        ("{% for m in messages %}{{ m.content / 2 }}{% endfor %}", "TypeError: unsupported operand"),
    ],
)
def test_an_output_template_that_cannot_render_a_conversation_is_a_spec_error(
    project, fake_server, capsys, template, error
):
    _corpus(project.root)
    spec = project(_with_template(llm_spec(fake_server.base_url), template))
    for command in ("validate", "build"):
        assert main([command, str(spec)]) == 2
        line = _one_line(capsys)
        assert line.startswith(f"{spec}:") and "template.prompt_template: the template cannot be rendered: " in line
        assert error in line
    assert fake_server.count == 0  # before: 6 calls paid, then a traceback at the first record


def test_a_completion_template_is_tried_with_each_step_s_message_roles(project, fake_server, capsys):
    _corpus(project.root)
    base = llm_spec(fake_server.base_url)
    failing = "{{ messages[9].content }}"
    spec = project(
        base.replace(
            "    model: large-model\n",
            f'    model: large-model\n    mode: completion\n    completion_template: "{failing}"\n',
        )
    )
    assert main(["validate", str(spec)]) == 2
    assert "models.large.completion_template: the template cannot be rendered: UndefinedError" in _one_line(capsys)
    # A template that refuses a system turn is fine when the step's prompt has none, as at run time.
    refuses_system = (
        "{% for m in messages %}{% if m.role == 'system' %}{{ raise_exception('no system') }}{% endif %}"
        "{{ m.content }}{% endfor %}"
    )
    (project.root / "prompts" / "generate.yaml").write_text('- role: user\n  content: "{{ text }}"\n')
    spec = project(
        base.replace(
            "    model: large-model\n",
            f'    model: large-model\n    mode: completion\n    completion_template: "{refuses_system}"\n',
        )
    )
    assert main(["validate", str(spec)]) == 0
