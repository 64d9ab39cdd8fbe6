"""Spec file -> Plan, with every check a user would otherwise discover after paying for a run."""

from __future__ import annotations

import difflib
import os
import re
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import jinja2
from ruamel.yaml.comments import CommentedMap, CommentedSeq

from corrigenda.compiler.diagnostics import PathPart, Problem, SourceMap, SpecError, dotted
from corrigenda.compiler.loader import load_spec, read_yaml
from corrigenda.compiler.plan import InputFile, Plan, PromptText
from corrigenda.compiler.spec import INPUT_VARIABLES, STEP_OUTPUTS, Spec
from corrigenda.digest import file_sha256
from corrigenda.emit.segmenter import Conversation, TemplateShapeError, segment
from corrigenda.ingest.corpus import EXTENSIONS, IngestionReport, discover, display_path
from corrigenda.resources import data_dir
from corrigenda.templating import PromptError, PromptFile, compiled, load_prompt

CONVERSATION_FIELDS = STEP_OUTPUTS["generate"]
KIND_ORDER = {"filter": 0, "generate": 1, "verify": 2}


@dataclass
class Compiled:
    plan: Plan
    warnings: list[Problem] = field(default_factory=list)
    prompt_files: dict[str, PromptFile] = field(default_factory=dict)


def _placeholders(node: Any, path: list[PathPart]) -> list[list[PathPart]]:
    """Paths of every `!!PLACEHOLDER!!` value left in the file (Augmentoolkit's "fill me in" marker)."""
    found: list[list[PathPart]] = []
    if isinstance(node, str) and "!!PLACEHOLDER!!" in node:
        found.append(path)
    elif isinstance(node, CommentedMap):
        for key, value in node.items():
            found += _placeholders(value, [*path, key])
    elif isinstance(node, CommentedSeq):
        for index, value in enumerate(node):
            found += _placeholders(value, [*path, index])
    return found


def _line_of(source: str, name: str) -> int:
    """First line (1-based) of a template source that mentions `name`."""
    pattern = re.compile(rf"\b{re.escape(name)}\b")
    for number, line in enumerate(source.splitlines(), start=1):
        if pattern.search(line):
            return number
    return 1


def _check_template(
    source: SourceMap, path: list[PathPart], text: str, trial: Callable[[], object] | None = None
) -> list[Problem]:
    """The template compiles and, when `trial` renders it as a build will (same variables, same shapes of message
    list), renders without an error: a template that fails on every record would otherwise fail after all calls."""
    try:
        compiled(text)
    except jinja2.TemplateSyntaxError as exc:
        line, col = source.locate(path)
        # A block scalar starts on the line after its key; a quoted one on the key's line.
        message = f"Jinja2 syntax error (template line {exc.lineno}): {exc.message}"
        return [Problem(source.file, line + (exc.lineno or 1) - 1, col, dotted(path), message)]
    if trial is not None:
        try:
            trial()
        except TemplateShapeError:
            pass  # renders, but not message by message: each record fails the gate with the reason
        except Exception as exc:  # raised by the template's own code
            return [source.problem(path, f"the template cannot be rendered: {type(exc).__name__}: {exc}")]
    return []


_SAMPLE = Conversation("A sample question?", "A wrong answer.", "Are you sure?", "The corrected answer.")


def _sample_messages(roles: list[str]) -> list[dict[str, str]]:
    return [{"role": role, "content": f"A sample {role} message."} for role in roles]


def resolve_endpoint(name: str, model: Any) -> str | None:
    if model.engine != "openai":
        return None
    if model.base_url_env and os.environ.get(model.base_url_env):
        return os.environ[model.base_url_env]
    return model.base_url


def prompts_root(spec: Spec, spec_dir: Path) -> Path:
    return (spec_dir / spec.prompts_dir) if spec.prompts_dir else data_dir("prompts")


def compile_spec(spec_file: Path, for_build: bool = False) -> Compiled:
    """Load, validate and compile. Raises SpecError with every error found; returns warnings with the plan."""
    raw = read_yaml(spec_file)
    source = SourceMap(spec_file, raw)
    placeholders = _placeholders(raw, [])
    if placeholders:
        raise SpecError([source.problem(p, "is still `!!PLACEHOLDER!!`: fill in a real value") for p in placeholders])
    spec, source = load_spec(spec_file)
    spec_dir = spec_file.parent
    problems: list[Problem] = []
    prompt_files: dict[str, PromptFile] = {}

    available = set(INPUT_VARIABLES)
    last_kind = -1
    for index, step in enumerate(spec.steps):
        here: list[PathPart] = ["steps", index]
        if KIND_ORDER[step.kind] < last_kind:
            problems.append(source.problem([*here, "kind"], f"a {step.kind} step cannot come after a later stage"))
        last_kind = max(last_kind, KIND_ORDER[step.kind])
        model = spec.models.get(step.model)
        if model is None:
            problems.append(
                source.problem([*here, "model"], f"unknown model `{step.model}` (defined: {', '.join(spec.models)})")
            )
        elif model.engine == "openai":
            problems += _check_llm_step(spec, source, here, step, model, spec_dir, available, prompt_files)
        available |= set(step.outputs)

    missing = [name for name in CONVERSATION_FIELDS if name not in available]
    if missing:
        problems.append(source.problem(["steps"], f"no step produces {', '.join(missing)} (add a generate step)"))
    template = spec.template
    problems += _check_template(
        source, ["template", "prompt_template"], template.prompt_template, lambda: segment(_SAMPLE, template)
    )
    for name, model in spec.models.items():
        if model.completion_template:
            used_by = [s.name for s in spec.steps if s.model == name and s.name in prompt_files]
            shapes = [[m.role for m in prompt_files[step].messages] for step in used_by]
            body = model.completion_template

            def render_each(body: str = body, shapes: list[list[str]] = shapes) -> None:  # as each step's requests
                for roles in shapes or [["system", "user"]]:
                    compiled(body).render(
                        messages=_sample_messages(roles), add_generation_prompt=True, bos_token="", eos_token=""
                    )

            problems += _check_template(source, ["models", name, "completion_template"], body, render_each)

    warnings = _environment_problems(spec, source, for_build)
    problems += [w for w in warnings if w.severity == "error"]
    warnings = [w for w in warnings if w.severity == "warning"]

    report = IngestionReport()
    files = discover(spec.inputs, spec_dir, report)
    for index, entry in enumerate(spec.inputs.paths):
        if any(item["file"] == entry and item["reason"] == "not found" for item in report.skipped):
            looked = os.path.normpath(spec_dir.resolve() / entry)  # relative to the spec, not to where we run
            message = f"no such file or directory: {entry}" + ("" if looked == entry else f" (looked for {looked})")
            if any(sign in entry for sign in "*?["):  # a glob is never a missing file: it matched nothing
                message = f"no file matches the pattern {entry} (relative to the spec file: {looked})"
            elif os.path.islink(looked):  # it is there, pointing at nothing: say where it points
                message = f"{entry} is a broken symlink: it points to {os.readlink(looked)}, which does not exist"
            problems.append(source.problem(["inputs", "paths", index], message))
    if not files and not problems:  # an empty folder, or one of types not read: a build would make nothing
        problems.append(source.problem(["inputs", "paths"], _no_input_files(spec.inputs.types, report.skipped)))
    for item in report.unreadable:  # found but not readable (permissions, a symlink loop): say so before a run
        if item["reason"] != "not found":
            effect = "the build stops" if spec.inputs.on_unreadable == "strict" else "skipped"
            warnings.append(
                source.problem(["inputs", "paths"], f"{item['file']}: {item['reason']} ({effect})", "warning")
            )
    if problems:
        raise SpecError(problems)

    inputs = []
    for file in files:
        digest, size = file_sha256(file)
        inputs.append(InputFile(path=display_path(file, spec_dir), sha256=digest, bytes=size))
    plan = Plan(
        spec_file=str(spec_file),
        base_dir=str(spec_dir.resolve()),
        spec=spec,
        endpoints={name: resolve_endpoint(name, model) for name, model in spec.models.items()},
        prompts={
            name: PromptText(path=display_path(prompt.path, spec_dir), text=prompt.text)
            for name, prompt in prompt_files.items()
        },
        inputs=tuple(inputs),
    ).with_fingerprint()
    return Compiled(plan, warnings, prompt_files)


def _prompts_there(path: Path) -> str:
    """What the prompts folder does hold: the file meant, or the folder meant (prompts_dir), is then plain."""
    if not path.parent.is_dir():
        return f" (no folder {path.parent}: check prompts_dir, relative to the spec file)"
    there = sorted(p.name for p in path.parent.iterdir() if p.suffix in (".yaml", ".yml", ".txt"))
    stems = {Path(name).stem: name for name in there}  # compare "verfy" with "verify", not the shared ".yaml"
    close = difflib.get_close_matches(path.stem, list(stems), n=1, cutoff=0.75)
    if close:
        return f"; did you mean {stems[close[0]]}?"
    return f"; {path.parent} holds: {', '.join(there[:8]) or 'no prompt files'}"


def _no_input_files(types: tuple[str, ...], skipped: list[dict[str, str]]) -> str:
    """Why nothing would be read, with what was passed over, so the fix (another path, another type) is plain."""
    passed_over = [f"{item['file']} ({item['reason']})" for item in skipped]
    shown = "; passed over: " + ", ".join(passed_over[:5]) + (" ..." if len(passed_over) > 5 else "")
    readable = {f"unsupported type {suffix}" for suffix, kind in EXTENSIONS.items() if kind not in types}
    fix = "point inputs.paths at your documents"
    if any(item["reason"] in readable for item in skipped):  # a type corrigenda reads, left out of inputs.types
        fix += ", or add their type to inputs.types"
    return (
        f"no input file found: these paths hold no file of the types read ({', '.join(types)})"
        f"{shown if passed_over else ''}; {fix}"
    )


def _check_llm_step(
    spec: Spec,
    source: SourceMap,
    here: list[PathPart],
    step: Any,
    model: Any,
    spec_dir: Path,
    available: set[str],
    prompt_files: dict[str, PromptFile],
) -> list[Problem]:
    problems: list[Problem] = []
    if not step.prompt:
        return [source.problem(here, f"step `{step.name}` runs on an LLM and needs a `prompt` file")]
    path = prompts_root(spec, spec_dir) / step.prompt
    try:
        prompt = load_prompt(path)
    except PromptError as exc:
        if not path.exists():
            return [source.problem([*here, "prompt"], f"prompt file not found: {path}{_prompts_there(path)}")]
        return [Problem(str(exc.file), exc.line, 1, dotted([*here, "prompt"]), exc.message)]
    prompt_files[step.name] = prompt
    for name in sorted(prompt.variables - available):
        message = next((m for m in prompt.messages if re.search(rf"\b{re.escape(name)}\b", m.source)), None)
        line = (message.line + _line_of(message.source, name) - 1) if message else 1
        problems.append(
            Problem(
                str(path),
                line,
                1,
                dotted([*here, "prompt"]),
                f"undefined variable `{name}`: not produced by the input or an earlier step "
                f"(available: {', '.join(sorted(available))})",
            )
        )
    sampling = model.sampling.merged(step.sampling)
    if sampling.max_tokens is not None and sampling.max_tokens < step.output_budget:
        problems.append(
            source.problem(
                [*here, "sampling", "max_tokens"]
                if step.sampling and step.sampling.max_tokens
                else ["models", step.model, "sampling", "max_tokens"],
                f"max_tokens {sampling.max_tokens} leaves no room for the expected output of `{step.name}` "
                f"(~{step.output_budget} tokens; lower expected_output_tokens if that is too high)",
            )
        )
    if model.context_tokens is not None:
        needed = spec.inputs.chunk_size + len(prompt.text) // 4 + (sampling.max_tokens or step.output_budget)
        if needed > model.context_tokens:
            problems.append(
                source.problem(
                    ["models", step.model, "context_tokens"],
                    f"`{step.name}` needs ~{needed} tokens (chunk_size + prompt + max_tokens) but the context "
                    f"is {model.context_tokens}",
                )
            )
    return problems


def _environment_problems(spec: Spec, source: SourceMap, for_build: bool) -> list[Problem]:
    """Unset environment variables: a warning while validating, an error when the build would need them."""
    severity = "error" if for_build else "warning"
    used = {step.model for step in spec.steps}
    problems = []
    for name, model in spec.models.items():
        if name not in used or model.engine != "openai":
            continue
        if model.api_key_env and not os.environ.get(model.api_key_env):
            problems.append(
                source.problem(
                    ["models", name, "api_key_env"],
                    f"environment variable {model.api_key_env} is not set (for an endpoint that needs no key, "
                    "set it to any value or remove api_key_env)",
                    severity,
                )
            )
        if not model.base_url and model.base_url_env and not os.environ.get(model.base_url_env):
            problems.append(
                source.problem(
                    ["models", name, "base_url_env"],
                    f"environment variable {model.base_url_env} is not set and there is no base_url",
                    severity,
                )
            )
    return problems
