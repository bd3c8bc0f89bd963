"""The run loop gen_answer.py and gen_judgment.py share: resume, write as results arrive, report.

`open_output` repairs a file a crash left behind and tells which questions it already holds.
`run_models` takes one `ModelRun` per output file (a model's answers, or its judgments) and runs them
all at once in one event loop: runs that ask the same model share one client, so its `parallel` is
the one limit (every model's judgments go through the judge's), and their jobs take turns so that
every file grows from the start; runs asking different models go side by side, each through its own
client. Each record is appended the moment it is complete (one line, one write); when a run's last
job is done its file is rewritten sorted by question id with one record per question (the last),
atomically. One progress bar per run shows its done/failed counts; failures are collected as data
and reported per run. A job that fails writes no record, so a rerun retries it (a judge job keeps the
games it did finish: generate/game_log.py)."""
from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol, Sequence, TypeVar

from tqdm import tqdm

from arena_hard.models.client import CallFailed, ClientShare, ModelClient, Usage
from arena_hard.core.endpoints import ModelConfig
from arena_hard.models.concurrency import interleave, map_unordered
from arena_hard.core.jsonl import JsonlAppender, iter_jsonl, repair_tail, rewrite_sorted_unique
from arena_hard.core.records import Question, record_id


@dataclass(frozen=True)
class JobFailure:
    question_id: str
    message: str
    attempts: int
    sent: bool  # False when the model had been stopped and no request was made


@dataclass
class RunReport:
    written: int = 0
    failures: list[JobFailure] = field(default_factory=list)
    usage: Usage = field(default_factory=Usage)


def repair_file(path: Path) -> None:
    """Repair the tail a crash cut off `path` (saying so), and remove the temporary files of a rewrite
    killed before its rename."""
    repaired = repair_tail(path)
    if repaired:
        print(f"{path}: {repaired}", file=sys.stderr)
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):
        leftover.unlink()


def open_output(path: Path, is_complete: Callable[[dict[str, Any]], bool] = lambda record: True, *,
                repair: bool = True) -> set[str]:
    """Ids of the questions `path` already holds a complete record for (the last line of a question
    decides), after repairing a tail cut off by a crash. Without `repair` (a dry run, which holds no
    lock while another run may be writing) the file is only read, a cut tail skipped."""
    if repair:
        repair_file(path)
    if not path.exists():
        return set()
    complete = {record_id(record, f"{path}:{lineno}"): is_complete(record)
                for lineno, record in iter_jsonl(path, skip_truncated_tail=not repair)}
    return {question_id for question_id, done in complete.items() if done}


def finish_output(path: Path) -> None:
    """Rewrite `path` sorted by question id, one record per question (the last written), atomically."""
    if path.exists():
        rewrite_sorted_unique(path, record_id)


class QuestionJob(Protocol):
    question: Question


Job = TypeVar("Job", bound=QuestionJob)
MakeJob = Callable[[ClientShare], Callable[[Job], Awaitable[dict[str, Any]]]]


@dataclass(frozen=True)
class ModelRun:
    """The work of one output file: `jobs` for `label`, asked of `model` (the judge, for judgments)."""
    label: str
    model: ModelConfig
    jobs: Sequence[Any]
    make_job: MakeJob
    output: Path
    verb: str  # "answered", "judged": for the report


def run_models(runs: Sequence[ModelRun], sequential: bool = False,
               after_report: Callable[[ModelRun], None] | None = None) -> list[RunReport]:
    """Run every run at once, or one after another when `sequential`; print each run's report (then
    `after_report(run)`) in the order of `runs`, and return the reports in that order."""
    batches = [[run] for run in runs] if sequential or not runs else [list(runs)]
    reports: list[RunReport] = []
    for batch in batches:
        for run, report in zip(batch, asyncio.run(_run_batch(batch))):
            print_report(run.label, run.verb, report)
            if after_report is not None:
                after_report(run)
            reports.append(report)
    return reports


class _RunState:
    """One run under way: its client share, its open output, what is left."""

    def __init__(self, run: ModelRun, client: ModelClient, bar: Any):
        self.run, self.bar = run, bar
        self.share = ClientShare(client)
        self.report = RunReport(usage=self.share.usage)
        self.job = run.make_job(self.share)
        self.remaining = len(run.jobs)
        self.appender = JsonlAppender(run.output) if self.remaining else None
        if not self.remaining:
            finish_output(run.output)  # a run killed after its last append never got to the sorted rewrite

    def record(self, job: QuestionJob, outcome: Any) -> None:
        if isinstance(outcome, CallFailed):
            self.report.failures.append(JobFailure(job.question.question_id, outcome.failure.describe(),
                                                   outcome.attempts, outcome.attempts > 0))
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            self.appender.write(outcome)
            self.report.written += 1
        self.remaining -= 1
        self.bar.set_postfix(done=self.report.written, failed=len(self.report.failures), refresh=False)
        self.bar.update(1)
        if not self.remaining:
            self.finish()

    def finish(self) -> None:
        self.close()
        finish_output(self.run.output)

    def close(self) -> None:
        if self.appender is not None:
            self.appender.close()
            self.appender = None


async def _run_batch(runs: Sequence[ModelRun]) -> list[RunReport]:
    clients: dict[str, ModelClient] = {}
    for run in runs:
        clients.setdefault(run.model.name, ModelClient(run.model))
    width = max(len(run.label) for run in runs)
    bars = [tqdm(total=len(run.jobs), desc=run.label.ljust(width), unit="q", disable=None, file=sys.stderr,
                 position=i, dynamic_ncols=True) for i, run in enumerate(runs)]
    states = [_RunState(run, clients[run.model.name], bar) for run, bar in zip(runs, bars)]
    streams = [asyncio.ensure_future(_stream(client, [s for s in states if s.run.model.name == name]))
               for name, client in clients.items()]
    try:
        await asyncio.gather(*streams)
    finally:
        for stream in streams:
            stream.cancel()
        await asyncio.gather(*streams, return_exceptions=True)
        for state in states:
            state.close()
        for bar in bars:
            bar.close()
        for client in clients.values():
            await client.aclose()
    return [state.report for state in states]


async def _stream(client: ModelClient, states: Sequence[_RunState]) -> None:
    """Every job of `states` through `client`, taking turns between them."""
    items = interleave([[(state, job) for job in state.run.jobs] for state in states])
    async for (state, job), outcome in map_unordered(lambda item: item[0].job(item[1]), items,
                                                     2 * client.config.parallel):
        state.record(job, outcome)


def print_report(label: str, verb: str, report: RunReport) -> None:
    """Counts and token usage; then one line per failed question, and the questions never sent (the
    model was stopped) in one line."""
    usage = report.usage
    print(f"{label}: {report.written} {verb}, {len(report.failures)} failed; {usage.calls} calls, "
          f"{usage.prompt_tokens:,} prompt + {usage.completion_tokens:,} completion tokens")
    unsent = [f for f in report.failures if not f.sent]
    for failure in report.failures:
        if failure.sent:
            plural = "s" if failure.attempts != 1 else ""
            print(f"  failed: {label} question {failure.question_id}: {failure.message} "
                  f"({failure.attempts} attempt{plural})", file=sys.stderr)
    if unsent:
        print(f"  not sent: {len(unsent)} question(s) of {label}, because {unsent[0].message}", file=sys.stderr)
