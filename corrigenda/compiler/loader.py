"""Read a spec file with ruamel.yaml and validate it, turning every failure into a located `Problem`."""

from __future__ import annotations

import difflib
import re
import types
from pathlib import Path
from typing import Any, Union, get_args, get_origin

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from corrigenda.compiler.diagnostics import Problem, SourceMap, SpecError, dotted
from corrigenda.compiler.spec import Spec
from corrigenda.ingest.walk import special_file

_PLACEHOLDER_VALUE = re.compile(r"(:[ \t]+|-[ \t]+)(!!PLACEHOLDER!!\S*)(?=[ \t]*(#.*)?$)", re.MULTILINE)


def quote_placeholders(text: str) -> str:
    """Augmentoolkit writes `key: !!PLACEHOLDER!!` and `key: !!PLACEHOLDER!!/model-name`, which YAML reads as an
    undefined tag; make the value a quoted string (it starts at the same column) so the key can be named in a clear
    error."""
    return _PLACEHOLDER_VALUE.sub(lambda m: m.group(1) + "'" + m.group(2).replace("'", "''") + "'", text)


def read_yaml(path: Path) -> Any:
    """Round-trip load (keeps line/column on every node); YAML errors become a located SpecError."""
    if special := special_file(path):
        raise SpecError([Problem(str(path), 1, 1, "<file>", f"{special}: pass the spec's .yaml file")])
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise SpecError([Problem(str(path), 1, 1, "<file>", f"cannot read: {exc.strerror or exc}")]) from exc
    except UnicodeDecodeError as exc:
        raise SpecError([Problem(str(path), 1, 1, "<file>", f"not UTF-8 text: {exc.reason}")]) from exc
    try:
        return YAML(typ="rt").load(quote_placeholders(text))
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (1, 1)
        message = " ".join(str(part) for part in (exc.context, exc.problem) if part)
        raise SpecError([Problem(str(path), line, col, "<yaml>", f"invalid YAML: {message}")]) from exc
    except YAMLError as exc:
        raise SpecError([Problem(str(path), 1, 1, "<yaml>", f"invalid YAML: {exc}")]) from exc


def _inner(annotation: Any, part: Any) -> Any:
    """The type one step down a validation error's location: a model's field, a list's item, a mapping's value."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        field = annotation.model_fields.get(part) if isinstance(part, str) else None
        return field.annotation if field else None
    origin, args = get_origin(annotation), get_args(annotation)
    if origin in (Union, types.UnionType):
        return next((found for arg in args if (found := _inner(arg, part)) is not None), None)
    if origin is dict:
        return args[1]
    if origin in (list, tuple) and args:
        return args[0]
    return None


def _keys_at(location: tuple[Any, ...]) -> list[str]:
    """The keys the spec allows where an unknown key was found (empty when the place cannot be told)."""
    annotation: Any = Spec
    for part in location:
        annotation = _inner(annotation, part)
    models = [annotation] if isinstance(annotation, type) else list(get_args(annotation))
    return [
        key
        for model in models
        if isinstance(model, type) and issubclass(model, BaseModel)
        for key in model.model_fields
    ]


def _unknown_key(location: tuple[Any, ...]) -> str:
    """A typo is the commonest unknown key: name the key that was meant, or where every key is listed."""
    close = difflib.get_close_matches(str(location[-1]), _keys_at(location[:-1]), n=1, cutoff=0.6)
    if close:
        return f"unknown key; did you mean `{close[0]}`?"
    return "unknown key (schemas/spec.schema.json lists every key)"


def _message(error: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "extra_forbidden":
        return _unknown_key(tuple(error["loc"]))
    if kind == "missing":
        return f"required key `{error['loc'][-1]}` is missing"
    message = str(error["msg"])
    return message.removeprefix("Value error, ")


def problems_from_validation(source: SourceMap, exc: ValidationError) -> list[Problem]:
    problems = []
    for error in exc.errors():
        path = list(error["loc"])
        at_key = error["type"] in ("extra_forbidden",)
        line, col = source.locate(path, at_key=at_key)
        problems.append(Problem(source.file, line, col, dotted(path), _message(error)))
    return problems


def load_spec(path: Path) -> tuple[Spec, SourceMap]:
    """Parse and validate; raise SpecError listing every problem with its file, line and column."""
    root = read_yaml(path)
    source = SourceMap(path, root)
    if not isinstance(root, dict):
        raise SpecError([source.problem([], "a spec is a YAML mapping (models, inputs, steps, ...)")])
    try:
        return Spec.model_validate(root), source
    except ValidationError as exc:
        raise SpecError(problems_from_validation(source, exc)) from None
