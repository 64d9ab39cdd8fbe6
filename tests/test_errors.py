"""The one error tree: its public names, exit codes, and that the CLI shows a user-caused condition without a
traceback."""

from __future__ import annotations

import corrigenda.errors as errors
from corrigenda.cli import main
from corrigenda.compiler.diagnostics import SpecError


def test_all_names_every_public_error_and_nothing_else():
    public = {
        name
        for name, value in vars(errors).items()
        if not name.startswith("_") and (isinstance(value, type) or name.startswith("EXIT_"))
    }
    assert set(errors.__all__) == public
    for name in errors.__all__:
        value = getattr(errors, name)
        if isinstance(value, type):
            assert issubclass(value, errors.CorrigendaError), name


def test_exit_codes_follow_the_tree():
    assert errors.GateRefused("x").exit_code == errors.EXIT_GATE == 1
    for cls in (errors.InputError, errors.CacheError, errors.OutputError, errors.BuildLocked, errors.OfflineMiss):
        assert cls("x").exit_code == errors.EXIT_BAD_INPUT == 2
    assert errors.EndpointDown("x").exit_code == errors.EXIT_ENDPOINT == 3
    assert issubclass(SpecError, errors.UsageError)


def test_message_and_hint_read_as_one_line():
    error = errors.CacheError("the cache at out/c.db is not a SQLite database", "move it aside")
    assert str(error) == "the cache at out/c.db is not a SQLite database; move it aside"


def test_cli_prints_a_spec_error_without_a_traceback(tmp_path, capsys):
    spec = tmp_path / "spec.yaml"
    spec.write_text("models: [\n", encoding="utf-8")
    assert main(["validate", str(spec)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err
    assert f"{spec}:" in err
