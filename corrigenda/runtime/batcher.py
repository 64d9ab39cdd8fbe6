"""Batch mode: a model's uncached calls go through the endpoint's batch API (`/v1/files` + `/v1/batches`) at the
batch price, instead of one request each.

A pass over the items records every call the cache cannot answer (caller.py raises `Deferred` for it, the item
stops); `run_round` then writes them into request files, uploads and submits them, polls with backoff, and stores
every result in the cache exactly as an online answer would be. The next pass finds those answers and goes one step
further; parse failures and cut-off answers ask for fresh samples there, which go into the next round's batch.
Every batch id and state is in the cache database (batch_store.py) before anything else happens, so a killed run
resumes polling and never sends the same calls twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import tempfile
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from typing import Any

import openai

from corrigenda.errors import EndpointDown, EndpointError, Interrupted
from corrigenda.runtime.batch_files import RequestFile, Result, read_results, request_line, write_request_files
from corrigenda.runtime.batch_store import SUBMITTING, TERMINAL, BatchRow, BatchStore
from corrigenda.runtime.budget import Budget
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.openai_backend import NO_KEY, completion_from
from corrigenda.runtime.request import Request, TransientError

Note = Callable[[str], None]
LIST_SLACK_S = 300.0  # clocks differ: a created batch is looked for among those up to this much older than its record


class BatchesInterrupted(Interrupted):
    """Ctrl-C while batches run at the provider: they keep running, and a rerun picks up their results."""


@contextlib.contextmanager
def provider_errors(caller: Any, doing: str) -> Iterator[None]:
    """An endpoint's refusal while using its batch API, as an EndpointError that says what to do: finished calls
    are cached and submitted batches keep running, so a rerun goes on from there."""
    endpoint, name = caller.backend.endpoint, caller.name
    try:
        yield
    except openai.NotFoundError:
        raise EndpointError(
            f"{endpoint} has no batch API: {doing} answered HTTP 404 (model {name})",
            f"run model {name} online (leave out batch: true and --batch), or write its calls for vllm run-batch "
            "with `corrigenda batch export`",
        ) from None
    except (openai.AuthenticationError, openai.PermissionDeniedError) as exc:
        raise EndpointError(
            f"{endpoint} refused the key while {doing} (HTTP {exc.status_code}, model {name})",
            f"set {caller.model.api_key_env or 'the api_key_env variable'} to a key that may use its batch API",
        ) from None
    except openai.APIStatusError as exc:
        raise EndpointError(
            f"{endpoint}: {doing} failed with HTTP {exc.status_code}: {str(exc.message)[:300]} (model {name})",
            "every finished call is cached and submitted batches keep running; rerun the same command once it works",
        ) from None
    except (openai.APIConnectionError, openai.APITimeoutError) as exc:
        raise EndpointDown(
            f"{endpoint} could not be reached while {doing} ({type(exc).__name__}, model {name})",
            "every finished call is cached and submitted batches keep running at the provider; rerun the same "
            "command once it answers",
        ) from None


def batch_client(endpoint: str, api_key_env: str | None) -> openai.AsyncOpenAI:
    key = os.environ.get(api_key_env) if api_key_env else None
    return openai.AsyncOpenAI(base_url=endpoint, api_key=key or NO_KEY, max_retries=5, timeout=600)


def store_result(cache: CallCache, store: BatchStore, result: Result) -> tuple[int, int] | None:
    """One result line into the cache, exactly as an online answer is stored (or its error beside its call); the
    tokens it used, or None when it holds no answer or belongs to no call of ours."""
    call = store.call(result.key)
    if call is None:
        return None  # not ours (another build's file): nothing to file it under
    model, step, item, line = call
    if result.body is None:
        store.call_error(result.key, result.error or "no response")
        return None
    messages = (json.loads(line).get("body") or {}).get("messages") or []
    try:
        completion = completion_from(result.body, messages)
    except TransientError as exc:  # a result line of a shape no server documents: that call has no answer
        store.call_error(result.key, exc.reason)
        return None
    cache.put(result.key, step, item, model, {"completion": completion.to_record(), "attempts": 1, "batch": True})
    return completion.input_tokens, completion.output_tokens


def ingest_file(cache: CallCache, store: BatchStore, path: Path) -> tuple[int, int]:
    """A downloaded output or error file into the cache in one transaction, a line at a time; the tokens used."""
    input_tokens = output_tokens = 0
    with open(path, "rb") as lines, cache.db:
        cache.db.execute("BEGIN")
        for result in read_results(lines):
            tokens = store_result(cache, store, result)
            if tokens:
                input_tokens, output_tokens = input_tokens + tokens[0], output_tokens + tokens[1]
    return input_tokens, output_tokens


class Batcher:
    def __init__(self, cache: CallCache, budget: Budget, note: Note | None = None):
        self.cache, self.budget = cache, budget
        self.store = BatchStore(cache.db)
        self.note = note or (lambda text: None)
        self._clients: dict[str, openai.AsyncOpenAI] = {}
        self._reserved: dict[str, float] = {}  # batch id -> USD held for it in this process
        self._worst: dict[str, float] = {}  # call key -> its worst-case USD, known while the request is at hand

    def want(self, caller: Any, key: str, request: Request) -> None:
        """Record a call the cache cannot answer, for this round's batch."""
        url, body = caller.backend.batch_request(request)
        self.store.want(key, caller.name, request.step, request.item, request_line(key, url, body))
        if self.budget.cap is not None:
            self._worst[key] = caller.worst_case_usd(request, batch=True)

    def _client(self, caller: Any) -> openai.AsyncOpenAI:
        if caller.name not in self._clients:
            self._clients[caller.name] = batch_client(caller.backend.endpoint, caller.model.api_key_env)
        return self._clients[caller.name]

    async def close(self) -> None:
        for client in self._clients.values():
            await client.close()

    async def run_round(self, callers: Iterable[Any]) -> int:
        """Finish the batches already running, send what the last pass asked for, and wait for it: the calls sent
        plus the batches finished (0: this round changed nothing, another pass would find the same)."""
        counts = await asyncio.gather(*(self._round(caller) for caller in callers))
        return sum(counts)

    async def _round(self, caller: Any) -> int:
        sent = await self.finish_live(caller)  # a killed run's batches: polled, never sent again
        held = [0.0]  # USD reserved for the lines read so far and not yet given to a batch

        def pairs() -> Iterator[tuple[str, str]]:
            for key, line, usd in self._affordable(caller, self.store.to_send(caller.name)):
                held[0] += usd
                yield key, line

        with tempfile.TemporaryDirectory(prefix="corrigenda-batch-") as folder:
            for request_file in write_request_files(pairs(), Path(folder), caller.name):
                batch_id = await self._submit(caller, request_file)
                self._reserved[batch_id], held[0] = held[0], 0.0
                sent += request_file.requests
                request_file.path.unlink()
        return sent + await self.finish_live(caller)

    def _affordable(self, caller: Any, lines: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, float]]:
        """The calls the spending cap allows, each with the USD held for it."""
        for key, line in lines:
            usd = 0.0
            if self.budget.cap is not None:
                usd = self._worst.pop(key, 0.0)  # every call to send was wanted in this pass (forget_wants)
                if not self.budget.reserve(usd):
                    return
            yield key, line, usd

    async def _submit(self, caller: Any, request_file: RequestFile) -> str:
        client = self._client(caller)
        url = "/v1/completions" if caller.model.mode == "completion" else "/v1/chat/completions"
        with open(request_file.path, "rb") as handle, provider_errors(caller, "uploading a batch request file"):
            uploaded = await client.files.create(file=(request_file.path.name, handle), purpose="batch")
        endpoint = caller.backend.endpoint
        size = request_file.requests
        pending = BatchRow(
            f"pending:{uploaded.id}", caller.name, endpoint, uploaded.id, None, None, SUBMITTING, size, 0, 0, False
        )
        self.store.record_batch(pending, request_file.custom_ids())  # before the create: see SUBMITTING
        with provider_errors(caller, "creating a batch"):
            batch = await client.batches.create(input_file_id=uploaded.id, endpoint=url, completion_window="24h")
        self.store.rename_batch(pending.id, batch.id, batch.status)
        self.note(f"batch {batch.id}: {size} {caller.name} calls submitted")
        return batch.id

    async def _resolve_submitting(self, caller: Any) -> None:
        """Batches a stopped run was creating: found among the provider's batches by their input file, or, when
        the provider has none, their calls sent again."""
        pending = {
            row.input_file: row for row in self.store.batches(caller.name, live_only=True) if row.status == SUBMITTING
        }
        if not pending:
            return
        since = min(self.store.recorded_at(row.id) for row in pending.values()) - LIST_SLACK_S
        unlisted = ""  # why the provider's batches could not be listed
        try:
            async for batch in self._client(caller).batches.list(limit=100):  # newest first
                row = pending.pop(batch.input_file_id, None)
                if row is not None:
                    self.store.rename_batch(row.id, batch.id, batch.status)
                    self.note(f"batch {batch.id}: {row.requests} {caller.name} calls found at the provider")
                if not pending or (batch.created_at or 0) < since:
                    break
        except openai.APIError as exc:
            unlisted = type(exc).__name__
        for row in pending.values():
            self.store.forget_batch(row.id)
            calls = f"{row.requests} {caller.name} calls"
            if unlisted:
                self.note(
                    f"whether a batch was created for request file {row.input_file} before the last run stopped is "
                    f"unknown (listing the provider's batches failed: {unlisted}): its {calls} are sent again; if the "
                    f"provider shows a batch for input file {row.input_file}, cancel it"
                )
            else:
                self.note(f"no batch was created for request file {row.input_file}: its {calls} are sent again")

    async def finish_live(self, caller: Any) -> int:
        """Every unfinished batch of this model polled to its end and read into the cache; how many there were."""
        await self._resolve_submitting(caller)
        live = self.store.batches(caller.name, live_only=True)
        await asyncio.gather(*(self._wait(caller, row) for row in live))
        return len(live)

    async def _wait(self, caller: Any, row: BatchRow) -> None:
        """Poll one batch with backoff until it ends, then read its output and error files into the cache."""
        client = self._client(caller)
        delay = caller.model.batch_poll_s
        while True:
            with provider_errors(caller, f"polling batch {row.id}"):
                batch = await client.batches.retrieve(row.id)
            counts = batch.request_counts
            done, failed = (counts.completed, counts.failed) if counts else (0, 0)
            self.store.update(row.id, batch.status, batch.output_file_id, batch.error_file_id, done, failed)
            if batch.status in TERMINAL:
                break
            await asyncio.sleep(delay)
            delay = min(delay * 2, caller.model.batch_poll_max_s)
        input_tokens = output_tokens = 0
        for file_id in (batch.output_file_id, batch.error_file_id):
            if not file_id:
                continue
            with tempfile.TemporaryDirectory(prefix="corrigenda-results-") as folder:
                path = Path(folder) / "results.jsonl"
                with provider_errors(caller, f"downloading the results of batch {row.id}"):
                    async with client.files.with_streaming_response.content(file_id) as response:
                        with open(path, "wb") as handle:  # to disk first: memory stays flat in the file's size
                            async for chunk in response.iter_bytes():
                                handle.write(chunk)
                tokens = ingest_file(self.cache, self.store, path)  # no await inside: one transaction at a time
            input_tokens, output_tokens = input_tokens + tokens[0], output_tokens + tokens[1]
        if batch.status != "completed":
            errors = batch.errors.data if batch.errors and batch.errors.data else []
            reason = "; ".join(str(error.message) for error in errors[:3]) or "no reason given"
            self.store.batch_error(row.id, f"batch {batch.status}: {reason}")
        self.store.mark_ingested(row.id)
        self.budget.settle(
            self._reserved.pop(row.id, 0.0), caller.model.pricing.cost(input_tokens, output_tokens, batch=True)
        )
        missing = self.store.missing(row.id)
        self.note(f"batch {row.id}: {batch.status}, {missing} of its calls without a result")
