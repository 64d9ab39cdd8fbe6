"""Convert an Augmentoolkit correction config into a corrigenda spec that sends what Augmentoolkit sent.

Nothing changes silently: paths are rewritten to point where they pointed (Augmentoolkit reads them relative to the
directory it runs in, corrigenda relative to the spec), the steps keep Augmentoolkit's sampling and stop strings, the
subset keeps its seed, Augmentoolkit's own prompt files are copied beside the spec when they are on disk, and every
key left out and every deliberate difference is a note, printed and written at the top of the spec.

API keys are never copied: each model names the environment variable that holds its key. A `!!PLACEHOLDER!!` value
is carried over as text, so `corrigenda validate` points at the key still to fill in; the importer names each one
with the line and column where the user wrote it.
"""

from __future__ import annotations

import io
import os
from dataclasses import dataclass
from pathlib import Path

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap
from ruamel.yaml.error import YAMLError

from corrigenda import atomic
from corrigenda.compiler.augmentoolkit_config import PLACEHOLDER, Found, NotACorrectionConfig, Setting, find
from corrigenda.compiler.loader import quote_placeholders
from corrigenda.compiler.spec import AUGMENTOOLKIT_TEMPLATE
from corrigenda.errors import OutputError, UsageError
from corrigenda.ingest.walk import special_file
from corrigenda.resources import data_dir

# What Augmentoolkit's correction steps send (generation/core_components/filter_chunks.py and
# core_pipelines/correction_pipeline/corrections.py), with the defaults its engine wrapper fills in: top_p 1 where a
# step sets none, and `<|im_end|>` added to every stop list (the only stop string left when use_stop is off).
ENGINE_STOP = "<|im_end|>"
FILTER_STOPS = (
    "### Response",
    "\n\n\n\n\n",
    "</s>",
    "# Input:",
    "[INST]",
    "### Instruction",
    "### Information",
    "## Information",
    "## Instruction",
    "Name:",
    "<|eot_id|>",
    "<|start_header_id|>",
    "<|end_header_id|>",
)
FILTER_SAMPLING = {"max_tokens": 2000, "temperature": 0.8, "top_p": 0.9}
GENERATE_SAMPLING = {"max_tokens": 7000, "temperature": 0.7, "top_p": 1.0}
SUBSET_SEED = 1048596  # correction_pipeline()'s default seed
TRAINING_BOS = "<s>"  # create_axolotl_conversations renders the training template with this bos_token
# Augmentoolkit's prompt file for each corrigenda step (chat mode reads the .yaml one).
PROMPT_FILES = {"filter": "filter.yaml", "generate": "masked_conversation_generation.yaml"}
PIPELINE_DIR = ("generation", "core_pipelines", "correction_pipeline")
META_KEYS = {"masked_conversation_details": "generate", "judgement_details": "filter"}


class ImportError_(UsageError):
    """The config cannot be converted; the message says which key and why."""


@dataclass(frozen=True)
class Place:
    """Where the import runs and writes: Augmentoolkit's paths are resolved against `cwd`."""

    config: Path
    spec: Path
    cwd: Path


def stop_strings(use_stop: bool) -> list[str]:
    """The filter's stop list as Augmentoolkit sends it."""
    return [*FILTER_STOPS, ENGINE_STOP] if use_stop else [ENGINE_STOP]


def _located(setting: Setting, place: Place) -> str:
    return f"{place.config}:{setting.line}:{setting.column}"


def _rebase(path: str, place: Place) -> str:
    """A path Augmentoolkit read relative to where it ran, written relative to the spec's directory."""
    if os.path.isabs(path):
        return path
    return Path(os.path.relpath(place.cwd / path, place.spec.parent)).as_posix()


def _pipeline_dirs(place: Place) -> list[Path]:
    """Augmentoolkit resolves prompt folders against the pipeline's own directory; find it above the config or here."""
    dirs = []
    for start in (place.config.resolve().parent, place.cwd.resolve()):
        for folder in (start, *start.parents):
            candidate = folder.joinpath(*PIPELINE_DIR)
            if candidate.is_dir() and candidate not in dirs:
                dirs.append(candidate)
    return dirs


def _find_prompts(found: Found, place: Place) -> dict[str, Path]:
    """Each step's Augmentoolkit prompt file, looked up as its GenerationStep does: `prompts`, then
    `default_prompts`, each relative to the pipeline's directory (or, failing that, to here and to the config)."""
    folders = [found.get(key) for key in ("prompts", "default_prompts")]
    roots = [*_pipeline_dirs(place), place.cwd, place.config.parent]
    chosen: dict[str, Path] = {}
    for step, name in PROMPT_FILES.items():
        for folder in folders:
            if not isinstance(folder, str) or PLACEHOLDER in folder:
                continue
            hits = [Path(folder) / name] if os.path.isabs(folder) else [root / folder / name for root in roots]
            hit = next((path for path in hits if path.is_file()), None)
            if hit is not None:
                chosen[step] = hit
                break
    return chosen


def _model(found: Found, size: str, shared_endpoint: bool, notes: list[str]) -> CommentedMap:
    completion = bool(found.get("completion_mode", False))
    model = CommentedMap()
    model["base_url"] = found.get(f"{size}_base_url", PLACEHOLDER)
    suffix = "" if shared_endpoint else f"{size.upper()}_"
    model["base_url_env"] = f"CORRIGENDA_{suffix}BASE_URL"
    model["api_key_env"] = f"CORRIGENDA_{suffix}API_KEY"
    model["model"] = found.get(f"{size}_model", PLACEHOLDER)
    model["mode"] = "completion" if completion else "chat"
    if completion:
        template = found.get("prompt_template") or AUGMENTOOLKIT_TEMPLATE
        if "'AI: '" in template:
            model["completion_template"] = template + "{% if add_generation_prompt %}{{ 'AI: ' }}{% endif %}"
        else:
            model["completion_template"] = template
            notes.append(
                f"models.{size}.completion_template: your prompt_template has no `AI: ` turn; add the cue that "
                "starts the model's answer after `{% if add_generation_prompt %}`"
            )
    model["concurrency"] = int(found.get("concurrency_limit", 16))
    model["timeout_s"] = 1200 if size == "large" else 300
    model["pricing"] = CommentedMap(
        input_per_million=float(found.get(f"cost_per_million_{size}_input", 0.0) or 0.0),
        output_per_million=float(found.get(f"cost_per_million_{size}_output", 0.0) or 0.0),
    )
    mode = found.get(f"{size}_mode", "api")
    if mode != "api":
        notes.append(f"{size}_mode: `{mode}` has no equivalent; corrigenda calls an OpenAI-compatible endpoint")
    if f"{size}_api_key" in found.settings:
        notes.append(
            f"{found.settings[f'{size}_api_key'].origin}: not copied; export it as {model['api_key_env']} "
            f"(set {model['base_url_env']} to override base_url)"
        )
    return model


def _steps(found: Found, verify: bool, notes: list[str]) -> list[CommentedMap]:
    use_stop = bool(found.get("use_stop", True))
    filter_sampling = CommentedMap(**FILTER_SAMPLING, stop=stop_strings(use_stop))
    generate_sampling = CommentedMap(**GENERATE_SAMPLING, stop=[ENGINE_STOP])
    steps = [
        CommentedMap(name="filter", kind="filter", model="small", prompt="filter.yaml", sampling=filter_sampling),
        CommentedMap(
            name="generate", kind="generate", model="large", prompt="generate.yaml", sampling=generate_sampling
        ),
    ]
    for step in steps:
        step["sampling"].fa.set_flow_style()
    if verify:
        steps.append(CommentedMap(name="verify", kind="verify", model="small", prompt="verify.yaml"))
        notes.append(
            "steps.verify: added on purpose (Augmentoolkit has no verify step): it rejects conversations whose flawed "
            "answer is not really wrong; import with --no-verify to leave it out"
        )
    return steps


def _inputs(found: Found, place: Place, notes: list[str]) -> CommentedMap:
    inputs = CommentedMap()
    inputs["paths"] = [_rebase(str(s.value), place) for s in found.inputs if s.value] or [PLACEHOLDER]
    for setting in found.inputs:
        if setting.value and not os.path.isabs(str(setting.value)):
            notes.append(
                f"{setting.origin}: `{setting.value}` (relative to {place.cwd}, where Augmentoolkit ran) is "
                f"written as `{_rebase(str(setting.value), place)}` (relative to the spec)"
            )
    inputs["chunk_size"] = int(found.get("chunk_size", 3000))
    notes.append(
        "inputs.chunk_size: counted with tiktoken's cl100k_base (inputs.encoding); Augmentoolkit counts with the "
        "OpenHermes-2.5-Mistral-7B tokenizer and joins paragraphs with spaces, so chunk boundaries differ"
    )
    if found.get("use_subset", False):
        seed = int(found.get("seed", SUBSET_SEED))
        inputs["subset"] = CommentedMap(size=int(found.get("subset_size", 1500)), seed=seed)
        notes.append(
            f"inputs.subset: {inputs['subset']['size']} chunks with Augmentoolkit's seed {seed}; the chunks differ "
            "(see chunk_size), so the sample is not the same chunks"
        )
    return inputs


def _output(found: Found, place: Place, notes: list[str]) -> CommentedMap:
    output = CommentedMap()
    out_dir = found.get("output_dir")
    output["dir"] = _rebase(str(out_dir), place) if out_dir else "out"
    keys = [META_KEYS[k] for k in found.get("meta_datagen_keys") or [] if k in META_KEYS]
    for unknown in [k for k in found.get("meta_datagen_keys") or [] if k not in META_KEYS]:
        notes.append(f"meta_datagen_keys: `{unknown}` has no corrigenda step; ignored")
    if found.get("meta_datagen_extras"):
        notes.append("meta_datagen_extras: extra prompt templates are not supported; not carried over")
    output["meta_datagen"] = CommentedMap(enabled=bool(found.get("do_meta_datagen", False)), keys=keys)
    return output


def convert(found: Found, place: Place, verify: bool = True) -> tuple[CommentedMap, list[str], dict[str, Path]]:
    """The spec, the notes, and the Augmentoolkit prompt files to copy beside it (keyed by corrigenda step)."""
    notes = list(found.notes)
    shared_endpoint = found.get("small_base_url") == found.get("large_base_url")
    models = CommentedMap(
        small=_model(found, "small", shared_endpoint, notes), large=_model(found, "large", shared_endpoint, notes)
    )
    if found.get("use_min_p"):
        notes.append("use_min_p: Augmentoolkit's correction steps set no min_p, so it changed nothing; not carried")
    if found.get("completion_mode"):
        notes.append(
            "completion_mode: Augmentoolkit sends its .txt prompt files in completion mode; corrigenda renders the "
            "same .yaml messages through models.*.completion_template (your prompt_template, ending in the `AI: ` cue)"
        )
    prompts = _find_prompts(found, place)
    spec = CommentedMap()
    spec["version"] = 1
    spec["name"] = "correction"
    if len(prompts) == len(PROMPT_FILES):
        spec["prompts_dir"] = "prompts"
        notes.append(
            "prompts_dir: Augmentoolkit's own prompts, copied to prompts/ (filter.yaml, generate.yaml from "
            "masked_conversation_generation.yaml) and filled as Augmentoolkit fills them ({metadata} is the file name)"
            + ("; verify.yaml is corrigenda's" if verify else "")
        )
    else:
        prompts = {}
        notes.append(
            "prompts_dir: Augmentoolkit's prompt files were not found on disk (looked for prompts/default_prompts "
            "under generation/core_pipelines/correction_pipeline, here and beside the config); corrigenda's built-in "
            "prompts are used, so the requests differ from Augmentoolkit's"
        )
    spec["models"] = models
    spec["inputs"] = _inputs(found, place, notes)
    spec["steps"] = _steps(found, verify, notes)
    template = found.get("prompt_template") or AUGMENTOOLKIT_TEMPLATE
    spec["template"] = CommentedMap(prompt_template=template, bos_token=TRAINING_BOS, eos_token="")
    spec["output"] = _output(found, place, notes)
    if not found.get("prompt_template"):
        notes.append("template.prompt_template: none in the config; Augmentoolkit's Human:/AI: template is used")
    for key, setting in [*found.settings.items(), *(("input_dir", s) for s in found.inputs)]:
        if key.endswith("api_key"):
            continue  # never copied; the note above says which variable to export
        if isinstance(setting.value, str) and PLACEHOLDER in setting.value:
            notes.append(f"{setting.origin}: still {PLACEHOLDER} ({_located(setting, place)}); fill it in")
        elif setting.value is None and key.endswith(("_model", "_base_url")):
            notes.append(f"{setting.origin}: empty ({_located(setting, place)}); the spec has {PLACEHOLDER} to fill in")
    return spec, notes, prompts


def _load(config_path: Path) -> CommentedMap:
    if special := special_file(config_path):
        raise ImportError_(f"{config_path}: {special}", "pass the Augmentoolkit config .yaml file")
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
    return config


def _placeholder_columns(config_path: Path, notes: list[str]) -> list[str]:
    """A placeholder inside a value (`./inputs/!!PLACEHOLDER!!`) is named at its own column, not the value's."""
    lines = config_path.read_text(encoding="utf-8").splitlines()
    located = []
    for note in notes:
        head, sep, rest = note.partition(f" ({config_path}:")
        if not sep:
            located.append(note)
            continue
        where, _, tail = rest.partition(")")
        line, column = (int(part) for part in where.split(":"))
        text = lines[line - 1] if 0 < line <= len(lines) else ""
        at = text.find(PLACEHOLDER, column - 1)
        located.append(f"{head} ({config_path}:{line}:{at + 1 if at >= 0 else column}){tail}")
    return located


def _render(spec: CommentedMap, notes: list[str]) -> str:
    spec.yaml_set_start_comment(
        "Converted from an Augmentoolkit correction config by `corrigenda import-augmentoolkit`.\n"
        "What differs from the Augmentoolkit run, and what was not carried over:\n"
        + "\n".join(f"- {note}" for note in notes)
    )
    buffer = io.StringIO()
    yaml = YAML(typ="rt")
    yaml.width = 4096
    yaml.dump(spec, buffer)
    return buffer.getvalue()


def _differs(target: Path, source: Path) -> bool:
    return target.is_file() and target.read_bytes() != source.read_bytes()


def convert_file(config_path: Path, output: Path, verify: bool = True, cwd: Path | None = None) -> Path:
    """Write the spec (and the prompts it uses) and print the notes."""
    config = _load(config_path)
    place = Place(config_path, output, (cwd or Path.cwd()).resolve())
    try:
        found = find(config)
    except NotACorrectionConfig as exc:
        raise ImportError_(f"{config_path}: {exc}", "pass a config that configures the correction pipeline") from None
    spec, notes, prompts = convert(found, place, verify)
    notes = _placeholder_columns(config_path, notes)
    if output.is_dir():
        raise OutputError(f"{output}: is a directory", "give -o the path of the spec file to write")
    try:
        output.parent.mkdir(parents=True, exist_ok=True)
        if prompts:
            copies = {f"{step}.yaml": source for step, source in prompts.items()}
            if verify:
                copies["verify.yaml"] = data_dir("prompts") / "verify.yaml"
            folder = output.parent / "prompts"
            clash = [name for name, source in copies.items() if _differs(folder / name, source)]
            if clash:  # another spec's prompts (or the user's edits) are there: never overwritten under it
                folder = output.parent / f"prompts-{output.stem}"
                spec["prompts_dir"] = folder.name
                notes.append(
                    f"prompts_dir: {output.parent / 'prompts'} already holds other {', '.join(clash)}, which other "
                    f"specs may use; this spec's prompts are written to {folder.name}/ instead"
                )
            folder.mkdir(exist_ok=True)
            for name, source in copies.items():
                atomic.write_bytes(folder / name, source.read_bytes())
        atomic.write_text(output, _render(spec, notes))
    except OSError as exc:
        where = exc.filename or output
        raise OutputError(f"cannot write {where}: {exc.strerror or exc}", "pick a writable path with -o") from None
    for note in notes:
        print(f"note: {note}")
    return output
