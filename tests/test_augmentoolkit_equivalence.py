"""An imported spec sends what Augmentoolkit's correction pipeline sends, and every Augmentoolkit config converts.

The expected requests are built from Augmentoolkit's own files in ../shared/reference/augmentoolkit: its prompt files
read as its GenerationStep reads them (PyYAML), filled by its own `safe_formatter` module, and the sampling parameters
read out of its step definitions (filter_chunks.py, corrections.py) with the defaults its engine wrapper adds.
"""

from __future__ import annotations

import ast
import importlib.util
from pathlib import Path
from typing import Any

import pytest
from conftest import shared
from fake_openai import Reply, good_conversation, passage_of
from hypothesis import given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from corrigenda.cli import main
from corrigenda.templating import augmentoolkit_format

PARAGRAPH = (
    "The Golden Spike was driven at Promontory Summit, Utah, on May 10, 1869, joining the Central Pacific and "
    "Union Pacific railroads. Leland Stanford, president of the Central Pacific, drove the ceremonial spike."
)


def _sampling_params(path: Path, name: str) -> dict[str, Any]:
    """The `sampling_params=` literal of the PipelineStep defined in `name` (a function or an assignment)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        named = (isinstance(node, ast.FunctionDef) and node.name == name) or (
            isinstance(node, ast.Assign) and any(getattr(t, "id", None) == name for t in node.targets)
        )
        if not named:
            continue
        for call in ast.walk(node):
            if isinstance(call, ast.Call) and getattr(call.func, "id", None) == "PipelineStep":
                for keyword in call.keywords:
                    if keyword.arg == "sampling_params":
                        return ast.literal_eval(keyword.value)
    raise AssertionError(f"no sampling_params for {name} in {path}")


def _as_engine_sends(params: dict[str, Any], use_stop: bool) -> dict[str, Any]:
    """EngineWrapper.submit_chat: GenerationStep drops `stop` without use_stop; the wrapper fills temperature and
    top_p with 1, max_tokens with 3000, and adds `<|im_end|>` to the stop list."""
    params = dict(params)
    if not use_stop:
        params.pop("stop", None)
    stop = [*params.get("stop", []), "<|im_end|>"] if "<|im_end|>" not in params.get("stop", []) else params["stop"]
    return {
        "temperature": params.get("temperature", 1),
        "top_p": params.get("top_p", 1),
        "max_tokens": params.get("max_tokens", 3000),
        "stop": stop,
    }


def _augmentoolkit_messages(root: Path, prompt: Path, **values: str) -> list[dict[str, str]]:
    """GenerationStep.generate in chat mode: yaml.safe_load, safe_format each content (unchanged when formatting
    fails), then strip."""
    yaml = pytest.importorskip("yaml")
    spec = importlib.util.spec_from_file_location(
        "atk_safe_formatter", root / "augmentoolkit" / "generation_functions" / "safe_formatter.py"
    )
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    messages = []
    for message in yaml.safe_load(prompt.read_text(encoding="utf-8")):
        try:
            content = module.safe_format(message["content"], **values)
        except Exception:
            content = message["content"]
        messages.append({"role": message["role"], "content": content.strip()})
    return messages


def _import(tmp_path: Path, monkeypatch, config: Path, *extra: str) -> Path:
    monkeypatch.chdir(tmp_path)
    out = tmp_path / "spec" / "imported.yaml"
    assert main(["import-augmentoolkit", str(config), "-o", str(out), *extra]) == 0
    return out


@pytest.mark.parametrize("use_stop", [True, False])
def test_imported_spec_sends_what_augmentoolkit_sends(tmp_path, monkeypatch, fake_server, capsys, use_stop):
    root = shared("reference", "augmentoolkit")
    config_text = (root / "external_configs" / "correction_config.yaml").read_text(encoding="utf-8")
    config = tmp_path / "atk" / "external_configs" / "correction_config.yaml"
    config.parent.mkdir(parents=True)
    config.write_text(config_text.replace("use_stop: True", f"use_stop: {use_stop}"), encoding="utf-8")
    # Augmentoolkit finds its prompts beside its pipeline code; the copied config sits in a checkout-like tree.
    pipeline = root / "generation" / "core_pipelines" / "correction_pipeline"
    (tmp_path / "atk" / "generation" / "core_pipelines").mkdir(parents=True)
    (tmp_path / "atk" / "generation" / "core_pipelines" / "correction_pipeline").symlink_to(pipeline)
    docs = tmp_path / "inputs" / "examples" / "facts"  # input_dir, relative to where Augmentoolkit ran
    docs.mkdir(parents=True)
    (docs / "golden_spike.txt").write_text(PARAGRAPH, encoding="utf-8")

    spec = _import(tmp_path, monkeypatch, config, "--no-verify")
    loaded = YAML(typ="safe").load(spec.read_text(encoding="utf-8"))
    small, large = loaded["models"]["small"]["model"], loaded["models"]["large"]["model"]
    monkeypatch.setenv("CORRIGENDA_BASE_URL", fake_server.base_url)  # the spec names it: base_url_env
    monkeypatch.setenv("CORRIGENDA_API_KEY", "sk-test")
    fake_server.models = [small, large]

    def responder(body: dict[str, Any], count: int) -> Reply:
        if body["model"] == small:
            return Reply("Reasoning and thought process (reason intelligently): real facts.\nFinal Judgment: Suitable.")
        return Reply(good_conversation(passage_of(body["messages"])))

    fake_server.responder = responder
    assert main(["build", str(spec)]) == 0
    capsys.readouterr()

    sent = {body["model"]: body for body in fake_server.requests}
    assert set(sent) == {small, large} and len(fake_server.requests) == 2
    filter_params = _sampling_params(
        root / "generation" / "core_components" / "filter_chunks.py", "create_filter_chunks_step"
    )
    generate_params = _sampling_params(pipeline / "corrections.py", "masked_conversation_creation_step")
    for model, prompt, params in (
        (small, pipeline / "prompts" / "filter.yaml", filter_params),
        (large, pipeline / "prompts" / "masked_conversation_generation.yaml", generate_params),
    ):
        body = sent[model]
        assert body["messages"] == _augmentoolkit_messages(root, prompt, text=PARAGRAPH, metadata="golden_spike.txt")
        expected = _as_engine_sends(params, use_stop)
        assert {key: body.get(key) for key in expected} == expected
    assert "golden_spike.txt" in sent[small]["messages"][-1]["content"]


REFERENCE_CONFIGS = [
    "external_configs/correction_config.yaml",
    "external_configs/complete_factual.yaml",
    "external_configs/_START_HERE_complete_factual.yaml",
    "external_configs/_LOCAL_DATAGEN_complete_factual.yaml",
    "generation/core_composition/complete_factual_dataset/config.yaml",
    "generation/core_composition/meta_datagen/config.yaml",
    "generation/core_pipelines/correction_pipeline/config.yaml",
]


@pytest.mark.parametrize("name", REFERENCE_CONFIGS)
def test_every_augmentoolkit_correction_config_converts(tmp_path, monkeypatch, capsys, name):
    config = shared("reference", "augmentoolkit", *name.split("/"))
    spec = _import(tmp_path, monkeypatch, config)
    notes = capsys.readouterr().out
    text = spec.read_text(encoding="utf-8")
    loaded = YAML(typ="safe").load(text)
    assert [step["name"] for step in loaded["steps"]] == ["filter", "generate", "verify"]
    assert loaded["prompts_dir"] == "prompts"
    assert (spec.parent / "prompts" / "generate.yaml").read_bytes() != (
        spec.parent / "prompts" / "filter.yaml"
    ).read_bytes()
    assert loaded["steps"][0]["sampling"]["temperature"] == 0.8
    assert all(path.startswith("../") for path in loaded["inputs"]["paths"])  # relative to where the import ran
    assert "--no-verify" in notes and "cl100k_base" in notes
    for line in notes.splitlines():  # every note is also a comment in the spec
        if line.startswith("note: "):
            assert f"# - {line.removeprefix('note: ')}" in text


def test_a_second_import_beside_the_first_never_changes_the_first_specs_prompts(tmp_path, monkeypatch, capsys):
    root = shared("reference", "augmentoolkit")
    prompts = root / "generation" / "core_pipelines" / "correction_pipeline"
    local = _import(tmp_path, monkeypatch, root / "external_configs" / "_LOCAL_DATAGEN_complete_factual.yaml")
    before = {path.name: path.read_bytes() for path in (local.parent / "prompts").iterdir()}
    assert before["filter.yaml"] == (prompts / "prompts_local" / "filter.yaml").read_bytes()
    capsys.readouterr()

    api = local.with_name("api.yaml")
    assert main(["import-augmentoolkit", str(root / "external_configs" / "complete_factual.yaml"), "-o", str(api)]) == 0
    assert "this spec's prompts are written to prompts-api/ instead" in capsys.readouterr().out
    assert {path.name: path.read_bytes() for path in (local.parent / "prompts").iterdir()} == before
    assert YAML(typ="safe").load(api.read_text(encoding="utf-8"))["prompts_dir"] == "prompts-api"
    assert (api.parent / "prompts-api" / "filter.yaml").read_bytes() == (
        prompts / "prompts" / "filter.yaml"
    ).read_bytes()


def test_placeholder_inside_a_value_is_named_by_line_and_column(tmp_path, monkeypatch, capsys):
    config = tmp_path / "complete.yaml"
    config.write_text(
        "pipeline: factual-datagen-pipeline\n"
        "path:\n"
        "  input_dirs:\n"
        "    - path: ./inputs/!!PLACEHOLDER!!\n"
        "  output_dir: ./outputs/x\n"
        "model_training:\n"
        "  pretrain_hub_model_id: !!PLACEHOLDER!!/test-model-1-pretrain\n"
        "correction_pipeline:\n"
        "  correction_small_model: !!PLACEHOLDER!!/small\n"
        "  correction_large_model: big\n"
        "  correction_chunk_size: 4000\n",
        encoding="utf-8",
    )
    spec = _import(tmp_path, monkeypatch, config)
    notes = capsys.readouterr().out
    assert f"path.input_dirs[0].path: still !!PLACEHOLDER!! ({config}:4:22)" in notes
    assert f"correction_pipeline.correction_small_model: still !!PLACEHOLDER!! ({config}:9:27)" in notes
    loaded = YAML(typ="safe").load(spec.read_text(encoding="utf-8"))
    assert loaded["models"]["small"]["model"] == "!!PLACEHOLDER!!/small"
    assert loaded["inputs"]["chunk_size"] == 4000
    assert loaded["output"]["dir"] == "../outputs/x"
    assert main(["validate", str(spec)]) == 2
    assert "models.small.model: is still `!!PLACEHOLDER!!`" in capsys.readouterr().err


def test_unrelated_pipeline_is_refused_with_what_was_looked_for(tmp_path, monkeypatch, capsys):
    config = tmp_path / "rag.yaml"
    config.write_text("pipeline: rag-data-pipeline\nrag_data:\n  rag_model: x\n", encoding="utf-8")
    monkeypatch.chdir(tmp_path)
    assert main(["import-augmentoolkit", str(config), "-o", str(tmp_path / "s.yaml")]) == 2
    err = capsys.readouterr().err
    assert "correction_pipeline" in err and "Traceback" not in err


def _safe_format_module() -> Any:
    path = shared("reference", "augmentoolkit", "augmentoolkit", "generation_functions", "safe_formatter.py")
    spec = importlib.util.spec_from_file_location("atk_safe_formatter_prop", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


PIECES = st.sampled_from([*"ab {}!:0r.[]\n", "{text}", "{metadata}", "{other}", "{text!r}", "{0}"])
PROMPTISH = st.lists(PIECES, max_size=20).map("".join)


@settings(max_examples=300, deadline=None)
@given(content=PROMPTISH, text=st.text(max_size=20), metadata=st.text(max_size=10))
def test_augmentoolkit_style_filling_matches_its_safe_formatter(content, text, metadata):
    module = _safe_format_module()
    try:
        expected = module.safe_format(content, text=text, metadata=metadata)
    except Exception:
        expected = content
    assert augmentoolkit_format(content, {"text": text, "metadata": metadata}) == expected


@given(before=st.text(alphabet="ab .\n"), after=st.text(alphabet="ab .\n"), value=st.text())
def test_filling_puts_the_value_in_and_keeps_unknown_names(before, after, value):
    assert augmentoolkit_format(before + "{text}" + after, {"text": value}) == before + value + after
    assert augmentoolkit_format(before + "{nope}" + after, {"text": value}) == before + "{nope}" + after


def test_completion_mode_prompt_ends_with_the_ai_cue(tmp_path, monkeypatch, fake_server, capsys):
    root = shared("reference", "augmentoolkit")
    config = tmp_path / "atk" / "external_configs" / "correction_config.yaml"
    config.parent.mkdir(parents=True)
    text = (root / "external_configs" / "correction_config.yaml").read_text(encoding="utf-8")
    config.write_text(text.replace("completion_mode: False", "completion_mode: True"), encoding="utf-8")
    docs = tmp_path / "inputs" / "examples" / "facts"
    docs.mkdir(parents=True)
    (docs / "golden_spike.txt").write_text(PARAGRAPH, encoding="utf-8")
    spec = _import(tmp_path, monkeypatch, config, "--no-verify")
    assert "completion_mode: Augmentoolkit sends its .txt prompt files" in capsys.readouterr().out
    loaded = YAML(typ="safe").load(spec.read_text(encoding="utf-8"))
    small, large = loaded["models"]["small"]["model"], loaded["models"]["large"]["model"]
    monkeypatch.setenv("CORRIGENDA_BASE_URL", fake_server.base_url)
    monkeypatch.setenv("CORRIGENDA_API_KEY", "sk-test")
    fake_server.models = [small, large]

    def responder(body: dict[str, Any], count: int) -> Reply:
        if body["model"] == small:
            return Reply("It holds real facts. Suitable.")
        return Reply(good_conversation(passage_of([{"role": "user", "content": body["prompt"]}])))

    fake_server.responder = responder
    assert main(["build", str(spec)]) == 0
    prompts = [body["prompt"] for body in fake_server.requests]
    assert len(prompts) == 2
    for prompt in prompts:  # the training template's turns, then the cue that starts the model's answer
        assert prompt.startswith("Human: ") or "\nHuman: " in prompt
        assert prompt.endswith(" **Finished.**\nAI: ")


@given(
    suffix=st.text(alphabet=st.characters(blacklist_categories=("Cs", "Zs", "Cc", "Zl", "Zp")), max_size=20),
    comment=st.sampled_from(["", "  # fill me", " "]),
)
def test_a_placeholder_value_reads_as_its_text(suffix, comment):
    from corrigenda.compiler.loader import quote_placeholders

    text = f"a:\n  b: !!PLACEHOLDER!!{suffix}{comment}\n  c: 1\n"
    loaded = YAML(typ="safe").load(quote_placeholders(text))
    assert loaded == {"a": {"b": f"!!PLACEHOLDER!!{suffix}", "c": 1}}
