"""Shared fixtures: the shared corpus (when present) and a helper that writes a spec beside its prompts."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared"
SHARED_CORPUS = SHARED / "corpus"


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
    for name in ("filter.yaml", "generate.yaml"):
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
