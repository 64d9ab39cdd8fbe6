"""A release changed or damaged after its build (a hand edit, a cut copy, a bad disk): `check` names what is wrong and
`show` says it cannot show it, each in one line with exit 1 or 2, never a traceback."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from conftest import offline_project

from corrigenda.cli import main


@pytest.fixture(scope="module")
def built(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("damaged")
    out = root / "out"
    assert main(["build", str(offline_project(root)), "--out", str(out)]) == 0
    return out


@pytest.fixture
def copy(built, tmp_path) -> Path:
    target = tmp_path / "release"
    shutil.copytree(built, target)
    return target


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert "Traceback" not in err
    return err


@pytest.mark.parametrize("manifest", ["[1, 2]", '"a string"', '{"outputs": [1]}', "{}"])
def test_check_names_a_manifest_that_is_json_but_not_a_manifest(built, copy, capsys, manifest):
    (copy / "manifest.json").write_text(manifest)
    for extra in ([], ["--spec", str(built.parent / "spec" / "offline.yaml")]):
        assert main(["check", str(copy), *extra]) == 1
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        assert f"{copy / 'manifest.json'}: not a corrigenda manifest" in captured.out + captured.err


@pytest.mark.parametrize(
    ("name", "content"),
    [
        ("axolotl_correction_conversations.json", b'[{"segments": 5}]'),
        ("axolotl_correction_conversations.json", b'{"not": "a list"}'),
        ("axolotl_chat_template.jsonl", b"\xff\xfe not UTF-8"),
        ("failed.jsonl", b'{"cut off'),
        ("debug_outputs/generate.jsonl", b"garbage\n"),
    ],
)
def test_show_says_a_damaged_release_cannot_be_shown(copy, capsys, name, content):
    (copy / name).write_bytes(content)
    for extra in ([], ["--failed"], ["--item", "x"]):
        assert main(["show", str(copy), *extra]) == 2
        line = _error(capsys).strip()
        assert line.startswith(f"{copy} cannot be shown: a file in it is damaged (") and "rebuild" in line
