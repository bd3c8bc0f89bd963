"""How long to wait before trying a request again: the retry policy an endpoint entry configures
(`max_attempts`, `backoff_base`, `backoff_max` in api_config.yaml) and the downloads use, and the
server's own `Retry-After`. A config record, so it lives in the core: arena_hard.models.retry decides
which failures are retried, arena_hard.download.http_client retries its GETs with the same policy.
Reads and writes nothing."""
from __future__ import annotations

import email.utils
import random
import time
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    backoff_base: float = 1.0  # seconds before the second attempt; doubles each time
    backoff_max: float = 60.0  # also the longest Retry-After honoured: a user raises it to wait longer

    def delay(self, attempt: int, retry_after: float | None, rng: random.Random) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based): exponential backoff with
        jitter, or the server's Retry-After; either at most `backoff_max`."""
        if retry_after is not None:
            return min(retry_after + rng.uniform(0, 0.1 * self.backoff_base), self.backoff_max)
        backoff = min(self.backoff_max, self.backoff_base * 2 ** (attempt - 1))
        return backoff * rng.uniform(0.5, 1.0)


def parse_retry_after(headers: object) -> float | None:
    """Seconds from `retry-after-ms` or `retry-after` (seconds or an HTTP date), if present."""
    get = getattr(headers, "get", None)
    if get is None:
        return None
    millis = get("retry-after-ms")
    if millis:
        try:
            return max(0.0, float(millis) / 1000)
        except ValueError:
            pass
    value = get("retry-after")
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        parsed = email.utils.parsedate_to_datetime(value) if value else None
        return max(0.0, parsed.timestamp() - time.time()) if parsed else None
