"""The HTTP client the downloads use: GET requests over urllib with a timeout and bounded retries.

Reads over HTTP whatever URL it is given; writes nothing. A 404 raises NotFound, a 4xx other than
408/425/429 raises FetchError, and dropped or cut connections, timeouts, 408/425/429 and most 5xx
raise Transient, which `Retrying` (the one retry loop of the downloads, also used for the Hub) tries
again after a backoff (or the server's Retry-After) before giving up with FetchError. Also: reading
a body in chunks that notices a short one."""
from __future__ import annotations

import http.client
import itertools
import random
import time
import urllib.error
import urllib.request
from dataclasses import dataclass, field
from typing import Callable, Iterator, TypeVar

from arena_hard.core.retry_policy import RetryPolicy, parse_retry_after

_CHUNK = 1 << 16
_RETRYABLE_STATUS = {408, 425, 429}
_NOT_RETRYABLE_5XX = {501, 505}
T = TypeVar("T")


class FetchError(Exception):
    """A file or a listing could not be fetched; the message says why in one line."""

    user_fixable = False
    hint = ""  # what to check, said once in the summary


class NotFound(FetchError):
    """HTTP 404: the address is wrong (a base URL, repository, revision or bench name)."""

    user_fixable = True
    hint = "a 404 means --base-url, --hf-base-url, --hf-repo or --hf-revision does not point at the files"


class Transient(FetchError):
    """A failure worth another attempt: dropped or cut connection, timeout, 408/429/5xx."""

    def __init__(self, message: str, retry_after: float | None = None):
        super().__init__(message)
        self.retry_after = retry_after


def status_error(status: int, where: str, message: str, retry_after: float | None = None) -> FetchError:
    """The FetchError an HTTP error status stands for: NotFound for a 404 (of `where`), Transient for
    what may pass if tried again (408, 425, 429, and 5xx but 501 and 505), FetchError otherwise."""
    if status == 404:
        return NotFound(f"not found (HTTP 404): {where}")
    if status in _RETRYABLE_STATUS or (status >= 500 and status not in _NOT_RETRYABLE_5XX):
        return Transient(message, retry_after)
    return FetchError(message)


def describe(error: BaseException) -> str:
    reason = getattr(error, "reason", None)
    text = str(reason if reason is not None else error) or type(error).__name__
    return " ".join(text.split())


def body_chunks(response: http.client.HTTPResponse, url: str) -> Iterator[bytes]:
    """The body of `response` in chunks; a connection that breaks or closes before the declared
    Content-Length raises Transient (http.client itself returns a short body without a word)."""
    declared = response.headers.get("Content-Length", "")
    expected = int(declared) if declared.strip().isdigit() else None
    received = 0
    while True:
        try:
            chunk = response.read(_CHUNK)
        except (OSError, http.client.HTTPException) as error:
            raise Transient(f"connection broke after {received} bytes from {url} ({describe(error)})") from None
        if not chunk:
            break
        received += len(chunk)
        yield chunk
    if expected is not None and received < expected:
        raise Transient(f"connection closed after {received} of {expected} bytes from {url}")


@dataclass(frozen=True)
class Retrying:
    """An action tried again after a Transient failure, waiting as the policy says, up to its number
    of attempts; any other failure is final."""

    policy: RetryPolicy
    sleep: Callable[[float], None] = time.sleep
    rng: random.Random = field(default_factory=random.Random, compare=False)

    def call(self, action: Callable[[], T]) -> T:
        for attempt in itertools.count(1):
            try:
                return action()
            except Transient as error:
                if attempt >= self.policy.max_attempts:
                    tries = f"{attempt} attempts" if attempt > 1 else "1 attempt, no retries"
                    raise FetchError(f"{error} (gave up after {tries})") from None
                self.sleep(self.policy.delay(attempt, error.retry_after, self.rng))
        raise AssertionError("unreachable")


class HttpClient:
    """GET requests with a timeout and a bounded number of attempts: transient failures are tried
    again after a backoff (or the server's Retry-After); a 404 or another 4xx is final."""

    def __init__(self, timeout: float = 60.0, retrying: Retrying | None = None):
        self.timeout = timeout
        self.retrying = retrying or Retrying(RetryPolicy(max_attempts=4, backoff_base=1.0, backoff_max=60.0))

    def _open(self, url: str) -> http.client.HTTPResponse:
        request = urllib.request.Request(url, headers={"User-Agent": "arena-hard-download_data"})
        try:
            return urllib.request.urlopen(request, timeout=self.timeout)
        except urllib.error.HTTPError as error:
            error.close()
            raise status_error(error.code, url, f"HTTP {error.code} {error.reason} from {url}",
                               parse_retry_after(error.headers)) from None
        except (OSError, http.client.HTTPException) as error:  # URLError, refused, reset, timeout
            raise Transient(f"cannot fetch {url} ({describe(error)})") from None

    def fetch(self, url: str, consume: Callable[[http.client.HTTPResponse], T]) -> T:
        """`consume(response)` for a GET of `url`; Transient from opening or from `consume`
        starts the request again, up to the policy's number of attempts."""
        def attempt() -> T:
            with self._open(url) as response:
                return consume(response)
        return self.retrying.call(attempt)
