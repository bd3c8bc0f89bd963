"""The batch run loop both generation scripts share (`--batch`, or `batch: true` on a model).

Every job of every output file (`BatchTask`) is replayed against the results known so far: finished
jobs are appended to their output at once, failed ones are reported, and the requests that can go
out now are streamed into batches (one round) and submitted (batch.remote). Then the batches this run
waits on are polled (batch.poll); as soon as one has finished, its results are read into the store
and the jobs are replayed again, so second turns and judge re-asks go out in the next round while
other batches still run. A rerun finds the batches in the store and collects them instead of sending
anything again. `--cancel` cancels the open batches, collects what they finished, submits nothing and
sums up in one line what is left. Ctrl-C, or the poll timeout, leaves the batches running and says
how to collect them. At the end each output is rewritten sorted and reported as a direct run would
be; the state folder goes once nothing in it is needed any more. The scripts check before any call,
batch or direct, that no open batch would be paid for again (batch.checks.refuse_open_batches). Each
record's `usage` gets its cost at the batch price, and the report counts the calls the record's
results came from (collected in this run or an earlier one)."""
from __future__ import annotations

import asyncio
import shutil
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import JsonlAppender
from arena_hard.generate.batch.apis import BATCH_APIS
from arena_hard.generate.batch.checks import check_batch_models
from arena_hard.generate.batch.plan import RoundWriter, describe_rounds
from arena_hard.generate.batch.poll import POLL_BACKOFF_MAX, Clock, Poller, PollTimeout, default_poll_timeout
from arena_hard.generate.batch.remote import BatchClients, cancel_open, recover_planned, say, submit
from arena_hard.generate.batch.replay import ReplayClient, replay
from arena_hard.generate.batch.store import BatchStore
from arena_hard.generate.cost import priced
from arena_hard.generate.pipeline import JobFailure, MakeJob, RunReport, finish_output, print_report
from arena_hard.models.prices import Price
from arena_hard.models.providers import PROVIDERS

DEFAULT_POLL_INTERVAL = 60.0


@dataclass(frozen=True)
class BatchTask:
    """One output file's pending jobs, as run_model takes them."""
    model: ModelConfig
    jobs: Sequence[Any]
    make_job: MakeJob
    output: Path
    label: str
    verb: str
    price: Price | None = None  # the model's batch price, for the cost in each record's usage


@dataclass(frozen=True)
class BatchOptions:
    poll_interval: float = DEFAULT_POLL_INTERVAL
    cancel: bool = False
    poll_timeout: float | None = None  # None: each batch's provider's completion window plus an hour
    clock: Clock = field(default_factory=Clock)


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


def _warn_unapplied(model: ModelConfig, request: Any, warned: set[str]) -> None:
    """The warning a direct run gives about a setting the provider will not apply, once per run."""
    warning = PROVIDERS[model.api_type].unapplied(model, request)
    if warning and warning not in warned:
        warned.add(warning)
        say(f"warning: {warning}")


def _replay_outputs(store: BatchStore, outputs: Sequence[_Output], writer: RoundWriter | None,
                    warned: set[str]) -> set[str]:
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
                output.appender.write(priced(outcome.record, output.task.price))
                report = output.report
                report.written += 1
                report.usage.calls += len(output.client.used)
                for result in output.client.used:
                    report.usage.add(result)
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
                        _warn_unapplied(output.task.model, need.request, warned)
        output.remaining = still
    return waiting_on


async def _run(store: BatchStore, outputs: list[_Output], clients: BatchClients, options: BatchOptions) -> None:
    warned: set[str] = set()
    poller = Poller(options.poll_interval, options.poll_timeout, options.clock)
    try:
        await recover_planned(store, clients)
        if options.cancel:
            await cancel_open(store, clients)
        while True:
            writer = None if options.cancel else RoundWriter(store)
            waiting_on = _replay_outputs(store, outputs, writer, warned)
            for entry in writer.finish() if writer is not None else []:
                await submit(store, clients, entry)
                waiting_on.add(entry.local_id)
            if options.cancel:  # a cancelled batch is waited on until it ends, needed or not, so that it closes
                waiting_on |= {entry.local_id for entry in store.open_entries() if clients.serves(entry)}
            if not waiting_on:
                break
            await poller.wait_for_one(store, clients, [store.entries[local_id] for local_id in waiting_on])
        unneeded = [entry.batch_id for entry in store.open_entries() if clients.serves(entry)]
        if unneeded and not options.cancel:
            say(f"{len(unneeded)} batch(es) still open at the provider hold requests no question of this run needs "
                f"any more ({', '.join(unneeded[:5])}{', ...' if len(unneeded) > 5 else ''}); they are billed as "
                "they run: rerun with --cancel to cancel them")
    finally:
        await clients.aclose()


def _sum_up_cancel(outputs: Sequence[_Output]) -> None:
    """--cancel: one line for the questions left without a record, instead of a line per request."""
    left = {output.task.label: len(output.remaining) + len(output.report.failures) for output in outputs}
    for output in outputs:
        output.report.failures.clear()
    if sum(left.values()):
        say(f"after the cancel {sum(left.values()):,} question(s) have no record ("
            f"{', '.join(f'{label}: {count:,}' for label, count in left.items() if count)}); rerun with --batch "
            "to send them")


def _state_needed(store: BatchStore, outputs: Sequence[_Output]) -> bool:
    """An open or planned batch, a failed request to send again, or results a job still waits on."""
    return not store.settled() or (store.has_results() and any(output.remaining for output in outputs))


def run_batches(tasks: Sequence[BatchTask], options: BatchOptions) -> dict[str, RunReport]:
    """Run `tasks` through the batch APIs; each output is rewritten sorted and reported. Returns the
    report of each task by label."""
    check_batch_models([task.model for task in tasks])
    store = BatchStore.open(state_dir(tasks))
    outputs = []
    for task in tasks:
        client = ReplayClient(task.model, task.label, store.lookup)
        outputs.append(_Output(task, client, task.make_job(client), list(task.jobs)))
    timed_out = None
    try:
        asyncio.run(_run(store, outputs, BatchClients([task.model for task in tasks]), options))
    except PollTimeout as error:
        timed_out = error
    except KeyboardInterrupt:
        running = [entry.batch_id for entry in store.open_entries()]
        if running:
            say(f"{len(running)} batch(es) keep running at the provider ({', '.join(running[:5])}"
                 f"{', ...' if len(running) > 5 else ''}); rerun the same command to collect them, "
                 "or with --cancel to cancel them")
        raise
    finally:
        for output in outputs:
            if output.appender is not None:
                output.appender.close()
        store.close()
        if not _state_needed(store, outputs):  # every record is written, or nothing was paid for (no batch API)
            shutil.rmtree(store.directory)
    if options.cancel:
        _sum_up_cancel(outputs)
    reports = {}
    for output in outputs:
        finish_output(output.task.output)
        print_report(output.task.label, output.task.verb, output.report)
        reports[output.task.label] = output.report
    if timed_out is not None:
        raise timed_out
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
                        help=f"seconds between two status polls of a batch (default: {DEFAULT_POLL_INTERVAL:g}); a "
                             f"status that cannot be read is polled again after a growing wait, at most "
                             f"{POLL_BACKOFF_MAX:g} s")
    parser.add_argument("--poll-timeout", type=float, default=None, metavar="SECONDS",
                        help="stop waiting (exit status 1) once a batch has been polled this long without ending, "
                             "or without a readable status; it stays recorded and a rerun collects it (default: "
                             f"the provider's completion window plus an hour: "
                             f"{' or '.join(f'{hours:g}' for hours in _default_timeout_hours())} h)")
    parser.add_argument("--cancel", action="store_true",
                        help="cancel this run's open batches, collect what they finished, send nothing new")


def _default_timeout_hours() -> list[float]:
    return sorted({default_poll_timeout(api.window) / 3600 for api in BATCH_APIS.values()})


def batch_options(args: Any) -> BatchOptions:
    if not args.poll_interval >= 0:
        raise UserError(f"--poll-interval must be a number of seconds >= 0, found {args.poll_interval:g}")
    if args.poll_timeout is not None and not args.poll_timeout > 0:
        raise UserError(f"--poll-timeout must be a number of seconds > 0, found {args.poll_timeout:g}")
    return BatchOptions(args.poll_interval, args.cancel, args.poll_timeout)


def uses_batch(args: Any, model: ModelConfig) -> bool:
    return bool(args.batch or args.cancel or model.batch)
