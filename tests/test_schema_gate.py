"""Schema-gated releases: versioned schema ids in the manifest, and `check` refusing versions it does not know."""

from __future__ import annotations

import json

from conftest import REPO, offline_project
from hypothesis import given
from hypothesis import strategies as st

from corrigenda import __version__
from corrigenda.cli import main
from corrigenda.compiler.compile import compile_spec
from corrigenda.emit.schemas import SCHEMA_FILES, version_of


def _release(tmp_path):
    spec = offline_project(tmp_path)
    out = tmp_path / "out"
    assert main(["build", str(spec), "--out", str(out)]) == 0
    return spec, out


def test_the_manifest_records_schema_ids_version_and_plan(tmp_path):
    spec, out = _release(tmp_path)
    manifest = json.loads((out / "manifest.json").read_text())
    for name, filename in SCHEMA_FILES.items():
        shipped = json.loads((REPO / "schemas" / filename).read_text())["$id"]
        assert manifest["schemas"][name] == shipped
        assert version_of(shipped) is not None, f"{filename}: $id carries no /vN version"
    assert manifest["corrigenda"] == __version__
    assert manifest["plan_fingerprint"] == compile_spec(spec).plan.fingerprint
    ids = [entry["id"] for entry in manifest["records"]]
    assert len(ids) == len(set(ids)) == manifest["counts"]["released"]


def test_check_refuses_a_release_written_against_a_schema_version_it_does_not_know(tmp_path, capsys):
    spec, out = _release(tmp_path)
    assert main(["check", str(out), "--spec", str(spec)]) == 0
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    manifest["schemas"]["input_output"] = manifest["schemas"]["input_output"].replace("/v1.", "/v2.")
    path.write_text(json.dumps(manifest))
    capsys.readouterr()
    assert main(["check", str(out)]) == 1
    err = capsys.readouterr().err
    assert "version 2" in err and "knows version 1" in err


def test_a_release_from_before_schema_versions_still_checks(tmp_path):
    _, out = _release(tmp_path)
    path = out / "manifest.json"
    manifest = json.loads(path.read_text())
    del manifest["schemas"]
    path.write_text(json.dumps(manifest))
    assert main(["check", str(out)]) == 0


def test_a_chat_line_breaking_its_schema_is_a_problem(tmp_path, capsys):
    path = tmp_path / "chat.jsonl"
    messages = [
        {"role": "user", "content": "q", "train": False},
        {"role": "assistant", "content": "wrong", "train": False},
        {"role": "user", "content": "sure?", "train": False},
        {"role": "assistant", "content": "right", "train": "yes"},
    ]
    path.write_text(json.dumps({"messages": messages}) + "\n")
    assert main(["check", str(path)]) == 1
    assert "schema: messages/3/train" in capsys.readouterr().err


@given(st.from_regex(r"https://[a-z]{1,8}\.dev/[a-z_/]{1,20}", fullmatch=True), st.integers(0, 10**6))
def test_a_versioned_id_gives_back_its_base_and_version(base, version):
    assert version_of(f"{base}/v{version}.schema.json") == (base, version)
    assert version_of(f"{base}.schema.json") is None  # no digits in `base`: an unversioned id
