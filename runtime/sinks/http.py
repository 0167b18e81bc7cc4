"""The `http` sink: records sent as a JSON array, `batch` records per request.

What is retried follows what the answer means: a network error, a timeout, 429 and 5xx are
worth trying again (a 429's or 503's `Retry-After` says when); any other 4xx says the
request itself is wrong, so its records go to the dead-letter store at once.
"""

from __future__ import annotations

import datetime as dt
import email.utils
import logging
from typing import ClassVar

import httpx
import polars as pl

from flowc.runtime.sinks.base import (
    Delivery,
    Destination,
    PermanentError,
    RetryableError,
    describe,
    env_value,
    redact,
)
from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.http_sink import HttpSink

#: How much of an error answer's body goes into the reason: enough to see what is wrong.
BODY_EXCERPT = 300


class _RedactSecrets(logging.Filter):
    """httpx logs every request's URL at INFO: a webhook URL from `env()` is a secret."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            clean = redact(message, tuple(self.secrets))
            if clean != message:
                record.msg, record.args = clean, None
        return True


_REDACT = _RedactSecrets()
for _name in ("httpx", "httpcore"):
    logging.getLogger(_name).addFilter(_REDACT)


def retry_after(value: str | None, now: dt.datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header: a number of seconds or an HTTP date."""
    if value is None:
        return None
    value = value.strip()
    try:
        return max(float(value), 0.0)
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return max((when - (now or dt.datetime.now(dt.UTC))).total_seconds(), 0.0)


class HttpDestination(Destination):
    kind: ClassVar[str] = "http"

    def __init__(self, config: HttpSink) -> None:
        self.url = env_value(config.url, "the url")
        self.method = config.method
        self.headers = {"content-type": "application/json"}
        secrets = [self.url] if isinstance(config.url, EnvRef) else []
        for name, value in config.headers.items():
            self.headers[name] = env_value(value, f"the header {name}")
            if isinstance(value, EnvRef):
                secrets.append(self.headers[name])
        self.secrets = tuple(secrets)
        _REDACT.secrets.update(secrets)
        self.max_rows = config.batch
        self.timeout = config.timeout.total_seconds()
        self._client: httpx.AsyncClient | None = None

    async def deliver(self, delivery: Delivery) -> None:
        if self._client is None:
            self._client = httpx.AsyncClient(timeout=self.timeout, follow_redirects=True)
        try:
            body = delivery.frame.write_json().encode()
        except pl.exceptions.PolarsError as error:  # a type JSON cannot hold: never will
            raise PermanentError(
                f"the records cannot be sent as JSON: {describe(error)}"
            ) from error
        try:
            response = await self._client.request(
                self.method, self.url, content=body, headers=self.headers
            )
        except httpx.TransportError as error:  # connection refused, reset, timeouts
            raise RetryableError(describe(error)) from error
        if response.is_success:
            return
        reason = f"HTTP {response.status_code} {response.reason_phrase}"
        excerpt = response.text[:BODY_EXCERPT].strip()
        if excerpt:
            reason += f": {excerpt}"
        if response.status_code == 429 or response.status_code >= 500:
            raise RetryableError(reason, retry_after(response.headers.get("retry-after")))
        raise PermanentError(reason)

    async def close(self) -> None:
        if self._client is not None:
            await self._client.aclose()
            self._client = None
