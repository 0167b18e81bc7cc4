"""Sending one request with retries: exponential backoff with jitter, and `Retry-After`.

What is retried is what a later try can cure: connection errors and timeouts, 429 (rate
limited) and 5xx. Any other answer (a 401, a 404) fails at once, since sending the same
request again cannot change it. The waits double from `retry.backoff` up to
`retry.max_backoff`, each drawn between half and all of that ("equal jitter"), so several
sources rate-limited together do not all come back in the same instant.

A `Retry-After` header (seconds, or an HTTP date) replaces the computed wait: the server
knows when it will take requests again. When it asks for more than `max_backoff`, the run
gives up at once instead of sleeping past its schedule; the next scheduled run tries again.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import logging
import random
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime

import httpx

from flowc.runtime.sources.http_auth import HttpSourceError, redact, shown_url
from flowc.stdlib.connectors.base import duration_text
from flowc.stdlib.connectors.common import RetryPolicy

log = logging.getLogger("flowc.runtime.sources.http")

Sleep = Callable[[float], Awaitable[None]]
_EXCERPT = 200


def retryable(status: int) -> bool:
    """Whether an answer with this status may succeed if the request is sent again."""
    return status == 429 or 500 <= status <= 599


def retry_after_seconds(value: str | None, now: dt.datetime) -> float | None:
    """The wait a `Retry-After` header asks for: delay-seconds or an HTTP date (RFC 9110).

    None when absent or unreadable, so the computed backoff applies instead; a date in the
    past means "now".
    """
    if value is None:
        return None
    text = value.strip()
    if text.isdigit():
        return float(text)
    try:
        when = parsedate_to_datetime(text)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # an HTTP date is always GMT
        when = when.replace(tzinfo=dt.UTC)
    return max(0.0, (when - now).total_seconds())


def excerpt(response: httpx.Response) -> str:
    """The start of an error answer's body, on one line and without secrets: APIs explain
    a 4xx there ("bad credentials", "unknown field")."""
    text = " ".join(response.text.split())
    if not text:
        return ""
    text = text if len(text) <= _EXCERPT else text[: _EXCERPT - 3] + "..."
    return f": {redact(text)}"


def _utc_now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


@dataclass
class Retrier:
    """Sends requests for one source under its `retry` policy."""

    source: str
    policy: RetryPolicy
    timeout: float
    sleep: Sleep = asyncio.sleep
    rng: random.Random = field(default_factory=random.Random)
    clock: Callable[[], dt.datetime] = _utc_now

    def backoff(self, retry: int) -> float:
        """The wait before retry number `retry` (1 for the first retry)."""
        base = self.policy.backoff.total_seconds() * 2.0 ** (retry - 1)
        ceiling = min(base, self.policy.max_backoff.total_seconds())
        return ceiling / 2 + self.rng.random() * ceiling / 2

    async def send(self, client: httpx.AsyncClient, request: httpx.Request) -> httpx.Response:
        """The first 2xx answer to `request`; raises HttpSourceError when the tries run out
        or the answer cannot improve."""
        attempts = self.policy.attempts
        what = f"source `{self.source}`: {request.method} {shown_url(request.url)}"
        for attempt in range(1, attempts + 1):
            retry_after: float | None = None
            try:
                # httpx bounds each phase (connect, each read); this bounds the whole
                # request, so a server trickling bytes cannot hold a run forever.
                async with asyncio.timeout(self.timeout):
                    response = await client.send(request)
            except TimeoutError:
                problem = f"no answer within {self.timeout:g}s"
            except httpx.TransportError as error:
                problem = self._transport_problem(error)
            except httpx.HTTPError as error:  # e.g. a body that cannot be decoded
                raise HttpSourceError(f"{what} failed: {_error_text(error)}") from None
            else:
                if response.is_success:
                    return response
                status = f"{response.status_code} {response.reason_phrase}".strip()
                if not retryable(response.status_code):
                    raise HttpSourceError(f"{what} answered {status}{excerpt(response)}")
                problem = f"the server answered {status}{excerpt(response)}"
                retry_after = retry_after_seconds(response.headers.get("Retry-After"), self.clock())
            if attempt == attempts:
                tries = "1 attempt" if attempts == 1 else f"{attempts} attempts"
                raise HttpSourceError(f"{what} failed after {tries}: {problem}")
            wait = self.backoff(attempt) if retry_after is None else retry_after
            limit = self.policy.max_backoff.total_seconds()
            if retry_after is not None and retry_after > limit:
                raise HttpSourceError(
                    f"{what}: {problem}, and the server asks to wait {retry_after:g}s "
                    f"(Retry-After), longer than `retry.max_backoff` "
                    f"({duration_text(self.policy.max_backoff)}); the next run tries again"
                )
            log.warning(
                "%s: %s; retrying in %.2fs (attempt %d of %d)",
                what, problem, wait, attempt + 1, attempts,
            )  # fmt: skip
            await self.sleep(wait)
        raise AssertionError("unreachable: the last attempt returns or raises")

    def _transport_problem(self, error: httpx.TransportError) -> str:
        if isinstance(error, httpx.TimeoutException):
            return f"no answer within {self.timeout:g}s ({type(error).__name__})"
        if isinstance(error, httpx.ConnectError):
            return f"could not connect ({_error_text(error)})"
        return _error_text(error)


def _error_text(error: Exception) -> str:
    text = str(error)
    return f"{type(error).__name__}: {redact(text)}" if text else type(error).__name__
