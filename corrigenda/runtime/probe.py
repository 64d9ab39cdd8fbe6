"""Endpoint preflight: before a build spends anything, ask each endpoint the plan uses for its models.

One `GET /models` per distinct endpoint (all at once, with a short connect timeout), falling back to a one-token
request where that route is missing, finds in about a second what would otherwise fail every chunk in turn: nothing
listening, an unknown host, a TLS mismatch, a proxy's or login page's HTML, a base_url without `/v1`, a bad key, or a
model name the server does not serve. Every problem names the model, the URL tried and what to do.
"""

from __future__ import annotations

import asyncio
import difflib
import json
import os
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlsplit

from corrigenda.compiler.plan import Plan
from corrigenda.compiler.spec import ModelSpec
from corrigenda.errors import EndpointError
from corrigenda.runtime.connection import DNS, REFUSED, TIMEOUT, TLS, classify
from corrigenda.runtime.loop import run_sync
from corrigenda.runtime.openai_backend import html_title, looks_like_html

try:  # the HTTP library the installed openai client is built on
    import httpx2 as httpx
except ImportError:  # pragma: no cover - older openai releases
    import httpx  # type: ignore[no-redef]

CONNECT_TIMEOUT_S = 2.0  # a live endpoint accepts at once; a dead one is reported in about this long
LIST_TIMEOUT_S = 10.0  # for the answer to GET /models
ONE_TOKEN_TIMEOUT_S = 30.0  # at most, for the one-token request (a busy server queues it)


class EndpointProblems(EndpointError):
    """One or more endpoints cannot be used; raised before any call is made."""

    def __init__(self, problems: list[str]):
        super().__init__("; ".join(problems), "nothing was requested; fix these, or skip the check with --no-probe")
        self.problems = problems

    def lines(self) -> list[str]:
        return [f"endpoint check failed: {problem}" for problem in self.problems] + [self.hint or ""]


@dataclass(frozen=True)
class Target:
    name: str  # the spec's key for the model
    model: ModelSpec
    url: str

    @property
    def label(self) -> str:
        return f"models.{self.name} ({self.model.model})"


@dataclass
class Answer:
    status: int
    data: Any  # the parsed JSON body, or None
    text: str
    html: bool

    @property
    def words(self) -> str:
        """What the server said, short: an API error's message, a page's title, or the start of the body."""
        if self.html:
            return f"an HTML page {html_title(self.text)}"
        error = self.data.get("error", self.data) if isinstance(self.data, dict) else None
        message = error.get("message") or error.get("detail") if isinstance(error, dict) else None
        return str(message or " ".join(self.text.split()))[:200]


@dataclass
class Report:
    ok: list[str] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


def targets(plan: Plan) -> list[Target]:
    """Every HTTP model a step uses; heuristic models have no endpoint."""
    used = dict.fromkeys(step.model for step in plan.spec.steps)
    models = plan.spec.models
    return [Target(name, models[name], plan.endpoints[name] or "") for name in used if models[name].engine == "openai"]


def _labels(group: list[Target]) -> str:
    """Every model on one endpoint: a problem with the endpoint is a problem for each of them."""
    return ", ".join(target.label for target in group)


def _fields(group: list[Target], setting: str) -> str:
    """The spec fields to change for the whole group: "models.small.base_url and models.large.base_url"; for a URL
    taken from `base_url_env`, that variable, since editing the spec's base_url would change nothing."""
    fields = " and ".join(f"models.{target.name}.{setting}" for target in group)
    if setting == "base_url":
        names = {t.model.base_url_env for t in group if t.model.base_url_env and os.environ.get(t.model.base_url_env)}
        if names:
            return f"{' and '.join(sorted(names))} (the environment variable that overrides {fields})"
    return fields


def _key(model: ModelSpec) -> str | None:
    return os.environ.get(model.api_key_env) if model.api_key_env else None


async def _ask(client: httpx.AsyncClient, target: Target, path: str, body: Any = None) -> Answer:
    headers = {"Authorization": f"Bearer {key}"} if (key := _key(target.model)) else {}
    url = target.url.rstrip("/") + path
    if body is None:
        response = await client.get(url, headers=headers)
    else:
        response = await client.post(url, headers=headers, json=body, timeout=_one_token_timeout(target))
    text = response.text
    try:
        data = json.loads(text)
    except ValueError:
        data = None
    html = data is None and looks_like_html(response.headers.get("content-type"), text)
    return Answer(response.status_code, data, text, html)


def _one_token_timeout(target: Target) -> httpx.Timeout:
    return httpx.Timeout(min(target.model.timeout_s, ONE_TOKEN_TIMEOUT_S), connect=CONNECT_TIMEOUT_S)


def _served(answer: Answer) -> list[str] | None:
    """The model names of an OpenAI-style model list, or None when the answer is not one."""
    if answer.status != 200 or not isinstance(answer.data, dict) or not isinstance(answer.data.get("data"), list):
        return None
    return [str(entry["id"]) for entry in answer.data["data"] if isinstance(entry, dict) and "id" in entry]


def _key_problem(group: list[Target], answer: Answer) -> str:
    target, where = group[0], _fields(group, "api_key_env")
    env = target.model.api_key_env
    if not env:
        what = f"set {where} to the environment variable that holds the key"
    elif not os.environ.get(env):
        what = f"the environment variable {env} ({where}) is not set: export the key there"
    else:
        what = f"check the key in the environment variable {env} ({where})"
    return f"{_labels(group)} at {target.url}: HTTP {answer.status}, the key was refused ({answer.words}); {what}"


def _unknown_model(target: Target, served: list[str], answer: Answer | None) -> str:
    close = difflib.get_close_matches(target.model.model, served, n=3, cutoff=0.4)
    if close:
        suggestion = f"did you mean {', '.join(close)}?"
    else:
        shown = ", ".join(served[:8]) + (f" and {len(served) - 8} more" if len(served) > 8 else "")
        suggestion = f"it serves: {shown}" if served else "it lists no models"
    said = f" ({answer.words})" if answer is not None else ""
    return (
        f"{target.label} at {target.url}: the endpoint does not serve model `{target.model.model}`{said}; "
        f"{suggestion} (set models.{target.name}.model)"
    )


# How servers say "no such model": vLLM and OpenAI ("does not exist"), Ollama ("not found"), LiteLLM ("invalid model"),
# OpenRouter ("not a valid model"), DeepInfra ("not available").
_UNKNOWN_MODEL_WORDS = ("not found", "not exist", "unknown", "no such", "invalid model", "not a valid", "not available")


def _says_unknown_model(answer: Answer, served: list[str] | None) -> bool:
    """A 4xx that means the model name is wrong; a 404 after a model list that lacks the name means so too."""
    words = answer.words.lower()
    if answer.status not in (400, 404, 422):
        return False
    return ("model" in words and any(w in words for w in _UNKNOWN_MODEL_WORDS)) or (
        served is not None and answer.status == 404
    )


async def _one_token(client: httpx.AsyncClient, target: Target, served: list[str] | None) -> str | None:
    """Ask the model for one token where the model list cannot settle it; a problem, or None when it answers."""
    model = target.model
    message = [{"role": "user", "content": "Say OK."}]
    path, body = (
        ("/completions", {"model": model.model, "prompt": "OK", "max_tokens": 1})
        if model.mode == "completion"
        else ("/chat/completions", {"model": model.model, "messages": message, "max_tokens": 1})
    )
    answer = await _ask(client, target, path, body)
    if answer.status < 300 and isinstance(answer.data, dict) and "choices" in answer.data:
        return None
    if answer.status in (401, 403):
        return _key_problem([target], answer)
    if _says_unknown_model(answer, served):
        return _unknown_model(target, served or [], answer)
    if answer.status in (400, 422, 429):  # it reached the model and objected to our tiny request, or is busy
        return None
    if answer.html or answer.status == 404:
        return _not_the_api([target], answer, path)
    return f"{target.label} at {target.url}{path}: HTTP {answer.status}: {answer.words}; check the server's log"


def _not_the_api(group: list[Target], answer: Answer, path: str) -> str:
    url = group[0].url
    guess = "" if url.rstrip("/").endswith("/v1") else f"; did you mean {url.rstrip('/')}/v1?"
    return (
        f"{_labels(group)} at {url}: not an OpenAI-compatible API (HTTP {answer.status} at {path}: "
        f"{answer.words}); set {_fields(group, 'base_url')} to the URL that /chat/completions follows{guess}"
    )


async def _with_v1(client: httpx.AsyncClient, group: list[Target]) -> str | None:
    """When the base_url lacks `/v1` and the API answers with it, say so: the commonest wrong base_url."""
    target = group[0]
    if target.url.rstrip("/").endswith("/v1"):
        return None
    fixed = Target(target.name, target.model, target.url.rstrip("/") + "/v1")
    try:
        answer = await _ask(client, fixed, "/models")
    except httpx.HTTPError:
        return None
    if _served(answer) is None:
        return None
    return (
        f"{_labels(group)} at {target.url}: no API there, but {fixed.url} answers; "
        f"set {_fields(group, 'base_url')} to {fixed.url}"
    )


def _connection_problem(group: list[Target], error: Exception) -> str:
    url = group[0].url
    failure = classify(error, url, CONNECT_TIMEOUT_S)
    if failure.kind == TIMEOUT:  # connected, then no answer: the answer's time limit applies
        failure = classify(error, url, LIST_TIMEOUT_S)
    where = _fields(group, "base_url")
    advice = {
        REFUSED: f"start the server, or correct the port in {where}",
        DNS: f"check the host name in {where}",
        TLS: f"if the server speaks plain HTTP, use http:// in {where}; else check its certificate",
    }.get(failure.kind, f"check that {url} is reachable from here (host, port, firewall, VPN)")
    return f"{_labels(group)} at {url}: {failure.text}; {advice}"


async def _probe_endpoint(client: httpx.AsyncClient, group: list[Target], report: Report) -> None:
    """One endpoint (one URL and key), shared by the models in `group`."""
    first = group[0]
    parts = urlsplit(first.url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        report.problems.append(
            f"{_labels(group)}: base_url `{first.url}` is not an http:// or https:// URL with a host; "
            f"set {_fields(group, 'base_url')} to one, e.g. http://localhost:8000/v1"
        )
        return
    try:
        listing = await _ask(client, first, "/models")
        served = _served(listing)
        if listing.status in (401, 403):
            report.problems.append(_key_problem(group, listing))
            return
        if served is None and (listing.html or listing.status == 404):
            fixed = await _with_v1(client, group)
            if fixed:
                report.problems.append(fixed)
                return
        if served is None and listing.html:
            report.problems.append(_not_the_api(group, listing, "/models"))
            return
        for target in group:
            known = served is not None and (target.model.model in served or f"{target.model.model}:latest" in served)
            problem = None if known else await _one_token(client, target, served)
            if problem:
                report.problems.append(problem)
            else:
                how = "listed at /models" if known else "answered a one-token request"
                report.ok.append(f"{target.label} at {target.url}: ok ({how})")
    except httpx.HTTPError as error:
        report.problems.append(_connection_problem(group, error))


async def _probe_all(groups: list[list[Target]]) -> Report:
    report = Report()
    timeout = httpx.Timeout(LIST_TIMEOUT_S, connect=CONNECT_TIMEOUT_S)
    async with httpx.AsyncClient(timeout=timeout, follow_redirects=True) as client:
        await asyncio.gather(*(_probe_endpoint(client, group, report) for group in groups))
    report.ok.sort()
    report.problems.sort()
    return report


def probe(plan: Plan) -> list[str]:
    """Check every endpoint the plan uses, each distinct one once and all at once. Returns a line per model that is
    ready; raises `EndpointProblems` (exit 3) naming each that is not."""
    groups: dict[tuple[str, str | None], list[Target]] = {}
    for target in targets(plan):
        groups.setdefault((target.url.rstrip("/"), target.model.api_key_env), []).append(target)
    if not groups:
        return []
    report = run_sync(lambda: _probe_all(list(groups.values())))
    if report.problems:
        raise EndpointProblems(report.problems)
    return report.ok
