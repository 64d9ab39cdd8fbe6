"""Shared fixtures: the shared corpus (when present) and a helper that writes a spec beside its prompts."""

from __future__ import annotations

import sys
import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_CORPUS = SHARED / "corpus"
sys.path.insert(0, str(Path(__file__).resolve().parent))  # tests/fake_openai.py


def shared(*parts: str) -> Path:
    path = SHARED.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} is not present on this machine")
    return path


MINIMAL_SPEC = """\
version: 1
models:
  small:
    base_url: http://127.0.0.1:9/v1
    model: small-model
    sampling: {max_tokens: 1024}
  large:
    base_url: http://127.0.0.1:9/v1
    model: large-model
inputs:
  paths: [docs]
  chunk_size: 200
steps:
  - name: filter
    kind: filter
    model: small
    prompt: filter.yaml
  - name: generate
    kind: generate
    model: large
    prompt: generate.yaml
"""


@pytest.fixture
def project(tmp_path: Path):
    """A directory with docs/, the shipped prompts copied into prompts/, and a `write(spec_text)` helper."""
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "a.txt").write_text(
        "The Golden Spike was driven at Promontory Summit on May 10, 1869.\n\nLeland Stanford drove it.\n",
        encoding="utf-8",
    )
    (tmp_path / "prompts").mkdir()
    for name in ("filter.yaml", "generate.yaml", "verify.yaml"):
        (tmp_path / "prompts" / name).write_text((REPO / "prompts" / name).read_text(), encoding="utf-8")

    def write(text: str = MINIMAL_SPEC, name: str = "spec.yaml", prompts_dir: str | None = "prompts") -> Path:
        body = textwrap.dedent(text)
        if prompts_dir and "prompts_dir" not in body:
            body = f"prompts_dir: {prompts_dir}\n" + body
        path = tmp_path / name
        path.write_text(body, encoding="utf-8")
        return path

    write.root = tmp_path
    return write


@pytest.fixture
def fake_server():
    """A real OpenAI-compatible HTTP server on 127.0.0.1 (see fake_openai.py); tests set `.responder`."""
    from fake_openai import FakeOpenAI, ServerThread

    thread = ServerThread(FakeOpenAI())
    fake = thread.start()
    yield fake
    thread.stop()


def llm_spec(base_url: str, **overrides: str) -> str:
    """A spec for the fake server: fast retries, small concurrency, both steps on LLMs."""
    values = {
        "concurrency": "4",
        "max_attempts": "4",
        "timeout_s": "5",
        "chunk_size": "200",
        "filter_extra": "",
        "generate_extra": "",
        "output_extra": "",
        "large_extra": "",
        "verify_step": "",
    } | overrides

    def model(name: str, input_price: float, output_price: float) -> str:
        return f"""\
  {name}:
    base_url: {base_url}
    model: {name}-model
    concurrency: {values["concurrency"]}
    max_attempts: {values["max_attempts"]}
    timeout_s: {values["timeout_s"]}
    backoff_s: 0.01
    backoff_max_s: 0.05
    pricing: {{input_per_million: {input_price}, output_per_million: {output_price}}}
"""

    return f"""\
version: 1
models:
{model("small", 1.0, 2.0)}{model("large", 3.0, 4.0)}{values["large_extra"]}
inputs:
  paths: [docs]
  chunk_size: {values["chunk_size"]}
steps:
  - name: filter
    kind: filter
    model: small
    prompt: filter.yaml
{values["filter_extra"]}
  - name: generate
    kind: generate
    model: large
    prompt: generate.yaml
{values["generate_extra"]}
{values["verify_step"]}
output:
  dir: out
{values["output_extra"]}
"""


def offline_project(root: Path) -> Path:
    """A copy of the shipped offline spec with the prompts and samples beside it, so a build's cache and outputs
    stay out of the checkout. Returns the spec's path."""
    import shutil

    for name in ("spec", "prompts", "samples"):
        shutil.copytree(REPO / name, root / name, ignore=shutil.ignore_patterns(".corrigenda-cache"))
    return root / "spec" / "offline.yaml"
