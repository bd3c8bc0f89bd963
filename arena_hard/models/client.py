"""A model behind its endpoints: bounded concurrency, retries, endpoint health, usage totals.

`ModelClient.chat(request)` sends one chat request through the model's provider and returns a
ChatResult, or raises `CallFailed` carrying the final Failure. At most `parallel` requests are in
flight for the model (an asyncio semaphore, held per attempt, not while backing off). Requests are
spread over the endpoints by load; an endpoint that fails three times in a row is rested for a
while so the others carry on, and one that answers 401/403/404 is dropped. A 401/403/404 from the last
endpoint, or three requests in a row that failed every attempt, stop the model: later requests fail
at once instead of spending calls. A request holding text no SDK can encode fails without a call.
API keys are scrubbed from every failure message. What the provider says it will not apply (an
Anthropic temperature), and usage a reply reports that is no token count, are warned about on stderr
once per model and message; replies cut at the token limit are counted. Several outputs may share one
client (every model's judgments go through the judge's): each asks through a `ClientShare`, which also
counts its own usage."""
from __future__ import annotations

import asyncio
import dataclasses
import os
import random
import sys
import time
from dataclasses import dataclass, field
from typing import Any

from arena_hard.core.endpoints import ModelConfig
from arena_hard.core.usage import Tokens
from arena_hard.models.providers import PROVIDERS, ChatRequest, ChatResult, make_client, unsendable
from arena_hard.models.retry import MODEL, REQUEST, RETRY, Failure, Unsendable, classify

ENDPOINT_FAILURES_BEFORE_REST = 3
ENDPOINT_REST_SECONDS = (5.0, 60.0)  # first rest, longest rest
REQUESTS_FAILED_BEFORE_STOP = 3
LONG_WAIT_SECONDS = 60.0  # waits longer than this are announced
_SDK_KEY_VARIABLES = ("OPENAI_API_KEY", "AZURE_OPENAI_API_KEY", "ANTHROPIC_API_KEY")


class CallFailed(Exception):
    def __init__(self, failure: Failure, attempts: int):
        super().__init__(failure.describe())
        self.failure = failure
        self.attempts = attempts


@dataclass
class _EndpointSlot:
    client: Any
    config: ModelConfig  # the model's, with this endpoint's model_name when it has one
    in_flight: int = 0
    failures_in_row: int = 0
    rested_until: float = 0.0
    retired: bool = False  # it answered 401/403/404: its key or model name is wrong there


@dataclass
class Usage:
    calls: int = 0
    tokens: Tokens = field(default_factory=Tokens)
    truncated: int = 0  # replies cut at the token limit, kept as they are

    def add(self, result: ChatResult) -> None:
        self.tokens += result.tokens
        self.truncated += result.truncated


@dataclass
class ModelClient:
    config: ModelConfig
    rng: random.Random = field(default_factory=random.Random)
    usage: Usage = field(default_factory=Usage)
    stopped: Failure | None = None
    _cap_noted: bool = field(default=False, init=False, repr=False)

    def __post_init__(self) -> None:
        self._call = PROVIDERS[self.config.api_type].call
        self._unapplied = PROVIDERS[self.config.api_type].unapplied
        self._unsendable = unsendable
        self._warned: set[str] = set()
        self._slots = [_EndpointSlot(make_client(self.config, endpoint), dataclasses.replace(
            self.config, model_name=endpoint.model_name or self.config.model_name)) for endpoint in self.config.endpoints]
        self._semaphore = asyncio.Semaphore(self.config.parallel)
        self._next_slot = 0
        self._requests_failed_in_row = 0
        key_variables = (*_SDK_KEY_VARIABLES, *([self.config.api_key_env] if self.config.api_key_env else []))
        self._secrets = tuple(s for s in (*self.config.secrets, *(os.environ.get(v) for v in key_variables))
                              if s and len(s) >= 4)

    def redact(self, text: str) -> str:
        for secret in self._secrets:
            text = text.replace(secret, "***")
        return text

    def _pick_slot(self) -> _EndpointSlot:
        now = time.monotonic()
        serving = [slot for slot in self._slots if not slot.retired]
        awake = [slot for slot in serving if slot.rested_until <= now]
        if not awake:  # all resting: use the one that wakes first rather than wait
            return min(serving, key=lambda slot: slot.rested_until)
        self._next_slot += 1
        order = {id(slot): (i - self._next_slot) % len(self._slots) for i, slot in enumerate(self._slots)}
        return min(awake, key=lambda slot: (slot.in_flight, order[id(slot)]))

    def _endpoint_failed(self, slot: _EndpointSlot) -> None:
        slot.failures_in_row += 1
        extra = slot.failures_in_row - ENDPOINT_FAILURES_BEFORE_REST
        if extra >= 0 and len(self._slots) > 1:
            first, longest = ENDPOINT_REST_SECONDS
            slot.rested_until = time.monotonic() + min(longest, first * 2 ** extra)

    def _give_up(self, failure: Failure, attempts: int) -> CallFailed:
        if failure.kind == MODEL:
            self.stopped = failure
        elif failure.kind != REQUEST:
            self._requests_failed_in_row += 1
            if self._requests_failed_in_row >= REQUESTS_FAILED_BEFORE_STOP and self.stopped is None:
                self.stopped = Failure(MODEL, failure.status, f"stopped after {self._requests_failed_in_row} "
                                       f"requests in a row failed every attempt; last: {failure.message}")
        return CallFailed(failure, attempts)

    def _warn(self, warning: str | None) -> None:
        if warning and warning not in self._warned:
            self._warned.add(warning)
            print(f"warning: {self.redact(warning)}", file=sys.stderr)

    async def chat(self, request: ChatRequest, *shares: Usage) -> ChatResult:
        """The result of `request`, counted in this client's usage and in each of `shares` too."""
        self._warn(self._unapplied(self.config, request))
        problem = self._unsendable(request)
        if problem is not None:
            raise CallFailed(classify(Unsendable(problem), self.redact), 0)
        tallies = (self.usage, *shares)
        policy = self.config.retry
        attempt = 0
        while True:
            attempt += 1
            async with self._semaphore:
                if self.stopped is not None:  # checked once a slot is ours: the stop may have come while waiting
                    raise CallFailed(self.stopped, attempt - 1)
                slot = self._pick_slot()
                slot.in_flight += 1
                for tally in tallies:
                    tally.calls += 1
                try:
                    result = await self._call(slot.client, slot.config, request)
                except asyncio.CancelledError:
                    raise
                except Exception as error:  # every provider failure is classified, none escapes raw
                    failure = classify(error, self.redact)
                else:
                    slot.failures_in_row = 0
                    self._requests_failed_in_row = 0
                    for tally in tallies:
                        tally.add(result)
                    if result.usage_note:
                        self._warn(f"{self.config.name}: {result.usage_note}")
                    return result
                finally:
                    slot.in_flight -= 1
            if failure.kind == MODEL and len(self._slots) > 1:
                slot.retired = True
                if any(not other.retired for other in self._slots):  # the others may serve: retry there
                    failure = dataclasses.replace(failure, kind=RETRY)
            if failure.kind == RETRY:
                self._endpoint_failed(slot)
            if failure.kind != RETRY or attempt >= min(policy.max_attempts, failure.attempt_limit or policy.max_attempts):
                raise self._give_up(failure, attempt)
            delay = policy.delay(attempt, failure.retry_after, self.rng)
            asked = failure.retry_after
            if asked is not None and asked > max(LONG_WAIT_SECONDS, policy.backoff_max) and not self._cap_noted:
                self._cap_noted = True
                print(f"{self.config.name}: the server asks to wait {asked:,.0f} s (Retry-After); waiting "
                      f"{delay:,.0f} s, the model's backoff_max (raise `{self.config.name}.backoff_max` in "
                      f"{self.config.source} to wait longer)", file=sys.stderr)
            elif delay > LONG_WAIT_SECONDS:
                print(f"{self.config.name}: waiting {delay:,.0f} s before retrying ({failure.describe()})",
                      file=sys.stderr)
            await asyncio.sleep(delay)

    async def aclose(self) -> None:
        for slot in self._slots:
            close = getattr(slot.client, "close", None)
            if close is not None:
                await close()


@dataclass(frozen=True)
class ClientShare:
    """One output's share of a client, or one job's: requests go through the client (its `parallel`,
    endpoints, retries and stop rules, shared with every other share) and are also counted in `usage`
    and, for a job's share, in its output's usage (`within`)."""
    client: ModelClient
    usage: Usage = field(default_factory=Usage)
    within: Usage | None = None

    @property
    def config(self) -> ModelConfig:
        return self.client.config

    async def chat(self, request: ChatRequest) -> ChatResult:
        return await self.client.chat(request, self.usage, *([self.within] if self.within is not None else []))
