"""`corrigenda build`: plan -> ingest -> filter -> generate -> gate -> release directory.

Nothing is released unless every record passes the schema gate and enough chunks succeeded; a failed or interrupted
build can be rerun and pays only for the calls that never completed (they are all in the SQLite cache).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import sqlite3
import sys
import time
from collections import Counter
from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from corrigenda import __version__
from corrigenda.atomic import write_json
from corrigenda.compiler.compile import Compiled
from corrigenda.compiler.plan import Plan
from corrigenda.emit.card import render_card, write_card
from corrigenda.emit.gate import GateProblem
from corrigenda.emit.manifest import record_entry, write_manifest
from corrigenda.emit.reasons import ReasonTable, rejection_tables, unsuitable_table
from corrigenda.emit.records import build_records
from corrigenda.emit.release import Release
from corrigenda.emit.viewer import write_viewer
from corrigenda.emit.writers import (
    write_axolotl_config,
    write_chat_template,
    write_input_output,
    write_jsonl,
    write_meta_dataset,
)
from corrigenda.errors import BudgetReached, CacheError, InputError, OfflineMiss, OutputError
from corrigenda.heuristic.facts import FactPool
from corrigenda.ingest.corpus import Chunk, IngestionReport, iter_chunks
from corrigenda.ingest.store import IngestStore, StoredReading, store_path
from corrigenda.lock import BuildLock
from corrigenda.runtime.backends import backend_for
from corrigenda.runtime.budget import Budget
from corrigenda.runtime.cache import CallCache
from corrigenda.runtime.caller import Caller, StepStats
from corrigenda.runtime.chunk_count import ChunkCount
from corrigenda.runtime.debug_log import read_debug, record_id
from corrigenda.runtime.dedupe import DuplicateFinder
from corrigenda.runtime.item import ACCEPTED, FAILED, REJECTED, UNSUITABLE, Item
from corrigenda.runtime.loop import run_sync
from corrigenda.runtime.pipeline import Pipeline
from corrigenda.runtime.progress import Progress
from corrigenda.runtime.results import ItemResults
from corrigenda.runtime.shard import Shard
from corrigenda.runtime.steps import StepRunner
from corrigenda.runtime.usage import ModelUsage
from corrigenda.startup import import_held


def note(text: str) -> None:
    """Batch progress, a line at a time on stderr (a batch runs for minutes to hours)."""
    print(text, file=sys.stderr, flush=True)


GATE_FAILURES = "gate_failures.json"


def probe_endpoints(plan: Plan) -> list[str]:
    """The endpoint preflight (probe.py), loaded only for a plan that calls one: the built-in engine's builds skip
    the HTTP client's import."""
    return import_held("corrigenda.runtime.probe").probe(plan) if plan.calls_endpoints else []


class UnreadableInputs(InputError):
    """`on_unreadable: strict` and some input files cannot be read; raised before any call is made."""

    def __init__(self, violations: list[str]):
        super().__init__(
            "; ".join(violations),
            "nothing was requested; fix or remove these files, or set inputs.on_unreadable: report",
        )
        self.violations = violations

    def lines(self) -> list[str]:
        return [f"unreadable input (inputs.on_unreadable is strict): {v}" for v in self.violations] + [self.hint or ""]


@dataclass
class BuildOptions:
    offline: bool = False
    resume: bool = True
    limit: int | None = None
    out: Path | None = None
    interactive: bool | None = None  # None: a live display when stderr is a terminal
    probe: bool = True  # check every endpoint before the first call (never offline or on heuristic models)
    shard: Shard | None = None  # build only this shard's chunks into its own cache; release nothing (see shard.py)
    batch: bool = False  # every openai-engine model through its batch API (as `batch: true` on each)
    max_usd: float | None = None  # overrides the spec's max_usd
    show_progress: bool = True  # False: no display of its own (a Ray shard; the driver shows every shard's figures)

    def __post_init__(self) -> None:
        if self.limit is not None and self.limit < 1:  # never "0 means everything": a cost trap on a paid endpoint
            raise InputError(f"limit must be at least 1, got {self.limit}", "leave it out to build every chunk")


@dataclass
class BuildResult:
    out_dir: Path
    counts: dict[str, int]
    failures: dict[str, int]
    usage: list[Any]
    failure_examples: dict[str, str] = field(default_factory=dict)  # reason key -> one full reason
    files: list[Path] = field(default_factory=list)
    gate_problems: list[GateProblem] = field(default_factory=list)
    released: bool = False
    refusal: str | None = None
    reports_dir: Path | None = None  # where a refused build's reports are (OUT.failed/)
    wall_s: float = 0.0
    requests: int = 0


def corpus_items(chunks: Iterator[Chunk], needs_facts: bool, shard: Shard | None = None) -> Iterator[Item]:
    """Items in corpus order. The heuristic engine draws wrong answers from the same source file (a JSONL file's
    records count as one source), so chunks are grouped by source; they arrive contiguously. A shard keeps only its
    chunks, after the pool is drawn from the whole source, so each item asks exactly what an unsharded build asks."""
    order = itertools.count()
    if not needs_facts:
        yield from (
            Item(next(order), chunk, chunk.variables())
            for chunk in chunks
            if shard is None or shard.holds(chunk.content_hash)
        )
        return
    for _, group in itertools.groupby(chunks, key=lambda chunk: chunk.source):
        members = list(group)
        pool = FactPool.from_texts([c.text for c in members])
        for chunk in members:
            if shard is not None and not shard.holds(chunk.content_hash):
                continue
            context = {
                "text": chunk.text,
                "title": chunk.title,
                "facts": pool,
                "digest": f"{chunk.content_hash}:{pool.digest}:{chunk.title}",
            }
            yield Item(next(order), chunk, chunk.variables(), context)


def _window(plan: Plan) -> int:
    used = {step.model for step in plan.spec.steps}
    return sum(plan.spec.models[name].concurrency for name in used)


class Build:
    def __init__(self, compiled: Compiled, options: BuildOptions):
        self.compiled, self.plan, self.options = compiled, compiled.plan, options
        base = Path(self.plan.base_dir)
        self.release = Release(options.out or base / self.plan.spec.output.dir)
        self.out_dir = self.release.staging  # every file of this build goes here; `release` swaps it in at the end
        cache = base / self.plan.spec.output.cache
        self.ingest_store = IngestStore(store_path(cache))  # every shard replays the one store (ingest/store.py)
        self.reading = StoredReading(self.ingest_store, self.plan.spec.inputs, base)
        spec_cache, cache = cache, options.shard.cache_path(cache) if options.shard else cache
        self.release.check_location([cache, self.ingest_store.path, *self._sources()])  # before either is created
        if options.offline and not cache.exists() and not (options.shard and spec_cache.exists()):
            raise OfflineMiss(  # else an empty cache is created, and the first chunk "is not cached"
                f"--offline: there is no cache at {cache} (output.cache), so nothing can be answered from it",
                "build without --offline first, or merge the shards' caches into it (corrigenda cache merge ... -o "
                f"{cache})",
            )
        self.cache = CallCache(cache, fallback=spec_cache if options.shard else None)  # a shard pays for no call twice
        # Two builds (other --out folders, or other specs) sharing this cache would each pay for every call.
        self.cache_lock = BuildLock(cache.with_name(f".{cache.name}.lock"), cache)
        # A shard reads the spec's cache through: a whole build writing it at the same time would pay for the same
        # calls as the shard. Shards share it with each other; a whole build holds it alone (its `cache_lock`).
        self.spec_cache_lock = BuildLock(
            spec_cache.with_name(f".{spec_cache.name}.lock"), spec_cache, shared=True, busy="is writing the cache"
        )
        used = list(dict.fromkeys(step.model for step in self.plan.spec.steps))
        self.budget = Budget(options.max_usd or self.plan.spec.max_usd)
        models = self.plan.spec.models
        batched = [n for n in used if models[n].engine == "openai" and (models[n].batch or options.batch)]
        if batched and not options.resume:  # a pass that ignores the cache would never see its batches' answers
            self.cache.close()
            raise InputError("--no-resume cannot be used in batch mode", "leave out --no-resume, or --batch")
        self.batcher = (
            import_held("corrigenda.runtime.batcher").Batcher(self.cache, self.budget, note)
            if batched and not options.offline
            else None
        )
        self.callers = {
            name: Caller(
                name,
                self.plan.spec.models[name],
                backend_for(self.plan, name),
                self.cache,
                offline=options.offline,
                read_cache=options.resume,
                batch=self.batcher if name in batched else None,
                budget=self.budget,
            )
            for name in used
        }
        self.runners = [
            StepRunner(
                step,
                compiled.prompt_files.get(step.name),
                self.callers[step.model],
                self.plan.spec.models[step.model].sampling.merged(step.sampling),
            )
            for step in self.plan.spec.steps
        ]
        self.report = IngestionReport()
        self.pre_read: list[str] = []  # files the strict policy's check read before the build (check_inputs)
        self.progress: Progress | None = None  # while the pipeline runs: the live figures

    def chunks(self) -> Iterator[Chunk]:
        chunks = iter_chunks(self.plan.spec.inputs, Path(self.plan.base_dir), self.report, self.reading)
        return itertools.islice(chunks, self.options.limit) if self.options.limit is not None else chunks

    async def collect_pass(self, needs_facts: bool) -> int:
        """One pass over the items that answers what the cache can and records, for a batch, every call it cannot;
        the items that needed one (they stop there)."""
        assert self.batcher is not None
        self.batcher.store.forget_wants()
        collect = Pipeline(self.runners, _window(self.plan), None, collect=False)
        await collect.run(corpus_items(self.chunks(), needs_facts, self.options.shard))
        return collect.deferred

    @property
    def needs_facts(self) -> bool:
        return any(c.backend.identity["engine"] == "heuristic" for c in self.callers.values())

    async def _batch_rounds(self, needs_facts: bool) -> None:
        """Batch mode: passes over the items, each sending what the cache lacks as batches and waiting for them,
        until a pass needs nothing new; the pipeline run after it then answers every call from the cache."""
        assert self.batcher is not None
        batched = [caller for caller in self.callers.values() if caller.batch is not None]
        try:
            while not self.budget.reached:
                if not await self.collect_pass(needs_facts) or not await self.batcher.run_round(batched):
                    break
        finally:
            await self.batcher.close()
        for runner in self.runners:  # the passes counted cached answers again and again; the real run counts once
            runner.stats = StepStats()
        for caller in self.callers.values():
            caller.usage = ModelUsage(caller.name, caller.model.model, caller.model.pricing)

    async def _run_pipeline(self) -> list[Item]:
        needs_facts = any(c.backend.identity["engine"] == "heuristic" for c in self.callers.values())
        shard = self.options.shard
        if self.batcher is not None:
            await self._batch_rounds(needs_facts)
        debug = None if shard else self.out_dir / "debug_outputs"  # a shard releases nothing
        results = ItemResults(
            self.cache, self.plan.fingerprint, self.runners, self._previous_debug(), read=self.options.resume
        )
        pipeline = Pipeline(self.runners, _window(self.plan), debug, results=results)
        self.pipeline = pipeline
        # The planned total is counted beside the run, so the first request does not wait for it.
        planned = ChunkCount(
            self.plan.spec.inputs, Path(self.plan.base_dir), self.options.limit, shard, self.ingest_store.path
        ).start()
        self.progress = Progress(
            self.runners,
            lambda: pipeline.ingested,
            interactive=self.options.interactive,
            planned=lambda: planned.total,
            quiet=not self.options.show_progress,
        )
        work = asyncio.ensure_future(pipeline.run(corpus_items(planned.follow(self.chunks()), needs_facts, shard)))
        try:
            await self.progress.run(work)
            return await work
        finally:
            self.reading.flush()
            planned.stop()
            if not work.done():
                work.cancel()
                await asyncio.gather(work, return_exceptions=True)
            for caller in self.callers.values():
                await caller.backend.close()

    def _previous_debug(self) -> Path | None:
        """The last release's debug files, when it was built from this plan by this corrigenda: an item finished
        from its stored result links its files from there."""
        manifest = self.release.final / "manifest.json"
        try:
            recorded = json.loads(manifest.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return None
        if not isinstance(recorded, dict):
            return None
        same = recorded.get("plan_fingerprint") == self.plan.fingerprint and recorded.get("corrigenda") == __version__
        return self.release.final / "debug_outputs" if same else None

    def check_inputs(self) -> None:
        """Under the strict policy, read every document once before spending anything."""
        inputs = self.plan.spec.inputs
        if inputs.on_unreadable != "strict":
            return
        report = IngestionReport()
        for _ in iter_chunks(inputs, Path(self.plan.base_dir), report, self.reading):  # stored: the build replays it
            pass
        self.reading.flush()
        violations = report.policy_violations(inputs.on_unreadable)
        if violations:
            raise UnreadableInputs(violations)
        self.pre_read = report.files_read

    def _lost_inputs(self) -> list[str]:
        """Under the strict policy, the files read before the build that it could not read itself (deleted, moved,
        locked meanwhile): a release without them is not what strict promised."""
        lost = self.report.policy_violations(self.plan.spec.inputs.on_unreadable)
        if self.options.limit is None:  # --limit stops reading early: unread files are not lost ones
            read = set(self.report.files_read) | {item["file"] for item in self.report.skipped}
            lost += [f"{file}: no longer found by inputs.paths" for file in self.pre_read if file not in read]
        return lost

    def _sources(self) -> list[Path]:
        """What the build reads: a release directory holding any of it could not be swapped away."""
        base = Path(self.plan.base_dir)
        prompts = (base / prompt.path for prompt in self.plan.prompts.values())
        return [Path(self.plan.spec_file), *(base / f.path for f in self.plan.inputs), *prompts]

    def run(self) -> BuildResult:
        if self.options.shard:
            return self._run_shard()
        started = time.monotonic()
        try:
            self.check_inputs()
            self.release.open()  # locked and staged before anything is asked of an endpoint
            self.cache_lock.acquire()
            if self.options.probe and not self.options.offline:
                probe_endpoints(self.plan)  # a dead endpoint, a bad key or an unknown model stops the build early
        except BaseException:
            # Not abandon(): when the lock was refused, the staging folder belongs to the build that holds it.
            self.cache.close()
            self.cache_lock.release()
            self.release.close()
            raise
        try:
            try:
                items = run_sync(self._run_pipeline)
            except KeyboardInterrupt:
                live = self.batcher.store.batches(live_only=True) if self.batcher else []
                if live:
                    from corrigenda.runtime.batcher import BatchesInterrupted  # loaded with the batcher

                    raise BatchesInterrupted(
                        f"interrupted while {len(live)} batch(es) run at the provider; they keep running and every "
                        "result already in is cached",
                        "rerun the same command to collect their results (nothing is sent twice), or stop them "
                        "with `corrigenda batch cancel SPEC`",
                    ) from None
                raise
            finally:
                self.cache.close()
                self.cache_lock.release()
            result = self._finish(items)
        except OSError as exc:  # a full disk or a folder gone while writing: the old release stays whole
            self.release.abandon()
            raise OutputError(
                f"cannot write {exc.filename or self.out_dir}: {exc.strerror or exc}",
                f"nothing was released and {self.release.final} is as it was; every completed call is cached, so "
                "a rerun once this is fixed pays only for the rest",
            ) from None
        except sqlite3.Error as exc:  # the cache failed mid-run: a full disk, the file removed or damaged
            self.release.abandon()
            raise CacheError(
                f"the cache at {self.cache.path} failed during the build: {exc}",
                f"nothing was released and {self.release.final} is as it was; every call stored before this is kept, "
                "so fix it (free space) and rerun",
            ) from None
        except BaseException:
            self.release.abandon()
            raise
        finally:
            self.release.close()
        result.wall_s = time.monotonic() - started
        result.requests = sum(c.usage.requests_this_run for c in self.callers.values())
        if self.budget.reached:
            raise BudgetReached(
                f"max_usd ${self.budget.cap:g} reached: ${self.budget.spent:.4f} spent, no further request or batch "
                "was sent; nothing was released",
                f"every finished call is cached; raise max_usd (or --max-usd) and rerun to go on. Reports and the "
                f"card are in {self.release.failed}",
            )
        return result

    def _run_shard(self) -> BuildResult:
        """Only this shard's calls, into its own cache; nothing is released (merge the caches, then build
        --offline)."""
        started = time.monotonic()
        try:
            self.check_inputs()
            self.cache_lock.acquire()
            self.spec_cache_lock.acquire()
            if self.options.probe and not self.options.offline:
                probe_endpoints(self.plan)
            items = run_sync(self._run_pipeline)  # works inside a running event loop too (loop.py)
        finally:
            self.cache.close()
            self.cache_lock.release()
            self.spec_cache_lock.release()
        outcomes = Counter(item.outcome for item in items)
        counts = {"chunks": len(items), **{name: outcomes[name] for name in (ACCEPTED, UNSUITABLE, FAILED, REJECTED)}}
        failures = Counter(item.reason_key for item in items if item.outcome == FAILED)
        result = BuildResult(self.cache.path, counts, dict(failures), [c.usage for c in self.callers.values()])
        for item in items:
            if item.outcome == FAILED and item.reason_key:
                result.failure_examples.setdefault(item.reason_key, item.reason or item.reason_key)
        result.wall_s = time.monotonic() - started
        result.requests = sum(c.usage.requests_this_run for c in self.callers.values())
        if self.budget.reached:
            raise BudgetReached(
                f"max_usd ${self.budget.cap:g} reached in shard {self.options.shard}: ${self.budget.spent:.4f} spent, "
                "no further request was sent",
                "every finished call is in the shard's cache; raise max_usd (or --max-usd) and rerun the shard",
            )
        return result

    def _meta_entries(self, items: list[Item]) -> Iterator[dict[str, Any]]:
        keys = set(self.plan.spec.output.meta_datagen.keys)
        debug = read_debug(self.out_dir / "debug_outputs")
        for item in items:
            for runner in self.runners:
                if keys and runner.step.name not in keys:
                    continue
                record = debug.get(record_id(runner.step.name, item.chunk.chunk_id))
                if record is None:
                    continue
                for attempt in record["attempts"]:
                    if attempt.get("raw") is not None:
                        yield {
                            "step": runner.step.name,
                            "item": item.chunk.chunk_id,
                            "sample": attempt["sample"],
                            "messages": attempt["messages"],
                            "response": attempt["raw"],
                            "reasoning": attempt.get("reasoning"),
                        }

    def _drop_duplicates(self, items: list[Item]) -> None:
        """With a verify step, a question that repeats an earlier accepted one (exactly or nearly) is rejected. The
        document's title is left out of the comparison: two copies of one manual (its text and its PDF) ask the
        same statement under different titles, and that is still the same training example twice."""
        verifiers = [runner.step for runner in self.runners if runner.step.kind == "verify"]
        if not verifiers:
            return
        finder = DuplicateFinder()
        for item in items:
            if item.outcome != ACCEPTED or item.conversation is None:
                continue
            question = item.conversation.initial_question
            if item.chunk.title:
                question = question.replace(item.chunk.title, " ")
            earlier = finder.check(item.chunk.chunk_id, question)
            if earlier is not None:
                rule = f"duplicate: the question repeats the one of {earlier}"
                item.rejections.append(
                    {
                        "step": verifiers[0].name,
                        "round": None,
                        "reasons": [rule],
                        "conversation": asdict(item.conversation),
                    }
                )
                item.finish(REJECTED, f"{verifiers[0].name}: duplicate", rule)

    def _finish(self, items: list[Item]) -> BuildResult:
        spec = self.plan.spec
        self._drop_duplicates(items)
        outcomes = Counter(item.outcome for item in items)
        rejected_rows = [
            {"item": item.chunk.chunk_id, "source": item.chunk.source, **rejection}
            for item in items
            for rejection in item.rejections
        ]
        failures = Counter(item.reason_key for item in items if item.outcome == FAILED)
        accepted = [item for item in items if item.outcome == ACCEPTED and item.conversation is not None]
        records, problems = build_records(
            [(i.chunk.chunk_id, i.chunk.source, i.conversation) for i in accepted], spec.template
        )
        generators = [runner for runner in self.runners if runner.step.kind == "generate"]
        suitable = sum(1 for item in items if generators and generators[0].step.name in item.reached)
        counts = {
            "chunks": len(items),
            "unsuitable": outcomes[UNSUITABLE],
            "suitable": suitable,
            "failed": outcomes[FAILED],
            "generated": len(accepted) + outcomes[REJECTED],
            "rejected": outcomes[REJECTED],
            "released": len(records) if not problems else 0,
        }
        usage = [caller.usage for caller in self.callers.values()]
        result = BuildResult(self.release.final, counts, dict(failures), usage, gate_problems=problems)
        for item in items:
            if item.outcome == FAILED and item.reason_key:
                result.failure_examples.setdefault(item.reason_key, item.reason or item.reason_key)
        self.out_dir.mkdir(parents=True, exist_ok=True)
        files = [self.report.write(self.out_dir), *(u.write(self.out_dir) for u in usage)]
        failed_rows = [
            {"item": i.chunk.chunk_id, "source": i.chunk.source, "reason": i.reason}
            for i in items
            if i.outcome == FAILED
        ]
        files.append(write_jsonl(self.out_dir / "failed.jsonl", failed_rows))
        if any(runner.step.kind == "verify" for runner in self.runners):
            files.append(write_jsonl(self.out_dir / "rejected.jsonl", rejected_rows))
        gate_file = self.out_dir / GATE_FAILURES
        refusal = self._refusal(counts, problems, records)
        if refusal:
            result.refusal = refusal
            gate = {
                "reason": refusal,
                "problems": [{"record": p.index, "item": p.item, "rule": p.rule} for p in problems],
            }
            write_json(gate_file, gate)
            if self.budget.reached:  # the card says how far the money went
                cap = ReasonTable(
                    "Spending cap",
                    ["max_usd", "spent USD", "chunks built"],
                    [[f"{self.budget.cap:g}", f"{self.budget.spent:.4f}", str(len(items))]],
                )
                card = render_card(
                    self.plan, counts, [cap], usage, records, dict(Counter(i.chunk.source for i in items))
                )
                files.append(write_card(self.out_dir, card))
            result.files = self.release.refuse([*files, gate_file])  # the previous release stays as it was
            result.reports_dir = self.release.failed
            return result
        if "input_output" in spec.output.formats:
            files.append(write_input_output(self.out_dir, records))
        if "chat_template" in spec.output.formats:
            files.append(write_chat_template(self.out_dir, records, spec.template))
        files.append(write_axolotl_config(self.out_dir, spec.template, spec.output.formats, self.release.final))
        if spec.output.meta_datagen.enabled:
            files.append(write_meta_dataset(self.out_dir, self._meta_entries(items)))
        tables = [
            unsuitable_table((i.reason_key or "", i.reason or "") for i in items if i.outcome == UNSUITABLE),
            ReasonTable("Failures", ["reason", "count"], [list(row) for row in sorted(failures.items())]),
            *rejection_tables(rejected_rows, outcomes[REJECTED]),
        ]
        per_source = Counter(item.chunk.source for item in items)
        card = render_card(self.plan, counts, tables, usage, records, dict(per_source), release_dir=self.release.final)
        files.append(write_card(self.out_dir, card))
        files.append(write_viewer(self.out_dir, f"{spec.name}: {len(records)} conversations"))
        index = [record_entry(r.item, r.source, r.segments) for r in records]
        files.append(write_manifest(self.out_dir, self.plan, files, counts, index))
        result.files, result.released = self.release.publish(files), True
        return result

    def _refusal(self, counts: dict[str, int], problems: list[GateProblem], records: list[Any]) -> str | None:
        """Why nothing may be released, or None."""
        if self.budget.reached:
            return f"max_usd ${self.budget.cap:g} reached after ${self.budget.spent:.4f}: some chunks were not built"
        if lost := self._lost_inputs():
            return (
                f"inputs.on_unreadable is strict and {len(lost)} input file(s) could not be read during the build "
                f"(they were readable when it began): {'; '.join(lost)}"
            )
        if problems:
            return f"{len(problems)} record problem(s) broke the schema gate"
        if not records and not counts.get("chunks"):  # say where to look: the inputs, not the models
            return (
                "no chunk was read from the inputs (the ingestion lines and ingestion_report.json say why: "
                "a .jsonl line needs a `text` string, a document at least inputs.min_chunk_tokens tokens)"
            )
        if not records and counts.get("unsuitable") == counts.get("chunks"):
            return f"no conversation was generated: the filter found all {counts['chunks']} chunk(s) unsuitable"
        if not records:
            return "no conversation was generated"
        limit = self.plan.spec.output.max_failed_fraction
        if counts["suitable"] and counts["failed"] / counts["suitable"] > limit:
            return (
                f"{counts['failed']} of {counts['suitable']} suitable chunks failed, more than "
                f"output.max_failed_fraction ({limit:g}); rerun to retry only those"
            )
        return None
