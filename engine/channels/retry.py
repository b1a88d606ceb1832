"""HTTP POST with bounded retries and exponential backoff, shared by the webhook and provider channels.

Retried: timeouts, connection errors, 408, 429 and 5xx. Not retried: other 4xx and 3xx (the request itself
is wrong, sending it again cannot help). The outcome is returned, never raised, so a channel can turn it into
FAILED results with a reason a marketer understands ("HTTP 503 after 3 attempts").
"""

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass

import httpx

log = logging.getLogger(__name__)

RETRIABLE_STATUS = frozenset({408, 425, 429, 500, 502, 503, 504})


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 3
    backoff: float = 0.2  # seconds before the 2nd attempt; doubled before each further one
    backoff_max: float = 5.0
    sleep: Callable[[float], None] = time.sleep

    def delay(self, attempt: int, retry_after: float | None = None) -> float:
        """Seconds to wait after failed attempt number `attempt` (1-based)."""
        wait = self.backoff * (2.0 ** (attempt - 1))  # a float: int ** int is typed Any (a negative power)
        if retry_after is not None:
            wait = max(wait, retry_after)
        return min(wait, self.backoff_max)


@dataclass
class PostOutcome:
    response: httpx.Response | None  # the final 2xx response, or None when it failed
    attempts: int
    error: str | None = None  # why it failed, in words ("HTTP 503 after 3 attempts")
    status_code: int | None = None  # last HTTP status seen, if any

    @property
    def ok(self) -> bool:
        return self.response is not None


def _retry_after(response: httpx.Response) -> float | None:
    value = response.headers.get("retry-after")
    if value is None:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        return None  # an HTTP date: ignore, the exponential backoff applies


def _short(text: str, limit: int = 200) -> str:
    text = " ".join(text.split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def post_with_retries(client: httpx.Client, url: str, *, content: bytes, headers: dict[str, str],
                      policy: RetryPolicy, timeout: float | None = None) -> PostOutcome:
    """POST `content` to `url`; retry transient failures per `policy`. Never raises for network trouble."""
    attempts = max(1, policy.max_attempts)
    last_error = "not sent"
    last_status: int | None = None
    for attempt in range(1, attempts + 1):
        retry_after = None
        try:
            response = client.post(url, content=content, headers=headers,
                                   timeout=httpx.USE_CLIENT_DEFAULT if timeout is None else timeout)
        except httpx.TimeoutException:
            last_error = "timed out"
        except httpx.InvalidURL as exc:
            return PostOutcome(None, attempt, f"invalid URL: {exc}")
        except httpx.UnsupportedProtocol as exc:
            return PostOutcome(None, attempt, f"invalid URL: {exc}")
        except httpx.TransportError as exc:
            last_error = f"connection failed ({_short(str(exc) or type(exc).__name__, 120)})"
        else:
            last_status = response.status_code
            if 200 <= response.status_code < 300:
                return PostOutcome(response, attempt, status_code=response.status_code)
            reason = f"HTTP {response.status_code}"
            if response.status_code not in RETRIABLE_STATUS:
                detail = _short(response.text) if response.text else response.reason_phrase
                if 300 <= response.status_code < 400:
                    detail = f"redirect to {response.headers.get('location', '?')} not followed"
                return PostOutcome(None, attempt, f"{reason}: {detail}" if detail else reason, last_status)
            last_error = reason
            retry_after = _retry_after(response)
        if attempt < attempts:
            wait = policy.delay(attempt, retry_after)
            log.info("POST %s: %s (attempt %d/%d), retrying in %.2fs", url, last_error, attempt, attempts, wait)
            policy.sleep(wait)
    noun = "attempt" if attempts == 1 else "attempts"
    return PostOutcome(None, attempts, f"{last_error} after {attempts} {noun}", last_status)
