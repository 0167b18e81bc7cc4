"""Field types shared by several connector kinds, each with its check and its doc spelling.

A check raises `config_error`, so its message is already written in the language's terms
("a duration longer than zero") and never in pydantic's.
"""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Any
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BeforeValidator,
    Field,
    PlainSerializer,
    ValidationInfo,
    model_validator,
)

from flowc.dsl.durations import duration_us
from flowc.stdlib.connectors.base import (
    SECRET_HELP,
    ConfigModel,
    DocType,
    EnvRef,
    StrOrEnv,
    config_error,
    duration_text,
    found,
)


def _positive_duration(value: dt.timedelta) -> dt.timedelta:
    if value <= dt.timedelta(0):
        raise config_error("E303", f"expected a duration longer than zero, found {found(value)}")
    return value


def _duration_from_json(value: object, info: ValidationInfo) -> object:
    # A manifest holds durations as Flow literals ("5m"), which strict mode would reject.
    if info.mode == "json" and isinstance(value, str):
        try:
            return dt.timedelta(microseconds=duration_us(value))
        except ValueError:
            return value
    return value


#: A duration longer than zero, written `5m` in Flow (and in JSON).
Duration = Annotated[
    dt.timedelta,
    BeforeValidator(_duration_from_json),
    AfterValidator(_positive_duration),
    PlainSerializer(duration_text, return_type=str, when_used="json"),
    DocType("duration"),
]


def _json_path(value: str) -> str:
    if not value.startswith("$"):
        raise config_error(
            "E303",
            f'expected a JSONPath starting with `$`, such as "$.data.items", found {found(value)}',
        )
    return value


#: A JSONPath into a response or document; "$" is the whole of it.
JsonPath = Annotated[str, AfterValidator(_json_path), DocType("JSONPath")]

_CRON_FIELD = re.compile(r"[0-9A-Za-z*/,\-?]+")


def _cron(value: str) -> str:
    fields = value.split()
    if len(fields) != 5:
        raise config_error(
            "E303",
            "expected a cron schedule with 5 fields (minute hour day-of-month month "
            f'day-of-week), such as "*/15 * * * *", found {len(fields)} field'
            + ("" if len(fields) == 1 else "s"),
        )
    bad = next((f for f in fields if not _CRON_FIELD.fullmatch(f)), None)
    if bad is not None:
        raise config_error("E303", f"invalid cron field `{bad}` in {found(value)}")
    return value


#: A 5-field cron schedule, evaluated in UTC.
Cron = Annotated[str, AfterValidator(_cron), DocType("cron")]


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        raise config_error(
            "E303", f"expected a URL starting with http:// or https://, found {found(value)}"
        )
    if parts.password:
        raise config_error(
            "E306", "a password is written in the URL", help='write the URL as env("NAME")'
        )
    return value


def _http_url_or_env(value: str | EnvRef) -> str | EnvRef:
    return _http_url(value) if isinstance(value, str) else value


#: An http(s) URL written in the file.
Url = Annotated[str, AfterValidator(_http_url), DocType("URL")]
#: An http(s) URL, or `env("NAME")` when the URL itself is a secret (a webhook with a token).
UrlOrEnv = Annotated[StrOrEnv, AfterValidator(_http_url_or_env), DocType('URL or env("NAME")')]

# Header and parameter names that carry credentials. Pagination names such as `pageToken`
# deliberately do not match: they are not secrets, and a false E306 could not be worked around.
_SECRET_NAME = re.compile(
    r"authorization|api[-_]?key|access[-_]?token|auth[-_]?token|^x-.*token|secret|password",
    re.IGNORECASE,
)


def _no_literal_secrets(values: dict[str, Any]) -> dict[str, Any]:
    for key, value in values.items():
        if isinstance(value, str) and _SECRET_NAME.search(key):
            raise config_error(
                "E306",
                f"`{key}` holds a credential and is written in the file",
                path=(key,),
                help=SECRET_HELP,
            )
    return values


#: HTTP headers; credential headers (Authorization, X-Api-Key, ...) must use env().
Headers = Annotated[
    dict[str, StrOrEnv],
    AfterValidator(_no_literal_secrets),
    DocType('record of str or env("NAME")'),
]


def _scalar_or_env(value: object, info: ValidationInfo) -> object:
    if info.mode == "python" and isinstance(value, dict | list):
        raise config_error(
            "E303",
            f'expected a string, number, true/false or env("NAME"), found {found(value)}',
        )
    return value


ParamValue = Annotated[str | int | float | bool | EnvRef, BeforeValidator(_scalar_or_env)]

#: Query parameters; credential parameters (api_key, access_token, ...) must use env().
Params = Annotated[
    dict[str, ParamValue],
    AfterValidator(_no_literal_secrets),
    DocType('record of str, int, float, bool or env("NAME")'),
]


class RetryPolicy(ConfigModel):
    """How often a failed request is tried again, and how long to wait in between."""

    attempts: int = Field(
        default=3, ge=1, description="tries in all, the first included (1 means never retry)"
    )
    backoff: Duration = Field(
        default=dt.timedelta(seconds=1),
        description="wait before the first retry; doubles each retry",
    )
    max_backoff: Duration = Field(
        default=dt.timedelta(minutes=1), description="the longest wait between two tries"
    )

    @model_validator(mode="after")
    def _backoff_order(self) -> RetryPolicy:
        if self.max_backoff < self.backoff:
            raise config_error(
                "E303",
                f"`max_backoff` ({found(self.max_backoff)}) is shorter than "
                f"`backoff` ({found(self.backoff)})",
                path=("max_backoff",),
            )
        return self


def _retry_from_int(value: object) -> object:
    if isinstance(value, int) and not isinstance(value, bool):
        return {"attempts": value}
    if isinstance(value, dict | RetryPolicy):  # a SinkRetryPolicy is a RetryPolicy
        return value
    raise config_error(
        "E303",
        "expected a number of attempts such as 3, or a block "
        f"`retry {{ attempts: 3, backoff: 1s }}`, found {found(value)}",
    )


class SinkRetryPolicy(RetryPolicy):
    """How often a failed delivery is tried again, and how long to wait in between.

    Sinks try harder than sources by default: a source's next run fetches the data again,
    while what a sink fails to deliver ends in the dead-letter store.
    """

    attempts: int = Field(
        default=5, ge=1, description="tries in all, the first included (1 means never retry)"
    )


#: `retry: 3` is short for `retry { attempts: 3 }`.
Retry = Annotated[RetryPolicy, BeforeValidator(_retry_from_int), DocType("int or block")]
#: The same for sinks, whose default is 5 attempts.
SinkRetry = Annotated[SinkRetryPolicy, BeforeValidator(_retry_from_int), DocType("int or block")]

_EXTENSIONS = {
    ".jsonl": "jsonl",
    ".ndjson": "jsonl",
    ".json": "json",
    ".csv": "csv",
    ".parquet": "parquet",
    ".pq": "parquet",
}


def with_inferred_format(data: Any, allowed: tuple[str, ...]) -> Any:
    """`data` with `format` taken from the extension of `path` when it was left out.

    When the extension says nothing, `format` stays missing and the usual E304 says so.
    """
    if not isinstance(data, dict) or "format" in data or not isinstance(data.get("path"), str):
        return data
    path: str = data["path"]
    suffix = path[path.rfind(".") :].lower() if "." in path.rsplit("/", 1)[-1] else ""
    inferred = _EXTENSIONS.get(suffix)
    if inferred is None or inferred not in allowed:
        return data
    return {**data, "format": inferred}


def only_with(model: ConfigModel, key: str, condition: bool, requirement: str) -> None:
    """Reject `key` set to something other than its default when `condition` is false.

    Compared with the default, not `model_fields_set`, so that a model serialised with all
    its fields (a manifest) validates again.
    """
    default = type(model).model_fields[key].get_default(call_default_factory=True)
    if not condition and getattr(model, key) != default:
        raise config_error("E303", f"`{key}` only applies {requirement}", path=(key,))
