"""The README is tested: every spec it shows validates, every Axolotl config it shows names files and fields a build
really writes, and every command block runs as written in a scratch copy of the project (a block marked
`<!-- needs: endpoint -->` is only parsed: its `corrigenda` lines by the real argument parser, its `make` lines by
`make -n`)."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest
from ruamel.yaml import YAML

from corrigenda.cli import build_parser
from corrigenda.compiler.compile import compile_spec

REPO = Path(__file__).resolve().parent.parent
README = REPO / "README.md"
NEEDS_ENDPOINT = "<!-- needs: endpoint -->"
FENCE = re.compile(r"^```(\w+)\n(.*?)^```", re.MULTILINE | re.DOTALL)


@dataclass(frozen=True)
class Block:
    language: str
    text: str
    line: int  # of the opening fence, for failure messages
    needs_endpoint: bool

    def __str__(self) -> str:
        return f"README.md:{self.line} ({self.language})"


def readme_blocks() -> list[Block]:
    text = README.read_text(encoding="utf-8")
    blocks = []
    for match in FENCE.finditer(text):
        before = text[: match.start()].rstrip().splitlines()
        blocks.append(
            Block(
                match.group(1),
                match.group(2),
                text.count("\n", 0, match.start()) + 1,
                bool(before) and before[-1].strip() == NEEDS_ENDPOINT,
            )
        )
    return blocks


def _yaml(block: Block):
    return YAML(typ="safe").load(block.text)


def _commands(block: Block) -> list[str]:
    """The block's command lines, comments and blank lines dropped."""
    lines = []
    for line in block.text.splitlines():
        command = line.split(" #")[0].strip()
        if command and not command.startswith("#"):
            lines.append(command)
    return lines


def test_the_readme_shows_specs_configs_and_commands():
    languages = [block.language for block in readme_blocks()]
    assert languages.count("bash") >= 3 and languages.count("yaml") >= 2
    assert set(languages) <= {"bash", "yaml"}, "a new kind of block needs a way to be tested here"


# --- a scratch copy of the project, where the README's commands run as written -------------------------------------


def _project_files() -> list[str]:
    listed = subprocess.run(
        ["git", "ls-files", "--cached", "--others", "--exclude-standard"],
        cwd=REPO,
        capture_output=True,
        text=True,
    )
    if listed.returncode != 0:
        pytest.skip(f"not a git checkout, so the project's files cannot be listed: {listed.stderr.strip()}")
    return [name for name in listed.stdout.splitlines() if (REPO / name).is_file()]


def _tokenizer(path: Path) -> None:
    """A small byte-level BPE trained here (no download), at the path the README uses as an example."""
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=300, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    tokenizer.train_from_iterator([(REPO / "samples" / "transcontinental-railroad.txt").read_text()], trainer)
    path.parent.mkdir(parents=True, exist_ok=True)
    tokenizer.save(str(path))


@pytest.fixture(scope="module")
def scratch(tmp_path_factory) -> Path:
    """The project's files, its virtualenv linked in, and the example files the README's commands name."""
    venv = REPO / ".venv" / "bin" / "corrigenda"
    if not venv.is_file() or shutil.which("make") is None:
        pytest.skip("the README's commands need `make` and the project's .venv (run `make install` first)")
    root = tmp_path_factory.mktemp("readme")
    for name in _project_files():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(REPO / name, root / name)
    (root / ".venv").symlink_to(REPO / ".venv")
    # `make install` must find the linked virtualenv up to date, never reinstall into it from this copy.
    stamp = venv.stat().st_mtime - 1
    os.utime(root / "pyproject.toml", (stamp, stamp))
    _tokenizer(root / "path" / "to" / "tokenizer.json")
    (root / "config.yaml").write_text("system:\n  concurrency_limit: 8\n", encoding="utf-8")  # an Augmentoolkit config
    return root


def _environment() -> dict[str, str]:
    """No endpoint settings leak in: the blocks that run must run without one."""
    return {k: v for k, v in os.environ.items() if not k.startswith("CORRIGENDA_") and not k.startswith("MAKE")}


def _built_spec(words: list[str], scratch: Path) -> Path | None:
    """The spec a command builds from (`corrigenda build SPEC`, `make dataset|release [SPEC=...]`), if it builds."""
    if words[0].endswith("corrigenda") and len(words) > 2 and words[1] == "build":
        return scratch / words[2]
    if words[0] == "make" and {"dataset", "release"} & set(words):
        given = [w.split("=", 1)[1] for w in words if w.startswith("SPEC=")]
        default = re.search(r"^SPEC \?= (\S+)$", (scratch / "Makefile").read_text(), re.MULTILINE)
        return scratch / (given[0] if given else default.group(1) if default else "spec/offline.yaml")
    return None


def _refuse_unmarked_endpoint_use(block: Block, scratch: Path) -> None:
    """A block that would call a real model must say so: the suite never reaches the internet."""
    for command in _commands(block):
        for part in command.split("&&"):
            spec = _built_spec(shlex.split(part), scratch)
            if spec is None:
                continue
            plan = compile_spec(spec).plan
            models = {step.model for step in plan.spec.steps}
            if any(plan.spec.models[name].engine == "openai" for name in models):
                pytest.fail(f"{block}: `{command}` calls a real endpoint; put {NEEDS_ENDPOINT} before the block")


@pytest.fixture(scope="module")
def ran(scratch) -> list[tuple[Block, subprocess.CompletedProcess[str]]]:
    """Every runnable bash block, in README order (later blocks use what earlier ones built)."""
    results = []
    for block in readme_blocks():
        if block.language != "bash" or block.needs_endpoint:
            continue
        _refuse_unmarked_endpoint_use(block, scratch)
        result = subprocess.run(
            ["bash", "-euo", "pipefail", "-c", block.text],
            cwd=scratch,
            capture_output=True,
            text=True,
            timeout=300,
            env=_environment(),
        )
        results.append((block, result))
    return results


def test_every_command_block_runs_as_written(ran):
    assert ran, "no runnable command block in the README"
    for block, result in ran:
        assert result.returncode == 0, f"{block} failed ({result.returncode}):\n{block.text}\n{result.stderr[-2000:]}"
        assert "Traceback" not in result.stderr, f"{block}:\n{result.stderr[-2000:]}"


def test_blocks_that_need_an_endpoint_are_at_least_valid_commands(scratch):
    marked = [block for block in readme_blocks() if block.needs_endpoint]
    assert marked, "the README's commands for real models should be shown (and marked)"
    parser = build_parser()
    for block in marked:
        for command in _commands(block):
            words = shlex.split(command)
            if words[0] == "export":
                continue
            if words[0].endswith("corrigenda"):
                parser.parse_args(words[1:])  # an unknown option or a bad value exits here
            elif words[0] == "make":
                dry = subprocess.run(["make", "-n", *words[1:]], cwd=scratch, capture_output=True, text=True)
                assert dry.returncode == 0, f"{block}: {command}: {dry.stderr}"
            else:
                pytest.fail(f"{block}: no way to check `{command}` without an endpoint")


# --- YAML: specs validate, Axolotl configs name what a build writes ------------------------------------------------


def test_every_spec_in_the_readme_validates(scratch):
    specs = [block for block in readme_blocks() if block.language == "yaml" and "version" in (_yaml(block) or {})]
    assert specs, "the README shows a full spec"
    for index, block in enumerate(specs):
        path = scratch / "spec" / f"readme-example-{index}.yaml"  # where the README says to save it
        path.write_text(block.text, encoding="utf-8")
        compiled = compile_spec(path)  # raises SpecError, with every problem located, if it does not validate
        assert compiled.plan.inputs, f"{block}: the example spec reads no input file"


def test_every_axolotl_config_in_the_readme_names_real_files_and_fields(scratch, ran):
    configs = [block for block in readme_blocks() if block.language == "yaml" and "datasets" in (_yaml(block) or {})]
    assert configs, "the README shows how to train with Axolotl"
    for block in configs:
        for entry in _yaml(block)["datasets"]:
            path = scratch / entry["path"]
            assert path.is_file(), f"{block}: {entry['path']} is not written by `make dataset`"
            assert entry["ds_type"] == "json"
            if entry["type"] == "input_output":
                records = json.loads(path.read_text(encoding="utf-8"))
                assert records and all({"label", "text"} == set(s) for r in records for s in r["segments"])
            else:
                assert entry["type"] == "chat_template", f"{block}: unknown dataset type {entry['type']}"
                for line in path.read_text(encoding="utf-8").splitlines():
                    messages = json.loads(line)[entry["field_messages"]]
                    assert all(isinstance(m[entry["message_field_training"]], bool) for m in messages)


def test_every_yaml_block_is_a_spec_an_axolotl_config_or_a_ci_workflow():
    for block in readme_blocks():
        if block.language == "yaml":
            keys = set(_yaml(block) or {})
            assert keys & {"version", "datasets", "jobs"}, f"{block}: not a spec, an Axolotl config or a CI workflow"


def test_ci_workflow_blocks_run_valid_corrigenda_commands():
    """The shard matrix's steps: each corrigenda command line parses (with the matrix value filled in)."""
    parser, seen = build_parser(), 0
    for block in readme_blocks():
        if block.language != "yaml" or "jobs" not in (_yaml(block) or {}):
            continue
        for job in _yaml(block)["jobs"].values():
            for step in job["steps"]:
                for command in str(step.get("run", "")).split("&&"):
                    words = shlex.split(command.replace("${{ matrix.shard }}", "0"))
                    if words and words[0].endswith("/corrigenda"):
                        parser.parse_args(words[1:])
                        seen += 1
    assert seen >= 3


def test_the_readmes_axolotl_configs_match_what_a_release_writes_and_axolotl_reads(scratch, ran):
    """Axolotl's input_output trains a `label: false` segment unless `train_on_inputs: false`; the README's config must
    say so, and every setting it shows for a file is the one the release's own axolotl_config.yaml gives it."""
    written = (scratch / "out" / "axolotl_config.yaml").read_text(encoding="utf-8")
    settings = {line.lstrip("#- ").split("  #")[0].strip() for line in written.splitlines()}
    configs = [block for block in readme_blocks() if block.language == "yaml" and "datasets" in (_yaml(block) or {})]
    for block in configs:
        config = _yaml(block)
        for entry in config["datasets"]:
            if entry["type"] == "input_output":
                assert config.get("train_on_inputs") is False, f"{block}: input_output needs train_on_inputs: false"
            assert f'path: "{(scratch / entry["path"]).resolve()}"' in settings, f"{block}: {entry['path']}"
            for key, value in entry.items():
                if key != "path":
                    assert f"{key}: {value}" in settings, f"{block}: {key}: {value} is not what the release writes"
