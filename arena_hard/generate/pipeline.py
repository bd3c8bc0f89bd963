"""The run loop gen_answer.py and gen_judgment.py share: resume, write as results arrive, report.

`open_output` repairs a file a crash left behind and tells which questions it already holds.
`run_models` takes one `ModelRun` per output file (a model's answers, or its judgments) and runs them
all at once in one event loop: runs that ask the same model share one client, so its `parallel` is
the one limit (every model's judgments go through the judge's), and their jobs take turns so that
every file grows from the start; runs asking different models go side by side, each through its own
client. Each record is appended the moment it is complete (one line, one write); when a run's last
job is done its file is rewritten sorted by question id with one record per question (the last),
atomically. One progress bar per run shows its done/failed counts; failures are collected as data
and reported per run, as are the questions whose reply was cut at the token limit (kept as they are).
A job that fails writes no record, so a rerun retries it (a judge job keeps the games it did finish:
generate/game_log.py); a job whose question or answers hold text no API can be sent fails before any
call, naming the file and line. Each record's `usage` gets its cost at the run's price (generate/cost.py);
with a Budget (--max-cost) a job starts only when the budget admits its expected cost, and once it
does not, no other job starts: those are reported as held back, the jobs in flight finish and are written."""
from __future__ import annotations

import asyncio
import dataclasses
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol, Sequence, TypeVar

from tqdm import tqdm

from arena_hard.models.client import CallFailed, ClientShare, ModelClient, Usage
from arena_hard.core.endpoints import ModelConfig
from arena_hard.models.concurrency import interleave, map_unordered
from arena_hard.models.retry import Unsendable, classify
from arena_hard.core.jsonl import JsonlAppender, repair_tail, rewrite_sorted_unique
from arena_hard.core.data_files import require_folders, write_target
from arena_hard.core.records import Answer, Question, record_id, unsendable
from arena_hard.generate.cost import Budget, priced
from arena_hard.generate.resume import completed_questions
from arena_hard.models.prices import Price


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
    truncated: list[str] = field(default_factory=list)  # questions written with a reply cut at the token limit
    held_back: int = 0  # jobs never started because the budget (--max-cost) was reached


def repair_file(path: Path) -> None:
    """Repair the tail a crash cut off `path` (saying so), and remove the temporary files of a rewrite
    killed before its rename."""
    repaired = repair_tail(path)
    if repaired:
        print(f"{path}: {repaired}", file=sys.stderr)
    target = write_target(path)
    for leftover in target.parent.glob(f".{target.name}.*.tmp"):
        leftover.unlink()


def open_output(path: Path, is_complete: Callable[[dict[str, Any]], bool] = lambda record: True, *,
                repair: bool = True) -> set[str]:
    """Ids of the questions `path` already holds a complete record for (the last line of a question
    decides), after repairing a tail cut off by a crash. Without `repair` (a dry run, which holds no
    lock while another run may be writing) the file is only read, a cut tail skipped. A question with
    several complete records, and a file mixing both record formats, get a note."""
    require_folders(path)
    if repair:
        repair_file(path)
    if not path.exists():
        return set()
    return completed_questions(path, is_complete, skip_truncated_tail=not repair)


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
    price: Price | None = None  # the model's, for the cost in each record's usage
    expect: Callable[[Any], float] = lambda job: 0.0  # a job's expected cost, for the budget


def run_models(runs: Sequence[ModelRun], sequential: bool = False,
               after_report: Callable[[ModelRun], None] | None = None, budget: Budget | None = None) -> list[RunReport]:
    """Run every run at once, or one after another when `sequential`; print each run's report (then
    `after_report(run)`) in the order of `runs`, and return the reports in that order."""
    batches = [[run] for run in runs] if sequential or not runs else [list(runs)]
    reports: list[RunReport] = []
    for batch in batches:
        for run, report in zip(batch, asyncio.run(_run_batch(batch, budget))):
            print_report(run.label, run.verb, report)
            if after_report is not None:
                after_report(run)
            reports.append(report)
    return reports


def _unsendable_inputs(job: Any) -> str | None:
    """records.unsendable of the job's question and of the answers it shows, or None."""
    values = [getattr(job, f.name) for f in dataclasses.fields(job)] if dataclasses.is_dataclass(job) else [job.question]
    for value in values:
        for item in value if isinstance(value, tuple) else (value,):
            problem = unsendable(item) if isinstance(item, (Question, Answer)) else None
            if problem:
                return problem
    return None


class _RunState:
    """One run under way: its client, its open output, what is left."""

    def __init__(self, run: ModelRun, client: ModelClient, bar: Any, budget: Budget | None):
        self.run, self.bar, self.client, self.budget = run, bar, client, budget
        self.report = RunReport()
        if budget is not None:
            budget.meter(self.report.usage, run.price)
        self.remaining = len(run.jobs)
        self.appender = JsonlAppender(run.output) if self.remaining else None
        if not self.remaining:
            finish_output(run.output)  # a run killed after its last append never got to the sorted rewrite

    async def run_job(self, job: QuestionJob) -> tuple[dict[str, Any], Usage]:
        """The job's record and its own usage (counted in the run's too)."""
        problem = _unsendable_inputs(job)
        if problem:
            raise CallFailed(classify(Unsendable(problem)), 0)
        share = ClientShare(self.client, within=self.report.usage)
        return await self.run.make_job(share)(job), share.usage

    def admit(self, job: QuestionJob) -> bool:
        """Whether the budget lets `job` start (always, without one); a job held back is done with."""
        if self.budget is None or self.budget.admit(self.run.expect(job)):
            return True
        self.report.held_back += 1
        self._done()
        return False

    def record(self, job: QuestionJob, outcome: Any) -> None:
        if self.budget is not None:
            self.budget.release(self.run.expect(job))
        if isinstance(outcome, CallFailed):
            self.report.failures.append(JobFailure(job.question.question_id, outcome.failure.describe(),
                                                   outcome.attempts, outcome.attempts > 0))
        elif isinstance(outcome, Exception):
            raise outcome
        else:
            record, usage = outcome
            self.appender.write(priced(record, self.run.price))
            self.report.written += 1
            if usage.truncated:
                self.report.truncated.append(job.question.question_id)
        self._done()

    def _done(self) -> None:
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


async def _run_batch(runs: Sequence[ModelRun], budget: Budget | None) -> list[RunReport]:
    clients: dict[str, ModelClient] = {}
    for run in runs:
        clients.setdefault(run.model.name, ModelClient(run.model))
    width = max(len(run.label) for run in runs)
    bars = [tqdm(total=len(run.jobs), desc=run.label.ljust(width), unit="q", disable=None, file=sys.stderr,
                 position=i, dynamic_ncols=True) for i, run in enumerate(runs)]
    states = [_RunState(run, clients[run.model.name], bar, budget) for run, bar in zip(runs, bars)]
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
    items = (item for item in interleave([[(state, job) for job in state.run.jobs] for state in states])
             if item[0].admit(item[1]))  # asked as each job is about to start
    async for (state, job), outcome in map_unordered(lambda item: item[0].run_job(item[1]), items,
                                                     2 * client.config.parallel):
        state.record(job, outcome)


def print_report(label: str, verb: str, report: RunReport) -> None:
    """Counts and token usage; then one line per failed question, the questions never sent in one
    line per cause (the model was stopped, text no API takes), and the replies cut at the token limit."""
    usage = report.usage
    print(f"{label}: {report.written} {verb}, {len(report.failures)} failed; {usage.calls} calls, "
          f"{usage.tokens.prompt_tokens:,} prompt + {usage.tokens.completion_tokens:,} completion tokens")
    unsent: dict[str, int] = defaultdict(int)
    for failure in report.failures:
        if failure.sent:
            plural = "s" if failure.attempts != 1 else ""
            print(f"  failed: {label} question {failure.question_id}: {failure.message} "
                  f"({failure.attempts} attempt{plural})", file=sys.stderr)
        else:
            unsent[failure.message] += 1
    for message, count in unsent.items():
        print(f"  not sent: {count} question(s) of {label}, because {message}", file=sys.stderr)
    if report.held_back:
        print(f"  not sent: {report.held_back} question(s) of {label}, because the budget (--max-cost) was reached",
              file=sys.stderr)
    if report.truncated:
        print(f"  truncated: {len(report.truncated)} question(s) of {label} ({', '.join(sorted(report.truncated))}) "
              "got a reply cut at the token limit (finish_reason length), stored as it is; to ask again, raise "
              "max_tokens and delete those records", file=sys.stderr)
