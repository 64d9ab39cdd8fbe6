"""The schema gate: every record is checked against the JSON Schema and the invariants before anything is released.

The same checks serve `build` (with each record's conversation, so the content rules apply too) and `check` (on any
existing file, shape rules only).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import jsonschema

from corrigenda.emit.invariants import violations
from corrigenda.emit.segmenter import Conversation
from corrigenda.resources import schema_path

INPUT_OUTPUT_SCHEMA = "axolotl_input_output.schema.json"


@dataclass(frozen=True)
class GateProblem:
    index: int  # position of the record in the file
    item: str | None  # the chunk it came from, when known
    rule: str

    def __str__(self) -> str:
        where = f"record {self.index}" + (f" ({self.item})" if self.item else "")
        return f"{where}: {self.rule}"


@lru_cache(maxsize=4)
def record_validator(schema_file: str = INPUT_OUTPUT_SCHEMA) -> jsonschema.protocols.Validator:
    """A validator for one record (the `items` schema of the file schema)."""
    schema = json.loads(schema_path(schema_file).read_text(encoding="utf-8"))
    validator_class = jsonschema.validators.validator_for(schema)
    validator_class.check_schema(schema)
    return validator_class(schema["items"])


def record_problems(
    record: Any,
    index: int,
    item: str | None = None,
    conversation: Conversation | None = None,
    rendered: str | None = None,
) -> list[GateProblem]:
    problems = [
        GateProblem(
            index, item, f"schema: {'/'.join(map(str, error.absolute_path)) or 'record'}: {error.message[:200]}"
        )
        for error in sorted(record_validator().iter_errors(record), key=lambda e: list(e.absolute_path))
    ]
    segments = record.get("segments") if isinstance(record, dict) else None
    problems += [GateProblem(index, item, rule) for rule in violations(segments, conversation, rendered)]
    return problems


def file_problems(records: Any) -> list[GateProblem]:
    if not isinstance(records, list):
        return [GateProblem(-1, None, "schema: the file must be a JSON list of records")]
    out: list[GateProblem] = []
    for index, record in enumerate(records):
        out += record_problems(record, index)
    return out
