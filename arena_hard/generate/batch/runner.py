"""The batch run loop both generation scripts share (`--batch`, or `batch: true` on a model).

Every job of every output file (`BatchTask`) is replayed against the results known so far: finished
jobs are appended to their output at once, failed ones are reported, and the requests that can go
out now are streamed into batches (one round) and submitted, each batch id logged the moment the
provider returns it. Then the batches this run waits on are polled every `poll_interval` seconds,
with a progress line per batch whenever its status or counts change; as soon as one has finished,
its results are read into the store and the jobs are replayed again, so second turns and judge
re-asks go out in the next round while other batches still run. A rerun finds the batches in the
store and collects them instead of sending anything again. `--cancel` cancels the open batches,
collects what they finished and submits nothing. Ctrl-C leaves the batches running and says how to
collect them. At the end each output is rewritten sorted and reported as a direct run would be."""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import JsonlAppender
from arena_hard.generate.batch.apis import BATCH_APIS, BatchStatus
from arena_hard.generate.batch.plan import RoundWriter, describe_group, describe_rounds
from arena_hard.generate.batch.replay import ReplayClient, replay
from arena_hard.generate.batch.store import BatchEntry, BatchStore
from arena_hard.generate.pipeline import JobFailure, MakeJob, RunReport, finish_output, print_report
from arena_hard.models.providers import PROVIDERS
from arena_hard.models.retry import MODEL, REQUEST, Failure, classify

DEFAULT_POLL_INTERVAL = 60.0
_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')


@dataclass(frozen=True)
class BatchTask:
    """One output file's pending jobs, as run_model takes them."""
    model: ModelConfig
    jobs: Sequence[Any]
    make_job: MakeJob
    output: Path
    label: str
    verb: str


@dataclass(frozen=True)
class BatchOptions:
    poll_interval: float = DEFAULT_POLL_INTERVAL
    cancel: bool = False


def check_batch_models(models: Sequence[ModelConfig]) -> None:
    for model in models:
        if model.api_type not in BATCH_APIS:
            raise UserError(f"{model.source}: `{model.name}` (api_type {model.api_type}) has no batch API; batch mode "
                            f"works with api_type {', '.join(BATCH_APIS)} (drop --batch or its `batch: true`)")


def state_dir(tasks: Sequence[BatchTask]) -> Path:
    return tasks[0].output.parent / ".batch"


@dataclass
class _Output:
    task: BatchTask
    client: ReplayClient
    run: Any
    remaining: list[Any]
    report: RunReport = field(default_factory=RunReport)
    appender: JsonlAppender | None = None


class _Clients:
    """One SDK client per batch group (api_type, address, and for OpenAI the model), made when first used."""

    def __init__(self, models: Sequence[ModelConfig]):
        self._models: dict[tuple[str, ...], ModelConfig] = {}
        for model in models:
            self._models.setdefault(tuple(BATCH_APIS[model.api_type].group(model)), model)
        self._clients: dict[tuple[str, ...], Any] = {}

    def serves(self, entry: BatchEntry) -> bool:
        return tuple(entry.group) in self._models

    def get(self, group: Sequence[str]) -> Any:
        key = tuple(group)
        if key not in self._clients:
            if key not in self._models:
                raise UserError(f"a batch was sent to {describe_group(group)}, which no model of this run reaches; "
                                "restore that model's entry in the endpoint file to collect it")
            model = self._models[key]
            provider = PROVIDERS[model.api_type]
            self._clients[key] = provider.new_client(provider.client_options(model, model.endpoints[0]))
        return self._clients[key]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()


def _elapsed(since: float | None) -> str:
    seconds = int(time.time() - since) if since else 0
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def _say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _replay_outputs(store: BatchStore, outputs: Sequence[_Output], writer: RoundWriter | None) -> set[str]:
    """Replay every remaining job: write finished records, report failures, plan what can go out now.
    Returns the local ids of the submitted batches the remaining jobs wait on."""
    waiting_on: set[str] = set()
    for output in outputs:
        still = []
        for job in output.remaining:
            outcome = replay(output.client, output.run, job)
            if outcome.record is not None:
                if output.appender is None:
                    output.appender = JsonlAppender(output.task.output)
                output.appender.write(outcome.record)
                report = output.report
                report.written += 1
                report.usage.calls += len(output.client.used)
                report.usage.prompt_tokens += sum(r.prompt_tokens for r in output.client.used)
                report.usage.completion_tokens += sum(r.completion_tokens for r in output.client.used)
            elif outcome.failed is not None:
                output.report.failures.append(JobFailure(job.question.question_id, outcome.failed.failure.describe(),
                                                         outcome.failed.attempts, True))
            else:
                still.append(job)
                for need in outcome.needs:
                    if need.round == 1 and need.waiting:
                        waiting_on.add(store.waiting[need.custom_id])
                    elif need.round == 1 and writer is not None:
                        writer.add(output.task.model, need)
        output.remaining = still
    return waiting_on


async def _submit(store: BatchStore, clients: _Clients, entry: BatchEntry) -> None:
    api = BATCH_APIS[entry.group[0]]
    try:
        batch_id = await api.submit(clients.get(entry.group), store.requests_file(entry.local_id), entry.local_id)
    except (UserError, asyncio.CancelledError):
        raise
    except Exception as error:
        failure = classify(error)
        if failure.status is not None:  # the provider answered: no batch was made
            store.finished(entry, "failed", reason=failure.describe())
        raise UserError(f"submitting a batch of {entry.count:,} requests to {describe_group(entry.group)} failed: "
                        f"{failure.describe()}") from None
    store.submitted(entry, batch_id)
    _say(f"submitted batch {batch_id}: {entry.count:,} requests to {describe_group(entry.group)}, "
         f"{entry.size / 1e6:,.1f} MB")


async def _recover_planned(store: BatchStore, clients: _Clients) -> None:
    """A batch planned but not known to be submitted (a kill during submission): an OpenAI batch
    carries its local id in its metadata and is found again; otherwise it is planned anew."""
    for entry in store.planned_entries():
        if not clients.serves(entry):
            continue
        found = None
        if entry.group[0] in ("openai", "azure"):
            page = await clients.get(entry.group).batches.list(limit=100)
            found = next((b.id for b in page.data if (b.metadata or {}).get("arena_hard_batch") == entry.local_id), None)
        if found:
            store.submitted(entry, found)
            _say(f"found batch {found}, submitted by an interrupted run; collecting it")
        else:
            store.finished(entry, "abandoned")


async def _cancel_open(store: BatchStore, clients: _Clients) -> None:
    entries = [entry for entry in store.open_entries() if clients.serves(entry)]
    for entry in entries:
        await BATCH_APIS[entry.group[0]].cancel(clients.get(entry.group), entry.batch_id)
        store.cancel_requested(entry)
        _say(f"cancelling batch {entry.batch_id} ({entry.count:,} requests); what it finished is collected")
    if not entries:
        _say("no open batches to cancel")


async def _collect(store: BatchStore, clients: _Clients, entry: BatchEntry, status: BatchStatus) -> None:
    """Read a finished batch's results into the store; a request with no readable result has failed."""
    api = BATCH_APIS[entry.group[0]]
    raw = store.directory / f"download-{entry.local_id}.jsonl"
    await api.download(clients.get(entry.group), entry.batch_id, raw)
    planned = set(store.plan_ids(entry))
    seen: set[str] = set()
    with open(raw, "rb") as handle:
        for lineno, line in enumerate(handle, 1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                if not isinstance(record, dict):
                    raise ValueError("not an object")
            except ValueError:
                match = _CUSTOM_ID.search(line)
                custom_id = match.group(1).decode() if match else None
                _say(f"  batch {entry.batch_id}: result line {lineno} is not JSON (custom id {custom_id or 'unknown'}); "
                     "that request counts as failed")
                if custom_id in planned and custom_id not in seen:
                    store.add_result(custom_id, entry.local_id,
                                     Failure(REQUEST, None, f"unreadable result line {lineno} of batch {entry.batch_id}"))
                    seen.add(custom_id)
                continue
            custom_id, outcome = api.read_line(record)
            if custom_id in planned and custom_id not in seen:
                store.add_result(custom_id, entry.local_id, outcome)
                seen.add(custom_id)
    for custom_id in planned - seen:
        store.add_result(custom_id, entry.local_id,
                         Failure(REQUEST, None, f"no result in batch {entry.batch_id} (it ended {status.state})"))
    store.finished(entry, "collected", status=status.state)
    raw.unlink()


async def _wait_for_one(store: BatchStore, clients: _Clients, entries: list[BatchEntry], interval: float) -> None:
    """Poll `entries` until one has finished; collect it. A batch the provider failed stops the run."""
    _say(f"waiting for {len(entries)} batch(es), polling every {interval:g} s; Ctrl-C leaves them running")
    shown: dict[str, tuple[str, int, int]] = {}
    while True:
        for entry in entries:
            api = BATCH_APIS[entry.group[0]]
            try:
                status = await api.status(clients.get(entry.group), entry.batch_id)
            except (UserError, asyncio.CancelledError):
                raise
            except Exception as error:
                failure = classify(error)
                if failure.kind == MODEL:
                    raise UserError(f"batch {entry.batch_id}: {failure.describe()}") from None
                _say(f"  batch {entry.batch_id}: polling failed ({failure.describe()}); trying again")
                continue
            if shown.get(entry.local_id) != (status.state, status.done, status.failed):
                shown[entry.local_id] = (status.state, status.done, status.failed)
                _say(f"  batch {entry.batch_id} ({entry.model}): {status.state}, {status.done:,}/{status.total:,} done, "
                     f"{status.failed:,} failed, {_elapsed(entry.submitted_at)} since submission")
            if status.finished:
                if status.error is not None:
                    store.finished(entry, "failed", reason=status.error)
                    raise UserError(f"batch {entry.batch_id} ({entry.count:,} requests to {describe_group(entry.group)}) "
                                    f"failed at the provider: {status.error}; none of it ran, rerun to send it again")
                await _collect(store, clients, entry, status)
                return
        await asyncio.sleep(interval)


async def _run(store: BatchStore, outputs: list[_Output], clients: _Clients, options: BatchOptions) -> None:
    try:
        await _recover_planned(store, clients)
        if options.cancel:
            await _cancel_open(store, clients)
        while True:
            writer = None if options.cancel else RoundWriter(store)
            waiting_on = _replay_outputs(store, outputs, writer)
            for entry in writer.finish() if writer is not None else []:
                await _submit(store, clients, entry)
                waiting_on.add(entry.local_id)
            if not waiting_on:
                return
            await _wait_for_one(store, clients, [store.entries[local_id] for local_id in waiting_on],
                                options.poll_interval)
    finally:
        await clients.aclose()


def run_batches(tasks: Sequence[BatchTask], options: BatchOptions) -> dict[str, RunReport]:
    """Run `tasks` through the batch APIs; each output is rewritten sorted and reported. Returns the
    report of each task by label."""
    check_batch_models([task.model for task in tasks])
    store = BatchStore.open(state_dir(tasks))
    outputs = []
    for task in tasks:
        client = ReplayClient(task.model, task.label, store.lookup)
        outputs.append(_Output(task, client, task.make_job(client), list(task.jobs)))
    try:
        asyncio.run(_run(store, outputs, _Clients([task.model for task in tasks]), options))
    except KeyboardInterrupt:
        running = [entry.batch_id for entry in store.open_entries()]
        if running:
            _say(f"{len(running)} batch(es) keep running at the provider ({', '.join(running[:5])}"
                 f"{', ...' if len(running) > 5 else ''}); rerun the same command to collect them, "
                 "or with --cancel to cancel them")
        raise
    finally:
        for output in outputs:
            if output.appender is not None:
                output.appender.close()
        store.close()
    reports = {}
    for output in outputs:
        for job in output.remaining:  # only with --cancel: what was never sent
            output.report.failures.append(JobFailure(job.question.question_id, "--cancel sends nothing new", 0, False))
        finish_output(output.task.output)
        print_report(output.task.label, output.task.verb, output.report)
        reports[output.task.label] = output.report
    return reports


def describe_batches(tasks: Sequence[BatchTask]) -> list[str]:
    """--dry-run --batch: the rounds, their batches, sizes and estimated prompt tokens; sends nothing."""
    check_batch_models([task.model for task in tasks])
    store = BatchStore.open(state_dir(tasks), write=False)
    first, later, waiting = RoundWriter(None, count_tokens=True), Counter[int](), 0
    try:
        for task in tasks:
            client = ReplayClient(task.model, task.label, store.lookup)
            run = task.make_job(client)
            for job in task.jobs:
                for need in replay(client, run, job).needs:
                    if need.round > 1:
                        later[need.round] += 1
                    elif need.waiting:
                        waiting += 1
                    else:
                        first.add(task.model, need)
    finally:
        store.close()
    return describe_rounds(first, dict(later), waiting, str(state_dir(tasks)))


def add_batch_arguments(parser: Any) -> None:
    parser.add_argument("--batch", action="store_true",
                        help="send every request through the provider's batch API (half the price, results "
                             "within 24 h); rerun the same command to collect after an interruption")
    parser.add_argument("--poll-interval", type=float, default=DEFAULT_POLL_INTERVAL, metavar="SECONDS",
                        help=f"seconds between two status polls of a batch (default {DEFAULT_POLL_INTERVAL:g})")
    parser.add_argument("--cancel", action="store_true",
                        help="cancel this run's open batches, collect what they finished, send nothing new")


def batch_options(args: Any) -> BatchOptions:
    if args.poll_interval < 0:
        raise UserError(f"--poll-interval must be a number of seconds >= 0, found {args.poll_interval:g}")
    return BatchOptions(args.poll_interval, args.cancel)


def uses_batch(args: Any, model: ModelConfig) -> bool:
    return bool(args.batch or args.cancel or model.batch)
