"""Endpoint trouble against real local servers: the preflight (`plan --probe`, the start of every build), failures
named for what they are, and a build that stops when its endpoint dies and waits out a short outage."""

from __future__ import annotations

import asyncio
import contextlib
import http.server
import json
import re
import socket
import threading
import time
from collections.abc import Iterator

import pytest
from conftest import llm_spec
from fake_openai import Reply, default_reply
from hypothesis import given
from hypothesis import strategies as st

from corrigenda.cli import main
from corrigenda.compiler.spec import ModelSpec, Sampling
from corrigenda.errors import EndpointError
from corrigenda.runtime import probe as probe_module
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.caller import Caller, CallFailed, EndpointDown, Outage, StepStats
from corrigenda.runtime.openai_backend import OpenAIBackend
from corrigenda.runtime.request import Request


def free_port() -> int:
    """A port on 127.0.0.1 with nothing listening (bound, read, released)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def html_server() -> Iterator[str]:
    """A plain web server that answers every GET and POST with a login page, as a proxy or SSO wall does."""

    class Handler(http.server.BaseHTTPRequestHandler):
        def _page(self) -> None:
            body = b"<!DOCTYPE html><html><head><title>Sign in - Corp SSO</title></head><body>Sign in</body></html>"
            self.send_response(200)
            self.send_header("Content-Type", "text/html; charset=utf-8")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        do_GET = _page

        def do_POST(self) -> None:
            self.rfile.read(int(self.headers.get("Content-Length") or 0))
            self._page()

        def log_message(self, *args: object) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


@contextlib.contextmanager
def full_backlog() -> Iterator[str]:
    """A port whose listener never accepts and whose queue is full: the kernel drops new connection attempts, so a
    client's connect times out, as with a firewalled or vanished host, without leaving this machine."""
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(0)
    port = listener.getsockname()[1]
    fillers = []
    for _ in range(3):
        filler = socket.socket()
        filler.setblocking(False)
        with contextlib.suppress(BlockingIOError):
            filler.connect(("127.0.0.1", port))
        fillers.append(filler)
    time.sleep(0.1)
    try:
        yield f"http://127.0.0.1:{port}/v1"
    finally:
        for sock in [*fillers, listener]:
            sock.close()


def spec_for(project, url: str, give_up_after_s: float | None = None, **overrides: str):
    text = llm_spec(url, **overrides)
    if give_up_after_s is not None:
        text = text.replace("    backoff_s: 0.01\n", f"    backoff_s: 0.01\n    give_up_after_s: {give_up_after_s}\n")
    return project(text)


def plan_probe(spec, capsys) -> tuple[int, str, str]:
    code = main(["plan", str(spec), "--probe"])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


# --- the preflight ---------------------------------------------------------------------------------------------


def test_a_healthy_endpoint_passes_and_is_asked_once_for_both_models(project, fake_server, capsys):
    code, out, _ = plan_probe(spec_for(project, fake_server.base_url), capsys)
    assert code == 0
    assert f"models.large (large-model) at {fake_server.base_url}: ok (listed at /models)" in out
    assert "models.small (small-model)" in out
    assert fake_server.model_list_requests == 1  # one endpoint, one question
    assert fake_server.count == 0  # nothing paid for


def test_nothing_listening_is_named_with_the_url_and_the_build_stops_before_any_call(project, capsys):
    url = f"http://127.0.0.1:{free_port()}/v1"
    spec = spec_for(project, url)
    code, _, err = plan_probe(spec, capsys)
    assert code == 3
    assert f"models.small (small-model), models.large (large-model) at {url}: connection refused" in err
    assert "start the server" in err and "--no-probe" in err
    assert main(["build", str(spec)]) == 3
    assert "connection refused" in capsys.readouterr().err
    assert not (project.root / "out").exists()


def test_an_unknown_host_is_a_dns_failure(project, capsys):
    # A 64-character label is longer than DNS allows: the resolver refuses it without sending a query.
    url = f"http://{'a' * 64}.invalid/v1"
    code, _, err = plan_probe(spec_for(project, url), capsys)
    assert code == 3
    assert "DNS lookup failed" in err and "check the host name in models.small.base_url" in err


def test_https_to_a_plain_http_server_is_a_tls_failure(project, fake_server, capsys):
    url = fake_server.base_url.replace("http://", "https://")
    code, _, err = plan_probe(spec_for(project, url), capsys)
    assert code == 3
    assert "TLS handshake" in err and "use http://" in err


def test_a_host_that_never_accepts_times_out_quickly(project, capsys, monkeypatch):
    monkeypatch.setattr(probe_module, "CONNECT_TIMEOUT_S", 0.3)
    with full_backlog() as url:
        code, _, err = plan_probe(spec_for(project, url), capsys)
    assert code == 3
    assert "within 0.3 s (timed out)" in err and "firewall" in err


def test_an_html_page_instead_of_the_api_is_named(project, capsys):
    with html_server() as url:
        code, _, err = plan_probe(spec_for(project, url), capsys)
    assert code == 3
    assert f"models.small (small-model), models.large (large-model) at {url}: not an OpenAI-compatible API" in err
    assert "set models.small.base_url and models.large.base_url to the URL that /chat/completions follows" in err
    assert "'Sign in - Corp SSO'" in err  # the page's title, so the user recognises it


def test_a_base_url_without_v1_gets_the_working_url_suggested(project, fake_server, capsys):
    url = fake_server.base_url.removesuffix("/v1")
    code, _, err = plan_probe(spec_for(project, url), capsys)
    assert code == 3
    # Both models use that base_url: both are named, so one fix and one rerun settle it.
    assert f"models.small (small-model), models.large (large-model) at {url}: no API there" in err
    assert (
        f"{fake_server.base_url} answers; set models.small.base_url and models.large.base_url to {fake_server.base_url}"
    ) in err


def test_a_bad_key_names_the_environment_variable(project, fake_server, capsys, monkeypatch):
    fake_server.api_key = "sk-right"
    monkeypatch.setenv("CORRIGENDA_TEST_KEY", "sk-wrong")
    extra = "    api_key_env: CORRIGENDA_TEST_KEY\n"
    spec = project(llm_spec(fake_server.base_url).replace("    backoff_s: 0.01\n", "    backoff_s: 0.01\n" + extra))
    code, _, err = plan_probe(spec, capsys)
    assert code == 3
    assert "HTTP 401, the key was refused (Incorrect API key provided)" in err
    assert "models.small (small-model), models.large (large-model) at" in err  # one key for both: both named
    assert (
        "check the key in the environment variable CORRIGENDA_TEST_KEY "
        "(models.small.api_key_env and models.large.api_key_env)"
    ) in err
    assert main(["build", str(spec)]) == 3 and fake_server.count == 0  # stopped before any call


def test_a_misspelt_model_gets_the_closest_served_names(project, fake_server, capsys):
    fake_server.reject_unknown_models = True
    spec = project(llm_spec(fake_server.base_url).replace("model: large-model", "model: lrage-model"))
    code, _, err = plan_probe(spec, capsys)
    assert code == 3
    assert "models.large (lrage-model)" in err and "does not serve model `lrage-model`" in err
    assert "did you mean large-model" in err and "set models.large.model" in err
    assert "models.small" not in err  # the other model on the same endpoint is fine


def test_a_model_the_list_leaves_out_but_the_server_answers_passes(project, fake_server, capsys):
    fake_server.models = ["something-else"]  # an alias the server resolves, as Ollama and proxies do
    code, out, _ = plan_probe(spec_for(project, fake_server.base_url), capsys)
    assert code == 0 and "ok (answered a one-token request)" in out
    assert all(body["max_tokens"] == 1 for body in fake_server.requests)


def test_a_server_without_a_models_route_is_checked_with_one_token(project, fake_server, capsys):
    fake_server.models = None
    code, out, _ = plan_probe(spec_for(project, fake_server.base_url), capsys)
    assert code == 0
    assert out.count("ok (answered a one-token request)") == 2
    assert fake_server.count == 2


def test_each_distinct_endpoint_is_reported(project, fake_server, capsys):
    dead = f"http://127.0.0.1:{free_port()}/v1"
    spec = project(llm_spec(fake_server.base_url).replace(f"base_url: {fake_server.base_url}", f"base_url: {dead}", 1))
    code, _, err = plan_probe(spec, capsys)
    assert code == 3
    assert f"models.small (small-model) at {dead}: connection refused" in err
    assert "models.large" not in err


def test_offline_builds_and_no_probe_skip_the_check(project, fake_server, capsys):
    spec = spec_for(project, fake_server.base_url)
    assert main(["build", str(spec)]) == 0
    assert fake_server.model_list_requests == 1
    assert main(["build", str(spec), "--offline"]) == 0
    assert main(["build", str(spec), "--no-probe"]) == 0
    assert fake_server.model_list_requests == 1


@given(
    name=st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-", min_size=5, max_size=30),
    position=st.integers(min_value=0),
    others=st.lists(st.sampled_from(["gpt-4o", "llama-3.1-8b", "qwen2.5-72b", "mistral-7b"]), max_size=4),
)
def test_a_one_character_typo_always_suggests_the_served_name(name, position, others):
    index = position % len(name)
    typo = name[:index] + ("x" if name[index] != "x" else "y") + name[index + 1 :]
    target = probe_module.Target("large", ModelSpec(base_url="http://h/v1", model=typo), "http://h/v1")
    message = probe_module._unknown_model(target, [*others, name], None)
    assert "did you mean" in message and name in message.split("did you mean", 1)[1]


# --- failures named in the runtime -----------------------------------------------------------------------------


def _caller(url: str, tmp_path, **model) -> Caller:
    spec = ModelSpec(**({"base_url": url, "model": "m", "backoff_s": 0.01, "backoff_max_s": 0.05} | model))
    return Caller("small", spec, OpenAIBackend("small", spec, url), CallCache(tmp_path / "c.sqlite"))


def _call(caller: Caller, stats: StepStats | None = None):
    request = Request("filter", "filter", "doc#0", 0, [{"role": "user", "content": "hi"}], Sampling())

    async def go():
        try:
            return await caller.call(request, stats or StepStats())
        finally:
            await caller.backend.close()

    return asyncio.run(go())


def test_a_refused_connection_is_called_refused_not_a_timeout(tmp_path):
    url = f"http://127.0.0.1:{free_port()}/v1"
    stats = StepStats()
    with pytest.raises(EndpointDown) as down:
        _call(_caller(url, tmp_path, give_up_after_s=0.3, max_attempts=2), stats)
    assert "connection refused by 127.0.0.1" in str(down.value) and "timed out" not in str(down.value)
    assert f"models.small (m) at {url}: no connection for" in down.value.message
    assert "rerun the same command to resume" in down.value.hint
    assert stats.retries > 2  # refusals used up no attempt: max_attempts is 2, the outage ran its course
    assert down.value.exit_code == 3


def test_an_answer_sent_before_the_outage_does_not_restart_its_clock(fake_server, tmp_path):
    """The call that was in flight when the server went down still gets its answer; that says nothing about new
    connections, so the call refused meanwhile stops the build (EndpointDown) instead of failing its chunk alone."""

    def responder(body, count):
        if count == 1:
            fake_server.server.outage(3)
            return Reply("late but fine", delay_s=0.3)
        return default_reply(body, count)

    fake_server.responder = responder
    caller = _caller(fake_server.base_url, tmp_path, give_up_after_s=0.5)

    async def go():
        def request(item: str) -> Request:
            return Request("filter", "filter", item, 0, [{"role": "user", "content": item}], Sampling())

        try:
            first = asyncio.create_task(caller.call(request("doc#0"), StepStats()))
            await asyncio.sleep(0.1)  # the server is down now; the first call waits for its answer
            second = asyncio.create_task(caller.call(request("doc#1"), StepStats()))
            return await asyncio.gather(first, second, return_exceptions=True)
        finally:
            await caller.backend.close()

    first, second = asyncio.run(go())
    assert first[0].content == "late but fine"
    assert isinstance(second, EndpointDown), second


@given(st.lists(st.tuples(st.floats(min_value=0, max_value=100), st.booleans()), max_size=30))
def test_an_outage_begins_with_the_earliest_refusal_after_the_latest_answer(tries):
    """Tries end in any order (the list is the order they end in; each carries when it began and whether it got
    through): the outage is dated from the earliest refused try that began after the latest answered one."""
    outage = Outage()
    for started, answered in tries:
        outage.succeeded(started) if answered else outage.refused(started)
    latest_answer = max((started for started, answered in tries if answered), default=float("-inf"))
    refusals_since = [started for started, answered in tries if not answered and started > latest_answer]
    if refusals_since:
        assert outage.since is not None and latest_answer <= outage.since <= min(refusals_since)
    assert outage.since is None or outage.since >= latest_answer


def test_tls_trouble_mid_run_is_named(fake_server, tmp_path):
    url = fake_server.base_url.replace("http://", "https://")
    with pytest.raises(EndpointDown) as down:
        _call(_caller(url, tmp_path, give_up_after_s=0.2))
    assert "TLS handshake with 127.0.0.1" in str(down.value)


def test_a_real_timeout_still_says_timed_out(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply("late", delay_s=3)
    stats = StepStats()
    with pytest.raises(CallFailed) as failure:
        _call(_caller(fake_server.base_url, tmp_path, timeout_s=0.3, max_attempts=1), stats)
    assert "timed out: no answer from 127.0.0.1" in failure.value.reason
    assert "within 0.3 s (models.small.timeout_s)" in failure.value.reason


def test_an_html_page_is_not_retried(fake_server, tmp_path):
    fake_server.html_page = "<html><head><title>Please log in</title></head><body>...</body></html>"
    with pytest.raises(EndpointError) as stopped:
        _call(_caller(fake_server.base_url, tmp_path, max_attempts=6))
    assert "answered an HTML page, not the API" in stopped.value.message and "'Please log in'" in stopped.value.message
    assert "models.small.base_url" in stopped.value.hint
    assert fake_server.count == 1


@pytest.mark.parametrize("trouble", ["key", "model", "html", "no_v1"])
def test_without_the_preflight_a_refusing_endpoint_stops_the_build_at_once(project, fake_server, capsys, trouble):
    """With --no-probe, a bad key, an unknown model, a login page or a missing /v1 failed every chunk in turn (a
    request each) and ended as exit 1, "the dataset failed its gate", instead of exit 3 naming what to fix."""
    _docs(project, 40)
    url = fake_server.base_url
    if trouble == "key":
        fake_server.api_key = "right"
    elif trouble == "model":
        fake_server.reject_unknown_models = True
    elif trouble == "html":
        fake_server.html_page = "<html><head><title>Sign in</title></head></html>"
    else:
        url = url.removesuffix("/v1")
    spec = spec_for(project, url, concurrency="2")
    if trouble == "model":
        spec.write_text(spec.read_text().replace("model: small-model", "model: smal-model"))
    assert main(["build", str(spec), "--no-probe", "--json"]) == 3
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["exit_code"] == 3 and "the build stopped" in data["error"] and "models.small" in data["error"]
    expected = {"key": "api_key_env", "model": "models.small.model", "html": "base_url", "no_v1": "base_url"}
    assert expected[trouble] in data["hint"] and "cached" in data["hint"]
    assert fake_server.count <= 4  # the calls already in flight (both models: 2 each), not one per chunk (40)
    assert not (project.root / "out").exists()


# --- a dead endpoint mid-run -----------------------------------------------------------------------------------


def _wait_until_listening(url: str) -> None:
    port = int(url.rsplit(":", 1)[1].split("/")[0])
    deadline = time.monotonic() + 15
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.05)
    raise AssertionError("the fake server did not come back")


def _counts(out: str) -> dict[str, int]:
    """The build's summary line: `name: chunks 8, unsuitable 0, ...`."""
    line = next(line for line in out.splitlines() if ": chunks " in line)
    return {name: int(value) for name, value in re.findall(r"(\w+) (\d+)", line.split(": ", 1)[1])}


def _docs(project, paragraphs: int) -> None:
    text = "\n\n".join(f"Fact {i}: the depot at mile {i} was built in {1850 + i}. " * 6 for i in range(paragraphs))
    (project.root / "docs" / "a.txt").write_text(text, encoding="utf-8")


def test_an_endpoint_that_dies_mid_run_stops_the_build_and_a_rerun_resumes(project, fake_server, capsys):
    _docs(project, 12)
    spec = spec_for(project, fake_server.base_url, give_up_after_s=0.4, concurrency="2")

    def responder(body, count):
        if count == 6:
            fake_server.server.outage(2)  # down for much longer than give_up_after_s
        return default_reply(body, count)

    fake_server.responder = responder
    assert main(["build", str(spec)]) == 3
    err = capsys.readouterr().err
    assert "no connection for" in err and "connection refused" in err
    assert "every finished call is cached: once the endpoint is back, rerun the same command to resume" in err
    cache = CallCache(project.root / ".corrigenda-cache" / "calls.sqlite")
    kept = cache.count()
    cache.close()
    assert kept >= 3  # answered before the outage, stored the moment they came back
    last = [line for line in err.splitlines() if line.startswith("[")][-1]  # the progress line it stopped on
    done = sum(int(n) for n in re.findall(r"(\d+) of ~?[\d,]+ done", last))
    assert done == kept and ", 0 failed" in last, last  # calls cut short by the stop are neither done nor failed
    before = fake_server.count
    _wait_until_listening(fake_server.base_url)
    fake_server.responder = default_reply
    assert main(["build", str(spec)]) == 0
    chunks = _counts(capsys.readouterr().out)["chunks"]
    assert fake_server.count - before == 2 * chunks - kept  # the rerun paid only for the calls never finished


def test_a_short_outage_is_waited_out_and_fails_nothing(project, fake_server, capsys):
    _docs(project, 8)
    spec = spec_for(project, fake_server.base_url, give_up_after_s=20, concurrency="2")

    def responder(body, count):
        if count == 4:
            fake_server.server.outage(0.5)
        return default_reply(body, count)

    fake_server.responder = responder
    assert main(["build", str(spec)]) == 0
    counts = _counts(capsys.readouterr().out)
    assert counts["failed"] == 0 and counts["released"] == counts["chunks"] > 2
    assert fake_server.model_list_requests == 1


def test_a_base_url_without_a_scheme_is_named_before_any_connection(project, capsys):
    code, _, err = plan_probe(spec_for(project, "localhost:8000/v1"), capsys)
    assert code == 3
    assert "base_url `localhost:8000/v1` is not an http:// or https:// URL with a host" in err


def test_a_host_that_never_accepts_is_a_connect_timeout_mid_run(tmp_path):
    with full_backlog() as url, pytest.raises(EndpointDown) as down:
        _call(_caller(url, tmp_path, timeout_s=0.3, give_up_after_s=0.2))
    assert "within 0.3 s (timed out)" in str(down.value)
