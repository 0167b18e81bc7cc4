"""The `http` sink: records POSTed to an HTTP endpoint."""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field, model_validator

from flowc.stdlib.connectors.base import ConfigModel, EnvRef, Example, declare_sink
from flowc.stdlib.connectors.common import Duration, Headers, SinkRetry, SinkRetryPolicy, UrlOrEnv


class HttpSink(ConfigModel):
    """Sends records to an HTTP endpoint as a JSON array, `batch` records per request.
    A failed request (a network error, 429 or 5xx) is retried with exponential backoff;
    records that still cannot be delivered go to the dead-letter store, never silently
    dropped. A webhook URL that embeds a token can come from the environment in full.
    """

    url: UrlOrEnv = Field(description="the endpoint")
    method: Literal["POST", "PUT", "PATCH"] = Field(
        default="POST", description="the request method"
    )
    headers: Headers = Field(default_factory=dict, description="request headers")
    batch: int = Field(default=100, gt=0, description="records per request")
    retry: SinkRetry = Field(default=SinkRetryPolicy(), description="retries of a failed request")
    timeout: Duration = Field(default=dt.timedelta(seconds=30), description="per request")

    @model_validator(mode="before")
    @classmethod
    def _upper_method(cls, data: object) -> object:
        if isinstance(data, dict) and isinstance(data.get("method"), str):
            return {**data, "method": data["method"].upper()}
        return data


CONNECTOR = declare_sink(
    "http",
    HttpSink,
    examples=(
        Example(
            "alerts",
            {"url": EnvRef("ALERT_HOOK_URL"), "batch": 100, "retry": 5},
            title="A chat webhook whose URL is a secret",
        ),
        Example(
            "ingest",
            {
                "url": "https://collector.example.com/v1/events",
                "headers": {"Authorization": EnvRef("COLLECTOR_AUTH")},
                "batch": 500,
                "retry": {
                    "attempts": 8,
                    "backoff": dt.timedelta(seconds=2),
                    "max_backoff": dt.timedelta(minutes=5),
                },
                "timeout": dt.timedelta(seconds=10),
            },
            title="A collector API with a credential header",
        ),
    ),
)
