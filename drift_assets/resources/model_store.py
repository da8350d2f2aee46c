"""Versioned model storage: one interface, a local folder by default and S3 in production.

Each version is a key of its own (``models/<name>/v0003/model.joblib``) with its SHA-256 and
training metadata beside it (``…/metadata.json``). Nothing overwrites an earlier version.
"""

from __future__ import annotations

import hashlib
import json
import re
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path

from botocore.exceptions import ClientError
from dagster import ConfigurableResource
from dagster_aws.s3 import S3Resource
from pydantic import Field, PrivateAttr

_VERSION = re.compile(r"/v(\d{4,})/model\.joblib$")


class ModelStoreError(OSError):
    """The model store could not be reached or refused a write."""


@dataclass(frozen=True)
class StoredModel:
    name: str
    version: int
    key: str
    uri: str
    sha256: str
    metadata: dict


class ModelStore(ConfigurableResource, ABC):
    """Where model files live. Implementations provide four byte-level primitives."""

    prefix: str = "models"

    @abstractmethod
    def _write(self, key: str, payload: bytes) -> None: ...

    @abstractmethod
    def _read(self, key: str) -> bytes: ...

    @abstractmethod
    def _keys(self, prefix: str) -> list[str]: ...

    @abstractmethod
    def uri(self, key: str) -> str:
        """Where a person (or a tool) finds the object."""

    def versions(self, name: str) -> list[int]:
        found = (_VERSION.search(k) for k in self._keys(f"{self.prefix}/{name}/"))
        return sorted(int(m.group(1)) for m in found if m)

    def _key(self, name: str, version: int, file: str) -> str:
        return f"{self.prefix}/{name}/v{version:04d}/{file}"

    def save(self, name: str, payload: bytes, metadata: dict) -> StoredModel:
        """Store ``payload`` as the next version of ``name``, with its checksum beside it.

        A store that fails (after the client's own retries with backoff) raises
        :class:`ModelStoreError` naming where; nothing is returned, so nothing gets registered."""
        where = self.uri(f"{self.prefix}/{name}/")
        try:
            version = max(self.versions(name), default=0) + 1
            key = self._key(name, version, "model.joblib")
            sha = hashlib.sha256(payload).hexdigest()
            record = {**metadata, "name": name, "version": version, "key": key, "sha256": sha}
            self._write(key, payload)
            # The metadata goes last: a version whose metadata exists has its file complete.
            self._write(self._key(name, version, "metadata.json"),
                        json.dumps(record, indent=2, default=str).encode())
        except FileExistsError:
            raise
        except Exception as exc:  # noqa: BLE001 - boto3, OS and HTTP errors alike
            raise ModelStoreError(f"storing {name} under {where} failed "
                                  f"({type(exc).__name__}): {exc}") from exc
        return StoredModel(name, version, key, self.uri(key), sha, record)

    def find(self, name: str, request: str) -> StoredModel | None:
        """The stored version whose metadata names ``request``: a version stored by a run that
        died before registering it, which a re-run registers instead of storing another."""
        try:
            versions = self.versions(name)
        except Exception as exc:  # noqa: BLE001 - boto3, OS and HTTP errors alike
            where = self.uri(f"{self.prefix}/{name}/")
            raise ModelStoreError(f"storing {name} under {where} failed: its versions could not "
                                  f"be listed ({type(exc).__name__}): {exc}") from exc
        for version in reversed(versions):
            try:
                record = self.metadata(name, version)
            except (OSError, ValueError):
                continue  # a version whose metadata was never written is incomplete
            if record.get("request") == request:
                key = self._key(name, version, "model.joblib")
                return StoredModel(name, version, key, self.uri(key), record["sha256"], record)
        return None

    def metadata(self, name: str, version: int) -> dict:
        return json.loads(self._read(self._key(name, version, "metadata.json")))

    def load(self, name: str, version: int, sha256: str | None = None) -> bytes:
        """The model file's bytes, refused when they do not match the recorded checksum."""
        expected = sha256 or self.metadata(name, version)["sha256"]
        key = self._key(name, version, "model.joblib")
        payload = self._read(key)
        actual = hashlib.sha256(payload).hexdigest()
        if actual != expected:
            raise ValueError(f"{self.uri(key)}: checksum {actual} does not match {expected}")
        return payload


class LocalModelStore(ModelStore):
    """Model files in a local folder: the embedded default."""

    root: str

    def _path(self, key: str) -> Path:
        return Path(self.root) / key

    def _write(self, key: str, payload: bytes) -> None:
        path = self._path(key)
        if path.exists():
            raise FileExistsError(f"{path} exists: model versions are never overwritten")
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_suffix(path.suffix + ".tmp")
        tmp.write_bytes(payload)
        tmp.rename(path)  # atomic: a reader never sees half a file

    def _read(self, key: str) -> bytes:
        return self._path(key).read_bytes()

    def _keys(self, prefix: str) -> list[str]:
        base = self._path(prefix)
        if not base.exists():
            return []
        return [p.relative_to(self.root).as_posix() for p in base.rglob("*") if p.is_file()]

    def uri(self, key: str) -> str:
        return str(self._path(key).resolve())


class S3ModelStore(ModelStore):
    """Model files in an S3 bucket, through dagster-aws's S3 resource: the production choice.

    Credentials, region and ``AWS_ENDPOINT_URL`` come from the environment as boto3 reads them.
    The S3 resource is composed, not nested, so that sensors and scripts can use this store
    without opening a resource context.
    A key is written once: it is refused when it exists already (checked with ``head_object``,
    and the write itself is conditional, so two writers racing for a version cannot both win).
    """

    bucket: str = Field(description="the bucket holding the model files")
    _client = PrivateAttr(default=None)

    def _s3(self):
        if self._client is None:  # created on first use, never at import or load time
            self._client = S3Resource().get_client()
        return self._client

    def _exists(self, key: str) -> bool:
        try:
            self._s3().head_object(Bucket=self.bucket, Key=key)
            return True
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("404", "NoSuchKey", "NotFound"):
                return False
            raise

    def _write(self, key: str, payload: bytes) -> None:
        if self._exists(key):
            raise FileExistsError(f"{self.uri(key)} exists: model versions are never overwritten")
        try:
            self._s3().put_object(
                Bucket=self.bucket, Key=key, Body=payload, IfNoneMatch="*",
                ChecksumAlgorithm="SHA256",  # S3 checks the bytes it received
                Metadata={"sha256": hashlib.sha256(payload).hexdigest()},
            )
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") == "PreconditionFailed":
                raise FileExistsError(f"{self.uri(key)} was written meanwhile: model versions "
                                      "are never overwritten") from exc
            raise

    def _read(self, key: str) -> bytes:
        try:
            return self._s3().get_object(Bucket=self.bucket, Key=key)["Body"].read()
        except ClientError as exc:
            if exc.response.get("Error", {}).get("Code") in ("NoSuchKey", "404"):
                raise FileNotFoundError(f"{self.uri(key)}: no such object") from exc
            raise

    def _keys(self, prefix: str) -> list[str]:
        pages = self._s3().get_paginator("list_objects_v2").paginate(
            Bucket=self.bucket, Prefix=prefix)
        return [item["Key"] for page in pages for item in page.get("Contents", [])]

    def uri(self, key: str) -> str:
        return f"s3://{self.bucket}/{key}"
