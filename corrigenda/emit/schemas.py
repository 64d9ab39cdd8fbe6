"""The versioned output schemas. Each output format's schema carries a `$id` ending in `/vN.schema.json`; a release's
manifest records the ids it was written against, and `check` refuses a release whose schema versions this
corrigenda does not know (a newer corrigenda wrote it: its consumers may rely on a shape this one cannot check).

Bump a schema's version, and note it under "Changes that affect datasets" in CHANGELOG.md, whenever a consumer of
the released files would have to change."""

from __future__ import annotations

import json
import re
from functools import cache

from corrigenda.resources import schema_path

SCHEMA_FILES = {
    "input_output": "axolotl_input_output.schema.json",
    "chat_template": "axolotl_chat_template.schema.json",
}
_VERSIONED = re.compile(r"^(?P<base>.+)/v(?P<version>\d+)\.schema\.json$")


@cache
def schema_id(output_format: str) -> str:
    """The `$id` of the schema this corrigenda writes `output_format` against."""
    return json.loads(schema_path(SCHEMA_FILES[output_format]).read_text(encoding="utf-8"))["$id"]


def schema_ids(formats: tuple[str, ...] | list[str]) -> dict[str, str]:
    return {name: schema_id(name) for name in formats if name in SCHEMA_FILES}


def version_of(identifier: str) -> tuple[str, int] | None:
    """(`base`, N) for `base/vN.schema.json`; None for an id that carries no version."""
    found = _VERSIONED.match(identifier)
    return (found.group("base"), int(found.group("version"))) if found else None


def unknown_schemas(recorded: object) -> list[str]:
    """Why a manifest's `schemas` cannot be checked by this corrigenda; empty when every id is one it knows.
    A manifest without `schemas` was written before schemas were versioned, in version 1's shape."""
    if recorded is None:
        return []
    if not isinstance(recorded, dict):
        return ["manifest.json: `schemas` is not a mapping of output format to schema id"]
    problems = []
    for name, identifier in sorted(recorded.items()):
        if name not in SCHEMA_FILES:
            problems.append(
                f"manifest.json: output format {name!r} (schema {identifier}) is unknown to this corrigenda: "
                "upgrade corrigenda to check this release"
            )
            continue
        known = schema_id(name)
        if identifier == known:
            continue
        theirs, ours = version_of(str(identifier)), version_of(known)
        needs = f"version {theirs[1]}" if theirs else f"schema {identifier}"
        problems.append(
            f"manifest.json: {name} was written against {needs} of its schema ({identifier}), but this corrigenda "
            f"knows version {ours[1] if ours else '?'} ({known}): check it with a corrigenda that reads {needs}"
        )
    return problems
