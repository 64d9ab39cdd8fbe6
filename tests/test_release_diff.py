"""`corrigenda diff OLD_RELEASE NEW_RELEASE` on two real offline builds that differ in one source file."""

from __future__ import annotations

import json
import shutil

from conftest import offline_project
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.review.release_diff import diff_releases

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
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "gone")]) == 2  # the missing one is named
    assert f"{tmp_path / 'gone'}: no such file or directory" in capsys.readouterr().err
    (tmp_path / "spec.yaml").write_text("version: 1\n", encoding="utf-8")
    assert main(["diff", str(tmp_path / "a"), str(tmp_path / "spec.yaml")]) == 2
    assert "one is a folder, the other a file" in capsys.readouterr().err


def test_a_release_whose_dataset_was_damaged_is_refused_not_reported_unchanged(tmp_path, capsys):
    """Notes come from the manifest: a truncated dataset was reported as "93 -> 93, all unchanged"."""
    spec = offline_project(tmp_path)
    assert main(["build", str(spec), "--out", str(tmp_path / "out")]) == 0
    shutil.copytree(tmp_path / "out", tmp_path / "copy")
    dataset = tmp_path / "copy" / "axolotl_correction_conversations.json"
    dataset.write_bytes(dataset.read_bytes()[:300])
    capsys.readouterr()
    assert main(["diff", str(tmp_path / "out"), str(tmp_path / "copy"), "--json"]) == 2
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["error"].startswith(f"{tmp_path / 'copy'}: its files no longer match its manifest")
    assert "axolotl_correction_conversations.json: changed since the build" in data["error"]
    assert "Traceback" not in captured.err


def _release_with(folder, records: dict[str, str]):
    folder.mkdir()
    entries = [{"id": i, "source": i.split("#")[0], "sha256": h} for i, h in records.items()]
    (folder / "manifest.json").write_text(json.dumps({"records": entries, "plan_fingerprint": str(len(records))}))
    return folder


ids = st.text("abc", min_size=1, max_size=2).map(lambda s: f"{s}.txt#{len(s)}")


@settings(max_examples=40, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(st.dictionaries(ids, st.sampled_from("xyz")), st.dictionaries(ids, st.sampled_from("xyz")))
def test_every_record_is_added_removed_changed_or_unchanged_exactly_once(tmp_path_factory, old, new):
    root = tmp_path_factory.mktemp("releases")
    diff = diff_releases(_release_with(root / "old", old), _release_with(root / "new", new))
    records = diff["records"]
    assert set(records["added"]) == set(new) - set(old) and set(records["removed"]) == set(old) - set(new)
    assert set(records["changed"]) == {i for i in set(old) & set(new) if old[i] != new[i]}
    assert records["unchanged"] + len(records["changed"]) == len(set(old) & set(new))
    per_source = diff["sources"].values()
    assert sum(c.get("added", 0) + c.get("removed", 0) + c.get("changed", 0) for c in per_source) == (
        len(records["added"]) + len(records["removed"]) + len(records["changed"])
    )
    assert sum(c.get("after", 0) for c in per_source) == len(new)
