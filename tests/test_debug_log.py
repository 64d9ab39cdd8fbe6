"""Debug records are appended off the event loop to one JSONL file per step, yet every one is complete and findable
by its stable id when the run ends."""

from __future__ import annotations

import json

import pytest
from conftest import llm_spec, offline_project
from fake_openai import Reply, first_answer_then_good
from test_build import RAILROAD, _corpus

from corrigenda.cli import main
from corrigenda.ingest.document import normalise
from corrigenda.runtime.debug_log import DebugLog, debug_name, read_debug, record_id


def test_every_record_is_on_disk_and_whole_after_close(tmp_path):
    log = DebugLog(tmp_path / "debug_outputs")
    records = {
        f"docs/a.txt#{index}": {"item": f"docs/a.txt#{index}", "attempts": [{"raw": "x" * index}]}
        for index in range(300)
    }
    for chunk_id, record in records.items():
        log.write("generate", chunk_id, record)
    log.close()
    assert [p.name for p in (tmp_path / "debug_outputs").iterdir()] == ["generate.jsonl"], "one file per step"
    lines = (tmp_path / "debug_outputs" / "generate.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 300
    found = read_debug(tmp_path / "debug_outputs")
    for chunk_id, record in records.items():
        assert found[record_id("generate", chunk_id)] == {"id": record_id("generate", chunk_id), **record}


def test_record_ids_are_stable_and_never_shared():
    assert record_id("generate", "docs/a.txt#0") == f"generate/{debug_name('docs/a.txt#0')}"
    assert record_id("generate", "docs/a b.txt#0") != record_id("generate", "docs/a_b.txt#0")
    assert record_id("verify", "docs/a.txt#0") != record_id("generate", "docs/a.txt#0")


def test_a_failed_write_is_raised_not_lost(tmp_path):
    (tmp_path / "debug_outputs").write_text("a file where the directory should be")
    log = DebugLog(tmp_path / "debug_outputs")
    log.write("generate", "docs/a.txt#0", {"item": "docs/a.txt#0"})
    with pytest.raises(OSError):
        log.close()


ATTEMPT_KEYS = {"round", "sample", "messages", "raw", "reasoning", "answer", "parsed", "error", "finish_reason"}


def _debug_files(out):
    return read_debug(out / "debug_outputs")


def test_heuristic_debug_files_trace_every_record_to_its_text(tmp_path):
    out = tmp_path / "out"
    assert main(["build", str(offline_project(tmp_path)), "--out", str(out)]) == 0
    files = _debug_files(out)
    assert files
    for path, record in files.items():
        chunk = record["chunk"]
        assert chunk["id"] == record["item"] and chunk["source"] == record["source"]
        if chunk["source"].endswith(".txt"):  # the offsets point into the document the text came from
            document = normalise((tmp_path / "spec" / chunk["source"]).read_text(encoding="utf-8"))
            assert document[chunk["char_start"] : chunk["char_end"]] == chunk["text"]
        if chunk["source"].endswith(".pdf"):
            first, last = chunk["pages"]
            assert 1 <= first <= last and (first == 1 or chunk["index"] > 0)
        assert record["attempts"], path
        for attempt in record["attempts"]:
            assert set(attempt) >= ATTEMPT_KEYS
            if attempt["raw"] is not None:  # an engine call: its input is shown as messages holding the chunk
                assert attempt["messages"] and chunk["text"].strip() in attempt["messages"][-1]["content"]
                assert attempt["parsed"] is not None or attempt["error"]
    by_item = {record["item"]: record for record in files.values() if record["step"] == "generate"}
    for line in (out / "axolotl_chat_template.jsonl").read_text(encoding="utf-8").splitlines():
        released = json.loads(line)
        generated = by_item[released["id"]]
        correct = released["messages"][-1]["content"]
        quoted = correct[correct.index("“") + 1 : correct.rindex("”")]
        assert " ".join(quoted.split()) in " ".join(generated["chunk"]["text"].split())


def test_llm_debug_files_hold_what_was_sent_and_every_failed_attempt(project, fake_server):
    _corpus(project.root)
    fake_server.responder, _ = first_answer_then_good(Reply("<initial_question>only one tag</initial_question>"))
    assert main(["build", str(project(llm_spec(fake_server.base_url)))]) == 0
    record = read_debug(project.root / "out" / "debug_outputs")[record_id("generate", "docs/railroad.txt#0")]
    assert record["chunk"]["text"] == RAILROAD + "\n"
    assert (record["chunk"]["char_start"], record["chunk"]["char_end"]) == (0, len(RAILROAD) + 1)
    failed, good = record["attempts"]
    assert failed["error"].startswith("parse: ") and failed["parsed"] is None
    assert failed["raw"] == "<initial_question>only one tag</initial_question>"
    assert good["error"] is None and set(good["parsed"]) >= {"initial_question", "correct_answer"}
    sent = [body["messages"] for body in fake_server.requests if RAILROAD[:40] in str(body["messages"])]
    assert failed["messages"] in sent and good["messages"] in sent
