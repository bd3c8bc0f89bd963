"""Stage 2, Embed: a vector for every prompt, through the `embedding_model` entry of the endpoint file.

Prompts already in the vector cache (vectors.VectorStore) are not sent again; the others go in
requests of `embedding_batch_size` texts, as many at once as the entry's `parallel` allows (the one
concurrency helper, models.concurrency), each response appended to the cache the moment it arrives.
A request that fails for good is reported and its prompts are left for the next run. With a Budget
(--max-cost) a request starts only while the budget admits its expected cost (its estimate's), as
chat calls do in generate.pipeline; the requests held back are counted in the report. Writes the
vector cache; reads the prompts it is given.
May import: arena_hard.core, arena_hard.models, arena_hard.generate.pipeline; benchbuilder.read_log, .vectors."""
from __future__ import annotations

import asyncio
import sys
from typing import Sequence

from tqdm import tqdm

from arena_hard.benchbuilder.read_log import Prompt
from arena_hard.benchbuilder.vectors import VectorStore
from arena_hard.core.endpoints import ModelConfig
from arena_hard.generate.cost import Budget
from arena_hard.generate.estimate import Estimate
from arena_hard.generate.pipeline import JobFailure, RunReport
from arena_hard.models.client import CallFailed
from arena_hard.models.concurrency import map_unordered
from arena_hard.models.embeddings import EmbeddingClient, EmbeddingResult


def missing(store: VectorStore, prompts: Sequence[Prompt]) -> list[Prompt]:
    return [prompt for prompt in prompts if prompt.key not in store]


def batches(prompts: Sequence[Prompt], size: int) -> list[tuple[Prompt, ...]]:
    return [tuple(prompts[start:start + size]) for start in range(0, len(prompts), size)]


def embed_prompts(store: VectorStore, requests: Sequence[tuple[Prompt, ...]], model: ModelConfig, estimate: Estimate,
                  budget: Budget | None) -> RunReport:
    """Embed the prompts of `requests` into `store`; the report counts the prompts written, the requests
    that failed and those the budget held back."""
    return asyncio.run(_embed(store, requests, model, estimate, budget))


async def _embed(store: VectorStore, requests: Sequence[tuple[Prompt, ...]], model: ModelConfig, estimate: Estimate,
                 budget: Budget | None) -> RunReport:
    client = EmbeddingClient(model)
    report = RunReport(usage=client.usage)
    if budget is not None:
        budget.meter(report.usage, estimate.price)

    def admitted(request: tuple[Prompt, ...]) -> bool:
        if budget is None or budget.admit(estimate.expected(request)):
            return True
        report.held_back += 1
        return False

    bar = tqdm(total=sum(map(len, requests)), desc=f"embed ({model.name})", unit="prompt", disable=None,
               file=sys.stderr, dynamic_ncols=True)

    async def job(batch: tuple[Prompt, ...]) -> EmbeddingResult:
        return await client.embed(tuple(prompt.text for prompt in batch))

    try:
        async for batch, outcome in map_unordered(job, (r for r in requests if admitted(r)), 2 * model.parallel):
            if budget is not None:
                budget.release(estimate.expected(batch))
            if isinstance(outcome, CallFailed):
                report.failures.append(JobFailure(f"{len(batch)} prompts from {batch[0].key[:12]}",
                                                  outcome.failure.describe(), outcome.attempts, outcome.attempts > 0))
            elif isinstance(outcome, Exception):
                raise outcome
            else:
                store.check_lengths(outcome.vectors, f"{model.source}: `{model.name}`")
                store.append([prompt.key for prompt in batch], outcome.vectors)
                report.written += len(batch)
            bar.set_postfix(failed=len(report.failures), refresh=False)
            bar.update(len(batch))
    finally:
        bar.close()
        await client.aclose()
    return report
