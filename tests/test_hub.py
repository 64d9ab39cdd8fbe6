"""A release is a Hugging Face dataset: `load_dataset(OUT)` reads the conversations and nothing else, the card's
front matter is what the Hub expects, and the Axolotl config finds its files from any working directory."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from conftest import offline_project
from hypothesis import given
from hypothesis import strategies as st
from ruamel.yaml import YAML

from corrigenda.cli import main
from corrigenda.emit.hub import size_category

datasets = pytest.importorskip("datasets", reason="the datasets package is in the test extra")


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("hub")
    out = root / "release"
    assert main(["build", str(offline_project(root)), "--out", str(out)]) == 0
    return out


def _front_matter(card: str) -> dict:
    assert card.startswith("---\n"), "the card must open with YAML front matter"
    return YAML(typ="safe").load(card.split("---\n", 2)[1])


def test_load_dataset_reads_the_conversations_and_nothing_else(release, tmp_path, monkeypatch):
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    released = json.loads((release / "manifest.json").read_text())["counts"]["released"]
    assert any((release / "debug_outputs").iterdir()), "the working files this test guards against are there"
    main_set = datasets.load_dataset(str(release), split="train")
    assert main_set.column_names == ["segments"] and main_set.num_rows == released
    assert [s["label"] for s in main_set[0]["segments"]].count(False) == 1
    chat = datasets.load_dataset(str(release), "chat_template", split="train")
    assert chat.num_rows == released and "messages" in chat.column_names


def test_card_front_matter_has_the_hub_metadata(release):
    meta = _front_matter((release / "README.md").read_text(encoding="utf-8"))
    assert meta["license"] == "other" and meta["language"] == ["en"] and meta["size_categories"] == ["n<1K"]
    assert "text-generation" in meta["task_categories"] and "self-correction" in meta["tags"]
    assert meta["pretty_name"] == "correction-offline"
    configs = {c["config_name"]: c for c in meta["configs"]}
    assert configs["input_output"]["data_files"] == [
        {"split": "train", "path": "axolotl_correction_conversations.json"}
    ]
    assert configs["input_output"]["default"] is True
    assert configs["chat_template"]["data_files"][0]["path"] == "axolotl_chat_template.jsonl"


def test_card_says_what_each_file_trains_and_where_it_came_from(release):
    card = (release / "README.md").read_text(encoding="utf-8")
    trains = card.split("## What each file trains\n", 1)[1].split("\n## ", 1)[0]
    assert "question, the push-back and the corrected answer" in trains
    assert "only messages with `train: true`: the corrected answer" in trains
    assert "load_dataset(" in card and "type: input_output" in card
    manifest = json.loads((release / "manifest.json").read_text())
    provenance = card.split("## Provenance\n", 1)[1].split("\n## ", 1)[0]
    assert f"corrigenda {manifest['corrigenda']}" in provenance
    for source in manifest["inputs"]:
        assert source["sha256"] in provenance and source["path"] in provenance
    spec_hash = hashlib.sha256((release.parent / "spec" / "offline.yaml").read_bytes()).hexdigest()
    assert f"spec `offline.yaml` sha256 `{spec_hash}`" in provenance


def test_card_license_and_language_come_from_the_spec(tmp_path):
    spec = offline_project(tmp_path)
    text = spec.read_text(encoding="utf-8")
    spec.write_text(
        text.replace("output:\n", "output:\n  card: {license: cc-by-4.0, language: [de, en], tags: [history]}\n", 1),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    assert main(["build", str(spec), "--out", str(out)]) == 0
    meta = _front_matter((out / "README.md").read_text(encoding="utf-8"))
    assert meta["license"] == "cc-by-4.0" and meta["language"] == ["de", "en"] and "history" in meta["tags"]


def test_axolotl_config_paths_resolve_from_any_directory(release, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # training runs somewhere else
    text = (release / "axolotl_config.yaml").read_text(encoding="utf-8")
    config = YAML(typ="safe").load(text)
    [block] = config["datasets"]
    assert Path(block["path"]).resolve() == (release / "axolotl_correction_conversations.json").resolve()
    assert Path(block["path"]).is_file() and block["type"] == "input_output"
    chat = YAML(typ="safe").load(
        "\n".join(line.replace("#", "", 1) for line in text.split("# datasets:\n")[1].splitlines())
    )
    assert Path(chat[0]["path"]).is_file() and chat[0]["message_field_training"] == "train"
    assert "Trains the question, the push-back and the corrected answer" in text
    assert "Trains only the corrected answer" in text


@given(st.integers(min_value=0, max_value=10**8))
def test_size_category_is_the_hub_bucket_holding_n(n):
    label = size_category(n)
    bounds = {"n<1K": (0, 1e3), "1K<n<10K": (1e3, 1e4), "10K<n<100K": (1e4, 1e5), "100K<n<1M": (1e5, 1e6)}
    low, high = bounds.get(label, (1e6, float("inf")))
    assert low <= n < high


def test_a_copied_release_gets_settings_that_train_on_its_own_files(release, tmp_path, monkeypatch, capsys):
    copy = tmp_path / "elsewhere" / "copy"
    shutil.copytree(release, copy)
    monkeypatch.chdir(tmp_path)  # training runs from yet another directory
    assert main(["axolotl-config", str(copy)]) == 0
    config = YAML(typ="safe").load(capsys.readouterr().out)
    [block] = config["datasets"]
    assert Path(block["path"]) == copy / "axolotl_correction_conversations.json"
    monkeypatch.setenv("HF_DATASETS_CACHE", str(tmp_path / "cache"))
    loaded = datasets.load_dataset("json", data_files=block["path"], split="train")  # how Axolotl reads ds_type json
    assert loaded.num_rows == json.loads((copy / "manifest.json").read_text())["counts"]["released"]
    assert main(["axolotl-config", str(tmp_path)]) == 2
    assert "has no axolotl_config.yaml" in capsys.readouterr().err
