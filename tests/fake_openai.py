"""A real HTTP server on 127.0.0.1 that speaks enough of the OpenAI chat, completions and models API for the real
`openai` client, with faults a test can script: latency, 429 with Retry-After, 500s, hangs, dropped connections,
`length` truncation, `<think>` blocks, `reasoning_content`, malformed answers; and endpoint trouble: a required key,
unknown models refused, no `/models` route, an HTML page in place of the API, and an outage (connections refused
for a while, then served again on the same port). It counts every request it receives."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import re
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web


@dataclass
class Reply:
    content: str = ""
    reasoning_content: str | None = None
    content_parts: Any = None  # sent as the message's content instead of `content`: a list of parts, or any shape
    finish_reason: str = "stop"
    status: int = 200
    retry_after: float | None = None
    error_text: str | None = None  # a non-JSON error body, as a proxy in front of the model server sends
    delay_s: float = 0.0
    drop: bool = False  # close the connection without answering
    usage: bool = True  # report `usage`
    prompt_tokens: int | None = None
    completion_tokens: int | None = None
    reasoning_tokens: int | None = None  # reported in completion_tokens_details, as OpenAI and DeepSeek do


def passage_of(messages: list[dict[str, str]]) -> str:
    """The passage our prompts put between triple quotes."""
    text = "\n".join(m["content"] for m in messages)
    found = re.search(r'"""\n(.*?)\n"""', text, re.DOTALL)
    return found.group(1) if found else text


def good_conversation(passage: str) -> str:
    """A well-formed four-tag answer grounded in the passage's first sentence."""
    first = passage.strip().split(". ")[0].strip().rstrip(".")
    return (
        f"<initial_question>What happened here: {first[:80]}?</initial_question>\n"
        f"<flawed_answer>It happened somewhere else entirely, in a different year.</flawed_answer>\n"
        f"<followup_confirmation>Are you sure about that?</followup_confirmation>\n"
        f"<correct_answer>I was wrong. {first}.</correct_answer>"
    )


ACCEPT = (
    "flawed_is_wrong: yes - it contradicts the passage\n"
    "pushback_neutral: yes - it gives nothing away\n"
    "correction_supported: yes - the passage says so"
)


def default_reply(body: dict[str, Any], count: int) -> Reply:
    messages = body.get("messages") or [{"role": "user", "content": body.get("prompt", "")}]
    text = "\n".join(m["content"] for m in messages)
    if "VERDICT" in text:
        return Reply("The passage states facts.\nVERDICT: SUITABLE")
    if "flawed_is_wrong" in text:
        return Reply(ACCEPT)
    return Reply(good_conversation(passage_of(messages)))


Responder = Callable[[dict[str, Any], int], Reply]


@dataclass
class FakeOpenAI:
    responder: Responder = default_reply
    requests: list[dict[str, Any]] = field(default_factory=list)
    usage_reported: dict[str, int] = field(default_factory=lambda: {"prompt_tokens": 0, "completion_tokens": 0})
    base_url: str = ""
    last_headers: dict[str, str] = field(default_factory=dict)  # of the latest request, names lower-cased
    models: list[str] | None = field(default_factory=lambda: ["small-model", "large-model", "m"])  # None: no route
    reject_unknown_models: bool = False  # answer 404 "model does not exist" for a model not in `models`
    api_key: str | None = None  # when set, any other bearer token gets 401
    html_page: str | None = None  # when set, every route answers this page with HTTP 200 (a login wall, a proxy)
    model_list_requests: int = 0  # GET /models
    server: Any = None  # the ServerThread serving it, for outages
    # Batch API: uploaded files, batches, and each new batch's states in order (the last one is where it ends:
    # completed, failed, expired or cancelled); `batch_plan(n)` gives them for the n-th batch created (from 1).
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    batch_plan: Callable[[int], list[str]] = lambda n: ["validating", "in_progress", "finalizing", "completed"]
    expired_share: float = 0.5  # of an expired or cancelled batch's requests, the share answered before it ended
    batch_lines: list[dict[str, Any]] = field(default_factory=list)  # every request line of every batch created
    batch_api: bool = True  # False: /v1/files answers 404, as a server with chat completions only (vLLM serve) does
    create_reply_delay_s: float = 0.0  # between creating a batch and saying so
    refuse_create: bool = False  # POST /v1/batches answers 503 and creates nothing
    _lock: Any = field(default_factory=threading.RLock)  # re-entered: a batch ending answers its requests

    @property
    def count(self) -> int:
        return len(self.requests)

    def kind_count(self, marker: str) -> int:
        """Requests whose prompt contains `marker` (e.g. "VERDICT" for filter calls)."""
        with self._lock:
            return sum(marker in str(body.get("messages") or body.get("prompt")) for body in self.requests)

    def _refusal(self, request: web.Request) -> web.StreamResponse | None:
        """The endpoint trouble set on this server, shared by every route."""
        if self.html_page is not None:
            return web.Response(text=self.html_page, content_type="text/html")
        if self.api_key is not None and request.headers.get("Authorization") != f"Bearer {self.api_key}":
            error = {"error": {"message": "Incorrect API key provided", "type": "invalid_request_error"}}
            return web.json_response(error, status=401)
        return None

    async def _list_models(self, request: web.Request) -> web.StreamResponse:
        with self._lock:
            self.model_list_requests += 1
        refusal = self._refusal(request)
        if refusal is not None:
            return refusal
        if self.models is None:
            return web.json_response({"detail": "Not Found"}, status=404)
        data = [{"id": name, "object": "model", "owned_by": "fake"} for name in self.models]
        return web.json_response({"object": "list", "data": data})

    async def _handle(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        refusal = self._refusal(request)
        if refusal is not None:
            with self._lock:
                self.requests.append(body)
            return refusal
        if self.reject_unknown_models and body.get("model") not in (self.models or []):
            error = {"error": {"message": f"The model `{body.get('model')}` does not exist.", "code": 404}}
            return web.json_response(error, status=404)
        with self._lock:
            self.requests.append(body)
            self.last_headers = {name.lower(): value for name, value in request.headers.items()}
            count = len(self.requests)
        reply = self.responder(body, count)
        if reply.delay_s:
            await asyncio.sleep(reply.delay_s)
        if reply.drop:
            if request.transport is not None:
                request.transport.abort()
            raise ConnectionResetError("dropped on purpose")
        if reply.status != 200:
            headers = {"retry-after": f"{reply.retry_after:g}"} if reply.retry_after is not None else {}
            if reply.error_text is not None:
                return web.Response(text=reply.error_text, status=reply.status, headers=headers)
            error = {"error": {"message": f"injected {reply.status}", "type": "injected", "code": reply.status}}
            return web.json_response(error, status=reply.status, headers=headers)
        return web.json_response(self._payload(body, reply, count, request.path.endswith("/chat/completions")))

    def _payload(self, body: dict[str, Any], reply: Reply, count: int, chat: bool) -> dict[str, Any]:
        """The completion the server answers for `reply`, counting its usage."""
        prompt_tokens = reply.prompt_tokens if reply.prompt_tokens is not None else 10 + len(str(body)) // 4
        completion_tokens = (
            reply.completion_tokens
            if reply.completion_tokens is not None
            else 1 + len(reply.content + (reply.reasoning_content or "")) // 4
        )
        payload: dict[str, Any] = {
            "id": f"fake-{count}",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
        }
        if chat:
            content = reply.content if reply.content_parts is None else reply.content_parts
            message: dict[str, Any] = {"role": "assistant", "content": content}
            if reply.reasoning_content is not None:
                message["reasoning_content"] = reply.reasoning_content
            payload |= {
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": reply.finish_reason}],
            }
        else:
            payload |= {
                "object": "text_completion",
                "choices": [{"index": 0, "text": reply.content, "finish_reason": reply.finish_reason}],
            }
        if reply.usage:
            payload["usage"] = {
                "prompt_tokens": prompt_tokens,
                "completion_tokens": completion_tokens,
                "total_tokens": prompt_tokens + completion_tokens,
            }
            if reply.reasoning_tokens is not None:
                payload["usage"]["completion_tokens_details"] = {"reasoning_tokens": reply.reasoning_tokens}
            with self._lock:
                self.usage_reported["prompt_tokens"] += prompt_tokens
                self.usage_reported["completion_tokens"] += completion_tokens
        return payload

    # --- the Files and Batches API -------------------------------------------------------------------------------

    async def _upload(self, request: web.Request) -> web.StreamResponse:
        if not self.batch_api:
            return web.json_response({"detail": "Not Found"}, status=404)
        form = await request.post()
        upload = form["file"]
        data = upload.file.read() if hasattr(upload, "file") else bytes(upload)
        with self._lock:
            file_id = f"file-{len(self.files) + 1}"
            self.files[file_id] = data
        name = getattr(upload, "filename", "upload.jsonl")
        return web.json_response(self._file_object(file_id, name, str(form.get("purpose", "batch"))))

    def _file_object(self, file_id: str, name: str, purpose: str) -> dict[str, Any]:
        size = len(self.files[file_id])
        created = int(time.time())
        return {
            "id": file_id,
            "object": "file",
            "bytes": size,
            "created_at": created,
            "filename": name,
            "purpose": purpose,
            "status": "processed",
        }

    async def _file_content(self, request: web.Request) -> web.StreamResponse:
        data = self.files.get(request.match_info["file_id"])
        if data is None:
            return web.json_response({"error": {"message": "No such file"}}, status=404)
        return web.Response(body=data, content_type="application/octet-stream")

    async def _create_batch(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        if body.get("input_file_id") not in self.files:
            return web.json_response({"error": {"message": "input file not found"}}, status=400)
        if self.refuse_create:
            return web.json_response({"error": {"message": "injected: try again later"}}, status=503)
        with self._lock:
            number = len(self.batches) + 1
            batch_id = f"batch-{number}"
            lines = [json.loads(line) for line in self.files[body["input_file_id"]].splitlines() if line.strip()]
            self.batch_lines.extend(lines)
            self.batches[batch_id] = {
                "object": {
                    "id": batch_id,
                    "object": "batch",
                    "endpoint": body["endpoint"],
                    "input_file_id": body["input_file_id"],
                    "completion_window": body["completion_window"],
                    "created_at": int(time.time()),
                    "status": "validating",
                    "request_counts": {"total": len(lines), "completed": 0, "failed": 0},
                },
                "states": list(self.batch_plan(number))[1:],
                "lines": lines,
            }
            answer = self.batches[batch_id]["object"]
        await asyncio.sleep(self.create_reply_delay_s)  # created, not yet heard of: a client killed now never knows
        return web.json_response(answer)

    async def _retrieve_batch(self, request: web.Request) -> web.StreamResponse:
        """Each look moves the batch one state on, the way a real one moves while nobody looks."""
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return web.json_response({"error": {"message": "No such batch"}}, status=404)
        with self._lock:
            if batch["states"]:
                self._enter(batch, batch["states"].pop(0))
            return web.json_response(batch["object"])

    async def _cancel_batch(self, request: web.Request) -> web.StreamResponse:
        batch = self.batches.get(request.match_info["batch_id"])
        if batch is None:
            return web.json_response({"error": {"message": "No such batch"}}, status=404)
        with self._lock:
            if batch["object"]["status"] not in ("completed", "failed", "expired", "cancelled"):
                batch["object"]["status"] = "cancelling"
                batch["states"] = ["cancelled"]
            return web.json_response(batch["object"])

    async def _list_batches(self, request: web.Request) -> web.StreamResponse:
        data = [batch["object"] for batch in reversed(self.batches.values())]  # newest first, as OpenAI lists them
        return web.json_response({"object": "list", "data": data, "has_more": False})

    def _enter(self, batch: dict[str, Any], state: str) -> None:
        """A state change; an ending one writes the output and error files (partial when expired or cancelled)."""
        obj = batch["object"]
        obj["status"] = state
        if state == "failed":
            obj["errors"] = {"object": "list", "data": [{"code": "invalid_file", "message": "injected failure"}]}
            return
        if state not in ("completed", "expired", "cancelled"):
            return
        lines = batch["lines"]
        answered = lines if state == "completed" else lines[: int(len(lines) * self.expired_share)]
        output, errors = [], []
        for line in answered:
            self.requests.append(line["body"])
            reply = self.responder(line["body"], len(self.requests))
            result: dict[str, Any] = {"id": f"req-{len(self.requests)}", "custom_id": line["custom_id"]}
            if reply.status == 200:
                payload = self._payload(
                    line["body"], reply, len(self.requests), line["url"].endswith("chat/completions")
                )
                result |= {"response": {"status_code": 200, "request_id": result["id"], "body": payload}, "error": None}
                output.append(result)
            else:
                error = {"error": {"message": f"injected {reply.status}", "type": "injected"}}
                result |= {
                    "response": {"status_code": reply.status, "request_id": result["id"], "body": error},
                    "error": None,
                }
                errors.append(result)
        for name, rows in (("output_file_id", output), ("error_file_id", errors)):
            if rows:
                file_id = f"file-{len(self.files) + 1}"
                self.files[file_id] = "".join(json.dumps(row) + "\n" for row in rows).encode("utf-8")
                obj[name] = file_id
        obj["request_counts"] = {"total": len(lines), "completed": len(output), "failed": len(errors)}


class ServerThread:
    """Runs a FakeOpenAI on its own event loop in a daemon thread, on a free port of 127.0.0.1."""

    def __init__(self, fake: FakeOpenAI):
        self.fake = fake
        self.port = 0
        self._ready = threading.Event()
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._outages: list[concurrent.futures.Future[None]] = []

    async def _open(self) -> None:
        app = web.Application()
        app.router.add_post("/v1/chat/completions", self.fake._handle)
        app.router.add_post("/v1/completions", self.fake._handle)
        app.router.add_get("/v1/models", self.fake._list_models)
        app.router.add_post("/v1/files", self.fake._upload)
        app.router.add_get("/v1/files/{file_id}/content", self.fake._file_content)
        app.router.add_post("/v1/batches", self.fake._create_batch)
        app.router.add_get("/v1/batches", self.fake._list_batches)
        app.router.add_get("/v1/batches/{batch_id}", self.fake._retrieve_batch)
        app.router.add_post("/v1/batches/{batch_id}/cancel", self.fake._cancel_batch)
        self._runner = web.AppRunner(app, access_log=None, shutdown_timeout=0.5)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.port, backlog=4096)
        await site.start()
        self.port = site._server.sockets[0].getsockname()[1]
        self.fake.base_url = f"http://127.0.0.1:{self.port}/v1"

    def _serve(self) -> None:
        asyncio.set_event_loop(self._loop)
        self._loop.run_until_complete(self._open())
        self._ready.set()
        self._loop.run_forever()

    def start(self) -> FakeOpenAI:
        self.fake.server = self
        self._thread.start()
        self._ready.wait(10)
        return self.fake

    def outage(self, seconds: float) -> None:
        """Close every connection and refuse new ones for `seconds`, then serve again on the same port: a server
        restart as a client sees it. Safe to call from a responder."""

        async def down_then_up() -> None:
            await self._runner.cleanup()
            await asyncio.sleep(seconds)
            await self._open()

        self._outages.append(asyncio.run_coroutine_threadsafe(down_then_up(), self._loop))

    def stop(self) -> None:
        for outage in self._outages:  # a test may end while the server is still down
            outage.cancel()

        async def shutdown() -> None:
            await self._runner.cleanup()

        asyncio.run_coroutine_threadsafe(shutdown(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


def first_answer_then_good(first: Reply, marker: str | None = None) -> tuple[Responder, dict[str, int]]:
    """A responder that gives `first` to the first generate call of each passage (or the first call whose prompt
    contains `marker`) and a good answer after that; the dict counts calls per passage."""
    seen: dict[str, int] = {}

    def responder(body: dict[str, Any], count: int) -> Reply:
        prompt = str(body["messages"])
        targeted = marker in prompt if marker else "VERDICT" not in prompt and "flawed_is_wrong" not in prompt
        if not targeted:
            return default_reply(body, count)
        key = passage_of(body["messages"])
        seen[key] = seen.get(key, 0) + 1
        return first if seen[key] == 1 else default_reply(body, count)

    return responder, seen
