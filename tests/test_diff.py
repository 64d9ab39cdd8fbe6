"""`corrigenda diff BASE HEAD`: the calls it says a change will request are the calls the next build makes."""

from __future__ import annotations

import json
import shutil
import subprocess
import zlib

import pytest
from conftest import llm_spec
from fake_openai import Reply, default_reply

from corrigenda.cli import main

VERIFY = "  - {name: verify, kind: verify, model: small, prompt: verify.yaml}"
PARAGRAPHS = [
    "The Central Pacific Railroad started building east from Sacramento in 1863 with crews of Chinese workers.",
    "The Union Pacific Railroad built west from Omaha, Nebraska, and laid most of its track across the plains.",
    "The two lines met at Promontory Summit in Utah Territory on May 10, 1869, where a golden spike was driven.",
    "Travel from New York to San Francisco fell from months by wagon or ship to about one week by train.",
]
MARKERS = {"filter": "VERDICT", "verify": "flawed_is_wrong"}


def _docs(root) -> None:
    for index, paragraph in enumerate(PARAGRAPHS):
        notes = [f"Note {k} of file {index}: {paragraph}" for k in range(6)]  # no two chunks alike
        (root / "docs" / f"doc{index}.txt").write_text("\n\n".join(notes) + "\n", encoding="utf-8")


def _per_step(fake) -> dict[str, int]:
    counts = {step: fake.kind_count(marker) for step, marker in MARKERS.items()}
    return counts | {"generate": fake.count - sum(counts.values())}


def _model_like(body: dict, count: int) -> Reply:
    """The default answers, but a conversation that depends on the prompt and sampling, as a real model's does."""
    reply = default_reply(body, count)
    if "<initial_question>" in reply.content:
        flavour = zlib.crc32(json.dumps([body["messages"][0], body.get("temperature")]).encode())
        reply.content = reply.content.replace("Are you sure", f"Are you sure (take {flavour})")
    return reply


def _diff_json(capsys, *args: str) -> dict:
    capsys.readouterr()
    assert main(["diff", *args, "--json"]) == 0
    return json.loads(capsys.readouterr().out)


def _build_counting(fake, spec) -> dict[str, int]:
    before = _per_step(fake)
    assert main(["build", str(spec)]) == 0
    return {step: count - before[step] for step, count in _per_step(fake).items()}


def _other_prompts(project) -> None:
    shutil.copytree(project.root / "prompts", project.root / "prompts2")
    path = project.root / "prompts2" / "generate.yaml"
    path.write_text(path.read_text().replace("a curious person", "a curious student"), encoding="utf-8")


CHANGES = {
    "prompt": ({}, "prompts2"),
    "sampling": ({"large_extra": "    sampling: {temperature: 0.9}\n"}, "prompts"),
    "chunk size": ({"chunk_size": "40"}, "prompts"),
    "template": ({"output_extra": 'template:\n  bos_token: "<s>"\n'}, "prompts"),
}


@pytest.mark.parametrize("change", list(CHANGES))
def test_the_diff_counts_the_requests_the_next_build_makes(project, fake_server, capsys, change):
    fake_server.responder = _model_like
    _docs(project.root)
    _other_prompts(project)
    base = project(llm_spec(fake_server.base_url, verify_step=VERIFY), name="base.yaml")
    assert main(["build", str(base)]) == 0
    overrides, prompts = CHANGES[change]
    head = project(llm_spec(fake_server.base_url, verify_step=VERIFY, **overrides), "head.yaml", prompts)

    report = _diff_json(capsys, str(base), str(head))
    planned = {row["step"]: row["new_calls"] for row in report["calls"]}
    made = _build_counting(fake_server, head)

    assert planned == made
    assert {row["step"]: row["changed"] for row in report["calls"]} == made  # the base's calls are all cached
    assert report["fingerprints"]["base"] != report["fingerprints"]["head"]
    assert report["usd"] > 0 if sum(made.values()) else report["usd"] == 0
    if change == "prompt":
        assert made["filter"] == 0 and made["generate"] > 0
        assert "+" in report["prompts"]["generate"] and "a curious student" in report["prompts"]["generate"]
        assert all(row["exact"] for row in report["calls"] if row["step"] != "verify")
    if change == "sampling":
        assert [c["path"] for c in report["settings"]] == ["models.large.sampling.temperature"]
        line = head.read_text().splitlines().index("    sampling: {temperature: 0.9}") + 1
        assert report["settings"][0]["head_at"] == f"{head}:{line}"
    if change == "chunk size":
        assert report["everything_rerequested"] and report["calls"][0]["exact"]
        assert made["filter"] > report["calls"][0]["cached"]  # only a document shorter than a chunk is unchanged
    if change == "template":
        assert report["breaking"] == ["template.bos_token"] and sum(made.values()) == 0
    # Built: the same diff now finds every call in the cache.
    again = _diff_json(capsys, str(base), str(head))
    assert again["new_calls"] == 0 and again["usd"] == 0


@pytest.mark.parametrize("change", ["prompt", "sampling", "chunk size"])
def test_without_a_cache_the_change_is_counted_apart_from_a_whole_build(project, fake_server, capsys, change):
    """A CI runner has no cache: every call is still to request, but only the change's own calls are its cost."""
    fake_server.responder = _model_like
    _docs(project.root)
    _other_prompts(project)
    base = project(llm_spec(fake_server.base_url, verify_step=VERIFY), name="base.yaml")
    overrides, prompts = CHANGES[change]
    head = project(llm_spec(fake_server.base_url, verify_step=VERIFY, **overrides), "head.yaml", prompts)

    report = _diff_json(capsys, str(base), str(head))
    assert fake_server.count == 0 and not (project.root / ".corrigenda-cache").exists()
    changed = {row["step"]: row["changed"] for row in report["calls"]}
    assert report["calls"][0]["new_calls"] > 0 and report["calls"][0]["cached"] == 0
    if change != "chunk size":
        assert changed["filter"] == 0 and report["changed_usd"] < report["usd"]
    assert main(["build", str(base)]) == 0  # the base, as the target branch builds it
    assert _build_counting(fake_server, head) == changed  # the change's calls: what a build after the base asks


def test_markdown_names_the_setting_on_both_sides_and_marks_estimates(project, fake_server, capsys):
    _docs(project.root)
    base = project(llm_spec(fake_server.base_url, verify_step=VERIFY), name="base.yaml")
    head = project(llm_spec(fake_server.base_url, verify_step=VERIFY, chunk_size="40"), name="head.yaml")
    assert main(["diff", str(base), str(head)]) == 0
    text = capsys.readouterr().out
    assert "| `inputs.chunk_size` (re-chunks) | `200` | `40` |" in text
    assert "base.yaml:" in text and "head.yaml:" in text
    assert "everything is re-requested" in text
    assert "estimated" in text and "Estimated cost of this change: ~$" in text
    assert fake_server.count == 0  # reviewing spends nothing


@pytest.mark.skipif(shutil.which("git") is None, reason="git is not installed")
def test_base_ref_reads_the_base_spec_and_prompts_from_git(project, fake_server, capsys):
    _docs(project.root)
    root = project.root
    spec = project(llm_spec(fake_server.base_url, verify_step=VERIFY))

    def git(*args: str) -> None:
        subprocess.run(["git", "-C", str(root), *args], check=True, capture_output=True)

    git("init", "-q")
    git("add", "spec.yaml", "prompts")  # the documents stay untracked: they are read from the working tree
    git("-c", "user.name=t", "-c", "user.email=t@t", "commit", "-q", "-m", "base")
    unchanged = _diff_json(capsys, "--base-ref", "HEAD", str(spec))
    assert not unchanged["fingerprint_changed"] and unchanged["settings"] == [] and unchanged["prompts"] == {}
    prompt = root / "prompts" / "verify.yaml"
    prompt.write_text(prompt.read_text() + "\n# judge harder\n", encoding="utf-8")
    spec.write_text(spec.read_text().replace("chunk_size: 200", "chunk_size: 150"), encoding="utf-8")

    report = _diff_json(capsys, "--base-ref", "HEAD", str(spec))
    assert report["settings"][0]["path"] == "inputs.chunk_size"
    assert report["settings"][0]["base_at"].startswith("HEAD:spec.yaml:")
    assert "# judge harder" in report["prompts"]["verify"]
    assert report["inputs"] == {"added": [], "removed": [], "changed": []}


def test_diff_of_a_missing_ref_is_a_usage_error(project, capsys):
    spec = project()
    assert main(["diff", "--base-ref", "no-such-ref", str(spec)]) == 2
    assert "git" in capsys.readouterr().err
