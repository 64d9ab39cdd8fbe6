"""Where the shipped prompts and schemas are, both in a source checkout and in an installed wheel."""

from __future__ import annotations

from pathlib import Path

_PACKAGE = Path(__file__).resolve().parent


def data_dir(name: str) -> Path:
    """`prompts` or `schemas`: inside the wheel they sit in `corrigenda/_data/`, in a checkout at the repo root."""
    for candidate in (_PACKAGE / "_data" / name, _PACKAGE.parent / name):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(f"corrigenda's built-in {name}/ directory is missing from this installation")


def schema_path(filename: str) -> Path:
    return data_dir("schemas") / filename
