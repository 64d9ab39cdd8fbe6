"""`corrigenda build` end to end against the local fake OpenAI-compatible server."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import docx
import pytest
from conftest import REPO, llm_spec
from fake_openai import Reply, default_reply, first_answer_then_good, good_conversation, passage_of
from fpdf import FPDF

from corrigenda.build import Build
from corrigenda.cli import main
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.debug_log import debug_name, read_debug, record_id

RAILROAD = (
    "The Central Pacific broke ground in Sacramento on January 8, 1863. The Union Pacific began at Omaha in 1865. "
    "The two lines met at Promontory Summit on May 10, 1869, where Leland Stanford drove the Golden Spike."
)


def _corpus(root: Path, copies: int = 1) -> None:
    """One small document of every type (and `copies` more text files for longer runs)."""
    docs = root / "docs"
    docs.mkdir(exist_ok=True)
    (docs / "railroad.txt").write_text(RAILROAD + "\n", encoding="utf-8")
    (docs / "table.md").write_text(
        "# Periodic table\n\nDmitri Mendeleev presented his table in 1869. Lothar Meyer published a similar one "
        "in 1870. Gallium was found in 1875.\n",
        encoding="utf-8",
    )
    (docs / "records.jsonl").write_text(
        json.dumps({"text": "Apollo 11 launched on July 16, 1969, and landed on July 20, 1969.", "id": "a"})
        + "\n"
        + json.dumps({"text": "Template syntax {{ 7 * 7 }} and {% if x %} must stay verbatim in 1970."})
        + "\n",
        encoding="utf-8",
    )
    document = docx.Document()
    document.add_heading("Panama Canal", 1)
    document.add_paragraph("The Panama Canal opened on August 15, 1914, after ten years of American work.")
    table = document.add_table(rows=2, cols=2)
    table.cell(0, 0).text, table.cell(0, 1).text = "Length", "82 km"
    table.cell(1, 0).text, table.cell(1, 1).text = "Opened", "1914"
    document.save(docs / "canal.docx")
    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("helvetica", size=12)
    pdf.multi_cell(0, 8, "King John agreed to Magna Carta at Runnymede on 15 June 1215. It was reissued in 1225.")
    pdf.output(str(docs / "charter.pdf"))
    for index in range(copies):
        (docs / f"extra-{index:03d}.txt").write_text(
            f"Record {index}: the survey of section {index} was finished in {1800 + index}. " * 3 + "\n",
            encoding="utf-8",
        )


def _start_build(spec: Path, fake, requests: int, stderr=subprocess.DEVNULL) -> subprocess.Popen:
    """`corrigenda build` in a child process, returned once the server has seen `requests` requests."""
    process = subprocess.Popen(
        [sys.executable, "-m", "corrigenda", "build", str(spec)],
        env={**os.environ, "PYTHONPATH": str(REPO)},
        stdout=subprocess.DEVNULL,
        stderr=stderr,
        text=True,
    )
    deadline = time.monotonic() + 60
    while fake.count < requests and time.monotonic() < deadline:
        time.sleep(0.01)
    return process


def _build(spec: Path, *extra: str) -> int:
    return main(["build", str(spec), *extra])


def _outputs(out: Path) -> dict[str, bytes]:
    return {
        p.relative_to(out).as_posix(): p.read_bytes()
        for p in sorted(out.rglob("*"))
        if p.is_file() and "debug_outputs" not in p.parts
    }


def test_build_over_every_file_type_passes_check_and_reruns_for_free(project, fake_server):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec) == 0
    out = project.root / "out"
    assert main(["check", str(out)]) == 0
    records = json.loads((out / "axolotl_correction_conversations.json").read_text())
    chat_lines = (out / "axolotl_chat_template.jsonl").read_text().splitlines()
    sources = {json.loads(line)["source"] for line in chat_lines}
    assert {
        "docs/railroad.txt",
        "docs/table.md",
        "docs/records.jsonl",
        "docs/canal.docx",
        "docs/charter.pdf",
    } <= sources
    assert len(records) == fake_server.kind_count("VERDICT")  # every chunk suitable, every one generated
    for record in records:
        assert [s["label"] for s in record["segments"]].count(False) == 1
    # Chunk text with template syntax reached the model verbatim.
    assert any("{{ 7 * 7 }} and {% if x %}" in str(body["messages"]) for body in fake_server.requests)
    # Token files add up to what the server reported.
    small = json.loads((out / "small_model_tokens.json").read_text())
    large = json.loads((out / "large_model_tokens.json").read_text())
    assert small["input_tokens"] + large["input_tokens"] == fake_server.usage_reported["prompt_tokens"]
    assert small["output_tokens"] + large["output_tokens"] == fake_server.usage_reported["completion_tokens"]
    assert set(small) >= {"input_tokens", "input_cost", "output_tokens", "output_cost", "name"}
    assert small["input_cost"] == pytest.approx(small["input_tokens"] / 1e6, abs=1e-6)
    card = (out / "README.md").read_text()
    assert f"| generated | {len(records)} |" in card
    assert "| docs/canal.docx | 1 | 1 |" in card  # chunks and released records per source
    assert (out / "debug_outputs" / "generate.jsonl").is_file()

    first = _outputs(out)
    requests = fake_server.count
    assert _build(spec) == 0
    assert fake_server.count == requests  # zero requests the second time
    assert _outputs(out) == first  # byte-identical files
    assert _build(spec, "--offline") == 0
    assert _outputs(out) == first


def test_offline_build_with_an_empty_cache_fails_fast(project, fake_server):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec, "--offline") == 2
    assert fake_server.count == 0


def test_broken_generation_releases_nothing_and_reports_why(project, fake_server, capsys):
    _corpus(project.root)
    fake_server.responder = lambda body, n: (
        default_reply(body, n) if "VERDICT" in str(body["messages"]) else Reply(status=500)
    )
    spec = project(llm_spec(fake_server.base_url, max_attempts="2"))
    assert _build(spec) == 1
    out = project.root / "out"
    assert not (out / "axolotl_correction_conversations.json").exists()
    assert not (out / "manifest.json").exists()
    failed = [json.loads(line) for line in (project.root / "out.failed" / "failed.jsonl").read_text().splitlines()]
    assert failed and all("HTTP 500" in row["reason"] for row in failed)
    assert "NOT RELEASED" in capsys.readouterr().err
    reports = project.root / "out.failed"
    assert main(["show", str(reports)]) == 0  # what a user types next: it says what is there and how to see it
    said = capsys.readouterr().out.splitlines()
    assert said[0] == f"no released item in {reports}"
    assert said[1] == "the build was refused, nothing released: no conversation was generated (see gate_failures.json)"
    assert said[2] == f"it holds {len(failed)} failed"
    assert said[3] == f"to see the failed: corrigenda show {reports} --failed"
    assert main(["show", str(reports), "--failed", "-n", "1"]) == 0
    assert "[failed]" in capsys.readouterr().out


def test_unsuitable_chunks_are_never_generated(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        messages = body["messages"]
        if "VERDICT" in str(messages):
            suitable = "Panama" in passage_of(messages)
            return Reply("Thinking: it could seem suitable.\nVERDICT: " + ("SUITABLE" if suitable else "Not suitable"))
        return default_reply(body, n)

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url))) == 0
    generate_calls = [b for b in fake_server.requests if "VERDICT" not in str(b["messages"])]
    assert len(generate_calls) == 1 and "Panama" in str(generate_calls[0]["messages"])


def test_reasoning_models_think_blocks_and_fields_are_separated(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        if "VERDICT" in str(body["messages"]):
            return Reply("<think>unsuitable? no. VERDICT: UNSUITABLE is wrong</think>\nVERDICT: SUITABLE")
        decoy = good_conversation("A decoy. Inside the thinking")
        answer = good_conversation(passage_of(body["messages"]))
        return Reply(f"<think>{decoy}</think>{answer}", reasoning_content="extra thoughts")

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url))) == 0
    out = project.root / "out"
    records = json.loads((out / "axolotl_correction_conversations.json").read_text())
    text = json.dumps(records)
    assert "decoy" not in text and "<think>" not in text
    debug = read_debug(out / "debug_outputs")[record_id("generate", "docs/railroad.txt#0")]
    assert "decoy" in debug["attempts"][0]["reasoning"] and "extra thoughts" in debug["attempts"][0]["reasoning"]
    large = json.loads((out / "large_model_tokens.json").read_text())
    assert large["output_tokens"] > 0
    # The server counted the thinking inside completion_tokens without breaking it out: estimated, and said so.
    assert large["reasoning_tokens"] > 0 and large["reasoning_tokens_estimated"] is True
    assert "(estimated)" in (out / "README.md").read_text()


def test_content_sent_as_parts_is_read_with_its_thinking_apart(project, fake_server):
    """Some servers (Mistral's reasoning models) send a message's content as a list of typed parts."""
    _corpus(project.root)

    def responder(body, n):
        reply = default_reply(body, n)
        thinking = {"type": "thinking", "thinking": [{"type": "text", "text": "A decoy. Inside the thinking"}]}
        return Reply(content_parts=[thinking, {"type": "text", "text": reply.content}])

    fake_server.responder = responder
    assert _build(project(llm_spec(fake_server.base_url))) == 0
    out = project.root / "out"
    assert "decoy" not in (out / "axolotl_correction_conversations.json").read_text()
    debug = read_debug(out / "debug_outputs")[record_id("generate", "docs/railroad.txt#0")]
    assert "decoy" in debug["attempts"][0]["reasoning"]


def test_content_of_no_documented_shape_fails_its_items_by_name_not_the_build(project, fake_server, capsys):
    _corpus(project.root)
    fake_server.responder = lambda body, n: Reply(content_parts={"unexpected": 42})
    assert _build(project(llm_spec(fake_server.base_url, max_attempts="2"))) == 1
    err = capsys.readouterr().err
    assert "Traceback" not in err and "response content is not text: {'unexpected': 42}" in err


def test_malformed_answers_are_retried_with_fresh_samples(project, fake_server):
    _corpus(project.root)
    fake_server.responder, seen = first_answer_then_good(Reply("<initial_question>only one tag</initial_question>"))
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec) == 0
    assert all(count == 2 for count in seen.values())
    debug = read_debug(project.root / "out" / "debug_outputs")[record_id("generate", "docs/railroad.txt#0")]
    assert "parse: incomplete conversation" in debug["attempts"][0]["error"]
    requests = fake_server.count
    assert _build(spec) == 0 and fake_server.count == requests  # both samples were cached


def test_length_truncation_is_its_own_outcome(project, fake_server):
    _corpus(project.root)
    fake_server.responder = lambda body, n: (
        default_reply(body, n)
        if "VERDICT" in str(body["messages"])
        else Reply("<think>very long", finish_reason="length")
    )
    assert _build(project(llm_spec(fake_server.base_url))) == 1
    failed = [json.loads(line) for line in (project.root / "out.failed/failed.jsonl").read_text().splitlines()]
    assert failed and all("finish_reason=length" in row["reason"] for row in failed)
    generate_calls = fake_server.count - fake_server.kind_count("VERDICT")
    assert generate_calls == len(failed)  # not retried unless the spec says so


def test_changing_one_prompt_rerequests_only_what_it_affects(project, fake_server):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec) == 0
    filters, total = fake_server.kind_count("VERDICT"), fake_server.count
    prompt = project.root / "prompts" / "generate.yaml"
    prompt.write_text(prompt.read_text().replace("Write the four-turn", "Please write the four-turn"))
    assert _build(spec) == 0
    assert fake_server.kind_count("VERDICT") == filters  # no filter call repeated
    assert fake_server.count - total == total - filters  # every generate call repeated


def test_a_killed_build_resumes_without_paying_twice(project, fake_server):
    _corpus(project.root, copies=40)
    fake_server.responder = lambda body, n: Reply(**vars(default_reply(body, n)) | {"delay_s": 0.05})
    spec = project(llm_spec(fake_server.base_url, concurrency="2"))
    process = _start_build(spec, fake_server, 30)
    process.send_signal(signal.SIGKILL)
    process.wait()
    first_run = fake_server.count
    cache = CallCache(project.root / ".corrigenda-cache" / "calls.sqlite")
    completed = cache.count()
    cache.close()
    assert 0 < completed <= first_run < 90
    fake_server.responder = default_reply
    assert _build(spec) == 0
    distinct = {json.dumps(body, sort_keys=True) for body in fake_server.requests}
    second_run = fake_server.count - first_run
    assert second_run == len(distinct) - completed  # only what had not completed was asked again
    records = json.loads((project.root / "out" / "axolotl_correction_conversations.json").read_text())
    chunks = {body for body in distinct if "VERDICT" in body}
    assert len(records) == len(chunks)  # no item lost or duplicated


def test_completion_mode_renders_the_chat_template_into_one_prompt(project, fake_server):
    _corpus(project.root)
    chatml = (
        "{% for m in messages %}<|im_start|>{{ m['role'] }}\\n{{ m['content'] }}<|im_end|>\\n{% endfor %}"
        "{% if add_generation_prompt %}<|im_start|>assistant\\n{% endif %}"
    )
    large = f'    mode: completion\n    completion_template: "{chatml}"\n'
    spec_text = llm_spec(fake_server.base_url).replace("    model: large-model\n", "    model: large-model\n" + large)
    assert _build(project(spec_text)) == 0
    prompts = [body["prompt"] for body in fake_server.requests if "prompt" in body]
    assert prompts and all(
        p.startswith("<|im_start|>system\n") and p.endswith("<|im_start|>assistant\n") for p in prompts
    )
    assert main(["check", str(project.root / "out")]) == 0


def test_structured_output_sends_a_json_schema_and_parses_json(project, fake_server):
    _corpus(project.root)

    def responder(body, n):
        if "response_format" not in body:
            return default_reply(body, n)
        first = passage_of(body["messages"]).split(".")[0]
        turns = {"initial_question": f"What about {first[:40]}?", "flawed_answer": "Something false.",
                 "followup_confirmation": "Are you sure?", "correct_answer": f"No: {first}."}  # fmt: skip
        return Reply(json.dumps(turns))

    fake_server.responder = responder
    extra = "    structured_output: true\n"
    assert _build(project(llm_spec(fake_server.base_url, generate_extra=extra))) == 0
    formats = [body["response_format"] for body in fake_server.requests if "response_format" in body]
    assert formats and formats[0]["type"] == "json_schema"
    assert formats[0]["json_schema"]["schema"]["required"] == [
        "initial_question",
        "flawed_answer",
        "followup_confirmation",
        "correct_answer",
    ]


def test_retry_on_length_asks_again(project, fake_server):
    _corpus(project.root)
    fake_server.responder, seen = first_answer_then_good(Reply("<think>cut", finish_reason="length"))
    extra = "    retry_on_length: true\n"
    assert _build(project(llm_spec(fake_server.base_url, generate_extra=extra))) == 0
    assert set(seen.values()) == {2}


@pytest.mark.parametrize(
    ("stop", "sigint"),
    [
        (signal.SIGINT, signal.default_int_handler),  # Ctrl-C
        (signal.SIGTERM, signal.default_int_handler),  # a cancelled CI job, `kill PID`, a stopped container
        (signal.SIGTERM, signal.SIG_IGN),  # the same, started in the background by a script (SIGINT ignored)
    ],
)
def test_ctrl_c_stops_cleanly_and_keeps_what_completed(project, fake_server, stop, sigint):
    _corpus(project.root, copies=40)
    fake_server.responder = lambda body, n: Reply(**vars(default_reply(body, n)) | {"delay_s": 0.05})
    spec = project(llm_spec(fake_server.base_url, concurrency="2"))
    previous = signal.signal(signal.SIGINT, sigint)  # the child inherits an ignored SIGINT
    try:
        process = _start_build(spec, fake_server, 20, stderr=subprocess.PIPE)
    finally:
        signal.signal(signal.SIGINT, previous)
    process.send_signal(stop)
    _, err = process.communicate(timeout=30)
    assert process.returncode == 130, err
    assert "interrupted" in err and "rerun" in err and "Traceback" not in err
    assert not (project.root / "out" / "axolotl_correction_conversations.json").exists()
    cache = CallCache(project.root / ".corrigenda-cache" / "calls.sqlite")
    assert cache.count() >= 10
    cache.close()


def test_meta_dataset_holds_every_call_of_the_chosen_steps(project, fake_server):
    _corpus(project.root)
    meta = "  meta_datagen: {enabled: true, keys: [generate]}\n"
    assert _build(project(llm_spec(fake_server.base_url, output_extra=meta))) == 0
    rows = [
        json.loads(line) for line in (project.root / "out/meta_datagen/meta_dataset.jsonl").read_text().splitlines()
    ]
    generate_calls = [b for b in fake_server.requests if "VERDICT" not in str(b["messages"])]
    assert len(rows) == len(generate_calls) and {row["step"] for row in rows} == {"generate"}
    sent = sorted(json.dumps(b["messages"], sort_keys=True) for b in generate_calls)
    assert sorted(json.dumps(r["messages"], sort_keys=True) for r in rows) == sent
    assert all(row["response"].startswith("<initial_question>") for row in rows)


def test_a_record_that_breaks_the_contract_fails_the_gate_and_nothing_is_released(project, fake_server, capsys):
    _corpus(project.root)
    # This template drops the flawed answer's content, so no segment can be the masked flawed answer.
    template = """\
template:
  prompt_template: "{% for m in messages %}{% if loop.index != 2 %}{{ m['content'] }}{% endif %}\\n{% endfor %}"
"""
    spec_text = llm_spec(fake_server.base_url).replace("output:\n", template + "output:\n")
    assert _build(project(spec_text)) == 1
    out = project.root / "out"
    assert not (out / "axolotl_correction_conversations.json").exists()
    gate = json.loads((project.root / "out.failed" / "gate_failures.json").read_text())
    assert gate["problems"] and gate["problems"][0]["item"].startswith("docs/")
    assert "not rendered exactly once" in gate["problems"][0]["rule"]
    assert "record 0 (docs/" in capsys.readouterr().err


def test_strict_policy_stops_before_any_request(project, fake_server, capsys):
    _corpus(project.root)
    (project.root / "docs" / "broken.pdf").write_bytes(b"%PDF-1.4 this is not really a pdf")
    spec_text = llm_spec(fake_server.base_url).replace("  chunk_size:", "  on_unreadable: strict\n  chunk_size:")
    assert _build(project(spec_text)) == 2
    assert fake_server.count == 0
    assert "docs/broken.pdf" in capsys.readouterr().err
    relaxed = project(llm_spec(fake_server.base_url))
    assert _build(relaxed) == 0  # reported, and the rest of the corpus goes on
    report = json.loads((project.root / "out" / "ingestion_report.json").read_text())
    assert [item["file"] for item in report["skipped"]] == ["docs/broken.pdf"]


def test_under_strict_a_file_gone_during_the_build_refuses_the_release(project, fake_server, capsys, monkeypatch):
    _corpus(project.root)
    spec_text = llm_spec(fake_server.base_url).replace("  chunk_size:", "  on_unreadable: strict\n  chunk_size:")
    victim = sorted((project.root / "docs").iterdir())[0]
    pre_read = Build.check_inputs

    def pre_read_then_lose_a_file(build: Build) -> None:
        pre_read(build)
        victim.unlink()  # a sync job, a clean-up script: after the check, before the reading

    monkeypatch.setattr(Build, "check_inputs", pre_read_then_lose_a_file)
    assert _build(project(spec_text), "--no-resume") == 1
    err = capsys.readouterr().err
    assert "NOT RELEASED: inputs.on_unreadable is strict and 1 input file(s) could not be read during the build" in err
    assert f"docs/{victim.name}: no longer found by inputs.paths" in err
    assert not (project.root / "out" / "axolotl_correction_conversations.json").exists()


def test_a_refused_rebuild_leaves_the_old_release_whole_and_reports_beside_it(project, fake_server, capsys):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    assert _build(spec, "--limit", "3") == 0
    out = project.root / "out"
    assert len(json.loads((out / "axolotl_correction_conversations.json").read_text())) == 3  # --limit: 3 chunks
    released = _outputs(out)
    fake_server.responder = lambda body, n: Reply(status=500)
    capsys.readouterr()
    assert _build(spec, "--no-resume") == 1
    assert _outputs(out) == released  # dataset, card and manifest exactly as they were
    assert main(["check", str(out)]) == 0
    reports = project.root / "out.failed"
    assert f"details: {reports / 'gate_failures.json'}" in capsys.readouterr().err
    assert json.loads((reports / "gate_failures.json").read_text())["reason"] == "no conversation was generated"
    assert (reports / "failed.jsonl").read_text().count("HTTP 500") == 8
    assert (reports / "debug_outputs" / "filter.jsonl").is_file()  # the failed build's debug files explain it
    assert not (reports / "axolotl_correction_conversations.json").exists()
    fake_server.responder = default_reply
    assert _build(spec) == 0
    assert not reports.exists()  # a later release clears reports that no longer describe it


def test_debug_file_names_are_readable_and_never_shared():
    assert debug_name("docs/a b.txt#0").startswith("docs_a_b.txt_0-")
    assert debug_name("docs/a b.txt#0") != debug_name("docs/a_b.txt#0")
    assert debug_name("../samples/a.txt#0").startswith("samples_a.txt_0-")  # a corpus beside the spec: not hidden
    long = "d/" + "x" * 400 + ".txt#1"
    assert len(debug_name(long)) < 200 and debug_name(long) != debug_name(long.replace("#1", "#2"))


def test_an_unwritable_output_location_is_a_clear_error_before_any_request(project, fake_server, capsys):
    _corpus(project.root)
    spec = project(llm_spec(fake_server.base_url))
    blocker = project.root / "blocked"
    blocker.write_text("a file where the output directory should be")
    assert _build(spec, "--out", str(blocker / "out")) == 2
    err = capsys.readouterr().err
    assert f"cannot write {blocker / 'out'}: {blocker} is a file, not a folder" in err
    assert "Traceback" not in err
    assert fake_server.count == 0  # nothing was paid for
    assert _build(spec) == 0  # somewhere writable
