"""A misspelt spec key is the first mistake a new user makes: the error names the key that was meant."""

from __future__ import annotations

import pytest
from conftest import MINIMAL_SPEC
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.compiler.compile import compile_spec
from corrigenda.compiler.diagnostics import SpecError
from corrigenda.compiler.spec import InputsSpec, ModelSpec, StepSpec

# (text in MINIMAL_SPEC, the same with a typo, the key path reported, the key meant)
TYPOS = [
    ("  chunk_size: 200", "  chunk_sise: 200", "inputs.chunk_sise", "chunk_size"),
    ("  small:\n", "  small:\n    concurency: 4\n", "models.small.concurency", "concurrency"),
    ("    prompt: filter.yaml\n", "    prompt: filter.yaml\n    max_retrys: 1\n", "steps[0].max_retrys", "max_retries"),
    ("inputs:\n", "inputs:\n  subset: {size: 3, sed: 1}\n", "inputs.subset.sed", "seed"),
    ("version: 1\n", "version: 1\noutput: {dir: out, card: {licence: mit}}\n", "output.card.licence", "license"),
]


@pytest.mark.parametrize(("good", "bad", "where", "meant"), TYPOS)
def test_a_misspelt_key_names_the_key_meant(project, capsys, good, bad, where, meant):
    assert good in MINIMAL_SPEC
    spec = project(MINIMAL_SPEC.replace(good, bad, 1))
    assert main(["validate", str(spec)]) == 2
    lines = capsys.readouterr().err.strip().splitlines()
    assert [line.split(": ", 1)[1] for line in lines] == [f"{where}: unknown key; did you mean `{meant}`?"]


def test_a_key_like_no_other_points_at_the_schema(project, capsys):
    spec = project(MINIMAL_SPEC + "flavour: vanilla\n")
    assert main(["validate", str(spec)]) == 2
    assert "flavour: unknown key (schemas/spec.schema.json lists every key)" in capsys.readouterr().err


SECTIONS = {  # where a key goes, as MINIMAL_SPEC text to insert it after
    "models.small": (ModelSpec, "    model: small-model\n", "    "),
    "inputs": (InputsSpec, "  chunk_size: 200\n", "  "),
    "steps[0]": (StepSpec, "    prompt: filter.yaml\n", "    "),
}


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(section=st.sampled_from(sorted(SECTIONS)), data=st.data())
def test_following_the_suggestion_fixes_the_key(project, section, data):
    """Contract: a suggested key is one the section accepts, so doing what the message says settles that key."""
    model, after, indent = SECTIONS[section]
    key = data.draw(st.sampled_from(sorted(model.model_fields)))
    cut = data.draw(st.integers(0, len(key) - 1))
    typo = key[:cut] + key[cut + 1 :]  # one letter dropped, as a typist does
    if typo in model.model_fields or not typo:
        return
    text = MINIMAL_SPEC.replace(after, f"{after}{indent}{typo}: null\n", 1)
    with pytest.raises(SpecError) as raised:
        compile_spec(project(text))
    mine = [p for p in raised.value.problems if p.path == f"{section}.{typo}"]
    assert len(mine) == 1
    if "did you mean" in mine[0].message:
        meant = mine[0].message.split("`")[1]
        assert meant in model.model_fields
        try:
            compile_spec(project(MINIMAL_SPEC.replace(after, f"{after}{indent}{meant}: null\n", 1)))
        except SpecError as error:
            assert not [p for p in error.problems if "unknown key" in p.message]
