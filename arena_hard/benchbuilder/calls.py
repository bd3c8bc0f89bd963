"""One chat call per item, cached: what labelling (a label per prompt) and topic naming (a name per
topic) share. Each item is a `CallJob` named by a key; its record is appended to a JSONL cache the
moment it arrives, through the same run loop as gen_answer.py (generate.pipeline: concurrency,
retries, streamed writes, report) or, with --batch, the same batch machinery (generate.batch). A key
already in the cache is never asked again; a failed call writes nothing and is asked again on the
next run. Each record keeps the `usage` of its call, and its cost at the model's price; with a
Budget (--max-cost) a call starts only while the budget admits it (generate.pipeline). Reads and
writes the cache file it is given.
May import: arena_hard.core, arena_hard.models, arena_hard.generate (pipeline, batch)."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.jsonl import iter_jsonl
from arena_hard.core.records import Question, record_id
from arena_hard.generate.batch.runner import BatchOptions, BatchTask, describe_batches, run_batches
from arena_hard.generate.cost import Budget
from arena_hard.generate.estimate import Estimate
from arena_hard.generate.pipeline import ModelRun, RunReport, open_output, run_models
from arena_hard.models.client import ClientShare
from arena_hard.models.providers import ChatRequest


@dataclass(frozen=True)
class CallJob:
    question: Question  # question_id: the item's key in the cache; turns: its text, for reports
    request: ChatRequest


ToRecord = Callable[[str, str], dict[str, Any]]  # (key, the answer's text) -> the cache record


def job(key: str, request: ChatRequest) -> CallJob:
    return CallJob(Question(key, (), "", ""), request)


def cached(path: Path, dry_run: bool) -> dict[str, dict[str, Any]]:
    """The records of a cache file by key, after repairing a tail a crash cut off (not in a dry run)."""
    open_output(path, repair=not dry_run)
    if not path.exists():
        return {}
    return {record_id(record, f"{path}:{line}"): record for line, record in iter_jsonl(path, skip_truncated_tail=dry_run)}


def _make_job(to_record: ToRecord) -> Callable[[ClientShare], Any]:
    def make(client: ClientShare) -> Any:
        async def run(item: CallJob) -> dict[str, Any]:
            result = await client.chat(item.request)
            return {**to_record(item.question.question_id, result.content), "usage": result.tokens.record()}
        return run
    return make


def run_calls(label: str, model: ModelConfig, jobs: Sequence[CallJob], to_record: ToRecord, output: Path, verb: str,
              batch: BatchOptions | None, estimate: Estimate, budget: Budget | None) -> RunReport:
    """Ask every job, through the batch API when `batch` is given; the records go to `output`, priced
    at the estimate's price; `estimate` gives each job's expected cost to the budget."""
    make = _make_job(to_record)
    if batch is not None:
        return run_batches([BatchTask(model, jobs, make, output, label, verb, estimate.price)], batch)[label]
    return run_models([ModelRun(label, model, jobs, make, output, verb, estimate.price, estimate.expected)],
                      budget=budget)[0]


def describe_batch(label: str, model: ModelConfig, jobs: Sequence[CallJob], output: Path) -> list[str]:
    """--dry-run --batch: the batches these jobs would go out in."""
    return describe_batches([BatchTask(model, jobs, _make_job(lambda key, text: {}), output, label, "")])
