"""Which failures are retried (arena_hard.models.retry), and how long the client waits
(arena_hard.core.retry_policy)."""
from __future__ import annotations

import email.utils
import random
import time

import anthropic
import httpx2
import openai
import pytest

from arena_hard.core.retry_policy import RetryPolicy, parse_retry_after
from arena_hard.models.retry import MODEL, REQUEST, RETRY, classify


def openai_status_error(status: int, headers: dict[str, str] | None = None) -> openai.APIStatusError:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    response = httpx2.Response(status, headers=headers or {}, request=request, json={"error": {"message": "nope"}})
    return openai.OpenAI(api_key="k", base_url="http://127.0.0.1/v1")._make_status_error_from_response(response)


def anthropic_status_error(status: int) -> anthropic.APIStatusError:
    request = httpx2.Request("POST", "http://127.0.0.1/v1/messages")
    response = httpx2.Response(status, request=request, json={"type": "error", "error": {"message": "nope"}})
    return anthropic.Anthropic(api_key="k", base_url="http://127.0.0.1")._make_status_error_from_response(response)


@pytest.mark.parametrize("status, kind", [
    (429, RETRY), (500, RETRY), (502, RETRY), (503, RETRY), (529, RETRY), (408, RETRY),
    (400, REQUEST), (413, REQUEST), (422, REQUEST), (501, REQUEST),
    (401, MODEL), (403, MODEL), (404, MODEL),
])
def test_status_codes(status, kind):
    assert classify(openai_status_error(status)).kind == kind
    assert classify(anthropic_status_error(status)).kind == kind
    assert classify(openai_status_error(status)).status == status


def test_transport_failures_are_retried():
    request = httpx2.Request("POST", "http://127.0.0.1/v1/chat/completions")
    assert classify(openai.APITimeoutError(request=request)).kind == RETRY
    assert classify(openai.APIConnectionError(request=request)).kind == RETRY
    assert classify(anthropic.APIConnectionError(request=request)).kind == RETRY
    assert classify(ValueError("a bug")).kind == REQUEST


def test_retry_after_header_is_read():
    assert classify(openai_status_error(429, {"retry-after": "7"})).retry_after == 7.0
    assert classify(openai_status_error(429, {"retry-after-ms": "1500"})).retry_after == 1.5
    date = email.utils.formatdate(time.time() + 30, usegmt=True)
    assert 25 <= parse_retry_after({"retry-after": date}) <= 31
    assert parse_retry_after({}) is None


def test_backoff_doubles_with_jitter_and_is_capped():
    policy = RetryPolicy(max_attempts=10, backoff_base=1.0, backoff_max=8.0)
    rng = random.Random(0)
    for attempt, full in [(1, 1.0), (2, 2.0), (3, 4.0), (4, 8.0), (6, 8.0)]:
        delays = [policy.delay(attempt, None, rng) for _ in range(200)]
        assert full / 2 <= min(delays) and max(delays) <= full
        assert max(delays) - min(delays) > full / 4  # jittered, not fixed


def test_retry_after_is_honoured_and_capped_by_backoff_max():
    policy = RetryPolicy(backoff_base=0.5, backoff_max=60.0)
    rng = random.Random(0)
    assert 3.0 <= policy.delay(1, 3.0, rng) <= 3.05
    assert policy.delay(1, 86400.0, rng) == 60.0
    assert RetryPolicy(backoff_max=7200.0).delay(1, 3600.0, rng) >= 3600.0  # raised by the user: honoured
