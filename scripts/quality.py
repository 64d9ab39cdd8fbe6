"""Grade a release by hand and count its measurable defects.

    .venv/bin/python scripts/quality.py SPEC [--out DIR] [--sample 50] [--seed 7]   # build, then report
    .venv/bin/python scripts/quality.py --release DIR [--spec SPEC]                # report on an existing release

It prints a fixed-seed sample of released records for grading (question, flawed answer, push-back, correction, and
the chunk the record was built from, found by its id when the spec is given), then counts over the whole release:
questions that name a file stem or an id-like title, statements carrying page furniture (digit-bearing phrases that
repeat in the source document, dated "FM n-n" footers), private-use glyphs, and flawed answers whose value equals
the correct one after normalisation.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import textwrap
from collections import Counter
from pathlib import Path

from corrigenda.cli import main as corrigenda
from corrigenda.compiler.compile import compile_spec
from corrigenda.heuristic.furniture import DATED_FOOTER, furniture_phrases, has_furniture
from corrigenda.heuristic.rules import title_or_none
from corrigenda.ingest.corpus import IngestionReport, iter_chunks
from corrigenda.runtime.quality import same_value_correction

PRIVATE_USE = re.compile("[\ue000-\uf8ff]")
QUOTED = re.compile(r"“(.*)”", re.DOTALL)
ID_LIKE_PREFIX = re.compile(r"^(?:About\s+)?([^\s:,“]+)(?::|,)")
SUBJECT = re.compile(r"(?:about|About) ([^“]+?)(?:\?|,) “|^([^“:]+): which")


DEFECTS = (
    "id-like title in question",
    "page furniture in a statement",
    "private-use glyph",
    "same-value distractor",
    "not exactly one blank",
)


def chunks_by_id(spec: Path) -> dict[str, object]:
    plan = compile_spec(spec).plan
    return {c.chunk_id: c for c in iter_chunks(plan.spec.inputs, Path(plan.base_dir), IngestionReport())}


def _title_in(question: str) -> str | None:
    match = SUBJECT.search(question)
    if not match:
        return None
    return (match.group(1) or match.group(2) or "").strip()


def counts(records: list[dict], chunks: dict[str, object]) -> Counter[str]:
    """Defects a reader would notice, counted over every record of the release."""
    by_source: dict[str, list[str]] = {}
    for chunk in chunks.values():
        by_source.setdefault(chunk.source, []).append(chunk.text)  # type: ignore[attr-defined]
    furniture = {source: furniture_phrases(" ".join(" ".join(t).split())) for source, t in by_source.items()}
    found: Counter[str] = Counter(records=len(records))
    for name in DEFECTS:
        found[name] = 0
    for record in records:
        question, flawed, _, correct = (m["content"] for m in record["messages"])
        title = _title_in(question)
        if title is not None and not title_or_none(title):
            found["id-like title in question"] += 1
        statements = [m.group(1) for m in (QUOTED.search(flawed), QUOTED.search(correct)) if m]
        phrases = furniture.get(record.get("source", ""), frozenset())
        if any(has_furniture(s, phrases) or DATED_FOOTER.search(s) for s in statements):
            found["page furniture in a statement"] += 1
        if any(PRIVATE_USE.search(m["content"]) for m in record["messages"]):
            found["private-use glyph"] += 1
        if same_value_correction(flawed, correct):
            found["same-value distractor"] += 1
        if question.count("____") != 1:
            found["not exactly one blank"] += 1
    return found


def show(number: int, record: dict, chunk: object | None) -> None:
    question, flawed, push_back, correct = (m["content"] for m in record["messages"])
    print(f"=== {number}. {record.get('id', '?')}")
    for label, text in (("Q", question), ("FLAWED", flawed), ("PUSH", push_back), ("CORRECT", correct)):
        print(textwrap.fill(text, 118, initial_indent=f"{label:>8}: ", subsequent_indent=" " * 10))
    if chunk is not None:
        text = " ".join(chunk.text.split())  # type: ignore[attr-defined]
        print(textwrap.fill(text[:900], 118, initial_indent="   CHUNK: ", subsequent_indent=" " * 10))
    print()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("spec", nargs="?", type=Path, help="a spec to build (and to find chunk texts by id)")
    parser.add_argument("--release", type=Path, help="read this release instead of building")
    parser.add_argument("--out", type=Path, default=Path("/tmp/corrigenda-quality"))
    parser.add_argument("--sample", type=int, default=50)
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if args.release is None and args.spec is None:
        parser.error("give a SPEC to build or --release DIR")
    release = args.release
    if release is None:
        status = corrigenda(["build", str(args.spec), "--out", str(args.out), "--no-resume"])
        if status != 0:
            return status
        release = args.out
    lines = (release / "axolotl_chat_template.jsonl").read_text(encoding="utf-8").splitlines()
    records = [json.loads(line) for line in lines if line.strip()]
    chunks = chunks_by_id(args.spec) if args.spec else {}
    for number, record in enumerate(random.Random(args.seed).sample(records, min(args.sample, len(records))), 1):
        show(number, record, chunks.get(record.get("id", "")))
    sources = Counter(record.get("source", "?") for record in records)
    print("records per source:", file=sys.stdout)
    for source, count in sources.most_common():
        print(f"  {count:5d}  {source}")
    print("counts over the whole release:")
    for name, count in counts(records, chunks).items():
        print(f"  {name}: {count}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
