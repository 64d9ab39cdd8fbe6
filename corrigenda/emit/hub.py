"""The card's Hugging Face parts: YAML front matter, what each file trains, how to load it, and provenance.

The front matter's `configs` name the data files explicitly, so `datasets.load_dataset(OUT)` (and the Hub's viewer)
read the conversations and nothing else: the debug, failure, rejection and token files beside them are never mistaken
for data. Everything here is derived from the plan and counts, never the clock, so the card stays reproducible.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from corrigenda import __version__
from corrigenda.compiler.plan import Plan
from corrigenda.digest import file_sha256
from corrigenda.emit.writers import CHAT_FILE, MAIN_FILE

CONFIG_FILES = {"input_output": MAIN_FILE, "chat_template": CHAT_FILE}
SIZE_BOUNDS = ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M"))

# What Axolotl's own strategies train on for each file (train_on_inputs: false).
TRAINS = {
    "input_output": "every `label: true` segment: the question, the push-back and the corrected answer (and any "
    "system prompt or template text); only the flawed answer (`label: false`) is masked",
    "chat_template": "only messages with `train: true`: the corrected answer; the question, the push-back and the "
    "flawed answer are masked",
}


def size_category(n: int) -> str:
    """The Hub's `size_categories` bucket for `n` records."""
    return next((label for bound, label in SIZE_BOUNDS if n < bound), "n>1M")


def _q(value: str) -> str:
    return json.dumps(value, ensure_ascii=False)  # a JSON string is a valid YAML scalar, whatever it holds


def front_matter(plan: Plan, released: int) -> str:
    """The `---` YAML block the Hub and `datasets` read: license, languages, sizes, tags and one config per file."""
    spec, card = plan.spec, plan.spec.output.card
    tags = list(dict.fromkeys(["corrigenda", "self-correction", "synthetic", "axolotl", *card.tags]))
    lines = [
        "---",
        f"pretty_name: {_q(card.pretty_name or spec.name)}",
        f"license: {_q(card.license)}",
        "language:",
        *(f"- {_q(code)}" for code in card.language),
        "task_categories:",
        "- text-generation",
        "- question-answering",
        "size_categories:",
        f"- {_q(size_category(released))}",
        "tags:",
        *(f"- {_q(tag)}" for tag in tags),
        "configs:",
    ]
    for index, name in enumerate(f for f in spec.output.formats if f in CONFIG_FILES):
        lines += [
            f"- config_name: {name}",
            "  data_files:",
            "  - split: train",
            f"    path: {CONFIG_FILES[name]}",
        ]
        if index == 0:
            lines.append("  default: true")
    return "\n".join([*lines, "---", ""])


def usage_section(plan: Plan, release_dir: Path) -> list[str]:
    """What each file trains, a `load_dataset` snippet and the Axolotl snippet, in markdown lines."""
    formats = [f for f in plan.spec.output.formats if f in CONFIG_FILES]
    out = ["## What each file trains", ""]
    out += [f"- `{CONFIG_FILES[f]}` (config `{f}`): trains {TRAINS[f]}." for f in formats]
    out += ["", "## Load it", "", "```python", "from datasets import load_dataset", ""]
    for index, name in enumerate(formats):
        config = "" if index == 0 else f', "{name}"'
        out.append(f'{name} = load_dataset("{release_dir.name}"{config}, split="train")  # or the Hub repo id')
    out += ["```", "", "With Axolotl (one of these; `axolotl_config.yaml` holds them with absolute paths):", ""]
    for name in formats:
        out += ["```yaml", "train_on_inputs: false", "datasets:"]
        out += [f"  - path: {release_dir / CONFIG_FILES[name]}", "    ds_type: json", f"    type: {name}"]
        if name == "chat_template":
            out += ["    field_messages: messages", "    message_field_training: train"]
        out += ["```", ""]
    return out


def provenance_section(plan: Plan) -> list[str]:
    """Enough to rebuild or audit the release: corrigenda's version, the spec's and prompts' hashes, every source."""
    spec_file = Path(plan.spec_file)
    spec_hash = file_sha256(spec_file)[0] if spec_file.is_file() else "(not found)"
    out = [
        "## Provenance",
        "",
        f"- corrigenda {__version__}",
        f"- spec `{spec_file.name}` sha256 `{spec_hash}`",
        f"- plan fingerprint `{plan.fingerprint}`",
    ]
    out += [f"- prompt for `{step}`: `{p.path}` sha256 `{_sha(p.text)}`" for step, p in sorted(plan.prompts.items())]
    out += ["", "| source file | sha256 | bytes |", "| --- | --- | --- |"]
    out += ["| " + f.path.replace("|", "\\|") + f" | `{f.sha256}` | {f.bytes} |" for f in plan.inputs]
    return [*out, ""]


def _sha(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def hub_parts(plan: Plan, released: int, release_dir: Path) -> dict[str, Any]:
    """The pieces `render_card` places: the front matter first, the usage and provenance sections after the intro."""
    return {
        "front_matter": front_matter(plan, released),
        "usage": usage_section(plan, release_dir),
        "provenance": provenance_section(plan),
    }
