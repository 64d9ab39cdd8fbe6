"""Convert an Augmentoolkit correction-pipeline config into a corrigenda spec.

API keys are never copied: each becomes the *name* of an environment variable. A `!!PLACEHOLDER!!` value is carried
over as text, so `corrigenda validate` points at the exact key still to fill in; the importer lists them too.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, TaggedScalar
from ruamel.yaml.error import YAMLError

from corrigenda.compiler.loader import quote_placeholders
from corrigenda.errors import OutputError, UsageError

PLACEHOLDER = "!!PLACEHOLDER!!"
META_KEYS = {"masked_conversation_details": "generate", "judgement_details": "filter"}
KNOWN = {
    "pipeline": None,
    "api": {f"{size}_{key}" for size in ("large", "small") for key in ("model", "api_key", "base_url", "mode")},
    "path": {"default_prompts", "input_dir", "output_dir", "prompts"},
    "system": {
        "completion_mode",
        "concurrency_limit",
        "use_stop",
        "subset_size",
        "use_min_p",
        "use_subset",
        "chunk_size",
        "prompt_template",
    },
    "meta_datagen": {"do_meta_datagen", "meta_datagen_keys", "meta_datagen_extras"},
    "cost": {f"cost_per_million_{s}_{d}" for s in ("small", "large") for d in ("input", "output")},
}


class ImportError_(UsageError):
    """The config cannot be converted; the message says which key and why."""


def _plain(value: Any) -> Any:
    """Augmentoolkit marks blanks with the YAML tag `!!PLACEHOLDER!!`; keep them as visible text."""
    if isinstance(value, TaggedScalar):
        return f"{PLACEHOLDER}{value.value or ''}"
    return value


def _section(config: CommentedMap, name: str) -> dict[str, Any]:
    section = config.get(name) or {}
    if not isinstance(section, dict):
        raise ImportError_(f"`{name}` must be a mapping")
    return {key: _plain(value) for key, value in section.items()}


def convert(config: CommentedMap) -> tuple[CommentedMap, list[str]]:
    """Return the spec and the notes for the user (placeholders to fill, settings with no equivalent)."""
    notes: list[str] = []
    if config.get("pipeline") not in (None, "correction"):
        raise ImportError_(f"pipeline is `{config.get('pipeline')}`; only the `correction` pipeline converts")
    for section, keys in KNOWN.items():
        if keys is None or section not in config:
            continue
        for key in set(config[section] or {}) - keys:
            notes.append(f"{section}.{key}: no equivalent in corrigenda; ignored")
    for section in set(config) - set(KNOWN):
        notes.append(f"{section}: unknown section; ignored")

    api, path, system = _section(config, "api"), _section(config, "path"), _section(config, "system")
    meta, cost = _section(config, "meta_datagen"), _section(config, "cost")
    completion = bool(system.get("completion_mode", False))
    template = system.get("prompt_template")

    models = CommentedMap()
    for size in ("small", "large"):
        model = CommentedMap()
        model["base_url"] = api.get(f"{size}_base_url", PLACEHOLDER)
        model["api_key_env"] = f"CORRIGENDA_{size.upper()}_API_KEY"
        model["model"] = api.get(f"{size}_model", PLACEHOLDER)
        model["mode"] = "completion" if completion else "chat"
        if completion:
            model["completion_template"] = template or PLACEHOLDER
        model["concurrency"] = int(system.get("concurrency_limit", 16))
        model["timeout_s"] = 1200 if size == "large" else 300
        model["pricing"] = CommentedMap(
            input_per_million=float(cost.get(f"cost_per_million_{size}_input", 0.0)),
            output_per_million=float(cost.get(f"cost_per_million_{size}_output", 0.0)),
        )
        models[size] = model
        if f"{size}_api_key" in api:
            notes.append(f"api.{size}_api_key: not copied; export it as CORRIGENDA_{size.upper()}_API_KEY")
    if system.get("use_min_p"):
        notes.append("system.use_min_p: set models.*.sampling.min_p to the value you want")

    inputs = CommentedMap()
    inputs["paths"] = [path.get("input_dir", PLACEHOLDER)]
    inputs["chunk_size"] = int(system.get("chunk_size", 3000))
    if system.get("use_subset"):
        inputs["subset"] = CommentedMap(size=int(system.get("subset_size", 1500)), seed=0)

    steps = [
        CommentedMap(name="filter", kind="filter", model="small", prompt="filter.yaml"),
        CommentedMap(name="generate", kind="generate", model="large", prompt="generate.yaml"),
    ]
    output = CommentedMap()
    output["dir"] = path.get("output_dir", "out")
    keys = [META_KEYS[k] for k in meta.get("meta_datagen_keys") or [] if k in META_KEYS]
    for unknown in [k for k in meta.get("meta_datagen_keys") or [] if k not in META_KEYS]:
        notes.append(f"meta_datagen.meta_datagen_keys: `{unknown}` has no corrigenda step; ignored")
    output["meta_datagen"] = CommentedMap(enabled=bool(meta.get("do_meta_datagen", False)), keys=keys)

    spec = CommentedMap()
    spec["version"] = 1
    spec["name"] = "correction"
    spec["models"] = models
    spec["inputs"] = inputs
    spec["steps"] = steps
    if template:
        spec["template"] = CommentedMap(prompt_template=template, bos_token="", eos_token="")
    spec["output"] = output
    spec.yaml_set_start_comment(
        "Converted from an Augmentoolkit correction config by `corrigenda import-augmentoolkit`.\n"
        "Prompts: corrigenda's built-in filter.yaml and generate.yaml (set prompts_dir to use your own;\n"
        "Augmentoolkit-style prompt files with {text} placeholders are accepted)."
    )
    for dotted in _placeholder_paths(spec, ""):
        notes.append(f"{dotted}: still {PLACEHOLDER}; fill it in before building")
    return spec, notes


def _placeholder_paths(node: Any, prefix: str) -> list[str]:
    if isinstance(node, str):
        return [prefix] if PLACEHOLDER in node else []
    if isinstance(node, dict):
        return [p for k, v in node.items() for p in _placeholder_paths(v, f"{prefix}.{k}" if prefix else str(k))]
    if isinstance(node, list):
        return [p for i, v in enumerate(node) for p in _placeholder_paths(v, f"{prefix}[{i}]")]
    return []


def convert_file(config_path: Path, output: Path) -> Path:
    try:
        text = config_path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ImportError_(
            f"{config_path}: cannot read Augmentoolkit config: {exc.strerror or exc}", "pass its config .yaml file"
        ) from None
    except UnicodeDecodeError as exc:
        raise ImportError_(f"{config_path}: not UTF-8 text ({exc.reason})", "pass the config saved as UTF-8") from None
    try:
        config = YAML(typ="rt").load(quote_placeholders(text))
    except YAMLError as exc:
        raise ImportError_(f"{config_path}: cannot read Augmentoolkit config: {exc}") from exc
    if not isinstance(config, dict):
        raise ImportError_(f"{config_path}: not a YAML mapping")
    spec, notes = convert(config)
    buffer = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.dump(spec, buffer)
    if output.is_dir():
        raise OutputError(f"{output}: is a directory", "give -o the path of the spec file to write")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        tmp = output.with_name(output.name + ".tmp")
        tmp.write_text(buffer.getvalue(), encoding="utf-8")
        tmp.replace(output)
    except OSError as exc:
        where = exc.filename or output
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}", "pick a writable path with -o") from None
    for note in notes:
        print(f"note: {note}")
    return output
