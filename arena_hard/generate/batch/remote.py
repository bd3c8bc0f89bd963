"""Talking to the providers about batches: submitting a planned batch and logging its id at once,
finding a batch an interrupted submission left unlogged, cancelling, polling with a progress line per
batch, and reading a finished batch's results into the store (a request without a readable result,
a line that is not JSON included, is a failure of that request; a batch the provider failed as a
whole stops the run with one line). One SDK client per batch group, made when first used."""
from __future__ import annotations

import asyncio
import json
import re
import sys
import time
from typing import Any, Sequence

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.generate.batch.apis import BATCH_APIS, BatchStatus
from arena_hard.generate.batch.plan import describe_group
from arena_hard.generate.batch.store import BatchEntry, BatchStore
from arena_hard.models.providers import PROVIDERS
from arena_hard.models.retry import MODEL, REQUEST, Failure, classify

_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')


class BatchClients:
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
            client = provider.new_client(provider.client_options(model, model.endpoints[0]))
            # A batch's lines carry no headers: the model's extra_headers (an anthropic-version pin, a
            # gateway's own headers) go with every call about its batches instead.
            self._clients[key] = client.with_options(default_headers=model.extra_headers) if model.extra_headers \
                else client
        return self._clients[key]

    async def aclose(self) -> None:
        for client in self._clients.values():
            await client.close()


def _elapsed(since: float | None) -> str:
    seconds = int(time.time() - since) if since else 0
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def submit(store: BatchStore, clients: BatchClients, entry: BatchEntry) -> None:
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
    say(f"submitted batch {batch_id}: {entry.count:,} requests to {describe_group(entry.group)}, "
         f"{entry.size / 1e6:,.1f} MB")


async def recover_planned(store: BatchStore, clients: BatchClients) -> None:
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
            say(f"found batch {found}, submitted by an interrupted run; collecting it")
        else:
            store.finished(entry, "abandoned")


async def cancel_open(store: BatchStore, clients: BatchClients) -> None:
    entries = [entry for entry in store.open_entries() if clients.serves(entry)]
    for entry in entries:
        await BATCH_APIS[entry.group[0]].cancel(clients.get(entry.group), entry.batch_id)
        store.cancel_requested(entry)
        say(f"cancelling batch {entry.batch_id} ({entry.count:,} requests); what it finished is collected")
    if not entries:
        say("no open batches to cancel")


async def collect(store: BatchStore, clients: BatchClients, entry: BatchEntry, status: BatchStatus) -> None:
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
                say(f"  batch {entry.batch_id}: result line {lineno} is not JSON (custom id {custom_id or 'unknown'}); "
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
    store.requests_file(entry.local_id).unlink()  # sent and answered: only the plan and results are needed


async def wait_for_one(store: BatchStore, clients: BatchClients, entries: list[BatchEntry], interval: float) -> None:
    """Poll `entries` until one has finished; collect it. A batch the provider failed stops the run."""
    say(f"waiting for {len(entries)} batch(es), polling every {interval:g} s; Ctrl-C leaves them running")
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
                say(f"  batch {entry.batch_id}: polling failed ({failure.describe()}); trying again")
                continue
            if shown.get(entry.local_id) != (status.state, status.done, status.failed):
                shown[entry.local_id] = (status.state, status.done, status.failed)
                say(f"  batch {entry.batch_id} ({entry.model}): {status.state}, {status.done:,}/{status.total:,} done, "
                     f"{status.failed:,} failed, {_elapsed(entry.submitted_at)} since submission")
            if status.finished:
                if status.error is not None:
                    store.finished(entry, "failed", reason=status.error)
                    raise UserError(f"batch {entry.batch_id} ({entry.count:,} requests to {describe_group(entry.group)}) "
                                    f"failed at the provider: {status.error}; none of it ran, rerun to send it again")
                await collect(store, clients, entry, status)
                return
        await asyncio.sleep(interval)
