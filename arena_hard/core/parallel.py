"""Work spread over the machine's cores, two ways of computing `[function(item) for item in items]`:

- `process_map`, in forked worker processes: for Python code that holds the GIL (decoding judgment and
  answer files), where threads would take turns;
- `thread_map`, on threads: for numpy code, which releases the GIL in its loops (the style-control
  fits). Meanwhile BLAS is held to one thread (threadpoolctl), as BLAS threads on top of ours would
  spin against them for the same cores.

Both run the plain loop in this process when only one core is usable; process_map also for a single
item, and where its workers cannot be started (no fork, no semaphores, no more processes allowed) or
one of them dies. The results come back in the order of the items, and the first item (in that order)
whose call raises raises the same exception here, as in the loop: a UserError naming a file:line
reaches the user unchanged; the items not started by then are not run.
process_map's workers are forked, so they start without importing anything again; `function` and the
items must pickle (a module-level function, or a functools.partial of one), and the workers leave
Ctrl-C and SIGTERM to this process. thread_map takes its items as they come, so an iterator that prepares each
(drawing a bootstrap resample, say) runs while the first items are being worked on. Reads and writes
nothing itself."""
from __future__ import annotations

import os
import signal
from typing import Callable, Iterable, TypeVar

Item = TypeVar("Item")
Result = TypeVar("Result")


def usable_cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def process_map(function: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    items = list(items)
    workers = min(len(items), usable_cores())
    if workers < 2 or not hasattr(os, "fork"):
        return [function(item) for item in items]
    import multiprocessing  # here: with concurrent.futures, a tenth of a cached show_result run's start-up
    from concurrent.futures import ProcessPoolExecutor
    from concurrent.futures.process import BrokenProcessPool

    pool = None
    try:
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("fork"),
                                   initializer=_ignore_interrupt)
        return list(pool.map(function, items))
    except (OSError, BrokenProcessPool):  # no semaphores (no /dev/shm, a file size limit), no more processes
        pass  # allowed, a worker killed: the loop below, which raises again what `function` itself raised
    finally:  # after a failure (or Ctrl-C), the items not started yet are not run
        if pool is not None:
            pool.shutdown(cancel_futures=True)
    return [function(item) for item in items]


def thread_map(function: Callable[[Item], Result], items: Iterable[Item]) -> list[Result]:
    if usable_cores() < 2:
        return [function(item) for item in items]
    from concurrent.futures import ThreadPoolExecutor

    from threadpoolctl import threadpool_limits

    with threadpool_limits(1, user_api="blas"), ThreadPoolExecutor(usable_cores()) as pool:
        try:
            return list(pool.map(function, items))
        finally:
            pool.shutdown(cancel_futures=True)


def _ignore_interrupt() -> None:
    """Ctrl-C and SIGTERM (sent to the whole process group, as a service manager does) are for the
    parent to handle (run_main prints one line); a worker finishes its item, then the shut-down pool
    stops it."""
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
