"""The one concurrency helper: run an async job per item, a bounded number at a time, and hand back
each (item, outcome) as soon as it finishes, so the caller writes results while others are in flight;
and `interleave`, which takes turns between several lists of items so that none waits for another.

Jobs return records and never touch shared state; the caller is the only writer. The bound keeps
memory flat however many items there are (the request-level limit is the model's own semaphore)."""
from __future__ import annotations

import asyncio
import itertools
from typing import AsyncIterator, Awaitable, Callable, Iterable, Iterator, Sequence, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")
_GAP = object()


def interleave(groups: Sequence[Iterable[Item]]) -> Iterator[Item]:
    """One item of each group in turn (a1, b1, c1, a2, b2, ...), lazily; a group that runs out is skipped."""
    for row in itertools.zip_longest(*groups, fillvalue=_GAP):
        yield from (item for item in row if item is not _GAP)


async def map_unordered(job: Callable[[Item], Awaitable[Result]], items: Iterable[Item],
                        limit: int) -> AsyncIterator[tuple[Item, Result | Exception]]:
    """Yield (item, result) or (item, the exception it raised) in completion order."""
    pending: dict[asyncio.Task[Result], Item] = {}
    source = iter(items)

    def refill() -> None:
        for item in source:
            pending[asyncio.ensure_future(job(item))] = item
            if len(pending) >= limit:
                return

    refill()
    try:
        while pending:
            done, _ = await asyncio.wait(pending, return_when=asyncio.FIRST_COMPLETED)
            for task in done:
                item = pending.pop(task)
                error = task.exception()
                if error is not None and not isinstance(error, Exception):
                    raise error  # KeyboardInterrupt and the like end the run
                yield item, (error if error is not None else task.result())
            refill()
    finally:
        for task in pending:
            task.cancel()
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
