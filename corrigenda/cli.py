"""The `corrigenda` command. Exit codes: 0 success, 1 the dataset failed its gate, 2 bad spec or input."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from rich.console import Console
from rich.table import Table

from corrigenda import __version__
from corrigenda.compiler.compile import compile_spec
from corrigenda.compiler.diagnostics import SpecError
from corrigenda.compiler.estimate import estimate
from corrigenda.ingest.corpus import IngestionReport, iter_chunks

EXIT_OK, EXIT_GATE, EXIT_BAD_INPUT = 0, 1, 2


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _print_problems(error: SpecError) -> int:
    for problem in error.problems:
        print(problem, file=sys.stderr)
    return EXIT_BAD_INPUT


def cmd_validate(args: argparse.Namespace) -> int:
    try:
        compiled = compile_spec(Path(args.spec))
    except SpecError as error:
        return _print_problems(error)
    for warning in compiled.warnings:
        print(warning, file=sys.stderr)
    plan = compiled.plan
    print(
        f"{args.spec}: ok — {len(plan.spec.steps)} steps, {len(plan.inputs)} input files, "
        f"fingerprint {plan.fingerprint[:16]}"
    )
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    try:
        compiled = compile_spec(Path(args.spec))
    except SpecError as error:
        return _print_problems(error)
    plan = compiled.plan
    if args.json:
        print(plan.model_dump_json(indent=2))
        return EXIT_OK
    for warning in compiled.warnings:
        print(warning, file=sys.stderr)
    report = IngestionReport()
    result = estimate(compiled, iter_chunks(plan.spec.inputs, Path(plan.base_dir), report))
    violations = report.policy_violations(plan.spec.inputs.on_unreadable)
    for violation in violations:
        print(f"unreadable input (inputs.on_unreadable is strict): {violation}", file=sys.stderr)
    if violations:
        return EXIT_BAD_INPUT
    console = _console()
    console.print(f"[bold]{plan.spec.name}[/bold]  fingerprint {plan.fingerprint[:16]}")
    console.print(f"inputs: {len(plan.inputs)} files, {result.documents} documents, {result.chunks} chunks")
    for line in report.lines()[1:]:
        console.print(f"  {line}")
    models = Table(title="models", title_justify="left")
    for column in ("name", "engine", "model", "endpoint", "concurrency"):
        models.add_column(column)
    for name, model in plan.spec.models.items():
        models.add_row(name, model.engine, model.model, plan.endpoints.get(name) or "-", str(model.concurrency))
    console.print(models)
    steps = Table(title="estimate before spending", title_justify="left")
    for column in ("step", "model", "requests", "input tokens", "output tokens", "USD", "note"):
        steps.add_column(column, justify="right" if column not in ("step", "model", "note") else "left")
    for row in result.steps:
        steps.add_row(
            row.step,
            row.model,
            f"{row.requests:,}",
            f"{row.input_tokens:,}",
            f"{row.output_tokens:,}",
            f"{row.usd:.4f}",
            row.note,
        )
    console.print(steps)
    console.print(f"total: at most ${result.usd:.4f}")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from corrigenda.compiler.augmentoolkit import ImportError_, convert_file

    try:
        written = convert_file(Path(args.config), Path(args.output))
    except ImportError_ as error:
        print(error, file=sys.stderr)
        return EXIT_BAD_INPUT
    print(f"wrote {written}; check it with: corrigenda validate {written}")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="corrigenda", description=__doc__)
    parser.add_argument("--version", action="version", version=f"corrigenda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="load, validate and compile a spec")
    validate.add_argument("spec")
    validate.set_defaults(run=cmd_validate)

    plan = commands.add_parser("plan", help="show the plan and what it will cost before spending")
    plan.add_argument("spec")
    plan.add_argument("--json", action="store_true", help="print the compiled plan as JSON")
    plan.set_defaults(run=cmd_plan)

    imp = commands.add_parser("import-augmentoolkit", help="convert an Augmentoolkit correction config")
    imp.add_argument("config")
    imp.add_argument("-o", "--output", required=True, help="spec file to write")
    imp.set_defaults(run=cmd_import)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.run(args)
    except KeyboardInterrupt:
        print("interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    raise SystemExit(main())
