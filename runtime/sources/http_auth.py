"""Values from the environment, authentication, and keeping secrets out of every message.

Credentials are read from `os.environ` at the start of each run (never at compile time, and
never stored), so the compiled manifest only ever holds variable names. Every value read from
the environment is treated as a secret: it is registered with `redact`, which error messages
pass through, and with a logging filter on httpx's loggers, because httpx logs each request's
URL at INFO and an `api_key { query: ... }` puts the key in that URL.
"""

from __future__ import annotations

import base64
import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from urllib.parse import quote, quote_plus

import httpx

from flowc.stdlib.connectors.base import EnvRef
from flowc.stdlib.connectors.http import Auth

_SECRETS: set[str] = set()
_LOGGERS = ("httpx", "httpcore.connection", "httpcore.http11", "httpcore.http2", "httpcore.proxy")
_MASK = "***"


class HttpSourceError(Exception):
    """A run of an http source failed; the message says why and never holds a secret."""


class MissingEnvError(HttpSourceError):
    """An `env("NAME")` value whose variable is not set (or empty, for a credential)."""

    def __init__(self, source: str, variable: str, key: str) -> None:
        self.variable = variable
        super().__init__(
            f"source `{source}`: the environment variable {variable} is not set "
            f"(it gives `{key}`); set it before `flowc run`"
        )


def register_secret(value: str) -> None:
    """Mask `value`, and its URL-encoded and Basic-auth forms, in messages and httpx logs."""
    if not value:
        return
    _install_filter()
    _SECRETS.update({value, quote(value, safe=""), quote_plus(value)})


def redact(text: str) -> str:
    """`text` with every registered secret replaced by `***`, longest first (so a secret
    that contains another one is masked whole)."""
    for secret in sorted(_SECRETS, key=len, reverse=True):
        if secret in text:
            text = text.replace(secret, _MASK)
    return text


class _RedactingFilter(logging.Filter):
    def filter(self, record: logging.LogRecord) -> bool:
        if _SECRETS:
            message = record.getMessage()
            masked = redact(message)
            if masked != message:
                record.msg, record.args = masked, None
        return True


_FILTER = _RedactingFilter()


def _install_filter() -> None:
    for name in _LOGGERS:
        logger = logging.getLogger(name)
        if _FILTER not in logger.filters:
            logger.addFilter(_FILTER)


@dataclass
class Resolver:
    """Reads `env("NAME")` values for one source, naming the config key when one is missing."""

    source: str
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)

    def value(self, value: str | EnvRef, key: str, *, credential: bool = False) -> str:
        if isinstance(value, str):
            return value
        text = self.environ.get(value.name)
        # An empty credential is a mistake (an unset variable exported as ""), not a choice.
        if text is None or (credential and not text):
            raise MissingEnvError(self.source, value.name, key)
        register_secret(text)
        return text


@dataclass(frozen=True)
class Credentials:
    """What authentication adds to every request of a run."""

    headers: dict[str, str] = field(default_factory=dict)
    params: dict[str, str] = field(default_factory=dict)


def credentials(auth: Auth | None, resolver: Resolver) -> Credentials:
    """Headers and query parameters for `auth`, with values from the environment."""
    if auth is None:
        return Credentials()
    if auth.bearer is not None:
        token = resolver.value(auth.bearer, "auth.bearer", credential=True)
        return Credentials(headers={"Authorization": f"Bearer {token}"})
    if auth.basic is not None:
        user = resolver.value(auth.basic.user, "auth.basic.user", credential=True)
        password = resolver.value(auth.basic.password, "auth.basic.password", credential=True)
        token = base64.b64encode(f"{user}:{password}".encode()).decode("ascii")
        register_secret(token)
        return Credentials(headers={"Authorization": f"Basic {token}"})
    assert auth.api_key is not None  # the model allows exactly one way
    key = auth.api_key
    value = resolver.value(key.value, "auth.api_key.value", credential=True)
    if key.header is not None:
        return Credentials(headers={key.header: value})
    assert key.query is not None
    return Credentials(params={key.query: value})


def shown_url(url: httpx.URL) -> str:
    """A URL as messages show it: without its query, which may carry a key."""
    return str(url.copy_with(query=None, fragment=None))
