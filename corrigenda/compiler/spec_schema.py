"""`schemas/spec.schema.json` is generated from the pydantic models; `python -m corrigenda.compiler.spec_schema`
rewrites it, and a test fails when the checked-in copy drifts."""

from __future__ import annotations

import json
import sys
from pathlib import Path

from corrigenda.compiler.spec import Spec


def render() -> str:
    schema = Spec.model_json_schema()
    schema["$schema"] = "https://json-schema.org/draft/2020-12/schema"
    schema["title"] = "corrigenda spec"
    return json.dumps(schema, indent=2, sort_keys=True, ensure_ascii=False) + "\n"


def main() -> None:
    target = Path(sys.argv[1]) if len(sys.argv) > 1 else Path("schemas/spec.schema.json")
    target.write_text(render(), encoding="utf-8")
    print(f"wrote {target}")


if __name__ == "__main__":
    main()
