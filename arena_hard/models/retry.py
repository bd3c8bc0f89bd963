"""Retries, written once: which failures are worth another attempt, and how long to wait.

`classify` turns any exception from a provider call into a `Failure` of one of three kinds:
  - "retry":   429, 408/409/425, 5xx, timeouts, dropped connections, garbled responses, and an empty
               answer once (it tends to repeat);
  - "request": this request will never succeed (400, 413, 422, ..., a reply of a shape that holds no
               answer, text that cannot be sent): report it, do not retry;
  - "model":   no request to this model will succeed (401, 403, 404, or a 200 that is not an API
               response, such as a web page): stop calling it.
A status 200 whose body is the provider's `{"error": ...}` is decided by the error's code as by a
status, and retried once when it has none. A 404 says which address was not found and what in
api_base is the likely cause. How long to wait between attempts is arena_hard.core.retry_policy.RetryPolicy."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from arena_hard.core.retry_policy import parse_retry_after

RETRY, REQUEST, MODEL = "retry", "request", "model"
_MODEL_FATAL = {401, 403, 404}
_RETRYABLE_4XX = {408, 409, 425, 429}
_NOT_RETRYABLE_5XX = {501, 505}
# Exception class names (from the openai/anthropic SDKs, httpx, asyncio, json) meaning the request
# may succeed if sent again; matched by name so that no SDK has to be imported to classify.
_TRANSIENT_NAMES = {"APITimeoutError", "APIConnectionError", "APIResponseValidationError", "TimeoutError",
                    "TimeoutException", "TransportError", "RemoteProtocolError", "JSONDecodeError",
                    "ConnectionError"}
# An empty answer at temperature 0 tends to come back empty: one more attempt, not the whole budget.
EMPTY_ATTEMPTS = 2


@dataclass(frozen=True)
class Failure:
    kind: str  # RETRY, REQUEST or MODEL
    status: int | None  # the HTTP status, when there was a response
    message: str
    retry_after: float | None = None
    attempt_limit: int | None = None  # fewer attempts than the policy's for this kind of failure

    def describe(self) -> str:
        return f"{self.status} {self.message}" if self.status is not None else self.message


API_BASE_HINT = "check api_base (an OpenAI-compatible server's usually ends in /v1)"


class EmptyResponse(Exception):
    """The API answered 200 with no text: tried once more, then reported."""


class NotAnApi(Exception):
    """The endpoint answered 200 with something that is not an API response (a web page, plain text):
    the address is wrong, and no request to it will succeed."""


class BadReply(ValueError):
    """The API answered 200 with a reply that holds no answer in any known shape (a choice without a
    message, content that is a number): reported for this request, not retried. A ValueError, as the
    readers of a batch's stored replies expect of a reply they cannot read."""


class ProviderError(ValueError):
    """The API answered 200 with the provider's `{"error": {"message", "code"}}` instead of a reply."""

    def __init__(self, message: str, code: int | None):
        super().__init__(message)
        self.code = code


class Unsendable(Exception):
    """A request the SDK cannot send (text that is not Unicode): no call is made."""


def _status_kind(status: int) -> str:
    if status in _MODEL_FATAL:
        return MODEL
    if status in _RETRYABLE_4XX or (status >= 500 and status not in _NOT_RETRYABLE_5XX):
        return RETRY
    return REQUEST


def _not_found_hint(error: BaseException) -> str:
    """What a 404 most likely means, from the address the SDK asked."""
    url = getattr(getattr(error, "request", None), "url", None)
    path = str(getattr(url, "path", ""))
    if not path:
        return ""
    if "/v1/v1/" in path:
        return f" (asked {url}: api_base ends in /v1, which the SDK adds itself; drop it from api_base)"
    if path.endswith("/chat/completions") and "/v1/" not in path and "/deployments/" not in path:
        return f" (asked {url}: {API_BASE_HINT})"
    return f" (asked {url}: check model_name and api_base)"


def _message(error: BaseException, redact: Callable[[str], str]) -> str:
    text = getattr(error, "message", None) or str(error) or type(error).__name__
    text = redact(" ".join(str(text).split()))  # before the cut: a key cut in two would escape redaction
    return text[:300] + ("..." if len(text) > 300 else "")


def _unchanged(text: str) -> str:
    return text


def classify(error: BaseException, redact: Callable[[str], str] = _unchanged) -> Failure:
    """The Failure `error` stands for; `redact` scrubs secrets from its message."""
    status = getattr(error, "status_code", None)
    if isinstance(status, int):
        response = getattr(error, "response", None)
        retry_after = parse_retry_after(getattr(response, "headers", None))
        hint = redact(_not_found_hint(error)) if status == 404 else ""
        return Failure(_status_kind(status), status, _message(error, redact) + hint, retry_after)
    names = {cls.__name__ for cls in type(error).__mro__}
    if isinstance(error, NotAnApi):
        return Failure(MODEL, None, _message(error, redact))
    if isinstance(error, ProviderError):
        if error.code is None:
            return Failure(RETRY, None, _message(error, redact), attempt_limit=EMPTY_ATTEMPTS)
        return Failure(_status_kind(error.code), None, _message(error, redact))
    if isinstance(error, (BadReply, Unsendable)):
        return Failure(REQUEST, None, _message(error, redact))
    if isinstance(error, EmptyResponse):
        return Failure(RETRY, None, f"{type(error).__name__}: {_message(error, redact)}", attempt_limit=EMPTY_ATTEMPTS)
    if names & _TRANSIENT_NAMES:
        return Failure(RETRY, None, f"{type(error).__name__}: {_message(error, redact)}")
    return Failure(REQUEST, None, f"{type(error).__name__}: {_message(error, redact)}")
