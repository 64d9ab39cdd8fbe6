"""The `corrigenda` command. Every user-caused condition is a `CorrigendaError` (exit codes in `corrigenda.errors`),
printed by the one handler in `main`; `--help` tells the user the same exit codes as the README."""

from __future__ import annotations

import argparse
import os
import signal
import sys
from pathlib import Path
from typing import NoReturn

from rich.console import Console
from rich.table import Table

from corrigenda import __version__
from corrigenda.compiler.compile import compile_spec
from corrigenda.compiler.estimate import estimate
from corrigenda.errors import EXIT_BAD_INPUT, EXIT_GATE, EXIT_OK, CorrigendaError, Interrupted, UsageError
from corrigenda.ingest.corpus import IngestionReport, discover, iter_chunks
from corrigenda.machine import build_json, check_json, emit, error_json, plan_json
from corrigenda.runtime.shard import Shard
from corrigenda.startup import imports_done

EXIT_OUTPUT_CLOSED = 141  # 128 + SIGPIPE, what a shell reports for a tool whose reader closed the pipe

DESCRIPTION = """\
Turn documents into self-correction training data (Axolotl input_output).
Start with `corrigenda validate SPEC`, then `corrigenda plan SPEC` (what it
will cost), then `corrigenda build SPEC`; README.md explains the spec.

exit codes:
  0    success
  1    the dataset failed its gate: nothing released (see OUT.failed/)
  2    bad spec, input, option, cache or output location: fix it and rerun
  3    an endpoint is unreachable or refuses us: rerun once it is fixed
  4    the spending cap max_usd was reached: raise it and rerun
  130  interrupted (Ctrl-C, or SIGTERM: a cancelled CI job, `kill PID`)
  141  the reader of the output went away (`corrigenda show OUT | head`)"""
SPEC_HELP = "the spec .yaml file, e.g. spec/offline.yaml"
INTERRUPTED = {  # what Ctrl-C leaves behind, per command
    "build": "in-flight calls were cancelled; every completed call is in the cache, so a rerun pays only for the rest",
    "cache": "each cache merged so far is in the target whole, the one being merged is not; rerun the same merge to "
    "add the rest",
}


def _console() -> Console:
    return Console(highlight=False, soft_wrap=True)


def _print_unreadable(violations: list[str]) -> None:
    for violation in violations:
        print(f"unreadable input (inputs.on_unreadable is strict): {violation}", file=sys.stderr)


def plural(count: int, noun: str) -> str:
    """'1 record', '2 records': a count a user reads."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def positive_int(text: str) -> int:
    """`--limit`, `-n`: a whole number of at least 1. Zero must not mean "everything": on a paid endpoint a trap."""
    try:
        value = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number of at least 1, got {text!r}") from None
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be at least 1, got {value} (leave the option out for its default)")
    return value


def positive_usd(text: str) -> float:
    """`--max-usd`: a cap above 0, as the spec's max_usd must be; a negative or NaN cap would mean nothing."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected an amount in USD, got {text!r}") from None
    if not value > 0 or value == float("inf"):
        raise argparse.ArgumentTypeError(f"must be above 0, got {text} (leave --max-usd out for no cap)")
    return value


def spec_path(text: str) -> Path:
    """The spec file a command was given; a folder or a missing file is named with what to pass instead."""
    path = Path(text)
    if path.is_dir():
        raise UsageError(
            f"{path}: is a directory, not a spec file", "pass the spec's .yaml file, e.g. spec/offline.yaml"
        )
    if not path.exists():
        raise UsageError(f"{path}: no such spec file", "pass the path of a spec .yaml file, e.g. spec/offline.yaml")
    return path


def cmd_validate(args: argparse.Namespace) -> int:
    compiled = compile_spec(spec_path(args.spec))
    plan = compiled.plan
    report = IngestionReport()
    discover(plan.spec.inputs, Path(plan.base_dir), report)  # what the build will find, without reading it
    violations = report.policy_violations(plan.spec.inputs.on_unreadable)
    for warning in compiled.warnings:
        print(warning, file=sys.stderr)
    if violations:  # the build would stop on them: a spec that cannot build does not validate
        _print_unreadable(violations)
        return EXIT_BAD_INPUT
    print(
        f"{args.spec}: ok — {len(plan.spec.steps)} steps, {len(plan.inputs)} input files, "
        f"fingerprint {plan.fingerprint[:16]}"
    )
    return EXIT_OK


def cmd_plan(args: argparse.Namespace) -> int:
    from corrigenda.build import probe_endpoints

    compiled = compile_spec(spec_path(args.spec))
    plan = compiled.plan
    for warning in compiled.warnings:
        print(warning, file=sys.stderr)
    report = IngestionReport()
    result = estimate(compiled, iter_chunks(plan.spec.inputs, Path(plan.base_dir), report))
    violations = report.policy_violations(plan.spec.inputs.on_unreadable)
    _print_unreadable(violations)
    if args.json:
        data = plan_json(plan, result, report, compiled.warnings, violations)
        if args.probe and not violations:
            data["endpoints"] = probe_endpoints(plan)  # a problem raises (exit 3), reported as JSON by `main`
        emit(data)
        return EXIT_BAD_INPUT if violations else EXIT_OK
    if violations:
        return EXIT_BAD_INPUT
    console = _console()
    console.print(f"[bold]{plan.spec.name}[/bold]  fingerprint {plan.fingerprint[:16]}")
    console.print(f"inputs: {len(plan.inputs)} files, {result.documents} documents, {result.chunks} chunks")
    for line in report.lines()[1:]:
        console.print(f"  {line}")
    # Plain lines for the models and notes, a narrow table for the figures: the output lands in CI logs and pull
    # request comments at 80 columns, where a wide table would shorten model names and endpoints to "…".
    console.print("models:")
    for name, model in plan.spec.models.items():
        endpoint = f" at {plan.endpoints[name]}" if plan.endpoints.get(name) else ""
        console.print(f"  {name}: {model.engine} {model.model}{endpoint}, concurrency {model.concurrency}")
    steps = Table(title="estimate before spending", title_justify="left")
    for column in ("step", "model", "requests", "input tokens", "output tokens", "USD", "batch"):
        steps.add_column(column, justify="left" if column in ("step", "model") else "right", no_wrap=True)
    notes: dict[str, list[str]] = {}
    for row in result.steps:
        steps.add_row(
            row.step,
            row.model,
            f"{row.requests:,}",
            f"{row.input_tokens:,}",
            f"{row.output_tokens:,}",
            f"{row.usd:.4f}",
            f"{row.batch_usd:.4f}",
        )
        notes.setdefault(row.note, []).append(row.step)
    console.print(steps)
    for note, step_names in notes.items():
        if note:
            console.print(f"  {', '.join(step_names)}: {note}")
    console.print(
        f"total: about ${result.usd:.4f} (one call per chunk and step; the filter usually lowers it, retries raise it)"
    )
    console.print(f"through batch APIs (`build --batch`): about ${result.batch_usd:.4f}")
    if args.probe:
        console.print("endpoints:")
        for line in probe_endpoints(plan) or ["none: every step runs on the built-in engine"]:
            console.print(f"  {line}")
    return EXIT_OK


def cmd_build(args: argparse.Namespace) -> int:
    from corrigenda.build import Build, BuildOptions

    compiled = compile_spec(spec_path(args.spec), for_build=not args.offline)
    for warning in compiled.warnings:
        print(warning, file=sys.stderr)
    options = BuildOptions(
        offline=args.offline,
        resume=args.resume,
        limit=args.limit,
        out=Path(args.out) if args.out else None,
        probe=args.probe,
        shard=Shard.parse(args.shard) if args.shard else None,
        batch=args.batch,
        max_usd=args.max_usd,
    )
    if args.ray is not None:
        from corrigenda.ray_executor import ray_build

        build, result = ray_build(compiled, options, args.ray or None)
    else:
        build = Build(compiled, options)
        result = build.run()  # an unwritable output, a broken cache, a second build: a CorrigendaError, before spending
    if args.json:
        emit(build_json(result, build.report, compiled.plan.fingerprint))
        return EXIT_OK if result.released or options.shard else EXIT_GATE  # a shard releases nothing by design
    console = _console()
    for line in build.report.lines():
        console.print(f"ingestion: {line}")
    counts = ", ".join(f"{name} {value}" for name, value in result.counts.items())
    console.print(f"[bold]{compiled.plan.spec.name}[/bold]: {counts}")
    for reason, count in sorted(result.failures.items()):
        console.print(f"  failed: {reason}: {count} (e.g. {result.failure_examples[reason]})")
    for usage in result.usage:
        console.print(
            f"  {usage.name} ({usage.model}): {usage.input_tokens:,} in / {usage.output_tokens:,} out tokens, "
            f"${usage.usd:.4f}, {usage.requests_this_run} requests this run, {usage.cached_calls} from cache"
        )
    console.print(f"  wall time {result.wall_s:.1f} s, {result.requests} requests")
    if options.shard:
        console.print(
            f"shard {options.shard}: every answer is in {result.out_dir}; nothing is released from a shard. "
            "Once every shard is done: corrigenda cache merge SHARD_CACHES... -o CACHE, then build --offline"
        )
        return EXIT_OK
    if not result.released:
        print(f"NOT RELEASED: {result.refusal}", file=sys.stderr)
        for problem in result.gate_problems[:20]:
            print(f"  {problem}", file=sys.stderr)
        reports = result.reports_dir or result.out_dir
        print(f"  details: {reports / 'gate_failures.json'}, {reports / 'failed.jsonl'}", file=sys.stderr)
        if result.out_dir.is_dir():
            print(f"  {result.out_dir}: the previous release is unchanged", file=sys.stderr)
        return EXIT_GATE
    console.print(f"released to {result.out_dir}:")
    for path in result.files:
        console.print(f"  {path}")
    return EXIT_OK


def cmd_cache_merge(args: argparse.Namespace) -> int:
    from corrigenda.runtime.cache_merge import merge_caches

    report = merge_caches([Path(p) for p in args.caches], Path(args.output))
    for source in report.sources:
        print(
            f"{source.path}: {source.rows:,} answers, {source.added:,} added, {source.duplicates:,} already there, "
            f"{source.conflicts:,} conflicting (the earlier answer kept)"
        )
    print(f"{report.target}: {report.total:,} answers, {report.conflicts:,} conflicts")
    return EXIT_OK


def cmd_check(args: argparse.Namespace) -> int:
    from corrigenda.emit.check import check_path, release_built_from

    result = check_path(Path(args.path), Path(args.tokenizer) if args.tokenizer else None)
    if args.spec:
        fingerprint = compile_spec(spec_path(args.spec)).plan.fingerprint
        result.problems += release_built_from(Path(args.path), fingerprint)
    if args.json:
        strict = result.tokens is not None and bool(result.tokens.boundary_mismatches) and args.strict_boundaries
        emit(check_json(result, result.ok and not strict))
        return EXIT_OK if result.ok and not strict else EXIT_GATE
    for problem in result.problems[:50]:
        print(problem, file=sys.stderr)
    if len(result.problems) > 50:
        print(f"... and {len(result.problems) - 50} more problems", file=sys.stderr)
    if result.tokens is not None:
        tokens = result.tokens
        scope = f" ({tokens.note})" if tokens.note else ""
        print(f"tokens: {tokens.trained_tokens:,} trained, {tokens.masked_tokens:,} masked{scope}")
        if tokens.boundary_mismatches:
            shown = ", ".join(map(str, tokens.boundary_mismatches[:20]))
            print(
                f"{len(tokens.boundary_mismatches)} record(s) tokenize differently per segment than as a whole "
                f"(a segment boundary splits a token): records {shown}"
            )
        if tokens.boundary_mismatches and args.strict_boundaries:
            return EXIT_GATE
    if not result.ok:
        found = f"{plural(len(result.problems), 'problem')} in {plural(result.records, 'record')}"
        print(f"{args.path}: FAILED ({found})", file=sys.stderr)
        return EXIT_GATE
    print(f"{args.path}: ok ({plural(result.records, 'record')})")
    return EXIT_OK


def cmd_show(args: argparse.Namespace) -> int:
    from corrigenda.emit.show import shown

    _, text = shown(Path(args.out), args.n, rejected=args.rejected, failed=args.failed, item=args.item)
    print(text, end="")
    return EXIT_OK


def cmd_axolotl_config(args: argparse.Namespace) -> int:
    from corrigenda.emit.writers import relocated_axolotl_config

    print(relocated_axolotl_config(Path(args.out)), end="")
    return EXIT_OK


def cmd_import(args: argparse.Namespace) -> int:
    from corrigenda.compiler.augmentoolkit import convert_file

    written = convert_file(Path(args.config), Path(args.output), verify=args.verify)
    print(f"wrote {written}; check it with: corrigenda validate {written}")
    return EXIT_OK


class CommandLineError(UsageError):
    """What argparse would print before exiting 2, raised instead, so `--json` reports it as one object too."""

    def __init__(self, prog: str, usage: str, message: str):
        super().__init__(f"{prog}: error: {message}", f"`{prog} --help` lists the arguments")
        self.usage = usage

    def lines(self) -> list[str]:
        return [self.usage.rstrip(), self.message]


class Parser(argparse.ArgumentParser):
    """argparse, with its command-line errors raised as `CommandLineError` (the subcommands' parsers are one too)."""

    def error(self, message: str) -> NoReturn:
        raise CommandLineError(self.prog, self.format_usage(), message)


def build_parser() -> argparse.ArgumentParser:
    parser = Parser(prog="corrigenda", description=DESCRIPTION, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--version", action="version", version=f"corrigenda {__version__}")
    commands = parser.add_subparsers(dest="command", required=True)

    validate = commands.add_parser("validate", help="load, validate and compile a spec")
    validate.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    validate.set_defaults(run=cmd_validate)

    plan = commands.add_parser("plan", help="show the plan and what it will cost before spending")
    plan.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    plan.add_argument("--json", action="store_true", help="print the plan, its estimate and warnings as JSON")
    plan.add_argument(
        "--probe",
        action="store_true",
        help="also ask each endpoint for its models: reachable, key accepted, model served",
    )
    plan.set_defaults(run=cmd_plan)

    build = commands.add_parser("build", help="run the pipeline and write a schema-gated release directory")
    build.add_argument("spec", metavar="SPEC", help=SPEC_HELP)
    build.add_argument("--out", metavar="DIR", help="release directory (default: the spec's output.dir)")
    build.add_argument(
        "--limit", type=positive_int, metavar="N", help="only the first N chunks (N >= 1): a cheap preview"
    )
    build.add_argument("--offline", action="store_true", help="answer every call from the cache; fail on a miss")
    build.add_argument(
        "--resume",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="reuse cached answers (default); --no-resume asks every call again",
    )
    build.add_argument(
        "--probe",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="check every endpoint before the first call (default); --no-probe skips the check",
    )
    build.add_argument(
        "--shard",
        metavar="I/N",
        help="only the chunks of shard I of N (0 <= I < N, by content hash), into their own cache; releases nothing",
    )
    build.add_argument(
        "--ray",
        nargs="?",
        const="",
        metavar="ADDRESS",
        help="run the shards as Ray tasks (needs corrigenda[ray]): no address starts a local instance, an address "
        "joins a running cluster; then merge the caches and release",
    )
    build.add_argument("--json", action="store_true", help="one JSON object on stdout: counts, usage, gate, paths")
    build.add_argument("--batch", action="store_true", help="every model through its endpoint's batch API")
    build.add_argument("--max-usd", type=positive_usd, help="spending cap in USD (overrides the spec's max_usd)")
    build.set_defaults(run=cmd_build)

    cache = commands.add_parser("cache", help="work on call caches")
    cache_commands = cache.add_subparsers(dest="cache_command", required=True)
    merge = cache_commands.add_parser("merge", help="merge caches (shards'): the first answer per call is kept")
    merge.add_argument("caches", nargs="+", metavar="CACHE", help="caches to merge, in order of precedence")
    merge.add_argument("-o", "--output", required=True, help="the merged cache (created, or added to)")
    merge.set_defaults(run=cmd_cache_merge)

    check = commands.add_parser("check", help="gate an existing dataset file or release directory")
    check.add_argument("path", help="axolotl_correction_conversations.json, a chat .jsonl, or a release directory")
    check.add_argument("--tokenizer", help="tokenizer.json: count trained/masked tokens the way Axolotl does")
    check.add_argument("--strict-boundaries", action="store_true", help="fail when a segment boundary splits a token")
    check.add_argument("--spec", help="also require that the release was built from this spec as it is now")
    check.add_argument("--json", action="store_true", help="one JSON object on stdout: records, problems, tokens")
    check.set_defaults(run=cmd_check)

    show = commands.add_parser("show", help="print a release's conversations, the masked span marked")
    show.add_argument("out", metavar="OUT", help="release directory")
    show.add_argument("-n", type=positive_int, default=3, help="how many (default 3)")
    show.add_argument("--rejected", action="store_true", help="rejected and unsuitable items, with their reasons")
    show.add_argument("--failed", action="store_true", help="failed items, with their reasons")
    show.add_argument("--item", help="one item by id (path#chunk)")
    show.set_defaults(run=cmd_show)

    axolotl = commands.add_parser(
        "axolotl-config", help="print a moved or copied release's Axolotl settings with paths to where it is now"
    )
    axolotl.add_argument("out", metavar="OUT", help="release directory")
    axolotl.set_defaults(run=cmd_axolotl_config)

    from corrigenda.review.command import add_parser as add_diff

    add_diff(commands)

    imp = commands.add_parser("import-augmentoolkit", help="convert an Augmentoolkit correction config")
    imp.add_argument("config")
    imp.add_argument("-o", "--output", required=True, help="spec file to write")
    imp.add_argument(
        "--no-verify", dest="verify", action="store_false", help="leave out the verify step (Augmentoolkit has none)"
    )
    imp.set_defaults(run=cmd_import)
    from corrigenda.batch_cli import add_batch_commands

    add_batch_commands(commands)
    return parser


def stop_on_sigterm_as_on_ctrl_c() -> None:
    """A CI job cancelled, `kill PID`, a container stopped: SIGTERM ends the command as Ctrl-C does (calls in flight
    cancelled, everything finished cached, one line, exit 130) instead of dying silently mid-write."""

    def stop(_number: int, _frame: object) -> None:
        if signal.getsignal(signal.SIGINT) is signal.SIG_IGN:  # started in the background by a script: no Ctrl-C
            raise KeyboardInterrupt
        signal.raise_signal(signal.SIGINT)  # the same path as Ctrl-C (asyncio's own handler while a build runs)

    signal.signal(signal.SIGTERM, stop)


def main(argv: list[str] | None = None) -> int:
    if argv is None:  # the command itself, not a caller passing arguments: the process's signals are ours
        imports_done()
        stop_on_sigterm_as_on_ctrl_c()
    argv = sys.argv[1:] if argv is None else argv
    args: argparse.Namespace | None = None
    try:
        args = build_parser().parse_args(argv)
        code = args.run(args)
        sys.stdout.flush()  # inside the try: a reader that went away surfaces here, not as a message at exit
        return code
    except BrokenPipeError:
        # `corrigenda show OUT | head`: the reader has all it wanted; stop quietly, as other command-line tools do
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_OUTPUT_CLOSED
    except KeyboardInterrupt:
        command = args.command if args is not None else None
        return _report(
            Interrupted(f"interrupted: {INTERRUPTED.get(command, 'stopped before it finished')}"), args, argv
        )
    except CorrigendaError as error:
        return _report(error, args, argv)


def _report(error: CorrigendaError, args: argparse.Namespace | None, argv: list[str]) -> int:
    """The one place a refused command is shown: its lines on stderr and, with --json, one object on stdout (also
    when the command line itself was wrong and `args` could not be parsed)."""
    for line in error.lines():
        print(line, file=sys.stderr)
    if getattr(args, "json", False) or (args is None and "--json" in argv):
        command = args.command if args is not None else next((a for a in argv if not a.startswith("-")), None)
        emit(error_json(command or "", error))
    return error.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
