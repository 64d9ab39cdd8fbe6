"""Train-side check of a release with Axolotl's own code: `axolotl preprocess` on the release's data files, run from
another directory with the settings `corrigenda axolotl-config` writes, then every tokenized row compared with the
record it came from (masked tokens are exactly the flawed answer, trained tokens exactly the rest).

Needs a Python with Axolotl installed (not a corrigenda dependency; no GPU and no model download: the tokenizer is
trained here on the release's own text and the model is a tiny config):

    python scripts/axolotl_check.py OUT [--corrigenda .venv/bin/corrigenda]
"""

from __future__ import annotations

import argparse
import glob
import json
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml
from datasets import load_from_disk
from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
from transformers import LlamaConfig, PreTrainedTokenizerFast

CHAT = "{% for m in messages %}<|im_start|>{{ m['role'] }}\n{{ m['content'] }}<|im_end|>\n{% endfor %}"


def tiny_model(texts: list[str], folder: Path) -> PreTrainedTokenizerFast:
    """A byte-level BPE trained on the release and a one-layer Llama config: enough for Axolotl to load."""
    tokenizer = Tokenizer(models.BPE())
    tokenizer.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tokenizer.decoder = decoders.ByteLevel()
    special = ["<s>", "</s>", "<|im_start|>", "<|im_end|>"]
    alphabet = pre_tokenizers.ByteLevel.alphabet()
    tokenizer.train_from_iterator(
        texts, trainers.BpeTrainer(vocab_size=4000, special_tokens=special, initial_alphabet=alphabet)
    )
    fast = PreTrainedTokenizerFast(tokenizer_object=tokenizer, bos_token="<s>", eos_token="</s>", pad_token="</s>")
    fast.chat_template = CHAT
    fast.save_pretrained(folder)
    small = {"hidden_size": 64, "intermediate_size": 128, "num_hidden_layers": 1, "num_attention_heads": 2}
    LlamaConfig(vocab_size=len(fast), num_key_value_heads=2, max_position_embeddings=8192, **small).save_pretrained(
        folder
    )
    return fast


def preprocess(config: dict, work: Path, name: str) -> list[dict]:
    """Axolotl's preprocess command on `config`, run in an empty directory; the tokenized rows it saved."""
    path, prepared = work / f"{name}.yml", work / f"prepared-{name}"
    path.write_text(yaml.safe_dump({**config, "dataset_prepared_path": str(prepared)}, sort_keys=False))
    elsewhere = work / f"cwd-{name}"
    elsewhere.mkdir()
    run = subprocess.run(
        [sys.executable, "-m", "axolotl.cli.preprocess", str(path)], cwd=elsewhere, capture_output=True, text=True
    )
    if run.returncode:
        sys.exit(f"axolotl preprocess failed on {name}:\n{run.stderr[-3000:]}")
    return list(load_from_disk(glob.glob(f"{prepared}/*/")[0]))


def split(rows: list[dict], tokenizer: PreTrainedTokenizerFast) -> tuple[list[str], list[str], int, int]:
    """Per row, the masked and the trained text (sorted: Axolotl shuffles), and the token counts."""
    masked, trained, n_masked, n_trained = [], [], 0, 0
    for row in rows:
        pairs = list(zip(row["input_ids"], row["labels"], strict=True))
        off = [token for token, label in pairs if label == -100]
        on = [token for token, label in pairs if label != -100]
        masked.append(tokenizer.decode(off, clean_up_tokenization_spaces=False))
        trained.append(tokenizer.decode(on, clean_up_tokenization_spaces=False))
        n_masked, n_trained = n_masked + len(off), n_trained + len(on)
    return sorted(masked), sorted(trained), n_masked, n_trained


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", type=Path, help="release directory")
    parser.add_argument("--corrigenda", default="corrigenda", help="the corrigenda command (default: on PATH)")
    args = parser.parse_args()
    records = json.loads((args.out / "axolotl_correction_conversations.json").read_text(encoding="utf-8"))
    chats = [
        json.loads(line) for line in (args.out / "axolotl_chat_template.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    with tempfile.TemporaryDirectory() as temp:
        work = Path(temp)
        tokenizer = tiny_model([s["text"] for r in records for s in r["segments"]], work / "model")
        settings = yaml.safe_load(
            subprocess.run(
                [args.corrigenda, "axolotl-config", str(args.out)], check=True, capture_output=True, text=True
            ).stdout
        )
        base = {"base_model": str(work / "model"), "sequence_len": 8192, "micro_batch_size": 1, "num_epochs": 1}
        base |= {
            "learning_rate": 1e-4,
            "optimizer": "adamw_torch",
            "output_dir": str(work / "trained"),
            "val_set_size": 0,
        }
        failures = 0

        masked, trained, n_masked, n_trained = split(preprocess({**base, **settings}, work, "input_output"), tokenizer)
        flawed = sorted("".join(s["text"] for s in r["segments"] if not s["label"]) for r in records)
        kept = sorted("".join(s["text"] for s in r["segments"] if s["label"]) for r in records)
        ok = masked == flawed and trained == kept
        failures += not ok
        print(
            f"input_output: {len(records)} records, {n_trained:,} tokens trained, {n_masked:,} masked; "
            f"masked == the flawed answers and trained == every label: true segment: {ok}"
        )

        chat_block = {
            "path": str((args.out / "axolotl_chat_template.jsonl").resolve()),
            "ds_type": "json",
            "type": "chat_template",
        }
        chat_block |= {"field_messages": "messages", "message_field_training": "train"}
        config = {**base, "train_on_inputs": False, "chat_template": "tokenizer_default", "datasets": [chat_block]}
        _, trained, _, n_trained = split(preprocess(config, work, "chat_template"), tokenizer)
        answers = sorted("".join(m["content"] for m in c["messages"] if m.get("train")) for c in chats)
        ok = trained == answers
        failures += not ok
        print(
            f"chat_template: {len(chats)} conversations, {n_trained:,} tokens trained; "
            f"trained == the train: true messages: {ok}"
        )
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
