"""The batch state of one output folder, kept in `<output folder>/.batch/` beside the outputs.

  batches.jsonl          one event per line, appended at once: `planned` (the batch's files are on
                         disk, before it is submitted), `submitted` (its batch id, recorded the moment
                         the provider returns it), `collected`, `failed` (the provider rejected it),
                         `abandoned` (planned, never submitted), `gone` (the provider answered 404
                         for it: its requests are planned again), `cancel_requested`
  requests-<id>.jsonl    the batch's input lines, as uploaded
  plan-<id>.jsonl        custom id -> model, question_id, conversation (game or choice), turn
  results.jsonl          one line per request result read from a batch: its text and token counts,
                         or its failure (`unanswered`: the batch ended, cancelled or expired, without
                         running it)

Both files of a batch are written through temporary names and renamed before `planned` is logged,
so a batch is either fully planned or not at all. A rerun reads the log: submitted batches are polled
and collected, never sent again; results already read are used as they are. A request that failed
in a batch of an earlier run is sent again, until it has failed in MAX_BATCH_ATTEMPTS batches; one
its batch never ran (cancelled by --cancel or the provider, or expired) made no attempt: it is
reported in the run that reads it and sent again by the next, without counting.
One process at a time holds the folder (an flock on `.batch/lock`)."""
from __future__ import annotations

import fcntl
import json
import os
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from arena_hard.core.errors import UserError
from arena_hard.core.jsonl import JsonlAppender, dumps_line, iter_jsonl, repair_tail
from arena_hard.models.client import CallFailed
from arena_hard.models.providers import ChatResult
from arena_hard.models.retry import REQUEST, Failure
from arena_hard.generate.batch.apis import UNANSWERED
from arena_hard.generate.batch.replay import WAITING

MAX_BATCH_ATTEMPTS = 3
OPEN, PLANNED, GONE = "submitted", "planned", "gone"


@dataclass
class BatchEntry:
    local_id: str
    group: list[str]  # [api_type, api_base, model_name or ""]: which client can reach the batch
    model: str  # the api_config entry whose client submitted it
    count: int
    size: int  # bytes of the request file
    state: str = PLANNED
    batch_id: str | None = None
    submitted_at: float | None = None


def entry_name(entry: BatchEntry) -> str:
    return entry.batch_id or f"{entry.local_id} (planned; its submission was interrupted)"


@dataclass
class BatchStore:
    directory: Path
    entries: dict[str, BatchEntry] = field(default_factory=dict)
    waiting: dict[str, str] = field(default_factory=dict)  # custom id -> local id of its open batch
    _results: dict[str, tuple[int, int]] = field(default_factory=dict)  # custom id -> (offset, length)
    _failures: dict[str, Failure] = field(default_factory=dict)  # custom id -> its failure, reported this run
    _failed_in: dict[str, set[str]] = field(default_factory=dict)  # custom id -> local ids of batches it failed in
    _unanswered: dict[str, Failure] = field(default_factory=dict)  # custom id -> why this run's batch never ran it
    _lock_fd: int = -1
    _events: JsonlAppender | None = None
    _results_fd: int = -1

    @classmethod
    def open(cls, directory: Path, *, write: bool = True) -> "BatchStore":
        """Read the state of `directory` (which may not exist yet); with `write`, hold it for this process."""
        store = cls(Path(directory))
        if write:
            store.directory.mkdir(parents=True, exist_ok=True)
            store._lock_fd = os.open(store.directory / "lock", os.O_RDWR | os.O_CREAT, 0o644)
            try:
                fcntl.flock(store._lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            except BlockingIOError:
                os.close(store._lock_fd)
                raise UserError(f"{store.directory}: another run is using these batches; let it finish "
                                "(or stop it) and run again") from None
            for name in ("batches.jsonl", "results.jsonl"):
                repair_tail(store.directory / name)
            for leftover in store.directory.glob(".*.tmp"):  # files of a batch killed while being planned
                leftover.unlink()
        store._load()
        if write:
            store._events = JsonlAppender(store.directory / "batches.jsonl")
            store._results_fd = os.open(store.directory / "results.jsonl", os.O_RDWR | os.O_APPEND | os.O_CREAT, 0o644)
        return store

    def close(self) -> None:
        if self._events is not None:
            self._events.close()
        for fd in (self._results_fd, self._lock_fd):
            if fd >= 0:
                os.close(fd)
        self._results_fd = self._lock_fd = -1

    # --- reading the state ---------------------------------------------------------------------
    def _load(self) -> None:
        log = self.directory / "batches.jsonl"
        if log.exists():
            for _, event in iter_jsonl(log, skip_truncated_tail=True):
                self._apply(event)
        for entry in self.entries.values():
            if entry.state == OPEN:
                for custom_id in self.plan_ids(entry):
                    self.waiting[custom_id] = entry.local_id
        results = self.directory / "results.jsonl"
        if not results.exists():
            return
        offset = 0
        with open(results, "rb") as handle:
            for raw in handle:
                if raw.endswith(b"\n"):
                    line = json.loads(raw)
                    if not line.get("unanswered"):  # an earlier run's: nothing to report, simply planned again
                        self._index(line, offset, len(raw))
                offset += len(raw)
        # Failures from earlier runs are sent again, a bounded number of times.
        for custom_id, batches in self._failed_in.items():
            if len(batches) < MAX_BATCH_ATTEMPTS:
                del self._failures[custom_id]

    def _apply(self, event: dict[str, Any]) -> None:
        kind, local_id = event.get("event"), str(event.get("local_id"))
        if kind == "planned":
            self.entries[local_id] = BatchEntry(local_id, list(event["group"]), event["model"], event["count"],
                                                event["size"])
            return
        entry = self.entries.get(local_id)
        if entry is None:
            return
        if kind == "submitted":
            entry.state, entry.batch_id, entry.submitted_at = OPEN, event["batch_id"], event["time"]
        elif kind in ("collected", "failed", "abandoned", GONE):
            entry.state = kind

    def _index(self, line: dict[str, Any], offset: int, length: int) -> None:
        custom_id = line["custom_id"]
        if line.get("ok"):
            self._results[custom_id] = (offset, length)
            self._failures.pop(custom_id, None)
            self._failed_in.pop(custom_id, None)
        elif line.get("unanswered"):
            self._unanswered[custom_id] = Failure(REQUEST, line.get("status"), line["error"])
        elif custom_id not in self._results:
            self._failed_in.setdefault(custom_id, set()).add(line["batch"])
            self._failures[custom_id] = Failure(REQUEST, line.get("status"), line["error"])

    def plan_ids(self, entry: BatchEntry) -> list[str]:
        return [line["custom_id"] for _, line in iter_jsonl(self.plan_file(entry.local_id))]

    def plan_file(self, local_id: str) -> Path:
        return self.directory / f"plan-{local_id}.jsonl"

    def requests_file(self, local_id: str) -> Path:
        return self.directory / f"requests-{local_id}.jsonl"

    def lookup(self, custom_id: str) -> ChatResult | CallFailed | str | None:
        """What is known of a request: its result, its failure, WAITING (in an open batch) or None."""
        place = self._results.get(custom_id)
        if place is not None:
            line = json.loads(os.pread(self._results_fd_for_read(), place[1], place[0]))
            return ChatResult(line["content"], line.get("reasoning"), line["prompt_tokens"], line["completion_tokens"],
                              cached_tokens=line.get("cached_tokens", 0), reasoning_tokens=line.get("reasoning_tokens", 0))
        failure = self._failures.get(custom_id)
        if failure is not None:
            tries = len(self._failed_in[custom_id])
            message = failure.message
            if tries >= MAX_BATCH_ATTEMPTS:
                message += f" (failed in {tries} batches; not sent again)"
            return CallFailed(Failure(REQUEST, failure.status, message), tries)
        failure = self._unanswered.get(custom_id)
        if failure is not None:
            return CallFailed(Failure(REQUEST, failure.status, f"{failure.message} (never run: not counted as an "
                                      "attempt; a rerun sends it again)"), len(self._failed_in.get(custom_id, ())))
        return WAITING if custom_id in self.waiting else None

    def _results_fd_for_read(self) -> int:
        if self._results_fd < 0:  # a read-only store (a dry run)
            self._results_fd = os.open(self.directory / "results.jsonl", os.O_RDONLY)
        return self._results_fd

    def settled(self) -> bool:
        """No batch is open or planned and no request has failed or gone unanswered: only results are left."""
        return not self.open_entries() and not self.planned_entries() and not self._failed_in and not self._unanswered

    def has_results(self) -> bool:
        return bool(self._results)

    def held_by_label(self) -> dict[str, list[BatchEntry]]:
        """Output label -> the batches (submitted, or planned and perhaps submitted) holding its requests."""
        held: dict[str, list[BatchEntry]] = {}
        for entry in self.open_entries() + self.planned_entries():
            for _, line in iter_jsonl(self.plan_file(entry.local_id)):
                entries = held.setdefault(line["model"], [])
                if entry not in entries:
                    entries.append(entry)
        return held

    def open_entries(self) -> list[BatchEntry]:
        return [entry for entry in self.entries.values() if entry.state == OPEN]

    def planned_entries(self) -> list[BatchEntry]:
        return [entry for entry in self.entries.values() if entry.state == PLANNED]

    # --- changing the state --------------------------------------------------------------------
    def _log(self, **event: Any) -> None:
        assert self._events is not None
        self._events.write(event)
        self._apply(event)

    def new_batch(self) -> "BatchFiles":
        return BatchFiles(self, uuid.uuid4().hex[:16])

    def planned(self, files: "BatchFiles", group: list[str], model: str) -> BatchEntry:
        self._log(event="planned", local_id=files.local_id, group=group, model=model, count=files.count,
                  size=files.size, time=time.time())
        return self.entries[files.local_id]

    def submitted(self, entry: BatchEntry, batch_id: str) -> None:
        self._log(event="submitted", local_id=entry.local_id, batch_id=batch_id, time=time.time())
        for custom_id in self.plan_ids(entry):
            self.waiting[custom_id] = entry.local_id

    def finished(self, entry: BatchEntry, state: str, **details: Any) -> None:
        """`collected`, `failed`, `abandoned` or `gone`: the batch's requests wait on it no more."""
        self._log(event=state, local_id=entry.local_id, time=time.time(), **details)
        for custom_id in [c for c, local_id in self.waiting.items() if local_id == entry.local_id]:
            del self.waiting[custom_id]

    def cancel_requested(self, entry: BatchEntry) -> None:
        self._log(event="cancel_requested", local_id=entry.local_id, time=time.time())

    def add_result(self, custom_id: str, local_id: str, outcome: ChatResult | Failure) -> None:
        if isinstance(outcome, ChatResult):
            line = {"custom_id": custom_id, "batch": local_id, "ok": True, "content": outcome.content,
                    "reasoning": outcome.reasoning, **outcome.tokens.record()}
        else:
            line = {"custom_id": custom_id, "batch": local_id, "ok": False, "status": outcome.status,
                    "error": outcome.message, **({"unanswered": True} if outcome.kind == UNANSWERED else {})}
        data = dumps_line(line)
        offset = os.fstat(self._results_fd).st_size
        view = memoryview(data)
        while view:
            view = view[os.write(self._results_fd, view):]
        self._index(line, offset, len(data))


class BatchFiles:
    """A batch's request file and plan file, streamed to temporary names and renamed by `finish`."""

    def __init__(self, store: BatchStore, local_id: str):
        self.local_id = local_id
        self.count = self.size = 0
        self._targets = (store.requests_file(local_id), store.plan_file(local_id))
        self._temps = tuple(path.with_name(f".{path.name}.tmp") for path in self._targets)
        self._handles = [open(path, "wb") for path in self._temps]

    def add(self, request_line: bytes, plan_line: bytes) -> None:
        self._handles[0].write(request_line)
        self._handles[1].write(plan_line)
        self.count += 1
        self.size += len(request_line)

    def finish(self) -> None:
        for handle, temp, target in zip(self._handles, self._temps, self._targets):
            handle.flush()
            os.fsync(handle.fileno())
            handle.close()
            os.replace(temp, target)
