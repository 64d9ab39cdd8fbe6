"""`corrigenda diff OLD_RELEASE NEW_RELEASE` on two real offline builds that differ in one source file."""

from __future__ import annotations

import json

from conftest import offline_project

from corrigenda.cli import main

SOURCE = "transcontinental-railroad.txt"


def _by_id(release) -> dict[str, dict]:
    lines = (release / "axolotl_chat_template.jsonl").read_text().splitlines()
    return {entry["id"]: entry for entry in map(json.loads, lines)}


def test_a_release_diff_names_exactly_the_records_one_changed_source_changed(tmp_path, capsys):
    spec = offline_project(tmp_path)
    old, new = tmp_path / "old", tmp_path / "new"
    assert main(["build", str(spec), "--out", str(old)]) == 0
    source = tmp_path / "samples" / SOURCE
    source.write_text(source.read_text().replace("1869", "1870"), encoding="utf-8")
    assert main(["build", str(spec), "--out", str(new)]) == 0
    capsys.readouterr()

    assert main(["diff", str(old), str(new), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)

    before, after = _by_id(old), _by_id(new)  # the truth, from the released files themselves
    assert diff["records"]["added"] == sorted(set(after) - set(before))
    assert diff["records"]["removed"] == sorted(set(before) - set(after))
    changed = sorted(i for i in set(before) & set(after) if before[i]["messages"] != after[i]["messages"])
    assert changed and diff["records"]["changed"] == changed
    touched = [s for s, c in diff["sources"].items() if c.get("added") or c.get("removed") or c.get("changed")]
    assert touched == [f"../samples/{SOURCE}"]
    assert diff["inputs"]["changed"] == [f"../samples/{SOURCE}"]
    assert diff["manifests"]["old"]["plan_fingerprint"] != diff["manifests"]["new"]["plan_fingerprint"]
    assert diff["schemas"] == {}
    assert "Plan fingerprint" in diff["card_diff"]

    assert main(["diff", str(old), str(new)]) == 0
    notes = capsys.readouterr().out
    assert f"| `../samples/{SOURCE}` |" in notes and f"{len(changed)} changed" in notes


def test_a_release_diff_of_a_release_with_itself_is_empty(tmp_path, capsys):
    spec = offline_project(tmp_path)
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    capsys.readouterr()
    assert main(["diff", str(tmp_path / "out"), str(tmp_path / "out"), "--json"]) == 0
    diff = json.loads(capsys.readouterr().out)
    assert diff["records"]["unchanged"] == diff["records"]["old"] > 0
    assert not (diff["records"]["added"] or diff["records"]["removed"] or diff["records"]["changed"])


def test_a_folder_that_is_no_release_is_a_usage_error(tmp_path, capsys):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    assert "not a corrigenda release" in capsys.readouterr().err
