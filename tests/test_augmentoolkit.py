"""Augmentoolkit users: their config converts, and their prompt files work as prompts."""

from __future__ import annotations

from pathlib import Path

from conftest import shared
from ruamel.yaml import YAML

from corrigenda.cli import main
from corrigenda.compiler.compile import compile_spec
from corrigenda.templating import load_prompt


def test_real_augmentoolkit_config_converts(tmp_path, capsys, monkeypatch):
    config = shared("reference", "augmentoolkit-correction-config.yaml")
    monkeypatch.chdir(tmp_path)  # Augmentoolkit's paths are relative to where it ran
    out = tmp_path / "spec" / "mine.yaml"
    assert main(["import-augmentoolkit", str(config), "-o", str(out)]) == 0
    notes = capsys.readouterr().out
    assert "api.large_api_key: not copied" in notes
    assert f"path.input_dir: still !!PLACEHOLDER!! ({config}:14:" in notes
    spec = YAML(typ="safe").load(out.read_text())
    assert spec["models"]["large"]["model"] == "deepseek-ai/DeepSeek-R1-Distill-Llama-70B"
    assert spec["models"]["small"]["base_url"] == "https://api.deepinfra.com/v1/openai"
    assert spec["models"]["large"]["concurrency"] == 30
    assert spec["models"]["large"]["pricing"] == {"input_per_million": 0.23, "output_per_million": 0.4}
    assert spec["inputs"]["chunk_size"] == 3000
    assert "**Finished.**" in spec["template"]["prompt_template"]
    settings = "\n".join(line for line in out.read_text().splitlines() if not line.startswith("#"))
    assert "api_key" not in settings.replace("api_key_env", "")  # only the notes name the config's key settings

    # The placeholders it carried over are named by validate, at their line.
    assert main(["validate", str(out)]) == 2
    errors = capsys.readouterr().err.splitlines()
    assert any(":inputs.paths[0]: is still `!!PLACEHOLDER!!`" in e.replace(" inputs", "inputs") for e in errors)
    assert any("output.dir: is still `!!PLACEHOLDER!!`" in e for e in errors)

    # Filled in, it compiles.
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "x.txt").write_text("Lincoln signed the act in 1862.\n")
    text = out.read_text().replace("../inputs/!!PLACEHOLDER!!", "../docs").replace("../outputs/!!PLACEHOLDER!!", "out")
    out.write_text(text)
    assert compile_spec(out).plan.spec.models["small"].model == "meta-llama/Meta-Llama-3.1-8B-Instruct"


def test_placeholder_tag_in_a_spec_is_a_clear_error(project, capsys):
    spec = project()
    spec.write_text(spec.read_text().replace("model: large-model", "model: !!PLACEHOLDER!!"))
    assert main(["validate", str(spec)]) == 2
    assert "models.large.model: is still `!!PLACEHOLDER!!`" in capsys.readouterr().err


def test_augmentoolkit_style_prompt_file(tmp_path: Path):
    prompt = tmp_path / "p.yaml"
    prompt.write_text(
        "- role: system\n  content: 'Answer as JSON like {\"a\": 1}. Use {{braces}} literally.'\n"
        "- role: user\n  content: |\n    Text: {text}\n    Meta: {metadata}\n",
        encoding="utf-8",
    )
    loaded = load_prompt(prompt)
    # No Jinja2 delimiters and {name} placeholders: read as Augmentoolkit style.
    assert not loaded.augmentoolkit_style  # `{{braces}}` is Jinja syntax, so this one is Jinja
    prompt.write_text(
        "- role: system\n  content: 'Answer as JSON like {\"a\": 1}.'\n"
        "- role: user\n  content: |\n    Text: {text}\n    Meta: {metadata}\n",
        encoding="utf-8",
    )
    loaded = load_prompt(prompt)
    assert loaded.augmentoolkit_style
    assert loaded.variables == {"text", "metadata"}
    rendered = loaded.render({"text": "Use {{ x }} and {% y %}", "metadata": "m"})
    assert rendered[0]["content"] == 'Answer as JSON like {"a": 1}.'
    # Filled as Augmentoolkit fills them: `{metadata}` is the file name, and each message is stripped.
    assert rendered[1]["content"] == "Text: Use {{ x }} and {% y %}\nMeta: m"
    rendered = loaded.render({"text": "t", "metadata": {"id": 3}, "source": "docs/book.txt"})
    assert rendered[1]["content"] == "Text: t\nMeta: book.txt"
