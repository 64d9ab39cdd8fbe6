"""Prompt files and the Jinja2 sandbox they render in.

Document text reaches a template only as a variable value, so a chunk containing `{{ }}` or `{% %}` is data and is
never evaluated. Templates themselves come from the user's repository; the sandbox keeps them from reaching Python
internals anyway.
"""

from __future__ import annotations

import os
import re
import string
from collections.abc import Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import jinja2
from jinja2 import meta
from jinja2.sandbox import ImmutableSandboxedEnvironment
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from corrigenda.errors import UsageError
from corrigenda.ingest.walk import special_file

ROLES = ("system", "user", "assistant")
_AUGMENTOOLKIT_PLACEHOLDER = re.compile(r"\{([A-Za-z_][A-Za-z0-9_]*)\}")


@lru_cache(maxsize=1)
def sandbox() -> ImmutableSandboxedEnvironment:
    """One shared environment: strict about undefined names, keeps trailing newlines, no autoescaping (not HTML)."""
    return ImmutableSandboxedEnvironment(undefined=jinja2.StrictUndefined, keep_trailing_newline=True, autoescape=False)


class PromptRenderError(UsageError):
    """A prompt that compiled but fails when rendered for a chunk (`{{ text.foo }}`, `{{ metadata.author }}` on a record
    without one, `{{ 1 / 0 }}`): the user's template, so a one-line error, never a traceback."""


class PromptError(Exception):
    """A prompt file that cannot be used; `line` is the line in that file (1-based)."""

    def __init__(self, file: Path, line: int, message: str):
        self.file, self.line, self.message = file, line, message
        super().__init__(f"{file}:{line}: {message}")


@dataclass(frozen=True)
class PromptMessage:
    role: str
    source: str  # Jinja2 source
    line: int  # line in the prompt file where this message's template text starts
    raw: str = ""  # the content as written, for Augmentoolkit-style rendering


@dataclass(frozen=True)
class PromptFile:
    """A prompt: an ordered list of chat messages whose contents are Jinja2 templates."""

    path: Path
    text: str  # the file's exact text, part of the plan fingerprint
    messages: tuple[PromptMessage, ...]
    augmentoolkit_style: bool

    @property
    def variables(self) -> set[str]:
        names: set[str] = set()
        for message in self.messages:
            names |= meta.find_undeclared_variables(sandbox().parse(message.source))
        return names

    def render(self, variables: Mapping[str, Any], item: str = "") -> list[dict[str, str]]:
        """The chat messages for one chunk (`item` names it in an error)."""
        if self.augmentoolkit_style:
            values = augmentoolkit_variables(variables)
            return [{"role": m.role, "content": augmentoolkit_format(m.raw, values).strip()} for m in self.messages]
        rendered = []
        for message in self.messages:
            try:
                content = compiled(message.source).render(variables)
            except Exception as exc:  # raised by the template's own code, on these values
                where = f" for {item}" if item else ""
                raise PromptRenderError(
                    f"{self.path}:{message.line}: the {message.role} message cannot be rendered{where}: "
                    f"{type(exc).__name__}: {exc}",
                    f"fix the template (it can use {', '.join(sorted(variables))}); nothing was requested for it",
                ) from None
            rendered.append({"role": message.role, "content": content})
        return rendered


class _LenientFormatter(string.Formatter):
    """`str.format` that leaves an unknown `{name}` as written, the way Augmentoolkit's prompts are filled."""

    def get_value(self, key: int | str, args: Any, kwargs: Mapping[str, Any]) -> Any:
        if isinstance(key, str):
            return kwargs.get(key, "{" + key + "}")
        return super().get_value(key, args, kwargs)


def augmentoolkit_format(content: str, variables: Mapping[str, Any]) -> str:
    """Fill `{name}` placeholders as Augmentoolkit does: unknown names stay, and content that `str.format` cannot
    parse (a stray `{` or `}`) is sent unchanged rather than failing."""
    try:
        return _LenientFormatter().format(content, **variables)
    except Exception:
        return content


def augmentoolkit_variables(variables: Mapping[str, Any]) -> dict[str, Any]:
    """Augmentoolkit's `{metadata}` is the name of the file a chunk came from; corrigenda's is a dict of the
    record's other fields, so an Augmentoolkit-style prompt gets the file name."""
    values = dict(variables)
    source = values.get("source")
    if isinstance(source, str) and source:
        values["metadata"] = os.path.basename(source)
    return values


@lru_cache(maxsize=256)
def compiled(source: str) -> jinja2.Template:
    return sandbox().from_string(source)


def augmentoolkit_to_jinja(content: str) -> str:
    """`{text}`-style placeholders become Jinja2 expressions; every other character stays literal text."""
    parts: list[str] = []
    last = 0
    for match in _AUGMENTOOLKIT_PLACEHOLDER.finditer(content):
        parts.append(_literal(content[last : match.start()]))
        parts.append("{{ " + match.group(1) + " }}")
        last = match.end()
    parts.append(_literal(content[last:]))
    return "".join(parts)


def _literal(text: str) -> str:
    if not any(marker in text for marker in ("{{", "{%", "{#", "}}", "%}", "#}")):
        return text
    return "{% raw %}" + text + "{% endraw %}"


def _is_augmentoolkit_style(contents: list[str]) -> bool:
    """No Jinja2 syntax anywhere, but `{name}` placeholders: the Augmentoolkit prompt convention."""
    joined = "\n".join(contents)
    has_jinja = any(marker in joined for marker in ("{{", "{%"))
    return not has_jinja and bool(_AUGMENTOOLKIT_PLACEHOLDER.search(joined))


def load_prompt(path: Path) -> PromptFile:
    """Read a YAML list of `{role, content}`; check roles and compile every template (errors carry file lines)."""
    if special := special_file(path):
        raise PromptError(path, 1, f"{special}: a prompt is a .yaml file")
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise PromptError(path, 1, "prompt file not found") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise PromptError(path, 1, f"cannot read prompt file: {exc}") from None
    try:
        data = YAML(typ="rt").load(text)
    except YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        raise PromptError(path, mark.line + 1 if mark else 1, f"invalid YAML: {exc}") from None
    if not isinstance(data, list) or not data:
        raise PromptError(path, 1, "a prompt file is a non-empty YAML list of {role, content} messages")
    raw: list[tuple[str, str, int]] = []
    for index, item in enumerate(data):
        item_line = data.lc.item(index)[0] + 1
        if not isinstance(item, dict) or set(item) != {"role", "content"}:
            raise PromptError(path, item_line, "each message needs exactly the keys `role` and `content`")
        if item["role"] not in ROLES:
            raise PromptError(path, item_line, f"role must be one of {', '.join(ROLES)}, not {item['role']!r}")
        if not isinstance(item["content"], str):
            raise PromptError(path, item_line, "content must be a string")
        value_line = item.lc.value("content")[0] + 1
        # A block scalar (`content: |`) starts its text on the next line.
        starts_below = text.splitlines()[value_line - 1].rstrip().endswith(("|", ">", "|-", ">-", "|+", ">+"))
        raw.append((str(item["role"]), str(item["content"]), value_line + (1 if starts_below else 0)))
    augmentoolkit = _is_augmentoolkit_style([content for _, content, _ in raw])
    messages = []
    for role, content, line in raw:
        source = augmentoolkit_to_jinja(content) if augmentoolkit else content
        try:
            compiled(source)
        except jinja2.TemplateSyntaxError as exc:
            raise PromptError(path, line + (exc.lineno or 1) - 1, f"Jinja2 syntax error: {exc.message}") from None
        messages.append(PromptMessage(role, source, line, content))
    return PromptFile(path, text, tuple(messages), augmentoolkit)
