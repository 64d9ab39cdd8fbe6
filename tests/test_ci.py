"""The CI workflow runs only Makefile targets, and `.ci/run` runs each of them, so its steps are tested here."""

from __future__ import annotations

import re
import shutil
import subprocess

import pytest
from conftest import REPO
from ruamel.yaml import YAML

WORKFLOW = REPO / ".github" / "workflows" / "ci.yml"


def _run_steps() -> list[str]:
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    return [step["run"] for job in workflow["jobs"].values() for step in job["steps"] if "run" in step]


def test_every_workflow_command_is_a_make_target_that_ci_run_exercises():
    makefile = (REPO / "Makefile").read_text()
    ci_run = (REPO / ".ci" / "run").read_text()
    targets = set()
    for command in _run_steps():
        plain = re.sub(r"\$\{\{[^}]*\}\}", "X", command)  # a workflow expression is one value
        assert re.fullmatch(r"make [a-z]+( [A-Z_]+=\S+)*", plain), f"not a plain make target: {command}"
        targets.add(command.split()[1])
    assert {"test", "release", "review", "publish"} <= targets
    for target in targets:
        assert re.search(rf"^{target}:", makefile, re.MULTILINE), f"no Makefile target {target}"
        assert re.search(rf"^make {target}\b", ci_run, re.MULTILINE), f".ci/run never runs make {target}"


def test_the_workflow_reviews_pull_requests_that_touch_specs_or_prompts_and_publishes_tags():
    workflow = YAML(typ="safe").load(WORKFLOW.read_text())
    review = workflow["jobs"]["review"]
    assert "pull_request" in review["if"]
    filters = next(s for s in review["steps"] if s.get("id") == "changed")["with"]["filters"]
    assert "spec/**" in filters and "prompts/**" in filters
    assert any(s.get("run") == "make review BASE=origin/${{ github.base_ref }}" for s in review["steps"])
    publish = workflow["jobs"]["publish"]
    assert "refs/tags/" in publish["if"] and "secrets.CORRIGENDA_API_KEY" in publish["env"]["CORRIGENDA_API_KEY"]


@pytest.mark.skipif(shutil.which("git") is None or shutil.which("make") is None, reason="needs git and make")
def test_make_review_writes_the_diff_to_the_job_summary(tmp_path):
    if subprocess.run(["git", "-C", str(REPO), "rev-parse", "HEAD"], capture_output=True).returncode:
        pytest.skip("not a git checkout with a commit")
    summary, review = tmp_path / "summary.md", tmp_path / "review.md"
    done = subprocess.run(
        ["make", "-s", "review", "BASE=HEAD", "SPECS=spec/offline.yaml", f"REVIEW={review}"],
        cwd=REPO,
        capture_output=True,
        text=True,
        env={"PATH": "/usr/bin:/bin", "GITHUB_STEP_SUMMARY": str(summary), "HOME": str(tmp_path)},
    )
    assert done.returncode == 0, done.stderr
    text = summary.read_text()
    assert text == review.read_text() and "## corrigenda diff: `HEAD:spec/offline.yaml`" in text
    assert "Plan fingerprint" in text
