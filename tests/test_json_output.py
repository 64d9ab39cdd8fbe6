"""`--json` on plan, build, check and diff: one object on stdout with the figures a CI bot needs."""

from __future__ import annotations

import json

from conftest import llm_spec
from fake_openai import Reply, default_reply

from corrigenda.cli import main
from corrigenda.compiler.compile import compile_spec


def _json(capsys, *args: str) -> tuple[int, dict]:
    capsys.readouterr()
    code = main(list(args))
    return code, json.loads(capsys.readouterr().out)  # stdout is exactly one JSON object


def test_plan_json_keeps_the_plan_and_adds_the_estimate(project, capsys):
    spec = project(llm_spec("http://127.0.0.1:9/v1"))  # priced models; nothing is asked
    code, data = _json(capsys, "plan", str(spec), "--json")
    assert code == 0 and data["ok"]
    assert data["fingerprint"] == compile_spec(spec).plan.fingerprint
    assert data["estimate"]["chunks"] == 1
    assert [row["requests"] for row in data["estimate"]["steps"]] == [1, 1]
    assert data["estimate"]["usd"] > 0


def test_build_json_reports_counts_usage_and_paths_and_the_rerun_is_free(project, fake_server, capsys):
    spec = project(llm_spec(fake_server.base_url))
    code, data = _json(capsys, "build", str(spec), "--json")
    assert code == 0 and data["released"] and data["refusal"] is None
    assert data["counts"]["released"] == data["counts"]["chunks"] == 1
    assert data["requests"] == sum(u["requests_this_run"] for u in data["usage"]) == fake_server.count
    assert data["plan_fingerprint"] == compile_spec(spec).plan.fingerprint
    assert data["out_dir"] == str(project.root / "out")
    assert any(path.endswith("manifest.json") for path in data["files"])
    code, again = _json(capsys, "build", str(spec), "--json")
    assert code == 0 and again["requests"] == 0
    assert sum(u["cached_calls"] for u in again["usage"]) == fake_server.count


def test_build_json_of_a_refused_build_says_why(project, fake_server, capsys):
    fake_server.responder = lambda body, n: (
        default_reply(body, n) if "VERDICT" in str(body["messages"]) else Reply(status=500)
    )
    spec = project(llm_spec(fake_server.base_url, max_attempts="1"))
    code, data = _json(capsys, "build", str(spec), "--json")
    assert code == 1 and not data["released"] and not data["ok"]
    assert data["refusal"] and data["failures"]
    assert data["reports_dir"] == str(project.root / "out.failed")


def test_check_json_lists_problems(project, fake_server, capsys):
    spec = project(llm_spec(fake_server.base_url))
    assert main(["build", str(spec)]) == 0
    out = project.root / "out"
    code, data = _json(capsys, "check", str(out), "--spec", str(spec), "--json")
    assert code == 0 and data["ok"] and data["records"] == 1 and data["problems"] == []
    (out / "axolotl_config.yaml").write_text("tampered\n")
    code, data = _json(capsys, "check", str(out), "--json")
    assert code == 1 and not data["ok"]
    assert any("axolotl_config.yaml" in problem for problem in data["problems"])


def test_a_refused_command_is_still_one_json_object(project, capsys):
    code, data = _json(capsys, "plan", str(project.root / "missing.yaml"), "--json")
    assert code == 2 and data == {
        "command": "plan",
        "ok": False,
        "exit_code": 2,
        "error": f"{project.root / 'missing.yaml'}: no such spec file",
        "hint": data["hint"],
        "problems": data["problems"],
    }
    assert data["hint"]
