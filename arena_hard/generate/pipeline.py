"""The run loop gen_answer.py and gen_judgment.py share: resume, write as results arrive, report.

`open_output` repairs a file a crash left behind and tells which questions it already holds;
`run_model` runs one async job per pending question against a ModelClient, appends each record the
moment it is complete (one line, one write), shows a progress bar with done/failed counts, collects
failures as data, then rewrites the file sorted by question id with one record per question (the
last), atomically, and prints what happened. A job that fails writes nothing, so a rerun retries it."""
from __future__ import annotations

import asyncio
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Awaitable, Callable, Protocol, Sequence, TypeVar

from tqdm import tqdm

from arena_hard.models.client import CallFailed, ModelClient, Usage
from arena_hard.core.endpoints import ModelConfig
from arena_hard.models.concurrency import map_unordered
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


def open_output(path: Path, is_complete: Callable[[dict[str, Any]], bool] = lambda record: True) -> set[str]:
    """Ids of the questions `path` already holds a complete record for (the last line of a question
    decides), after repairing a tail cut off by a crash."""
    repaired = repair_tail(path)
    if repaired:
        print(f"{path}: {repaired}", file=sys.stderr)
    for leftover in path.parent.glob(f".{path.name}.*.tmp"):  # a rewrite killed before its rename
        leftover.unlink()
    if not path.exists():
        return set()
    complete = {record_id(record, f"{path}:{lineno}"): is_complete(record) for lineno, record in iter_jsonl(path)}
    return {question_id for question_id, done in complete.items() if done}


def finish_output(path: Path) -> None:
    """Rewrite `path` sorted by question id, one record per question (the last written), atomically."""
    if path.exists():
        rewrite_sorted_unique(path, record_id)


class QuestionJob(Protocol):
    question: Question


Job = TypeVar("Job", bound=QuestionJob)
MakeJob = Callable[[ModelClient], Callable[[Job], Awaitable[dict[str, Any]]]]


def run_model(model: ModelConfig, jobs: Sequence[Job], make_job: MakeJob, output: Path, label: str,
              verb: str) -> RunReport:
    """Run `make_job(client)` over `jobs` with one client for `model`, appending each record to
    `output` as it completes; then rewrite `output` sorted and print the report."""
    report = asyncio.run(_run_model(model, jobs, make_job, output, label))
    finish_output(output)
    print_report(label, verb, report)
    return report


async def _run_model(model: ModelConfig, jobs: Sequence[Job], make_job: MakeJob, output: Path,
                     label: str) -> RunReport:
    client = ModelClient(model)
    report = RunReport(usage=client.usage)
    try:
        with JsonlAppender(output) as appender, tqdm(total=len(jobs), desc=label, unit="q", disable=None,
                                                     file=sys.stderr) as bar:
            async for job, outcome in map_unordered(make_job(client), jobs, 2 * model.parallel):
                if isinstance(outcome, CallFailed):
                    report.failures.append(JobFailure(job.question.question_id, outcome.failure.describe(),
                                                      outcome.attempts, outcome.attempts > 0))
                elif isinstance(outcome, Exception):
                    raise outcome
                else:
                    appender.write(outcome)
                    report.written += 1
                bar.update(1)
                bar.set_postfix(done=report.written, failed=len(report.failures), refresh=False)
    finally:
        await client.aclose()
    return report


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
