"""Where new monthly files arrive: objects under a prefix of an S3 bucket.

The S3 arrival sensor lists them; an unset bucket means the deployment watches no bucket (the
embedded default), and the sensor skips saying so.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass

from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

# The month an object's key names: incoming/2011-07.csv, incoming/2011/2011-07-bikes.parquet.
_MONTH = re.compile(r"(?<!\d)(\d{4})-(0[1-9]|1[0-2])(?!\d)")


@dataclass(frozen=True)
class Arrival:
    key: str
    etag: str
    last_modified: dt.datetime
    uri: str

    @property
    def month(self) -> str | None:
        """'YYYY-MM' named by the object's file name (its last path part), if any."""
        found = _MONTH.search(self.key.rsplit("/", 1)[-1])
        return f"{found.group(1)}-{found.group(2)}" if found else None


class S3Arrivals(ConfigurableResource):
    """Objects under ``prefix`` in ``bucket``, listed through dagster-aws's S3 resource (configured
    from boto3's environment variables, like the model store)."""

    bucket: str = Field(default="", description="the bucket watched; empty: none (not set up)")
    prefix: str = Field(default="incoming/", description="where new monthly files are uploaded")
    _client = PrivateAttr(default=None)

    @property
    def configured(self) -> bool:
        return bool(self.bucket)

    @property
    def location(self) -> str:
        return f"s3://{self.bucket}/{self.prefix}"

    def list(self) -> list[Arrival]:
        """Every object under the prefix (folders' placeholder keys left out)."""
        if self._client is None:  # created on first use, never at import or load time
            self._client = S3Resource().get_client()
        pages = self._client.get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=self.prefix)
        return [
            Arrival(key=item["Key"], etag=item.get("ETag", "").strip('"'),
                    last_modified=item["LastModified"].astimezone(dt.UTC),
                    uri=f"s3://{self.bucket}/{item['Key']}")
            for page in pages for item in page.get("Contents", [])
            if not item["Key"].endswith("/")
        ]
