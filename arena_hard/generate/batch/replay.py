"""Replaying a job against the batch results known so far, to learn what it still needs.

A job is the same coroutine a direct run uses (`make_job(client)(job)`), given a `ReplayClient`
instead of a ModelClient. Its `chat(request)` answers at once: with the stored result when the
request's batch has been collected, with the stored failure (raised as CallFailed), or, when the
result is not known yet, with a placeholder, noting the request as needed. A request whose
conversation holds a placeholder depends on an unknown answer (a second turn, a judge re-ask): it is
noted for a later round and never sent. So one replay finds every request that can go out now, both
games of a judgment and all choices included, and a job whose requests are all known returns exactly
the record a direct run would. Requests are named by a content hash of the output, question,
conversation, turn and request, so a rerun finds the same names. Reads and writes nothing itself."""
from __future__ import annotations

import hashlib
import json
import re
from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable, Protocol

from arena_hard.core.endpoints import ModelConfig
from arena_hard.models.client import CallFailed
from arena_hard.models.providers import ChatRequest, ChatResult

_MARK = "\x00arena-hard-batch-pending:"
_PLACEHOLDER = re.compile(re.escape(_MARK) + r"(\d+)\x00")
WAITING = "waiting"  # Lookup's answer for a request that is in a submitted, uncollected batch


@dataclass(frozen=True)
class Need:
    custom_id: str  # "" for a request of a later round (its content is not known yet)
    label: str  # the output's model name
    question_id: str
    conversation: int  # the game (judging) or the choice (answering), from 1
    turn: int  # the request's number within its conversation: 2 is a second turn or a re-ask
    round: int  # 1: can be sent now; k: waits for answers of round k-1
    request: ChatRequest
    waiting: bool = False  # already in a submitted batch


class Lookup(Protocol):
    def __call__(self, custom_id: str) -> ChatResult | CallFailed | str | None: ...


def custom_id(model: ModelConfig, label: str, question_id: str, conversation: int, turn: int,
              request: ChatRequest) -> str:
    """A name for the request that any rerun with the same inputs computes again (both APIs allow
    64 characters of [A-Za-z0-9_-])."""
    key = [label, question_id, conversation, turn, model.api_type, model.model_name, model.reasoning_effort,
           model.thinking_budget, model.extra_body, request.messages, request.temperature, request.max_tokens]
    digest = hashlib.sha256(json.dumps(key, ensure_ascii=False, sort_keys=True).encode("utf-8")).hexdigest()
    return f"ah-{digest[:40]}"


def _placeholder(round_number: int) -> ChatResult:
    return ChatResult(f"{_MARK}{round_number}\x00", None, 0, 0)


def _depends_on(request: ChatRequest) -> int:
    """The latest round of any placeholder in the conversation, 0 when there is none."""
    rounds = [int(n) for m in request.messages if _MARK in m["content"] for n in _PLACEHOLDER.findall(m["content"])]
    return max(rounds, default=0)


@dataclass
class ReplayClient:
    """What a job sees as its model client during a replay; `start` before each job."""

    config: ModelConfig
    label: str
    lookup: Lookup
    needs: list[Need] = field(default_factory=list)
    used: list[ChatResult] = field(default_factory=list)  # the stored results the job read
    _question_id: str = ""
    _threads: list[tuple[tuple[dict[str, str], ...], int]] = field(default_factory=list)

    def start(self, question_id: str) -> None:
        self._question_id = question_id
        self._threads = []
        self.needs = []
        self.used = []

    def _locate(self, messages: tuple[dict[str, str], ...]) -> tuple[int, int]:
        """(conversation, turn): a request extending an earlier request's conversation continues it
        (the latest such one); any other request opens a new conversation."""
        for index in range(len(self._threads) - 1, -1, -1):
            last, turn = self._threads[index]
            if len(messages) > len(last) and messages[:len(last)] == last:
                self._threads[index] = (messages, turn + 1)
                return index + 1, turn + 1
        self._threads.append((messages, 1))
        return len(self._threads), 1

    async def chat(self, request: ChatRequest) -> ChatResult:
        conversation, turn = self._locate(request.messages)
        depends_on = _depends_on(request)
        if depends_on:
            self.needs.append(Need("", self.label, self._question_id, conversation, turn, depends_on + 1, request))
            return _placeholder(depends_on + 1)
        name = custom_id(self.config, self.label, self._question_id, conversation, turn, request)
        known = self.lookup(name)
        if isinstance(known, ChatResult):
            self.used.append(known)
            return known
        if isinstance(known, CallFailed):
            raise CallFailed(known.failure, known.attempts)
        self.needs.append(Need(name, self.label, self._question_id, conversation, turn, 1, request,
                               waiting=known == WAITING))
        return _placeholder(1)


@dataclass(frozen=True)
class Replayed:
    record: dict[str, Any] | None  # the finished record, when every request of the job is known
    failed: CallFailed | None
    needs: list[Need]


def replay(client: ReplayClient, run: Callable[[Any], Awaitable[dict[str, Any]]], job: Any) -> Replayed:
    """Run `run(job)` to its end against what `client` knows; it never waits on anything."""
    client.start(job.question.question_id)
    coroutine = run(job)
    try:
        coroutine.send(None)
    except StopIteration as stop:
        return Replayed(None if client.needs else stop.value, None, client.needs)
    except CallFailed as failed:
        return Replayed(None, failed, [])
    coroutine.close()
    raise RuntimeError("a job awaited something other than its model client; it cannot run in batch mode")
