"""The release gate: `corrigenda check` on files, release directories and with a real tokenizer."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from conftest import REPO, offline_project
from ruamel.yaml import YAML
from tokenizers import Tokenizer, models, pre_tokenizers, trainers

from corrigenda.cli import main
from corrigenda.compiler.spec import TemplateSpec
from corrigenda.emit.records import build_records
from corrigenda.emit.segmenter import Conversation


@pytest.fixture(scope="module")
def release(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("project")
    out = root / "release"
    assert main(["build", str(offline_project(root)), "--out", str(out)]) == 0
    return out


def _good() -> list[dict]:
    return [
        {
            "segments": [
                {"label": True, "text": "Human: When? **Finished.**\nAI:"},
                {"label": False, "text": " In 1868."},
                {"label": True, "text": " **Finished.**\nHuman: Sure? **Finished.**\nAI: No, 1869. **Finished.**\n"},
            ]
        }
    ]


def test_check_passes_a_good_file_and_names_broken_records(tmp_path, capsys):
    good = tmp_path / "good.json"
    good.write_text(json.dumps(_good()))
    assert main(["check", str(good)]) == 0
    bad = _good() * 3
    bad[1] = {"segments": [dict(s, label=False) for s in bad[1]["segments"]]}
    bad[2] = {"segments": [{"label": "yes", "text": ""}]}
    broken = tmp_path / "broken.json"
    broken.write_text(json.dumps(bad))
    assert main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert "record 1: one-masked-segment" in err
    assert "record 2: schema: segments/0/label" in err
    assert "record 0" not in err
    not_json = tmp_path / "half.json"
    not_json.write_text(json.dumps(_good())[:-5])
    assert main(["check", str(not_json)]) == 1
    assert "half.json:1:" in capsys.readouterr().err


def test_release_directory_is_verified_against_its_manifest(release, tmp_path, capsys):
    assert main(["check", str(release)]) == 0
    manifest = json.loads((release / "manifest.json").read_text())
    assert {"axolotl_correction_conversations.json", "axolotl_chat_template.jsonl", "README.md"} <= set(
        manifest["outputs"]
    )
    copy = tmp_path / "copy"
    copy.mkdir()
    for name in manifest["outputs"]:
        (copy / name).parent.mkdir(parents=True, exist_ok=True)
        (copy / name).write_bytes((release / name).read_bytes())
    (copy / "manifest.json").write_bytes((release / "manifest.json").read_bytes())
    assert main(["check", str(copy)]) == 0
    card = copy / "README.md"
    card.write_text(card.read_text() + "edited\n")
    assert main(["check", str(copy)]) == 1
    assert "README.md: changed since the build" in capsys.readouterr().err


def test_chat_template_file_marks_only_the_flawed_answer_untrained(release):
    for line in (release / "axolotl_chat_template.jsonl").read_text().splitlines():
        messages = json.loads(line)["messages"]
        assert [m["role"] for m in messages] == ["user", "assistant", "user", "assistant"]
        assert [m["train"] for m in messages] == [False, False, False, True]


def test_check_reads_a_chat_template_file_too(release, tmp_path, capsys):
    assert main(["check", str(release / "axolotl_chat_template.jsonl")]) == 0
    lines = (release / "axolotl_chat_template.jsonl").read_text().splitlines()
    record = json.loads(lines[0])
    record["messages"][3]["train"] = False  # now the correction would be masked too
    broken = tmp_path / "chat.jsonl"
    broken.write_text("\n".join([*lines[1:], json.dumps(record), "{not json"]) + "\n")
    assert main(["check", str(broken)]) == 1
    err = capsys.readouterr().err
    assert f"chat.jsonl:{len(lines)}: expected exactly one assistant message with train: false" in err
    assert f"chat.jsonl:{len(lines) + 1}: malformed record" in err


def test_axolotl_config_names_the_files_and_masks_inputs(release):
    config = YAML(typ="safe").load((release / "axolotl_config.yaml").read_text())
    assert config["train_on_inputs"] is False
    assert config["datasets"] == [
        {"path": str(release / "axolotl_correction_conversations.json"), "ds_type": "json", "type": "input_output"}
    ]
    assert "message_field_training: train" in (release / "axolotl_config.yaml").read_text()


def _tokenizer(tmp_path: Path) -> Path:
    """A small byte-level BPE trained here: no download."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    trainer = trainers.BpeTrainer(vocab_size=400, initial_alphabet=pre_tokenizers.ByteLevel.alphabet())
    corpus = [(REPO / "samples" / "transcontinental-railroad.txt").read_text()] * 3 + ["Human: AI: **Finished.**"] * 5
    tokenizer.train_from_iterator(corpus, trainer)
    path = tmp_path / "tokenizer.json"
    tokenizer.save(str(path))
    return path


def test_tokenizer_check_counts_tokens_like_axolotl_and_finds_split_tokens(release, tmp_path, capsys):
    tokenizer_path = _tokenizer(tmp_path)
    assert (
        main(["check", str(release / "axolotl_correction_conversations.json"), "--tokenizer", str(tokenizer_path)]) == 0
    )
    out = capsys.readouterr().out
    assert "trained" in out and "masked" in out
    assert "tokenize differently" not in out  # boundary spaces sit at the start of the next segment

    tokenizer = Tokenizer.from_file(str(tokenizer_path))
    split = [{"segments": [{"label": True, "text": "Human: rail"}, {"label": False, "text": "road"},
                           {"label": True, "text": " AI: ok"}]}]  # fmt: skip
    path = tmp_path / "split.json"
    path.write_text(json.dumps(split))
    code = main(["check", str(path), "--tokenizer", str(tokenizer_path), "--strict-boundaries"])
    whole = tokenizer.encode("Human: railroad AI: ok", add_special_tokens=False).ids
    pieces = [i for t in ("Human: rail", "road", " AI: ok") for i in tokenizer.encode(t, add_special_tokens=False).ids]
    assert whole != pieces  # "railroad" is one token of this vocabulary, "rail" + "road" are two
    assert code == 1
    masked = len(tokenizer.encode("road", add_special_tokens=False).ids)
    assert f"{masked:,} masked" in capsys.readouterr().out


def test_a_template_that_breaks_the_contract_is_refused_with_the_record_named():
    rewriting = TemplateSpec(prompt_template="{% for m in messages|reverse %}{{ m['content'] }}\n{% endfor %}")
    conversation = Conversation("When?", "1868", "Sure?", "1869")
    records, problems = build_records([("doc#3", "doc", conversation)], rewriting)
    assert not records
    assert problems[0].item == "doc#3" and "template" in problems[0].rule


def test_check_with_the_spec_refuses_a_release_built_from_an_older_plan(tmp_path, capsys):
    spec = offline_project(tmp_path)
    out = tmp_path / "release"
    assert main(["build", str(spec), "--out", str(out)]) == 0
    assert main(["check", str(out), "--spec", str(spec)]) == 0
    sample = tmp_path / "samples" / "transcontinental-railroad.txt"
    sample.write_text(sample.read_text() + "\nThe line was completed in 1869.\n")
    assert main(["check", str(out), "--spec", str(spec)]) == 1
    assert "rebuild" in capsys.readouterr().err
