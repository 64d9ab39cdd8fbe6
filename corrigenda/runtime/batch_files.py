"""The OpenAI batch file format, written and read a line at a time so memory stays flat in the number of calls.

A request file has one JSON line per call: `{"custom_id": KEY, "method": "POST", "url": "/v1/chat/completions",
"body": {...}}`, the call's cache key as its id. It is the format of OpenAI's and Azure's batch APIs, of Groq and
Together, and of `vllm run-batch`. Files are split at the provider's limits (50,000 requests or 200 MB). A result
line is `{"custom_id", "response": {"status_code", "body"}, "error"}`.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

MAX_REQUESTS = 50_000
MAX_BYTES = 200 * 1024 * 1024


# Characters JSON leaves raw that some line readers (Python's str.splitlines, JavaScript) take for line breaks.
_LINE_BREAKS = {"\u0085": "\\u0085", "\u2028": "\\u2028", "\u2029": "\\u2029"}


def request_line(key: str, url: str, body: dict[str, Any]) -> str:
    """One call as a request-file line (no newline): UTF-8 as it is, except that nothing in it reads as a line
    break to any reader."""
    line = json.dumps({"custom_id": key, "method": "POST", "url": url, "body": body}, ensure_ascii=False)
    for char, escaped in _LINE_BREAKS.items():
        line = line.replace(char, escaped)
    return line


@dataclass
class RequestFile:
    path: Path
    requests: int
    size: int

    def custom_ids(self) -> Iterator[str]:
        """The custom ids, read back from the file: nothing per call is held in memory."""
        with open(self.path, "rb") as lines:
            for line in lines:
                yield json.loads(line)["custom_id"]


def write_request_files(
    lines: Iterable[tuple[str, str]],
    folder: Path,
    stem: str,
    max_requests: int = MAX_REQUESTS,
    max_bytes: int = MAX_BYTES,
) -> Iterator[RequestFile]:
    """(key, line) pairs (the key is the line's custom_id) into `folder/stem-N.jsonl` files, each within the
    limits, each yielded once it is closed."""
    folder.mkdir(parents=True, exist_ok=True)
    number, handle, current = 0, None, None
    try:
        for _key, line in lines:
            data = line.encode("utf-8") + b"\n"
            if len(data) > max_bytes:
                raise ValueError(f"one request is {len(data)} bytes, over the batch file limit of {max_bytes}")
            if current is not None and (current.requests >= max_requests or current.size + len(data) > max_bytes):
                handle.close()
                yield current
                current = None
            if current is None:
                number += 1
                current = RequestFile(folder / f"{stem}-{number}.jsonl", 0, 0)
                handle = open(current.path, "wb")  # noqa: SIM115 - closed when the file is full or at the end
            handle.write(data)
            current.requests += 1
            current.size += len(data)
        if current is not None:
            handle.close()
            yield current
    finally:
        if handle is not None and not handle.closed:
            handle.close()


@dataclass(frozen=True)
class Result:
    key: str
    body: dict[str, Any] | None  # the chat or text completion, when the call succeeded
    error: str | None  # why not, otherwise


def read_result_line(line: str | bytes) -> Result | None:
    """One line of an output or error file; None for a blank or unreadable line (no custom_id to give it to)."""
    try:
        record = json.loads(line)
    except ValueError:
        return None
    if not isinstance(record, dict) or not isinstance(record.get("custom_id"), str):
        return None
    key = record["custom_id"]
    response = record.get("response") if isinstance(record.get("response"), dict) else {}
    body = response.get("body")
    status = response.get("status_code", 200 if body else None)
    if status == 200 and isinstance(body, dict) and isinstance(body.get("choices"), list) and body["choices"]:
        return Result(key, body, None)
    error = record.get("error") or (body.get("error") if isinstance(body, dict) else None) or body
    if isinstance(error, dict):
        error = error.get("message") or json.dumps(error)
    return Result(key, None, f"HTTP {status}: {error}" if status else str(error or "no response"))


def read_results(lines: Iterable[str | bytes]) -> Iterator[Result]:
    for line in lines:
        if line.strip():
            result = read_result_line(line)
            if result is not None:
                yield result
