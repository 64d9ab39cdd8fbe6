"""The release files a trainer reads, each written atomically (temp file, fsync, rename)."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterable
from pathlib import Path
from typing import Any

from corrigenda.atomic import write_text
from corrigenda.compiler.spec import TemplateSpec
from corrigenda.emit.records import Record
from corrigenda.errors import InputError

MAIN_FILE = "axolotl_correction_conversations.json"
CHAT_FILE = "axolotl_chat_template.jsonl"
CONFIG_FILE = "axolotl_config.yaml"
META_FILE = "meta_datagen/meta_dataset.jsonl"


def _dumps(value: Any) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def write_input_output(out_dir: Path, records: list[Record]) -> Path:
    """The main file: one JSON list of `{"segments": [...]}`, as Augmentoolkit writes it."""
    path = out_dir / MAIN_FILE
    body = json.dumps([record.input_output() for record in records], ensure_ascii=False, indent=2)
    write_text(path, body + "\n")
    return path


def chat_messages(record: Record, template: TemplateSpec) -> list[dict[str, Any]]:
    """The conversation as messages; only the flawed answer has `train: false`."""
    messages = record.conversation.messages(template.system_prompt)
    flawed_index = len(messages) - 3
    return [
        {"role": m["role"], "content": m["content"], "train": m["role"] == "assistant" and i != flawed_index}
        for i, m in enumerate(messages)
    ]


def write_chat_template(out_dir: Path, records: list[Record], template: TemplateSpec) -> Path:
    path = out_dir / CHAT_FILE
    lines = [_dumps({"messages": chat_messages(r, template), "source": r.source, "id": r.item}) for r in records]
    write_text(path, "".join(line + "\n" for line in lines))
    return path


def write_axolotl_config(
    out_dir: Path, template: TemplateSpec, formats: Iterable[str], data_dir: Path | None = None
) -> Path:
    """The `datasets:` settings, with each file's absolute path under `data_dir` (the release's final place), since
    Axolotl resolves a bare name against the directory training runs in and otherwise looks it up on the Hub."""
    formats = tuple(formats)
    where = data_dir or out_dir
    bos, eos = template.bos_token or "(none)", template.eos_token or "(none)"
    blocks = [
        "# Axolotl dataset settings for this release (merge into your training config).",
        "#",
        "# input_output: Axolotl tokenizes each segment on its own with add_special_tokens=False and joins the",
        "# token lists. It adds no BOS or EOS: only the special-token strings already in the text become special",
        f"# tokens. This release's template wrote bos_token={bos!s} and eos_token={eos!s} into the text; if your",
        "# model needs a BOS at the start, set template.bos_token in the spec and rebuild.",
        "# The flawed answer has label: false, so with train_on_inputs: false it is masked (labels -100).",
        "# Paths are absolute, so training can run from any directory. Moved or copied this release? Run",
        "# `corrigenda axolotl-config NEW_DIR` for these settings with paths into NEW_DIR, or point",
        f"# them to its new place (it was built at {where}).",
        "train_on_inputs: false",
        "datasets:",
    ]
    if "input_output" in formats:
        blocks += [
            "  # Trains the question, the push-back and the corrected answer (every label: true segment);",
            "  # masks only the flawed answer.",
            f"  - path: {_dumps(str(where / MAIN_FILE))}",
            "    ds_type: json",
            "    type: input_output",
        ]
    if "chat_template" in formats:
        prefix = "  " if "input_output" not in formats else "#   "
        if "input_output" in formats:
            blocks += ["# Or, with the model's own chat template and a per-message training flag:", "# datasets:"]
        blocks += [
            f"{prefix}# Trains only the corrected answer (train: true); the question, the push-back and the flawed",
            f"{prefix}# answer are masked, so it trains far fewer tokens than input_output.",
            f"{prefix}- path: {_dumps(str(where / CHAT_FILE))}",
            f"{prefix}  ds_type: json",
            f"{prefix}  type: chat_template",
            f"{prefix}  field_messages: messages",
            f"{prefix}  message_field_training: train   # false on the flawed answer: never trained on",
        ]
    path = out_dir / CONFIG_FILE
    write_text(path, "\n".join(blocks) + "\n")
    return path


BUILT_AT = re.compile(r"^# them to its new place \(it was built at (?P<dir>.+)\)\.$", re.MULTILINE)


def relocated_axolotl_config(release: Path) -> str:
    """The release's `axolotl_config.yaml` with every path pointing into `release` where it is now, for a release
    that was moved or copied (the file itself is left as built: the manifest vouches for it)."""
    if not (release / CONFIG_FILE).is_file():
        raise InputError(f"{release} has no {CONFIG_FILE}", "pass a release directory that corrigenda build wrote")
    text = (release / CONFIG_FILE).read_text(encoding="utf-8")
    match = BUILT_AT.search(text)
    if match is None:
        raise InputError(f"{release / CONFIG_FILE} does not say where it was built", "rebuild the release")
    old, new = match["dir"], str(Path(os.path.abspath(release)))
    return text.replace(f"built at {old})", f"built at {new})").replace(_dumps(old + "/")[:-1], _dumps(new + "/")[:-1])


def write_meta_dataset(out_dir: Path, entries: Iterable[dict[str, Any]]) -> Path:
    """Every call's input messages and response, one JSON object per line."""
    path = out_dir / META_FILE
    write_text(path, "".join(_dumps(entry) + "\n" for entry in entries))
    return path


def write_jsonl(path: Path, rows: Iterable[dict[str, Any]]) -> Path:
    write_text(path, "".join(_dumps(row) + "\n" for row in rows))
    return path
