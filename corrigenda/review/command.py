"""`corrigenda diff`: two specs, a spec against its version at a git ref, or two release directories."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from corrigenda.compiler.compile import compile_spec
from corrigenda.errors import EXIT_OK, UsageError


def _spec(path: Path) -> Path:
    if not path.is_file():
        raise UsageError(f"{path}: no such spec file", "pass two spec .yaml files, two release folders, or --base-ref")
    return path


def _print(text: str) -> None:
    print(text, end="" if text.endswith("\n") else "\n")


def cmd_diff(args: argparse.Namespace) -> int:
    from corrigenda.review.calls import count_change
    from corrigenda.review.spec_diff import BaseFromGit, diff_specs
    from corrigenda.review.spec_report import spec_diff_json, spec_diff_markdown

    paths = [Path(p) for p in args.paths]
    if args.base_ref:
        if len(paths) != 1:
            raise UsageError("diff --base-ref REF takes one spec", "corrigenda diff --base-ref origin/main SPEC")
        head_path = _spec(paths[0])
        base_from = BaseFromGit(args.base_ref, head_path)
        with base_from as base_copy:
            base, head = base_from.compile(base_copy), compile_spec(head_path)
            diff = diff_specs(base, head, base_from.label)
            calls = count_change(base, head)  # while the base's tree is there to read its inputs from
        base_name = base_from.label
    else:
        if len(paths) != 2:
            raise UsageError("diff takes BASE and HEAD", "corrigenda diff BASE HEAD, or diff --base-ref REF SPEC")
        for path in paths:
            if not path.exists():
                raise UsageError(f"{path}: no such file or directory", "pass two spec files or two release folders")
        if any(p.is_dir() for p in paths) and not all(p.is_dir() for p in paths):
            raise UsageError(
                f"{paths[0]} and {paths[1]}: one is a folder, the other a file",
                "pass two spec files (a review) or two release folders (release notes)",
            )
        if all(p.is_dir() for p in paths):
            from corrigenda.review.release_diff import diff_releases, release_diff_markdown

            release = diff_releases(*paths)
            _print(json.dumps(release, indent=2, ensure_ascii=False) if args.json else release_diff_markdown(release))
            return EXIT_OK
        base, head = compile_spec(_spec(paths[0])), compile_spec(_spec(paths[1]))
        diff = diff_specs(base, head)
        base_name = str(paths[0])
        calls = count_change(base, head)
    if args.json:
        _print(json.dumps(spec_diff_json(diff, calls), indent=2, ensure_ascii=False))
    else:
        _print(spec_diff_markdown(diff, calls, base_name, str(head.plan.spec_file)))
    return EXIT_OK


def add_parser(commands: argparse._SubParsersAction) -> None:
    diff = commands.add_parser(
        "diff",
        help="review a change: two specs (what it costs and changes), or two releases (what changed in the data)",
    )
    diff.add_argument("paths", nargs="+", metavar="PATH", help="BASE HEAD (specs or release folders), or one SPEC")
    diff.add_argument("--base-ref", help="git ref of the base: the spec and its prompts as they were there")
    diff.add_argument("--json", action="store_true", help="one JSON object on stdout instead of Markdown")
    diff.set_defaults(run=cmd_diff)
