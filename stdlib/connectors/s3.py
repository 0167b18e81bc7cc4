"""The `s3` sink: records written as Parquet objects to S3-compatible storage."""

from __future__ import annotations

import datetime as dt
import re
from typing import Annotated, Literal

from pydantic import AfterValidator, Field, model_validator

from flowc.stdlib.connectors.base import (
    ConfigModel,
    DocType,
    EnvRef,
    Example,
    Secret,
    config_error,
    declare_sink,
    found,
)
from flowc.stdlib.connectors.common import Duration, Url

_BUCKET = re.compile(r"[a-z0-9][a-z0-9.\-]{1,61}[a-z0-9]")


def _bucket(value: str) -> str:
    if not _BUCKET.fullmatch(value):
        raise config_error(
            "E303",
            "expected a bucket name of 3 to 63 lowercase letters, digits, `.` and `-`, "
            f"found {found(value)}",
        )
    return value


def _prefix(value: str) -> str:
    if value.startswith("/"):
        raise config_error(
            "E303",
            f'expected a key prefix without a leading "/", such as "raw/weather/", '
            f"found {found(value)}",
        )
    return value


class S3Sink(ConfigModel):
    """Writes records as Parquet objects to Amazon S3 or any S3-compatible store
    (Cloudflare R2, MinIO, ...). Records are buffered and written as one object when
    `flush_rows` records have gathered or `flush_every` has passed, whichever comes first;
    objects are named `<prefix><pipeline>/<date>/<time>-<id>.parquet`, so they are never
    overwritten. Without keys, the standard AWS credential chain is used (environment,
    profile, instance role).
    """

    bucket: Annotated[str, AfterValidator(_bucket), DocType("str")] = Field(
        description="the bucket"
    )
    prefix: Annotated[str, AfterValidator(_prefix), DocType("str")] = Field(
        default="", description='the start of every object key, e.g. "raw/weather/"'
    )
    endpoint: Url | None = Field(
        default=None, description="the S3 API URL, for R2, MinIO and other non-AWS stores"
    )
    region: str | None = Field(
        default=None, min_length=1, description='the region, e.g. "eu-central-1" ("auto" for R2)'
    )
    access_key_id: Secret | None = Field(default=None, description="the access key id")
    secret_access_key: Secret | None = Field(default=None, description="the secret access key")
    format: Literal["parquet"] = Field(default="parquet", description="`parquet`, the only format")
    flush_every: Duration = Field(
        default=dt.timedelta(minutes=5), description="write the buffer at least this often"
    )
    flush_rows: int = Field(default=100_000, gt=0, description="write once this many records wait")

    @model_validator(mode="after")
    def _key_pair(self) -> S3Sink:
        if (self.access_key_id is None) != (self.secret_access_key is None):
            missing = "access_key_id" if self.access_key_id is None else "secret_access_key"
            raise config_error(
                "E304",
                f"missing `{missing}`: the access key id and the secret key go together",
                path=(missing,),
            )
        return self


CONNECTOR = declare_sink(
    "s3",
    S3Sink,
    examples=(
        Example(
            "lake",
            {
                "bucket": "weather-archive",
                "prefix": "raw/",
                "endpoint": "https://0123456789abcdef.r2.cloudflarestorage.com",
                "region": "auto",
                "access_key_id": EnvRef("R2_ACCESS_KEY_ID"),
                "secret_access_key": EnvRef("R2_SECRET_ACCESS_KEY"),
                "flush_every": dt.timedelta(minutes=10),
            },
            title="Cloudflare R2",
        ),
    ),
)
