"""Calls to any OpenAI-compatible endpoint through the official `openai` async client.

The client's own retries are off: the caller retries, so it can count attempts, honour `Retry-After` and report
every failure. The connection pool is sized to the model's concurrency so no request waits for a socket.
"""

from __future__ import annotations

import email.utils
import json
import os
import re
import time
from typing import Any

import openai

from corrigenda.compiler.spec import ModelSpec
from corrigenda.runtime.connection import classify
from corrigenda.runtime.reasoning import split_reasoning
from corrigenda.runtime.request import Completion, EndpointRefused, PermanentError, Request, TransientError, Unreachable
from corrigenda.runtime.tokens import count_message_tokens, count_tokens
from corrigenda.templating import compiled

try:  # the HTTP library the installed openai client is built on
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

NO_KEY = "not-needed"  # the client insists on some key; keyless local servers ignore it
# Connecting never takes long when the host is there: a blackholed host is found in this long, not in timeout_s
# (minutes for reasoning models), so a dead endpoint stops the build after about give_up_after_s.
CONNECT_TIMEOUT_S = 30.0

# The client's telemetry headers (SDK version, OS, runtime, retry count): no server needs them, and each one is
# merged, normalised and re-checked on every request; leaving them out saves ~7% of the client's CPU per call.
_TELEMETRY_HEADERS = (
    "X-Stainless-Lang",
    "X-Stainless-Package-Version",
    "X-Stainless-OS",
    "X-Stainless-Arch",
    "X-Stainless-Runtime",
    "X-Stainless-Runtime-Version",
    "X-Stainless-Async",
)
_PER_REQUEST_OPTIONS: dict[str, Any] = {
    "headers": {"X-Stainless-Retry-Count": openai.omit, "X-Stainless-Read-Timeout": openai.omit}
}


def retry_after_seconds(headers: Any) -> float | None:
    """The server's hint, from `retry-after-ms`, `retry-after` seconds, or `retry-after` as an HTTP date."""
    if headers is None:
        return None
    value = headers.get("retry-after-ms")
    if value:
        try:
            return float(value) / 1000
        except ValueError:
            pass
    value = headers.get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        parsed = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None  # unreadable: fall back to our own backoff
    return max(0.0, parsed.timestamp() - time.time())


def _server_words(body: object) -> str:
    """What the server said about an error: the `message` of an OpenAI-style (or vLLM-style) JSON error, else the
    start of whatever it sent (a proxy's HTML page, plain text)."""
    error = body.get("error", body) if isinstance(body, dict) else None
    message = error.get("message") if isinstance(error, dict) else None
    if isinstance(message, str) and message:
        return message[:300]
    text = json.dumps(body, ensure_ascii=False) if isinstance(body, (dict, list)) else str(body or "")
    return " ".join(text.split())[:300]


def looks_like_html(content_type: str | None, text: str) -> bool:
    """A web page rather than an API answer: what a proxy, a login wall or a web app's front page sends."""
    start = text.lstrip()[:100].lower()
    return "html" in (content_type or "").lower() or start.startswith(("<!doctype html", "<html", "<head", "<body"))


def html_title(text: str) -> str:
    """The page's <title>, else its first words: enough for a user to recognise the page."""
    found = re.search(r"<title[^>]*>(.*?)</title>", text, re.IGNORECASE | re.DOTALL)
    words = " ".join((found.group(1) if found else re.sub(r"<[^>]+>", " ", text)).split())
    return repr(words[:120])


def http_client(concurrency: int, timeout_s: float | httpx.Timeout) -> httpx.AsyncClient:
    """The openai client's aiohttp transport: at hundreds of connections its pool stays fast where the default
    transport's slows down (see BENCHMARKS.md). The default transport if aiohttp is missing."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    try:
        return openai.DefaultAioHttpClient(limits=limits, timeout=timeout_s)
    except RuntimeError:  # installed without the `aiohttp` extra
        return openai.DefaultAsyncHttpxClient(limits=limits, timeout=timeout_s)


class OpenAIBackend:
    def __init__(self, name: str, model: ModelSpec, endpoint: str):
        self.name, self.model = name, model
        self.endpoint = endpoint.rstrip("/")
        key = os.environ.get(model.api_key_env) if model.api_key_env else None
        self.connect_s = min(model.timeout_s, CONNECT_TIMEOUT_S)
        timeout = httpx.Timeout(model.timeout_s, connect=self.connect_s)
        self._client = openai.AsyncOpenAI(
            base_url=self.endpoint,
            api_key=key or NO_KEY,
            max_retries=0,
            timeout=timeout,
            http_client=http_client(model.concurrency, timeout),
            default_headers=dict.fromkeys(_TELEMETRY_HEADERS, openai.omit),
        )

    @property
    def identity(self) -> dict[str, Any]:
        return {
            "engine": "openai",
            "endpoint": self.endpoint,
            "model": self.model.model,
            "mode": self.model.mode,
            "completion_template": self.model.completion_template,
        }

    async def close(self) -> None:
        await self._client.close()

    def _arguments(self, request: Request) -> dict[str, Any]:
        sampling = request.sampling
        arguments: dict[str, Any] = {"model": self.model.model}
        for key in ("temperature", "top_p", "max_tokens", "seed"):
            value = getattr(sampling, key)
            if value is not None:
                arguments[key] = value
        if sampling.stop:
            arguments["stop"] = list(sampling.stop)
        if sampling.min_p is not None:
            arguments["min_p"] = sampling.min_p  # not an OpenAI parameter; vLLM and llama.cpp read it
        return arguments

    async def complete(self, request: Request) -> Completion:
        try:
            if self.model.mode == "completion":
                return await self._complete_text(request)
            return await self._complete_chat(request)
        except openai.APIConnectionError as exc:  # timeouts included: the cause chain says which it really was
            failure = classify(
                exc, self.endpoint, self.model.timeout_s, f"models.{self.name}.timeout_s", self.connect_s
            )
            raise (Unreachable if failure.connecting else TransientError)(failure.text) from None
        except openai.APIStatusError as exc:
            status = exc.status_code
            detail = f"HTTP {status}: {_server_words(exc.body)}".rstrip(": ")
            if status in (408, 409, 425, 429) or status >= 500:
                raise TransientError(detail, retry_after_seconds(exc.response.headers), status) from None
            if status in (401, 403):
                env = self.model.api_key_env
                raise EndpointRefused(
                    f"{detail} (the key was refused)",
                    f"put the right key in ${env} (models.{self.name}.api_key_env)"
                    if env
                    else f"set models.{self.name}.api_key_env to the environment variable that holds the key",
                ) from None
            if status == 404:
                raise EndpointRefused(
                    f"{detail} (the model or the route is not there)",
                    f"check models.{self.name}.model and base_url; `corrigenda plan SPEC --probe` names the served "
                    "models and a working URL",
                ) from None
            raise PermanentError(detail) from None

    async def _post(self, path: str, body: dict[str, Any]) -> dict[str, Any]:
        """A documented raw POST through the client: the same auth, errors and timeouts, without re-validating our
        own request and re-building the response as typed models (most of the client's CPU time per call)."""
        response = await self._client.post(path, body=body, cast_to=httpx.Response, options=_PER_REQUEST_OPTIONS)
        try:
            data = response.json()
        except ValueError:
            if looks_like_html(response.headers.get("content-type"), response.text):
                # A proxy's or login page's HTML under HTTP 200: the same page comes back every time.
                raise EndpointRefused(
                    f"{self.endpoint}{path} answered an HTML page, not the API (a proxy or login page?): "
                    f"{html_title(response.text)}",
                    f"set models.{self.name}.base_url to the URL that /chat/completions follows",
                ) from None
            raise TransientError(f"response is not JSON: {response.text[:200]!r}") from None
        if not isinstance(data, dict) or not isinstance(data.get("choices"), list) or not data["choices"]:
            raise TransientError(f"response has no choices: {str(data)[:200]}")
        return data

    def batch_request(self, request: Request) -> tuple[str, dict[str, Any]]:
        """The URL path and body of this call as a batch request line sends it (the same body as online)."""
        if self.model.mode == "completion":
            return "/v1/completions", self._text_body(request)
        return "/v1/chat/completions", self._chat_body(request)

    def _chat_body(self, request: Request) -> dict[str, Any]:
        body = {**self._arguments(request), "messages": request.messages}
        if request.response_format is not None:
            body["response_format"] = request.response_format
        return body

    def _text_body(self, request: Request) -> dict[str, Any]:
        prompt = compiled(self.model.completion_template or "").render(
            messages=request.messages, add_generation_prompt=True, bos_token="", eos_token=""
        )
        return {**self._arguments(request), "prompt": prompt}

    async def _complete_chat(self, request: Request) -> Completion:
        data = await self._post("/chat/completions", self._chat_body(request))
        return completion_from(data, request.messages)

    async def _complete_text(self, request: Request) -> Completion:
        data = await self._post("/completions", self._text_body(request))
        return completion_from(data, request.messages)


def completion_from(data: dict[str, Any], messages: list[dict[str, str]]) -> Completion:
    """A chat or text completion response as a Completion, whether it came online or from a batch result file. A
    shape no server documents is a TransientError (asked again, then the item fails with it), never a crash."""
    choice = data["choices"][0]
    if not isinstance(choice, dict):
        raise TransientError(f"response choice is not an object: {str(choice)[:200]}")
    if "message" in choice:
        message = choice.get("message") or {}
        if not isinstance(message, dict):
            raise TransientError(f"response message is not an object: {str(message)[:200]}")
        content, thought = _message_text(message.get("content"))
        reasoning = message.get("reasoning_content") or message.get("reasoning")
        reasoning = reasoning if isinstance(reasoning, str) else thought
    else:
        content, reasoning = _message_text(choice.get("text"))
    return _completion(data.get("usage"), content, reasoning, choice.get("finish_reason"), messages)


def _message_text(content: Any) -> tuple[str, str | None]:
    """A message's content as (text, thinking): a string, or a list of parts as some servers send it (Mistral's
    reasoning models put `thinking` parts beside `text` parts)."""
    if content is None or isinstance(content, str):
        return content or "", None
    if not isinstance(content, list):
        raise TransientError(f"response content is not text: {str(content)[:200]}")
    text, thinking = [], []
    for part in content:
        if isinstance(part, str):
            text.append(part)
        elif isinstance(part, dict) and part.get("type") in ("thinking", "reasoning"):
            inner = part.get(part["type"], part.get("text"))
            thinking.append(inner if isinstance(inner, str) else _message_text(inner)[0])
        elif isinstance(part, dict) and isinstance(part.get("text"), str):
            text.append(part["text"])
        else:
            raise TransientError(f"response content part is not text: {str(part)[:200]}")
    return "".join(text), "".join(thinking) or None


def _completion(
    usage: Any, content: str, reasoning: str | None, finish_reason: str | None, messages: list[dict[str, str]]
) -> Completion:
    thought = split_reasoning(content, reasoning)[0]
    if isinstance(usage, dict) and isinstance(usage.get("prompt_tokens"), int):
        reported = (usage.get("completion_tokens_details") or {}).get("reasoning_tokens")
        # Many servers (vLLM, llama.cpp) count thinking in completion_tokens without breaking it out: estimate
        # it with tiktoken rather than report a reasoning model as having thought nothing.
        estimate = not reported and bool(thought)
        return Completion(
            content,
            reasoning,
            finish_reason or "stop",
            usage["prompt_tokens"],
            usage.get("completion_tokens") or 0,
            count_tokens(thought) if estimate else reported or 0,
            reasoning_estimated=estimate,
        )
    # No usage from the server: estimate with tiktoken and say so.
    return Completion(
        content,
        reasoning,
        finish_reason or "stop",
        count_message_tokens(messages),
        count_tokens(content) + count_tokens(reasoning or ""),
        count_tokens(thought),
        usage_estimated=True,
        reasoning_estimated=bool(thought),
    )
