"""Batch mode end to end: the real `openai` client against the fake server's Files and Batches API."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

from conftest import REPO, llm_spec
from fake_openai import Reply, default_reply

from corrigenda.cli import main
from corrigenda.runtime.cache import CallCache

DOCS = {
    f"doc-{index}.txt": f"Survey {index} of the northern section was finished in {1850 + index}. "
    f"It was led by engineer number {index} and cost {index * 100} dollars.\n"
    for index in range(6)
}
CHUNKS = len(DOCS) + 1  # and the project's own docs/a.txt
BATCH_KEYS = "    backoff_s: 0.01\n    batch: true\n    batch_poll_s: 0.01\n    batch_poll_max_s: 0.05\n"
DATASET = ("axolotl_correction_conversations.json", "axolotl_chat_template.jsonl", "failed.jsonl")


def _spec(project, base_url: str, batch: bool, **overrides: str) -> Path:
    for name, text in DOCS.items():
        (project.root / "docs" / name).write_text(text, encoding="utf-8")
    text = llm_spec(base_url, **overrides)
    if batch:
        text = text.replace("    backoff_s: 0.01\n", BATCH_KEYS)
    return project(text)


def _release(root: Path) -> dict[str, bytes]:
    return {name: (root / "out" / name).read_bytes() for name in DATASET}


def test_a_batch_build_releases_the_same_bytes_as_an_online_build(project, fake_server, tmp_path):
    spec = _spec(project, fake_server.base_url, batch=False)
    assert main(["build", str(spec)]) == 0
    online = _release(project.root)
    online_calls = fake_server.count
    assert not fake_server.batches

    batch_spec = spec.with_name("batch.yaml")
    batch_spec.write_text(spec.read_text().replace("    backoff_s: 0.01\n", BATCH_KEYS), encoding="utf-8")
    (project.root / "out").rename(tmp_path / "online-out")
    cache = project.root / ".corrigenda-cache"
    cache.rename(tmp_path / "online-cache")
    assert main(["build", str(batch_spec)]) == 0
    assert _release(project.root) == online
    # every call went through a batch, one batch per step and model: filter, then generate
    assert fake_server.count - online_calls == online_calls == len(fake_server.batch_lines)
    assert len(fake_server.batches) == 2
    tokens = json.loads((project.root / "out" / "large_model_tokens.json").read_text())
    online_tokens = json.loads((tmp_path / "online-out" / "large_model_tokens.json").read_text())
    assert tokens["batch_calls"] == tokens["calls"] > 0
    assert tokens["output_tokens"] == online_tokens["output_tokens"]
    assert abs(tokens["output_cost"] - online_tokens["output_cost"] / 2) < 1e-6  # the default discount
    assert f"{CHUNKS} ({CHUNKS} by batch API)" in (project.root / "out" / "README.md").read_text()

    # a rerun answers everything from the cache: no batch, no request
    requests = fake_server.count
    assert main(["build", str(batch_spec)]) == 0
    assert fake_server.count == requests and len(fake_server.batches) == 2


def test_parse_failures_and_length_finishes_go_into_the_next_rounds_batch(project, fake_server):
    seen: set[str] = set()

    def responder(body, count):
        text = str(body["messages"])
        if "VERDICT" not in text and text not in seen:  # every first generate answer is unusable
            seen.add(text)
            return Reply("no tags at all", finish_reason="stop")
        return default_reply(body, count)

    fake_server.responder = responder
    spec = _spec(project, fake_server.base_url, batch=True)
    assert main(["build", str(spec)]) == 0
    records = json.loads((project.root / "out" / "axolotl_correction_conversations.json").read_text())
    assert len(records) == CHUNKS
    samples = [line["body"]["messages"] for line in fake_server.batch_lines]
    assert len(fake_server.batches) == 3  # filter, generate, the fresh samples of generate
    assert len(samples) == 3 * CHUNKS


def test_an_expired_batch_is_resent_only_for_the_calls_without_a_result(project, fake_server):
    plans = {1: ["validating", "in_progress", "expired"]}
    fake_server.batch_plan = lambda n: plans.get(n, ["validating", "in_progress", "finalizing", "completed"])
    fake_server.expired_share = 0.5
    spec = _spec(project, fake_server.base_url, batch=True)
    assert main(["build", str(spec)]) == 0
    first, second = (fake_server.batches[f"batch-{n}"]["lines"] for n in (1, 2))
    answered = {line["custom_id"] for line in first[: len(first) // 2]}
    resent = {line["custom_id"] for line in second}
    assert resent == {line["custom_id"] for line in first} - answered  # only the missing ids, each once
    records = json.loads((project.root / "out" / "axolotl_correction_conversations.json").read_text())
    assert len(records) == CHUNKS


def test_a_batch_that_keeps_failing_falls_back_to_online_requests_when_the_spec_says_so(project, fake_server):
    fake_server.batch_plan = lambda n: ["validating", "failed"]
    spec = _spec(project, fake_server.base_url, batch=True)
    text = spec.read_text().replace(BATCH_KEYS, BATCH_KEYS + "    batch_resubmits: 1\n    batch_fallback: online\n")
    spec.write_text(text, encoding="utf-8")
    assert main(["build", str(spec)]) == 0
    assert len(fake_server.batches) == 2 * 2  # two steps, each sent twice (a resubmit), then online
    assert fake_server.count == 2 * CHUNKS  # a failed batch answers nothing: every answer came online
    tokens = json.loads((project.root / "out" / "small_model_tokens.json").read_text())
    assert tokens["batch_calls"] == 0 and tokens["calls"] == CHUNKS


def test_a_batch_that_keeps_failing_fails_its_calls_by_default(project, fake_server, capsys):
    fake_server.batch_plan = lambda n: ["validating", "failed"]
    spec = _spec(project, fake_server.base_url, batch=True)
    spec.write_text(spec.read_text().replace(BATCH_KEYS, BATCH_KEYS + "    batch_resubmits: 0\n"), encoding="utf-8")
    assert main(["build", str(spec)]) == 1  # every chunk failed: nothing released
    assert len(fake_server.batches) == 1  # the filter batch, never resent; no chunk reached generate
    failed = (project.root / "out.failed" / "failed.jsonl").read_text()
    assert "no result after 1 batches" in failed and "injected failure" in failed


def _kill_when(spec: Path, created: Callable[[], bool]) -> None:
    """`corrigenda build` in a child process, killed with SIGKILL the moment `created()` holds."""
    process = subprocess.Popen(
        [sys.executable, "-m", "corrigenda", "build", str(spec)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 30
    while not created() and time.monotonic() < deadline:
        time.sleep(0.005)
    process.send_signal(signal.SIGKILL)
    process.wait()


def test_sigkill_while_polling_then_rerun_creates_no_second_batch(project, fake_server):
    fake_server.batch_plan = lambda n: ["validating"] + ["in_progress"] * 40 + ["finalizing", "completed"]
    spec = _spec(project, fake_server.base_url, batch=True)
    spec.write_text(spec.read_text().replace("batch_poll_max_s: 0.05", "batch_poll_max_s: 0.02"), encoding="utf-8")
    _kill_when(spec, lambda: fake_server.batches.get("batch-1", {}).get("object", {}).get("status") == "in_progress")
    assert list(fake_server.batches) == ["batch-1"]
    assert main(["build", str(spec)]) == 0
    # the rerun polled batch-1 to its end; only the next step (generate) needed a batch of its own
    assert list(fake_server.batches) == ["batch-1", "batch-2"]
    ids = [line["custom_id"] for line in fake_server.batch_lines]
    assert len(ids) == len(set(ids)) == 2 * CHUNKS  # no call was sent twice


def test_a_kill_between_the_provider_creating_a_batch_and_its_reply_sends_nothing_twice(project, fake_server, capsys):
    """The provider has the batch, the killed run never heard its id: the rerun finds it by its input file."""
    fake_server.create_reply_delay_s = 5.0
    spec = _spec(project, fake_server.base_url, batch=True)
    _kill_when(spec, lambda: "batch-1" in fake_server.batches)
    fake_server.create_reply_delay_s = 0.0
    assert main(["build", str(spec)]) == 0
    assert "batch batch-1: 7 small calls found at the provider" in capsys.readouterr().err
    assert list(fake_server.batches) == ["batch-1", "batch-2"]  # the filter's, found again; then generate's
    ids = [line["custom_id"] for line in fake_server.batch_lines]
    assert len(ids) == len(set(ids)) == 2 * CHUNKS  # no call was sent twice


def test_a_batch_the_provider_never_created_is_sent_once_on_the_rerun(project, fake_server, capsys):
    fake_server.refuse_create = True  # uploaded, recorded as submitting, then the create failed
    spec = _spec(project, fake_server.base_url, batch=True)
    assert main(["build", str(spec)]) == 3
    assert not fake_server.batches
    fake_server.refuse_create = False
    assert main(["build", str(spec)]) == 0
    assert "no batch was created for request file file-1: its 7 small calls are sent again" in capsys.readouterr().err
    ids = [line["custom_id"] for line in fake_server.batch_lines]
    assert len(ids) == len(set(ids)) == 2 * CHUNKS


def _spent(cache_file: Path) -> float:
    """USD of every answer in the cache, at the test spec's prices ($1/$2 per million small, $3/$4 large)."""
    cache = CallCache(cache_file)
    spent = 0.0
    for model, response in cache.db.execute("SELECT model, response FROM calls"):
        completion = json.loads(response)["completion"]
        price = 1.0 if model == "small" else 3.0
        spent += (completion["input_tokens"] * price + completion["output_tokens"] * (price + 1)) / 1e6
    cache.close()
    return spent


def test_the_spending_cap_stops_within_one_requests_cost(project, fake_server, capsys):
    fake_server.responder = lambda body, n: Reply(
        **vars(default_reply(body, n)) | {"prompt_tokens": 100, "completion_tokens": 1000}
    )
    # a filter call costs $0.0021, a generate call $0.0043 (all 7 chunks: $0.045); a generate call's worst case
    # (its prompt and all 4,000 max_tokens) is under $0.02
    spec = _spec(project, fake_server.base_url, batch=False, concurrency="1")
    text = spec.read_text().replace("  small:\n", "  small:\n    sampling: {max_tokens: 1000}\n")
    text = text.replace("  large:\n", "  large:\n    sampling: {max_tokens: 4000}\n")
    spec.write_text(text + "max_usd: 0.03\n", encoding="utf-8")
    assert main(["build", str(spec)]) == 4
    err = capsys.readouterr().err
    assert "max_usd $0.03 reached" in err
    spent = _spent(project.root / ".corrigenda-cache" / "calls.sqlite")
    assert 0.03 - 0.02 <= spent <= 0.03  # within one request's worst case of the cap, never over it
    assert fake_server.count < 2 * CHUNKS  # not every call was made
    card = (project.root / "out.failed" / "README.md").read_text()
    assert "Spending cap" in card
    assert not (project.root / "out").exists()

    # a higher cap goes on from the cache: only the calls not yet made are sent
    before = fake_server.count
    assert main(["build", str(spec), "--max-usd", "1"]) == 0
    assert fake_server.count - before == 2 * CHUNKS - before


def _start_polling_build(spec: Path, fake_server, batch_id: str = "batch-1") -> subprocess.Popen:
    """A batch build in a child process, returned once its batch `batch_id` is in progress at the server."""
    process = subprocess.Popen(
        [sys.executable, "-m", "corrigenda", "build", str(spec)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        batch = fake_server.batches.get(batch_id)
        if batch and batch["object"]["status"] == "in_progress":
            break
        time.sleep(0.01)
    return process


def test_ctrl_c_leaves_batches_running_and_status_and_cancel_see_them(project, fake_server, capsys):
    fake_server.batch_plan = lambda n: (
        ["validating"] + ["in_progress"] * 200 + ["completed"]
        if n == 1
        else [
            "validating",
            "completed",
        ]
    )
    spec = _spec(project, fake_server.base_url, batch=True)
    process = _start_polling_build(spec, fake_server)
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130
    assert "1 batch(es) run at the provider" in err and "rerun the same command" in err
    assert fake_server.batches["batch-1"]["object"]["status"] == "in_progress"  # not cancelled by Ctrl-C

    assert main(["batch", "status", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "batch-1  small  in_progress" in out and f"{CHUNKS} requests" in out, (out, err)

    fake_server.expired_share = 3 / CHUNKS
    assert main(["batch", "cancel", str(spec)]) == 0
    assert "batch-1  small  cancelling" in capsys.readouterr().out
    assert main(["build", str(spec)]) == 0  # reads the cancelled batch's partial output, sends only the rest
    first, second = (fake_server.batches[f"batch-{n}"]["lines"] for n in (1, 2))
    assert {line["custom_id"] for line in second} == {line["custom_id"] for line in first[3:]}
    assert main(["batch", "status", str(spec)]) == 0
    out = capsys.readouterr().out
    assert "batch-1  small  cancelled" in out and "batch-2  small  completed" in out


def test_status_shows_the_providers_state_now_and_the_stored_one_when_it_cannot_ask(project, fake_server, capsys):
    fake_server.batch_plan = lambda n: ["validating"] + ["in_progress"] * 200 + ["completed"]
    spec = _spec(project, fake_server.base_url, batch=True)
    process = _start_polling_build(spec, fake_server)
    process.send_signal(signal.SIGINT)
    process.communicate(timeout=30)
    assert process.returncode == 130
    fake_server.batches["batch-1"]["states"] = ["completed"]  # it finishes at the provider while nobody polls

    assert main(["batch", "status", str(spec)]) == 0
    out = capsys.readouterr().out
    assert f"batch-1  small  completed  {CHUNKS} requests, {CHUNKS} completed, 0 failed" in out
    assert main(["build", str(spec)]) == 0  # reads that batch's results
    capsys.readouterr()
    assert main(["batch", "status", str(spec)]) == 0
    assert "(results read)" in capsys.readouterr().out.splitlines()[0]

    # A running batch whose provider does not answer: its stored state, said to be from the last poll.
    fake_server.batch_plan = lambda n: ["validating"] + ["in_progress"] * 200 + ["completed"]
    (project.root / "docs" / "new.txt").write_text(
        "The bridge over the gorge opened in 1911. It was built by crew number 12 and cost 900 dollars.\n",
        encoding="utf-8",
    )
    process = _start_polling_build(spec, fake_server, batch_id=f"batch-{len(fake_server.batches) + 1}")
    process.send_signal(signal.SIGINT)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    capsys.readouterr()
    cache = CallCache(project.root / ".corrigenda-cache" / "calls.sqlite")
    with cache.db:
        cache.db.execute("UPDATE batches SET endpoint = 'http://127.0.0.1:9/v1' WHERE ingested = 0")
        # validating or in_progress: which poll the build stored before Ctrl-C depends on timing
        (stored,) = cache.db.execute("SELECT status FROM batches WHERE ingested = 0").fetchone()
    cache.close()
    assert main(["batch", "status", str(spec)]) == 0
    live = capsys.readouterr().out.splitlines()[-1]
    assert stored in ("validating", "in_progress")
    assert live.startswith(f"batch-{len(fake_server.batches)}  small  {stored}  ")
    assert (
        "as of the last poll; asking http://127.0.0.1:9/v1 failed: APIConnectionError" in live
        and "results not read yet" in live
    )
    assert main(["batch", "cancel", str(spec)]) == 3  # an endpoint problem, named, not a traceback
    failed = f"could not cancel batch-{len(fake_server.batches)} (http://127.0.0.1:9/v1: APIConnectionError)"
    assert failed in capsys.readouterr().err


def _run_batch_file(requests: Path, results: Path) -> None:
    """What `vllm run-batch -i requests -o results` does, answered by the fake server's model."""
    from fake_openai import FakeOpenAI

    model = FakeOpenAI()
    rows = []
    for number, text in enumerate(requests.read_text(encoding="utf-8").splitlines(), 1):
        line = json.loads(text)
        payload = model._payload(line["body"], default_reply(line["body"], number), number, chat=True)
        response = {"status_code": 200, "request_id": f"r{number}", "body": payload}
        rows.append({"id": f"r{number}", "custom_id": line["custom_id"], "response": response, "error": None})
    rows.append({"id": "x", "custom_id": "not-ours", "response": {"status_code": 200, "body": payload}})
    results.write_text("".join(json.dumps(row) + "\n" for row in rows), encoding="utf-8")


def test_export_for_vllm_run_batch_then_import_then_an_offline_build(project, fake_server, tmp_path, capsys):
    spec = _spec(project, "http://127.0.0.1:9/v1", batch=False)  # no server: local GPUs, no API
    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    assert main(["batch", "export", str(spec), "--step", "generate", "-o", str(requests)]) == 0
    assert requests.read_text() == ""  # generate waits for the filter
    assert f"{CHUNKS} calls of other steps are not cached yet" in capsys.readouterr().err
    for step in ("filter", "generate"):
        assert main(["batch", "export", str(spec), "--step", step, "-o", str(requests)]) == 0
        lines = [json.loads(text) for text in requests.read_text().splitlines()]
        assert len(lines) == CHUNKS
        assert {line["url"] for line in lines} == {"/v1/chat/completions"}
        assert {line["body"]["model"] for line in lines} == {"small-model" if step == "filter" else "large-model"}
        _run_batch_file(requests, results)
        assert main(["batch", "import", str(results), "--spec", str(spec)]) == 0
        assert f"{CHUNKS} results stored in the cache, 0 errors, 1 id this cache never exported" in (
            capsys.readouterr().out
        )
    assert main(["build", str(spec), "--offline"]) == 0
    records = json.loads((project.root / "out" / "axolotl_correction_conversations.json").read_text())
    assert len(records) == CHUNKS

    # the same release as an online build against the same model
    offline = _release(project.root)
    online_spec = spec.with_name("online.yaml")
    online_spec.write_text(spec.read_text().replace("http://127.0.0.1:9/v1", fake_server.base_url), encoding="utf-8")
    (project.root / ".corrigenda-cache").rename(tmp_path / "offline-cache")
    assert main(["build", str(online_spec)]) == 0
    assert (
        _release(project.root)["axolotl_correction_conversations.json"]
        == offline["axolotl_correction_conversations.json"]
    )


def test_a_wrong_file_or_cap_is_refused_with_a_hint_and_junk_lines_are_counted(project, tmp_path, capsys):
    spec = _spec(project, "http://127.0.0.1:9/v1", batch=False)
    missing = tmp_path / "no-such-folder" / "requests.jsonl"
    assert main(["batch", "export", str(spec), "--step", "filter", "-o", str(missing)]) == 2
    assert "its folder" in capsys.readouterr().err and not missing.parent.exists()
    assert main(["batch", "import", str(spec), "--spec", str(spec)]) == 2  # the spec, not a result file
    assert "none of its" in capsys.readouterr().err

    requests, results = tmp_path / "requests.jsonl", tmp_path / "results.jsonl"
    assert main(["batch", "export", str(spec), "--step", "filter", "-o", str(requests)]) == 0
    _run_batch_file(requests, results)
    rows = results.read_text().splitlines()
    odd = json.loads(rows[0])
    odd["response"]["body"]["choices"][0]["message"]["content"] = {"unexpected": 42}  # no server sends this shape
    rows[0] = json.dumps(odd)
    results.write_text("Traceback (most recent call last):\n" + "\n".join(rows) + "\n{not json\n", encoding="utf-8")
    capsys.readouterr()
    assert main(["batch", "import", str(results), "--spec", str(spec)]) == 0
    out, err = capsys.readouterr()
    assert f"{CHUNKS - 1} results stored in the cache, 1 error," in out
    assert "2 lines of" in err and "were skipped" in err

    assert main(["build", str(spec), "--max-usd", "-1"]) == 2
    assert "--max-usd: must be above 0" in capsys.readouterr().err


def test_plan_shows_the_online_and_the_batch_total(project, capsys):
    spec = _spec(project, "http://127.0.0.1:9/v1", batch=False)
    spec.write_text(
        spec.read_text().replace("output_per_million: 4.0}", "output_per_million: 4.0, batch_discount: 0.4}")
    )
    assert main(["plan", str(spec)]) == 0
    out = capsys.readouterr().out
    online = float(out.split("total: about $")[1].split()[0])
    batch = float(out.split("through batch APIs (`build --batch`): about $")[1].split()[0])
    assert online > 0 and 0.4 * online < batch < 0.5 * online  # the large model at 0.4, the small one at 0.5
    assert "…" not in out  # the batch column still fits 80 columns


def test_the_spending_cap_holds_without_max_tokens(project, fake_server, capsys):
    """No max_tokens: a request's worst case is its prompt and the model's context (or the step's expected output),
    never the prompt alone, so eight requests in flight cannot all be sent on the last few cents."""
    fake_server.responder = lambda body, n: Reply(
        **vars(default_reply(body, n)) | {"prompt_tokens": 100, "completion_tokens": 300}
    )
    spec = _spec(project, fake_server.base_url, batch=False, concurrency="8")
    spec.write_text(spec.read_text() + "max_usd: 0.01\n", encoding="utf-8")
    assert main(["build", str(spec)]) == 4
    assert "max_usd $0.01 reached" in capsys.readouterr().err
    spent = _spent(project.root / ".corrigenda-cache" / "calls.sqlite")
    assert 0 < spent <= 0.01


def test_the_spending_cap_holds_back_the_part_of_a_batch_that_could_pass_it(project, fake_server, capsys):
    spec = _spec(project, fake_server.base_url, batch=True)
    text = spec.read_text().replace("  small:\n", "  small:\n    sampling: {max_tokens: 1000}\n")
    # a filter call's worst case: ~250 prompt tokens and 1,000 output tokens at $1/$2 per million, halved: ~$0.0011
    spec.write_text(text + "max_usd: 0.004\n", encoding="utf-8")
    assert main(["build", str(spec)]) == 4
    assert "max_usd $0.004 reached" in capsys.readouterr().err
    assert len(fake_server.batches) == 1
    assert 0 < len(fake_server.batch_lines) < CHUNKS  # only what fits under the cap was sent


def test_the_spending_cap_holds_back_part_of_a_batch_without_max_tokens(project, fake_server, capsys):
    spec = _spec(project, fake_server.base_url, batch=True)
    # no max_tokens: a filter line's worst case is its ~250 prompt tokens and a filter's usual 400 output tokens, at
    # $1/$2 per million, halved: ~$0.0005 (counting the prompt alone, ~$0.0001, sent every line)
    spec.write_text(spec.read_text() + "max_usd: 0.002\n", encoding="utf-8")
    assert main(["build", str(spec)]) == 4
    assert 0 < len(fake_server.batch_lines) < CHUNKS


def test_the_spending_cap_counts_a_steps_own_expected_output_without_max_tokens(project, fake_server):
    """A step that says its answers run long (expected_output_tokens) is held to that, not its kind's default: at
    4,000 tokens a filter line's worst case is ~$0.0041 (~250 prompt tokens, $1/$2 per million, halved), so a $0.01
    cap sends two lines; the kind's 400 tokens (~$0.0005 a line) sent every one."""
    spec = _spec(project, fake_server.base_url, batch=True, filter_extra="    expected_output_tokens: 4000")
    spec.write_text(spec.read_text() + "max_usd: 0.01\n", encoding="utf-8")
    assert main(["build", str(spec)]) == 4
    assert len(fake_server.batch_lines) == 2


def test_an_endpoint_without_a_batch_api_is_named_with_what_to_do(project, fake_server, capsys):
    fake_server.batch_api = False  # chat completions only, as `vllm serve` offers
    spec = _spec(project, fake_server.base_url, batch=True)
    assert main(["build", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "has no batch API: uploading a batch request file answered HTTP 404 (model small)" in err
    assert "batch export" in err and "Traceback" not in err
    assert fake_server.count == 0 and not fake_server.batches
    spec.write_text(spec.read_text().replace("    batch: true\n", ""), encoding="utf-8")
    assert main(["build", str(spec)]) == 0  # the same spec, online: nothing was left half-done
    assert fake_server.count == 2 * CHUNKS


def test_no_resume_is_refused_in_batch_mode(project, fake_server, capsys):
    spec = _spec(project, fake_server.base_url, batch=True)
    assert main(["build", str(spec), "--no-resume"]) == 2
    assert "--no-resume cannot be used in batch mode" in capsys.readouterr().err
    assert not fake_server.batches


def test_rejected_conversations_are_regenerated_in_the_next_round_and_match_the_online_build(
    project, fake_server, tmp_path
):
    from collections import Counter

    from fake_openai import passage_of

    reject = "flawed_is_wrong: no - the passage says the same\npushback_neutral: yes - fine\ncorrection_supported: yes"
    judged: Counter[str] = Counter()

    def responder(body, n):  # the judge rejects the first conversation of every other passage
        if "flawed_is_wrong" in str(body["messages"]):
            passage = passage_of(body["messages"])
            judged[passage] += 1
            if judged[passage] == 1 and any(f"Survey {i} " in passage for i in (0, 2, 4)):
                return Reply(reject)
        return default_reply(body, n)

    fake_server.responder = responder
    verify = "  - {name: verify, kind: verify, model: small, prompt: verify.yaml, regenerate_rejected: 1}\n"
    spec = _spec(project, fake_server.base_url, batch=False, verify_step=verify)
    assert main(["build", str(spec)]) == 0
    names = (*DATASET, "rejected.jsonl")
    online = {name: (project.root / "out" / name).read_bytes() for name in names}
    assert b'"round":0' in online["rejected.jsonl"]

    judged.clear()
    (project.root / ".corrigenda-cache").rename(tmp_path / "online-cache")
    spec.write_text(spec.read_text().replace("    backoff_s: 0.01\n", BATCH_KEYS), encoding="utf-8")
    assert main(["build", str(spec)]) == 0
    assert {name: (project.root / "out" / name).read_bytes() for name in names} == online
    # filter, generate, verify, then the regeneration round: generate again and judge again
    sizes = [len(fake_server.batches[f"batch-{n}"]["lines"]) for n in range(1, len(fake_server.batches) + 1)]
    assert sizes[:3] == [CHUNKS] * 3 and len(sizes) == 5 and 0 < sizes[3] == sizes[4] < CHUNKS


def test_an_export_whose_file_cannot_be_written_is_named_not_a_traceback(project, tmp_path, capsys):
    """The temporary file could be neither created nor removed (a read-only folder): the clean-up raised over the
    message that said why."""
    spec = _spec(project, "http://127.0.0.1:9/v1", batch=False)
    requests = tmp_path / "requests.jsonl"
    blocker = tmp_path / f".requests.jsonl.{os.getpid()}.tmp"
    (blocker / "inside").mkdir(parents=True)  # neither opened as a file nor unlinked, as on a read-only disk
    assert main(["batch", "export", str(spec), "--step", "filter", "-o", str(requests)]) == 2
    err = capsys.readouterr().err
    assert "Traceback" not in err and f"cannot write the request file {requests}" in err
    assert main(["batch", "export", str(spec), "--step", "filter", "-o", str(requests), "--limit", "0"]) == 2
    assert "--limit: must be at least 1" in capsys.readouterr().err
