"""Find the correction settings in any Augmentoolkit config that has them.

Augmentoolkit spells one correction run four ways: the pipeline's own config and the external config (sections `api`,
`path`, `system`, `meta_datagen`, `cost`), a composed config's `correction_pipeline:` section (the same keys with a
`correction_` prefix, inputs under `path.input_dirs`), and the meta-datagen config's `corrections:` section (lists of
variants). All of them become one flat mapping in the standalone key names, each value remembering where it was
written, so the converter has one job and every note can name the user's own key, line and column.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from ruamel.yaml.comments import CommentedMap, CommentedSeq, TaggedScalar

PLACEHOLDER = "!!PLACEHOLDER!!"

SECTIONS: dict[str, set[str]] = {
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
        "seed",
    },
    "meta_datagen": {"do_meta_datagen", "meta_datagen_keys", "meta_datagen_extras"},
    "cost": {f"cost_per_million_{s}_{d}" for s in ("small", "large") for d in ("input", "output")},
}
FLAT_KEYS = set().union(*SECTIONS.values())
PIPELINE_NAMES = (None, "correction", "correction-pipeline")


@dataclass(frozen=True)
class Setting:
    """One value and where the user wrote it (1-based line and column of the value)."""

    value: Any
    origin: str
    line: int
    column: int


@dataclass
class Found:
    """The correction run as the standalone pipeline would receive it."""

    shape: str  # "pipeline", "composed" or "meta_datagen"
    settings: dict[str, Setting] = field(default_factory=dict)
    inputs: list[Setting] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    def get(self, key: str, default: Any = None) -> Any:
        setting = self.settings.get(key)
        return default if setting is None or setting.value is None else setting.value


class NotACorrectionConfig(ValueError):
    """The config holds no correction settings; the message says what was looked for."""


def plain(value: Any) -> Any:
    """A value still tagged `!!PLACEHOLDER!!` (quoting missed it) stays visible as text."""
    if isinstance(value, TaggedScalar):
        return f"{PLACEHOLDER}{value.value or ''}"
    return value


def _at(node: Any, key: Any) -> tuple[int, int]:
    try:
        line, column = node.lc.item(key) if isinstance(node, CommentedSeq) else node.lc.value(key)
    except (AttributeError, KeyError, IndexError, TypeError):
        return 1, 1
    return line + 1, column + 1


def _setting(node: Any, key: Any, origin: str) -> Setting:
    line, column = _at(node, key)
    return Setting(plain(node[key]), origin, line, column)


def _mapping(config: Any, name: str) -> CommentedMap:
    section = config.get(name) if isinstance(config, dict) else None
    if section is None:
        return CommentedMap()
    if not isinstance(section, dict):
        raise NotACorrectionConfig(f"`{name}` must be a mapping")
    return section


def find(config: CommentedMap) -> Found:
    """The correction settings of a standalone, external, composed or meta-datagen config."""
    if isinstance(config.get("correction_pipeline"), dict):
        return _composed(config)
    if isinstance(config.get("corrections"), dict):
        return _meta(config)
    if config.get("pipeline") in PIPELINE_NAMES and any(name in config for name in SECTIONS):
        return _pipeline(config)
    raise NotACorrectionConfig(
        f"no correction settings found (pipeline is `{config.get('pipeline')}`): expected the correction pipeline's "
        "config (sections api, path, system), a composed config with a `correction_pipeline:` section, or the "
        "meta-datagen config's `corrections:` section"
    )


def _pipeline(config: CommentedMap) -> Found:
    found = Found("pipeline")
    for section, keys in SECTIONS.items():
        node = _mapping(config, section)
        for key in node:
            if key in keys:
                found.settings[key] = _setting(node, key, f"{section}.{key}")
            else:
                found.notes.append(f"{section}.{key}: not a setting of the correction pipeline; not carried over")
    for section in config:
        if section not in SECTIONS and section != "pipeline":
            found.notes.append(f"{section}: not a section of the correction pipeline; not carried over")
    if "input_dir" in found.settings:
        found.inputs.append(found.settings.pop("input_dir"))
    return found


def _common(config: CommentedMap, found: Found, skip: str) -> None:
    """Settings a composed config shares between its pipelines, and a note naming the pipelines left out."""
    system, path = _mapping(config, "system"), _mapping(config, "path")
    for key in ("concurrency_limit", "seed"):
        if key in system:
            found.settings[key] = _setting(system, key, f"system.{key}")
    for key in ("output_dir", "prompts", "default_prompts"):
        if key in path:
            found.settings[key] = _setting(path, key, f"path.{key}")
    others = [name for name in config if name not in (skip, "system", "path", "pipeline", "no_flatten")]
    if others:
        found.notes.append(f"sections of the other pipelines ({', '.join(map(str, others))}): not converted")


def _composed(config: CommentedMap) -> Found:
    found = Found("composed")
    _common(config, found, "correction_pipeline")
    if "output_dir" in found.settings:
        found.notes.append(
            "path.output_dir: the composed run's output directory for all its pipelines; corrigenda writes the "
            "correction release there"
        )
    section = config["correction_pipeline"]
    for key in section:
        flat = str(key).removeprefix("correction_")
        if str(key).startswith("correction_") and flat in FLAT_KEYS:
            found.settings[flat] = _setting(section, key, f"correction_pipeline.{key}")
        else:
            found.notes.append(f"correction_pipeline.{key}: not a setting of the correction pipeline; not carried over")
    dirs = _mapping(config, "path").get("input_dirs") or []
    sizes: list[int] = []
    for index, entry in enumerate(dirs if isinstance(dirs, list) else []):
        if not isinstance(entry, dict) or "path" not in entry:
            continue
        found.inputs.append(_setting(entry, "path", f"path.input_dirs[{index}].path"))
        if entry.get("correction_use_subset") and entry.get("correction_subset_size"):
            sizes.append(int(entry["correction_subset_size"]))
    if sizes:
        line, column = _at(dirs[0], "correction_subset_size")
        found.settings["use_subset"] = Setting(True, "path.input_dirs[*].correction_use_subset", line, column)
        found.settings["subset_size"] = Setting(sum(sizes), "path.input_dirs[*].correction_subset_size", line, column)
        if len(sizes) > 1:
            found.notes.append(
                f"path.input_dirs[*].correction_subset_size: Augmentoolkit samples each input dir on its own "
                f"({' + '.join(map(str, sizes))}); corrigenda samples {sum(sizes)} chunks from all of them together"
            )
    return found


def _first(node: Any, key: str, origin: str, found: Found, what: str) -> tuple[Any, Any]:
    """The first variant of a meta-datagen list, with a note when the others are left out."""
    values = node.get(key)
    if not isinstance(values, list) or not values:
        return None, None
    if len(values) > 1:
        found.notes.append(
            f"{origin}: {len(values)} {what}; corrigenda runs one per spec, so the first is used (import again "
            "with a copy of the config for each of the others)"
        )
    return values, 0


def _meta(config: CommentedMap) -> Found:
    found = Found("meta_datagen")
    _common(config, found, "corrections")
    section = config["corrections"]
    use_subset = _mapping(config, "system").get("use_subset")
    if use_subset is not None:
        found.settings["use_subset"] = _setting(_mapping(config, "system"), "use_subset", "system.use_subset")
    for index, _ in enumerate(section.get("correction_inputs") or []):
        found.inputs.append(_setting(section["correction_inputs"], index, f"corrections.correction_inputs[{index}]"))
    models, at = _first(section, "correction_model", "corrections.correction_model", found, "model settings")
    if models is not None and isinstance(models[at], dict):
        for key in models[at]:
            origin = f"corrections.correction_model[0].{key}"
            if key in FLAT_KEYS:
                found.settings[key] = _setting(models[at], key, origin)
            else:
                found.notes.append(f"{origin}: not a setting of the correction pipeline; not carried over")
    prompts, at = _first(section, "correction_prompts", "corrections.correction_prompts", found, "prompt folders")
    if prompts is not None:
        found.settings["prompts"] = _setting(prompts, at, "corrections.correction_prompts[0]")
    sizes, at = _first(section, "correction_chunk_sizes", "corrections.correction_chunk_sizes", found, "chunk sizes")
    if sizes is not None:
        found.settings["chunk_size"] = _setting(sizes, at, "corrections.correction_chunk_sizes[0]")
    modes, at = _first(
        section,
        "correction_cleaning_completion_mode_and_use_stop",
        "corrections.correction_cleaning_completion_mode_and_use_stop",
        found,
        "mode settings",
    )
    if modes is not None and isinstance(modes[at], dict):
        for key in ("completion_mode", "use_stop"):
            if key in modes[at]:
                origin = f"corrections.correction_cleaning_completion_mode_and_use_stop[0].{key}"
                found.settings[key] = _setting(modes[at], key, origin)
    if "correction_subset_size" in section:
        found.settings["subset_size"] = _setting(
            section, "correction_subset_size", "corrections.correction_subset_size"
        )
    known = {
        "correction_inputs",
        "correction_model",
        "correction_prompts",
        "correction_chunk_sizes",
        "correction_cleaning_completion_mode_and_use_stop",
        "correction_subset_size",
    }
    for key in section:
        if key not in known:
            found.notes.append(
                f"corrections.{key}: a meta-datagen sampling setting with no equivalent; not carried over"
            )
    return found
