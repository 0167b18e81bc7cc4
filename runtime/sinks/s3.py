"""The `s3` sink: Parquet objects in Amazon S3 or any S3-compatible store.

Records wait in the worker's buffer until `flush_rows` of a pipeline have gathered or the
oldest has waited `flush_every`; each delivery is then one object, named
`<prefix><pipeline>/<date>/<time>-<id>.parquet` after its first record's arrival (UTC) and
the delivery's id. The id stays the same on retries, so an upload whose answer was lost is
overwritten by its retry instead of duplicated.

boto3 does the talking, because its default credential chain (environment, shared
profile, SSO, container and instance roles) is what "no keys in the config" should mean.
It is synchronous, so each upload runs on a worker thread; its own retries are turned off
because the sink worker already retries with the sink's policy.
"""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from typing import TYPE_CHECKING, ClassVar

import boto3
import polars as pl
from botocore.config import Config
from botocore.exceptions import BotoCoreError, ClientError, NoCredentialsError

from flowc.runtime.sinks.base import (
    Delivery,
    Destination,
    PermanentError,
    RetryableError,
    describe,
    env_value,
)
from flowc.stdlib.connectors.s3 import S3Sink

if TYPE_CHECKING:
    from mypy_boto3_s3 import S3Client

PARQUET_TYPE = "application/vnd.apache.parquet"


def object_key(prefix: str, delivery: Delivery) -> str:
    """Where a delivery goes: partitioned by pipeline and date, unique per delivery."""
    at = delivery.received.astimezone(dt.UTC)
    return f"{prefix}{delivery.pipeline}/{at:%Y-%m-%d}/{at:%H%M%S}Z-{delivery.id}.parquet"


class S3Destination(Destination):
    kind: ClassVar[str] = "s3"

    def __init__(self, config: S3Sink) -> None:
        self.bucket = config.bucket
        self.prefix = config.prefix
        self.max_rows = config.flush_rows
        self.flush_every = config.flush_every
        key_id = secret = None
        if config.access_key_id is not None and config.secret_access_key is not None:
            key_id = env_value(config.access_key_id, "access_key_id")
            secret = env_value(config.secret_access_key, "secret_access_key")
            self.secrets = (key_id, secret)
        options = Config(
            connect_timeout=10,
            read_timeout=60,
            retries={"total_max_attempts": 1},
            # MinIO and most self-hosted stores only serve path-style URLs; R2 takes both.
            s3={"addressing_style": "path"} if config.endpoint else None,
        )
        self.client: S3Client = boto3.session.Session().client(
            "s3",
            endpoint_url=config.endpoint,
            region_name=config.region,
            aws_access_key_id=key_id,
            aws_secret_access_key=secret,
            config=options,
        )

    def due(self, received: dt.datetime) -> dt.datetime:
        return received + self.flush_every

    async def deliver(self, delivery: Delivery) -> None:
        await asyncio.to_thread(self._put, delivery)

    def _put(self, delivery: Delivery) -> None:
        body = io.BytesIO()
        try:
            delivery.frame.write_parquet(body)
        except pl.exceptions.PolarsError as error:  # a type Parquet cannot hold: never will
            raise PermanentError(
                f"the records cannot be written as Parquet: {describe(error)}"
            ) from error
        key = object_key(self.prefix, delivery)
        try:
            self.client.put_object(
                Bucket=self.bucket, Key=key, Body=body.getvalue(), ContentType=PARQUET_TYPE
            )
        except NoCredentialsError as error:
            raise PermanentError(
                "no S3 credentials: set access_key_id and secret_access_key, or configure "
                "the AWS credential chain (AWS_ACCESS_KEY_ID, a profile, an instance role)"
            ) from error
        except ClientError as error:
            raise _client_error(error, self.bucket) from error
        except BotoCoreError as error:  # connection refused, timeouts, a closed connection
            raise RetryableError(describe(error)) from error

    async def close(self) -> None:
        self.client.close()


def _client_error(error: ClientError, bucket: str) -> Exception:
    """The store's answer: throttling and 5xx are retried, other refusals are not."""
    details = error.response.get("Error", {})
    code = details.get("Code", "")
    status = int(error.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))
    reason = f"S3 {code or status}: {details.get('Message', '')} (bucket {bucket})"
    if status == 429 or status >= 500 or code in ("SlowDown", "Throttling", "RequestTimeout"):
        return RetryableError(reason)
    return PermanentError(reason)
