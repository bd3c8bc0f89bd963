"""A round's requests as batches: grouped by who may share a batch, split at the provider's limits,
streamed to disk one line at a time; and the --dry-run description of the rounds.

`RoundWriter.add(model, need)` appends the need's input line and plan line to the open batch of its
group, starting a new batch when the next line would pass the provider's request count or size
limit; `finish()` renames the files into place and logs each batch as planned. With no store (a dry
run) it only counts lines, bytes and estimated prompt tokens."""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.jsonl import dumps_line
from arena_hard.core.textstats import count_tokens
from arena_hard.generate.batch.apis import BATCH_APIS
from arena_hard.generate.batch.replay import Need
from arena_hard.generate.batch.store import BatchEntry, BatchFiles, BatchStore


@dataclass
class PlannedBatch:
    group: list[str]
    model: ModelConfig
    files: BatchFiles | None
    count: int = 0
    size: int = 0
    tokens: int = 0


@dataclass
class RoundWriter:
    store: BatchStore | None  # None: a dry run, nothing is written
    count_tokens: bool = False
    batches: list[PlannedBatch] = field(default_factory=list)
    _open: dict[tuple[str, ...], PlannedBatch] = field(default_factory=dict)

    def add(self, model: ModelConfig, need: Need) -> None:
        api = BATCH_APIS[model.api_type]
        group = api.group(model)
        line = dumps_line(api.line(model, need.custom_id, need.request))
        batch = self._open.get(tuple(group))
        if batch is not None and (batch.count >= api.max_requests or batch.size + len(line) > api.max_bytes):
            batch = None
        if batch is None:
            batch = PlannedBatch(group, model, self.store.new_batch() if self.store is not None else None)
            self._open[tuple(group)] = batch
            self.batches.append(batch)
        if batch.files is not None:
            batch.files.add(line, dumps_line({"custom_id": need.custom_id, "model": need.label,
                                              "question_id": need.question_id, "conversation": need.conversation,
                                              "turn": need.turn}))
        batch.count += 1
        batch.size += len(line)
        if self.count_tokens:
            batch.tokens += sum(count_tokens(m["content"]) for m in need.request.messages)

    def finish(self) -> list[BatchEntry]:
        """The planned batches, their files in place and logged, ready to submit."""
        entries = []
        for batch in self.batches:
            if batch.files is not None and self.store is not None:
                batch.files.finish()
                entries.append(self.store.planned(batch.files, batch.group, batch.model.name))
        return entries


def describe_group(group: Sequence[str]) -> str:
    api_type, base, model_name = group
    return " ".join(part for part in (api_type, model_name, f"at {base}" if base else "") if part)


def describe_rounds(first: RoundWriter, later: dict[int, int], waiting: int, state_dir: str) -> list[str]:
    """Lines for --dry-run --batch: each round, its batches with sizes and estimated prompt tokens."""
    lines = [f"batch plan (state in {state_dir}):"]
    if waiting:
        lines.append(f"  {waiting:,} request(s) already in submitted batches: collected, not sent again")
    if first.batches:
        total = sum(b.count for b in first.batches)
        tokens = sum(b.tokens for b in first.batches)
        lines.append(f"  round 1: {total:,} requests in {len(first.batches)} batch(es), ~{tokens:,} prompt tokens "
                     "(cl100k estimate)")
        for batch in first.batches:
            lines.append(f"    {describe_group(batch.group)}: {batch.count:,} requests, "
                         f"{batch.size / 1e6:,.1f} MB, ~{batch.tokens:,} prompt tokens")
    for round_number in sorted(later):
        lines.append(f"  round {round_number}: up to {later[round_number]:,} requests (second turns and judge "
                     f"re-asks, sent once round {round_number - 1}'s answers are in)")
    if not first.batches and not later:
        lines.append("  nothing to send")
    return lines
