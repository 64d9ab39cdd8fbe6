"""The batch file format: request files split at the provider's limits, result lines read back."""

from __future__ import annotations

import itertools
import json
from pathlib import Path

from hypothesis import given, settings
from hypothesis import strategies as st

from corrigenda.runtime.batch_files import read_result_line, request_line, write_request_files


@settings(max_examples=60, deadline=None)
@given(
    contents=st.lists(st.text(max_size=300), max_size=40),
    max_requests=st.integers(1, 7),
    max_bytes=st.integers(1_300, 3_000),
)
def test_request_files_hold_every_call_once_in_order_within_the_limits(
    tmp_path_factory, contents, max_requests, max_bytes
):
    folder = tmp_path_factory.mktemp("requests")
    pairs = [
        (f"key-{i}", request_line(f"key-{i}", "/v1/chat/completions", {"messages": [{"role": "user", "content": c}]}))
        for i, c in enumerate(contents)
    ]
    files = list(write_request_files(pairs, folder, "m", max_requests=max_requests, max_bytes=max_bytes))
    assert [key for f in files for key in f.custom_ids()] == [key for key, _ in pairs]
    lines = [line for f in files for line in f.path.read_text(encoding="utf-8").splitlines()]
    assert lines == [line for _, line in pairs]  # no character of a prompt reads as a line break
    assert [json.loads(line)["body"]["messages"][0]["content"] for line in lines] == contents
    for f in files:
        assert 1 <= f.requests <= max_requests
        assert f.path.stat().st_size == f.size <= max_bytes
    for first, second in itertools.pairwise(files):  # a file is closed only when the next line would not fit
        nxt = len(Path(second.path).read_bytes().splitlines(keepends=True)[0])
        assert first.requests == max_requests or first.size + nxt > max_bytes


def test_result_lines_answer_errors_and_junk():
    body = {"choices": [{"index": 0, "message": {"content": "hi"}, "finish_reason": "stop"}]}
    ok = read_result_line(json.dumps({"custom_id": "a", "response": {"status_code": 200, "body": body}}))
    assert ok is not None and ok.body == body and ok.error is None
    failed = read_result_line(
        json.dumps({"custom_id": "b", "response": {"status_code": 429, "body": {"error": {"message": "slow down"}}}})
    )
    assert failed is not None and failed.body is None and failed.error == "HTTP 429: slow down"
    expired = read_result_line(json.dumps({"custom_id": "c", "response": None, "error": {"message": "expired"}}))
    assert expired is not None and expired.body is None and "expired" in expired.error
    assert read_result_line("not json") is None
    assert read_result_line(json.dumps({"no": "id"})) is None
