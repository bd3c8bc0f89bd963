"""Talking to the providers about batches: submitting a planned batch and logging its id at once,
finding a batch an interrupted submission left unlogged, cancelling, and reading a finished batch's
results into the store (a request without a readable result, a line that is not JSON included, is a
failure of that request). A server without a batch API (404 on submission) stops the run with one
line; a batch the provider no longer knows (404) is dropped from the state with a note, so that its
requests are planned again. One SDK client per batch group, made when first used. Polling is
batch.poll."""
from __future__ import annotations

import asyncio
import json
import re
import sys
from typing import Any, Awaitable, Callable, Sequence, TypeVar

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.errors import UserError
from arena_hard.generate.batch.apis import BATCH_APIS, UNANSWERED, UNANSWERED_STATES, BatchStatus
from arena_hard.generate.batch.plan import describe_group
from arena_hard.generate.batch.store import GONE, BatchEntry, BatchStore
from arena_hard.models.providers import PROVIDERS
from arena_hard.models.retry import REQUEST, Failure, classify

T = TypeVar("T")
_NO_SUCH_ROUTE = {404, 405}  # what a server without the batch endpoints answers a submission
_CUSTOM_ID = re.compile(rb'"custom_id"\s*:\s*"([A-Za-z0-9_-]{1,64})"')


class BatchClients:
    """One SDK client per batch group (api_type, address, and for OpenAI the model), made when first used."""

    def __init__(self, models: Sequence[ModelConfig]):
        self._all = list(models)
        self._models: dict[tuple[str, ...], ModelConfig] = {}
        for model in models:
            self._models.setdefault(tuple(BATCH_APIS[model.api_type].group(model)), model)
        self._clients: dict[tuple[str, ...], Any] = {}

    def serves(self, entry: BatchEntry) -> bool:
        return tuple(entry.group) in self._models

    def batch_always(self, group: Sequence[str]) -> list[str]:
        """The models of `group` with `batch: true` in the endpoint file."""
        return [model.name for model in self._all if model.batch and BATCH_APIS[model.api_type].group(model) == group]

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


def say(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


async def attempt(call: Awaitable[T]) -> T | Failure:
    """What `call` returns, or the Failure it raised; a UserError and a cancellation go through."""
    try:
        return await call
    except (UserError, asyncio.CancelledError):
        raise
    except Exception as error:
        return classify(error)


def _drop_gone(store: BatchStore, entry: BatchEntry, failure: Failure, then: str) -> None:
    """The provider answers 404 for the batch (a cleanup on its side, another key): nothing of it can
    be read or cancelled any more, so its requests wait on it no more and are planned again."""
    store.finished(entry, GONE, reason=failure.describe())
    say(f"batch {entry.batch_id} ({entry.count:,} requests to {describe_group(entry.group)}): the provider no "
        f"longer knows it ({failure.describe()}); dropped from the state, {then}")


async def about(store: BatchStore, clients: BatchClients, entry: BatchEntry,
                call: Callable[[Any, str], Awaitable[T]], then: str) -> T | Failure:
    """`call(client, batch id)` about a submitted batch: its answer, or the Failure it raised. On a
    404 the batch is dropped as gone (entry.state becomes GONE), `then` saying what follows."""
    outcome = await attempt(call(clients.get(entry.group), entry.batch_id))
    if isinstance(outcome, Failure) and outcome.status == 404:
        _drop_gone(store, entry, outcome, then)
    return outcome


async def submit(store: BatchStore, clients: BatchClients, entry: BatchEntry) -> None:
    api = BATCH_APIS[entry.group[0]]
    batch_id = await attempt(api.submit(clients.get(entry.group), store.requests_file(entry.local_id), entry.local_id))
    if isinstance(batch_id, Failure):
        failure = batch_id
        if failure.status is not None:  # the provider answered: no batch was made
            store.finished(entry, "failed", reason=failure.describe())
        if failure.status in _NO_SUCH_ROUTE:
            always = clients.batch_always(entry.group)
            raise UserError(f"{describe_group(entry.group)} has no batch API ({failure.describe()}); send its "
                            "requests one at a time: run without --batch" + (
                                f" and remove `batch: true` from {', '.join(always)} in the endpoint file"
                                if always else ""))
        raise UserError(f"submitting a batch of {entry.count:,} requests to {describe_group(entry.group)} failed: "
                        f"{failure.describe()}")
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
            page = await attempt(clients.get(entry.group).batches.list(limit=100))
            if isinstance(page, Failure) and page.status != 404:  # a 404: no batch API there, so no batch was made
                raise UserError(f"looking for the batch an interrupted run was submitting to "
                                f"{describe_group(entry.group)} failed: {page.describe()}; rerun to look again")
            batches = [] if isinstance(page, Failure) else page.data
            found = next((b.id for b in batches if (b.metadata or {}).get("arena_hard_batch") == entry.local_id), None)
        if found:
            store.submitted(entry, found)
            say(f"found batch {found}, submitted by an interrupted run; collecting it")
        else:
            store.finished(entry, "abandoned")


async def _cancel(store: BatchStore, clients: BatchClients, entry: BatchEntry) -> None:
    failure = await about(store, clients, entry, BATCH_APIS[entry.group[0]].cancel,
                          "nothing to cancel (a --batch run sends its requests again)")
    if entry.state == GONE:
        return
    if isinstance(failure, Failure):
        raise UserError(f"cancelling batch {entry.batch_id} failed: {failure.describe()}; rerun --cancel to try "
                        "again (or rerun with --batch to collect it)")
    store.cancel_requested(entry)
    say(f"cancelling batch {entry.batch_id} ({entry.count:,} requests); what it finished is collected")


async def cancel_open(store: BatchStore, clients: BatchClients) -> None:
    entries = [entry for entry in store.open_entries() if clients.serves(entry)]
    for entry in entries:
        await _cancel(store, clients, entry)
    if not entries:
        say("no open batches to cancel")


async def collect(store: BatchStore, clients: BatchClients, entry: BatchEntry, status: BatchStatus) -> None:
    """Read a finished batch's results into the store; a request with no readable result has failed."""
    api = BATCH_APIS[entry.group[0]]
    raw = store.directory / f"download-{entry.local_id}.jsonl"
    # a 404 here: its result files are gone (OpenAI deletes them 30 days after the batch ended)
    failure = await about(store, clients, entry, lambda client, batch_id: api.download(client, batch_id, raw),
                          "its requests are planned again")
    if isinstance(failure, Failure):
        raw.unlink(missing_ok=True)
        if entry.state == GONE:
            return
        raise UserError(f"reading the results of batch {entry.batch_id} failed: {failure.describe()}; rerun the "
                        "same command to read them")
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
    never_run = UNANSWERED if status.state in UNANSWERED_STATES else REQUEST
    for custom_id in planned - seen:
        store.add_result(custom_id, entry.local_id,
                         Failure(never_run, None, f"no result in batch {entry.batch_id} (it ended {status.state})"))
    store.finished(entry, "collected", status=status.state)
    raw.unlink()
    store.requests_file(entry.local_id).unlink()  # sent and answered: only the plan and results are needed
