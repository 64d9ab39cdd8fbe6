"""`corrigenda --help` and each subcommand's `--help` agree with the README a new user reads beside them."""

from __future__ import annotations

import argparse
import re

import pytest
from conftest import REPO

from corrigenda import errors
from corrigenda.cli import build_parser, main

README = (REPO / "README.md").read_text(encoding="utf-8")


def _help(argv: list[str], capsys) -> str:
    with pytest.raises(SystemExit) as exited:
        main([*argv, "--help"])
    assert exited.value.code == 0
    return capsys.readouterr().out


def _exit_codes_in_help(text: str) -> set[int]:
    block = text.split("exit codes:", 1)[1].split("\n\n", 1)[0]
    return {int(code) for code in re.findall(r"^\s+(\d+)\s", block, re.MULTILINE)}


def test_the_top_help_lists_every_exit_code_the_readme_and_the_error_tree_use(capsys):
    shown = _exit_codes_in_help(_help([], capsys))
    documented = README.split("Exit codes:", 1)[1].split("**Endpoint preflight.**", 1)[0]
    in_readme = {int(code) for code in re.findall(r"`(\d+)`", documented)}
    in_tree = {value for name, value in vars(errors).items() if name.startswith("EXIT_")}
    assert in_readme <= shown and in_tree <= shown, (in_readme, in_tree, shown)
    assert 4 in shown  # the spending cap: the one the old help left out


def test_the_top_help_speaks_to_users_not_to_the_code(capsys):
    text = _help([], capsys)
    assert "CorrigendaError" not in text and "corrigenda.errors" not in text
    assert "corrigenda build SPEC" in text


def _subparsers(parser: argparse.ArgumentParser, prefix: tuple[str, ...] = ()):
    for action in parser._actions:
        if isinstance(action, argparse._SubParsersAction):
            for name, sub in action.choices.items():
                yield (*prefix, name), sub
                yield from _subparsers(sub, (*prefix, name))


COMMANDS = [words for words, _ in _subparsers(build_parser())]


@pytest.mark.parametrize("words", COMMANDS, ids=" ".join)
def test_every_option_in_a_subcommands_help_is_in_the_readme(words, capsys):
    """An option the help offers but the README never names is one a user cannot look up."""
    parser = dict(_subparsers(build_parser()))[words]
    assert f"corrigenda {' '.join(words)}" in README or f"`{words[-1]}" in README, f"{words} not in the README"
    _help(list(words), capsys)  # every subcommand's help prints, exit 0
    for action in parser._actions:
        names = [name for name in action.option_strings if name not in ("-h", "--help")]
        if not names or isinstance(action, argparse._SubParsersAction):
            continue
        if isinstance(action, argparse.BooleanOptionalAction):
            names = [name for name in names if name.startswith("--no-")]  # the default needs no flag
        assert any(name in README for name in names), f"corrigenda {' '.join(words)} {names[0]} is not in the README"


@pytest.mark.parametrize("command", ["validate", "plan", "build"])
def test_the_spec_argument_is_named_as_the_readme_names_it(command, capsys):
    text = _help([command], capsys)
    assert f"corrigenda {command} [" in text or f"corrigenda {command} SPEC" in text
    assert "SPEC" in text and "spec/offline.yaml" in text
