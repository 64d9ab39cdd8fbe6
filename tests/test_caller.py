"""The caller against a real HTTP server: retries, Retry-After, failures reported, the cache, rate limits."""

from __future__ import annotations

import asyncio
import time

import pytest
from fake_openai import Reply

from corrigenda.compiler.spec import ModelSpec, Sampling
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.caller import Caller, CallFailed, OfflineMiss, StepStats
from corrigenda.runtime.limits import RateLimiter
from corrigenda.runtime.openai_backend import OpenAIBackend
from corrigenda.runtime.request import Request


def _caller(fake, tmp_path, **model):
    spec = ModelSpec(
        base_url=fake.base_url,
        model="m",
        backoff_s=0.01,
        backoff_max_s=0.05,
        timeout_s=model.pop("timeout_s", 5),
        **model,
    )
    return Caller("small", spec, OpenAIBackend("small", spec, fake.base_url), CallCache(tmp_path / "c.sqlite"))


def _request(item="doc#0", sample=0, content="hello"):
    return Request("filter", "filter", item, sample, [{"role": "user", "content": content}], Sampling())


def _call(caller, request, stats=None):
    async def go():
        try:
            return await caller.call(request, stats or StepStats())
        finally:
            await caller.backend.close()

    return asyncio.run(go())


def test_429_with_retry_after_is_honoured(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(status=429, retry_after=0.3) if n == 1 else Reply("fine")
    caller = _caller(fake_server, tmp_path)
    started = time.monotonic()
    stats = StepStats()
    completion, cached = _call(caller, _request(), stats)
    assert stats.retries == 1 and "HTTP 429" in stats.last_error  # shown live in the progress display
    assert completion.content == "fine" and not cached
    assert time.monotonic() - started >= 0.3
    assert fake_server.count == 2
    assert (caller.usage.requests, caller.usage.retries, caller.usage.failures) == (2, 1, 0)


def test_the_key_named_by_api_key_env_is_sent_and_telemetry_headers_are_not(fake_server, tmp_path, monkeypatch):
    monkeypatch.setenv("CORRIGENDA_TEST_KEY", "sk-test-123")
    caller = _caller(fake_server, tmp_path, api_key_env="CORRIGENDA_TEST_KEY")
    completion, _ = _call(caller, _request())
    assert completion.content
    headers = fake_server.last_headers
    assert headers["authorization"] == "Bearer sk-test-123"
    assert headers["content-type"] == "application/json"
    assert not [name for name in headers if name.startswith("x-stainless")]


def test_reasoning_tokens_come_from_the_server_when_it_counts_them(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(
        "<think>long thoughts</think>answer", completion_tokens=500, reasoning_tokens=420
    )
    caller = _caller(fake_server, tmp_path)
    completion, _ = _call(caller, _request())
    assert (completion.output_tokens, completion.reasoning_tokens, completion.reasoning_estimated) == (500, 420, False)
    assert caller.usage.as_file()["reasoning_tokens_estimated"] is False


@pytest.mark.parametrize("fault", [Reply(status=500), Reply(status=503), Reply(drop=True)])
def test_transient_faults_are_retried(fake_server, tmp_path, fault):
    fake_server.responder = lambda body, n: fault if n < 3 else Reply("fine")
    completion, _ = _call(_caller(fake_server, tmp_path), _request())
    assert completion.content == "fine"
    assert fake_server.count == 3


def test_a_hung_request_times_out_and_is_retried(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply("late", delay_s=3) if n == 1 else Reply("fine")
    completion, _ = _call(_caller(fake_server, tmp_path, timeout_s=0.5), _request())
    assert completion.content == "fine"


def test_a_call_that_keeps_failing_is_reported_not_dropped(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(status=500)
    caller = _caller(fake_server, tmp_path, max_attempts=3)
    with pytest.raises(CallFailed) as failure:
        _call(caller, _request())
    assert "HTTP 500" in failure.value.reason and "3 attempts" in failure.value.reason
    assert fake_server.count == 3
    assert caller.usage.failures == 1


def test_a_bad_request_is_not_retried_and_the_servers_words_are_the_reason(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(status=400)
    with pytest.raises(CallFailed) as failure:
        _call(_caller(fake_server, tmp_path), _request())
    assert "HTTP 400: injected 400" in failure.value.reason
    assert fake_server.count == 1


def test_a_proxys_plain_text_error_page_is_quoted_in_the_reason(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply(status=502, error_text="<html>502 Bad Gateway (nginx)</html>")
    caller = _caller(fake_server, tmp_path, max_attempts=2)
    with pytest.raises(CallFailed) as failure:
        _call(caller, _request())
    assert "HTTP 502: <html>502 Bad Gateway (nginx)</html>" in failure.value.reason


def test_answers_are_cached_and_offline_misses_fail_fast(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply("answer", completion_tokens=7, prompt_tokens=11)
    _call(_caller(fake_server, tmp_path), _request())
    again = _caller(fake_server, tmp_path)
    completion, cached = _call(again, _request())
    assert cached and completion.content == "answer"
    assert fake_server.count == 1
    assert (again.usage.input_tokens, again.usage.output_tokens) == (11, 7)  # cached calls still count
    offline = _caller(fake_server, tmp_path)
    offline.offline = True
    with pytest.raises(OfflineMiss):
        _call(offline, _request(sample=1))
    assert fake_server.count == 1


def test_usage_is_estimated_when_the_server_reports_none(fake_server, tmp_path):
    fake_server.responder = lambda body, n: Reply("four words of answer", usage=False)
    caller = _caller(fake_server, tmp_path)
    completion, _ = _call(caller, _request())
    assert completion.usage_estimated and completion.output_tokens > 0
    assert caller.usage.as_file()["usage_estimated"] is True


def test_concurrency_keeps_exactly_that_many_in_flight(fake_server, tmp_path):
    peak = [0]

    fake_server.responder = lambda body, n: Reply("ok", delay_s=0.2)
    caller = _caller(fake_server, tmp_path, concurrency=5)
    stats = StepStats()

    async def go():
        async def one(i):
            return await caller.call(_request(item=f"doc#{i}", content=f"passage {i}"), stats)

        async def watch():
            while True:
                peak[0] = max(peak[0], stats.in_flight)
                await asyncio.sleep(0.01)

        watcher = asyncio.create_task(watch())
        results = await asyncio.gather(*(one(i) for i in range(20)))
        watcher.cancel()
        await caller.backend.close()
        return results

    results = asyncio.run(go())
    assert len(results) == 20 and stats.in_flight == 0
    assert peak[0] == 5
    assert fake_server.count == 20  # every call made, never more than 5 at once


def test_rate_limiter_spaces_requests_and_settles_tokens():
    now = [0.0]

    async def sleep(seconds):
        now[0] += seconds

    limiter = RateLimiter(rpm=3, tpm=None, clock=lambda: now[0], sleep=sleep)

    async def go():
        return [(await limiter.acquire(1), now[0])[1] for _ in range(5)]

    assert asyncio.run(go()) == [0.0, 0.0, 0.0, 60.0, 60.0]

    now[0] = 0.0
    tokens = RateLimiter(rpm=None, tpm=1000, clock=lambda: now[0], sleep=sleep)

    async def reserve_and_settle():
        first = await tokens.acquire(900)  # an estimate with the whole max_tokens
        RateLimiter.settle(first, 200)  # the real usage was smaller: the rest is given back
        await tokens.acquire(700)
        at_second = now[0]
        await tokens.acquire(500)  # 200 + 700 + 500 > 1000: waits for the window
        return at_second, now[0]

    assert asyncio.run(reserve_and_settle()) == (0.0, 60.0)


def test_retry_after_header_forms():
    from email.utils import formatdate

    from corrigenda.runtime.openai_backend import retry_after_seconds

    assert retry_after_seconds({"retry-after": "7"}) == 7.0
    assert retry_after_seconds({"retry-after-ms": "250"}) == 0.25
    in_a_minute = retry_after_seconds({"retry-after": formatdate(time.time() + 60, usegmt=True)})
    assert 55 < in_a_minute <= 60
    assert retry_after_seconds({"retry-after": "soon"}) is None
    assert retry_after_seconds({}) is None
