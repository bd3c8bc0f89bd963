"""Waiting on submitted batches: polling their status until one has ended, then collecting it.

Each batch is polled every --poll-interval seconds, with a progress line whenever its status or counts
change. A status that cannot be read (connection refused, HTTP 5xx) is polled again after a growing
wait, at most POLL_BACKOFF_MAX seconds, with one line per streak of failed polls rather than one per
poll. A batch the provider answers 404 for is dropped (batch.remote.about), so that its requests
are planned again; a batch the provider failed as a whole stops the run with one line. A batch this
run has polled for longer than the poll timeout (by default its provider's completion window plus an
hour), unfinished or unreadable, stops the run (PollTimeout, exit status 1), the batch still recorded
so that a rerun collects it. Time is read and waited on through a `Clock`, which tests replace with
virtual time. Writes nothing itself: the store, through batch.remote."""
from __future__ import annotations

import asyncio
import random
import time
from dataclasses import dataclass, field

from arena_hard.core.errors import Unfinished, UserError
from arena_hard.core.retry_policy import RetryPolicy
from arena_hard.generate.batch.apis import BATCH_APIS
from arena_hard.generate.batch.plan import describe_group
from arena_hard.generate.batch.remote import BatchClients, about, collect, say
from arena_hard.generate.batch.store import GONE, BatchEntry, BatchStore
from arena_hard.models.retry import MODEL, Failure

POLL_BACKOFF_MAX = 600.0  # seconds: the longest wait between two polls of a batch whose status cannot be read
TIMEOUT_MARGIN = 3600.0  # the default poll timeout is the provider's completion window plus this


class Clock:
    """The time polling reads and waits on."""

    def now(self) -> float:
        return time.monotonic()

    async def sleep(self, seconds: float) -> None:
        await asyncio.sleep(seconds)


class PollTimeout(Unfinished):
    """A batch still unfinished, or its status unreadable, after the poll timeout."""


def hms(seconds: float) -> str:
    seconds = int(seconds)
    return f"{seconds // 3600}:{seconds // 60 % 60:02d}:{seconds % 60:02d}"


def default_poll_timeout(window: float) -> float:
    """Seconds: a provider's completion window (in which it ends every batch) and a margin."""
    return window + TIMEOUT_MARGIN


@dataclass
class Poller:
    """How this run polls: the interval, the timeout (None: each batch's default), the clock, and
    per batch when this run began polling it and how many polls in a row have failed."""
    interval: float
    timeout: float | None = None
    clock: Clock = field(default_factory=Clock)
    _since: dict[str, float] = field(default_factory=dict)
    _streaks: dict[str, int] = field(default_factory=dict)
    _rng: random.Random = field(default_factory=random.Random)

    def _backoff(self, streak: int, failure: Failure) -> float:
        """Seconds before the next poll after `streak` failed polls in a row: growing from the interval
        (with jitter), at most POLL_BACKOFF_MAX (or the interval, if longer); a Retry-After is honoured."""
        policy = RetryPolicy(backoff_base=max(self.interval, 1.0), backoff_max=max(self.interval, POLL_BACKOFF_MAX))
        return max(self.interval, policy.delay(streak, failure.retry_after, self._rng))

    def _limit(self, entry: BatchEntry) -> float:
        return self.timeout if self.timeout is not None else default_poll_timeout(BATCH_APIS[entry.group[0]].window)

    def _check(self, store: BatchStore, entry: BatchEntry, state: str) -> None:
        limit = self._limit(entry)
        polled = self.clock.now() - self._since[entry.local_id]
        if polled >= limit:
            raise PollTimeout(f"batch {entry.batch_id} ({entry.count:,} requests to {describe_group(entry.group)}) "
                              f"{state} after {hms(polled)} of polling (--poll-timeout {limit:g} s); it stays "
                              f"recorded in {store.directory}: rerun the same command to collect it, or --cancel it")

    def unreadable(self, store: BatchStore, entry: BatchEntry, failure: Failure) -> float:
        """A failed poll: one line when a streak starts; the wait before the next poll."""
        streak = self._streaks[entry.local_id] = self._streaks.get(entry.local_id, 0) + 1
        if streak == 1:
            say(f"  batch {entry.batch_id}: cannot read its status ({failure.describe()}); polling it again after a "
                f"growing wait (at most {max(self.interval, POLL_BACKOFF_MAX):g} s), until it answers or "
                f"{hms(self._limit(entry))} of polling have passed (--poll-timeout)")
        self._check(store, entry, f"has no readable status (last: {failure.describe()})")
        return self._backoff(streak, failure)

    async def wait_for_one(self, store: BatchStore, clients: BatchClients, entries: list[BatchEntry]) -> None:
        """Poll `entries` until one has ended (collected) or is gone (dropped). A batch the provider
        failed stops the run; so does the poll timeout."""
        say(f"waiting for {len(entries)} batch(es), polling every {self.interval:g} s; Ctrl-C leaves them running")
        for entry in entries:
            self._since.setdefault(entry.local_id, self.clock.now())
        shown: dict[str, tuple[str, int, int]] = {}
        while True:
            delay = self.interval
            for entry in entries:
                status = await about(store, clients, entry, BATCH_APIS[entry.group[0]].status,
                                     "its requests are planned again")
                if entry.state == GONE:
                    return
                if isinstance(status, Failure):
                    if status.kind == MODEL:
                        raise UserError(f"batch {entry.batch_id}: {status.describe()}")
                    delay = max(delay, self.unreadable(store, entry, status))
                    shown.pop(entry.local_id, None)  # the next status read is shown again
                    continue
                if shown.get(entry.local_id) != (status.state, status.done, status.failed):
                    shown[entry.local_id] = (status.state, status.done, status.failed)
                    since = time.time() - entry.submitted_at if entry.submitted_at else 0
                    say(f"  batch {entry.batch_id} ({entry.model}): {status.state}, {status.done:,}/{status.total:,} "
                        f"done, {status.failed:,} failed, {hms(since)} since submission")
                if status.finished:
                    if status.error is not None:
                        store.finished(entry, "failed", reason=status.error)
                        raise UserError(f"batch {entry.batch_id} ({entry.count:,} requests to "
                                        f"{describe_group(entry.group)}) failed at the provider: {status.error}; "
                                        "none of it ran, rerun to send it again")
                    await collect(store, clients, entry, status)
                    return
                self._streaks.pop(entry.local_id, None)
                self._check(store, entry, f"is still {status.state}")
            await self.clock.sleep(delay)
