"""core/parallel: process_map and thread_map give the plain loop's results in the items' order, raise
the first failing item's exception unchanged (a UserError keeps its message), and really use other
processes / threads when the machine has more than one core."""
from __future__ import annotations

import os
import threading

import pytest

from arena_hard.core import parallel
from arena_hard.core.errors import UserError

MULTICORE = pytest.mark.skipif(parallel.usable_cores() < 2, reason="needs two usable cores")


def square(x: int) -> int:
    return x * x


def fail_on_odd(x: int) -> int:
    if x % 2:
        raise UserError(f"data/file-{x}.jsonl:3: not valid JSON")
    return x


def pid_of(_: int) -> int:
    return os.getpid()


@pytest.mark.parametrize("map_", [parallel.process_map, parallel.thread_map])
def test_results_come_back_in_the_order_of_the_items(map_):
    assert map_(square, range(40)) == [x * x for x in range(40)]
    assert map_(square, []) == []
    assert map_(square, iter([3])) == [9]


@pytest.mark.parametrize("map_", [parallel.process_map, parallel.thread_map])
def test_the_first_failing_item_raises_its_own_error(map_):
    with pytest.raises(UserError, match=r"^data/file-1\.jsonl:3: not valid JSON$"):
        map_(fail_on_odd, [0, 2, 1, 4, 3])


@MULTICORE
def test_process_map_runs_in_worker_processes():
    assert set(parallel.process_map(pid_of, range(8))) - {os.getpid()}


@MULTICORE
def test_thread_map_runs_on_worker_threads():
    assert {parallel.thread_map(lambda _: threading.get_ident(), range(8))[0]} != {threading.get_ident()}


def test_process_map_falls_back_to_the_loop_when_no_worker_can_be_made(monkeypatch):
    import concurrent.futures

    def no_semaphores(*args, **kwargs):
        raise OSError(38, "Function not implemented")  # a container without /dev/shm
    monkeypatch.setattr(concurrent.futures, "ProcessPoolExecutor", no_semaphores)
    assert parallel.process_map(pid_of, range(4)) == [os.getpid()] * 4


def test_process_map_falls_back_to_the_loop_when_no_process_can_be_started(monkeypatch):
    def no_more_processes():
        raise BlockingIOError(11, "Resource temporarily unavailable")  # fork under RLIMIT_NPROC
    monkeypatch.setattr(os, "fork", no_more_processes)
    assert parallel.process_map(pid_of, range(4)) == [os.getpid()] * 4


def exit_in_a_worker(x: int) -> int:
    if os.getpid() != PARENT:
        os._exit(9)  # as the OOM killer would end it
    return x


PARENT = os.getpid()


def test_process_map_redoes_the_work_here_when_a_worker_dies():
    assert parallel.process_map(exit_in_a_worker, range(4)) == [0, 1, 2, 3]
