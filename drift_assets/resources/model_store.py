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

from dagster import ConfigurableResource

_VERSION = re.compile(r"/v(\d{4,})/model\.joblib$")


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
        """Store ``payload`` as the next version of ``name``, with its checksum beside it."""
        version = max(self.versions(name), default=0) + 1
        key = self._key(name, version, "model.joblib")
        sha = hashlib.sha256(payload).hexdigest()
        record = {**metadata, "name": name, "version": version, "key": key, "sha256": sha}
        self._write(key, payload)
        # The metadata goes last: a version whose metadata exists has its model file complete.
        self._write(self._key(name, version, "metadata.json"),
                    json.dumps(record, indent=2, default=str).encode())
        return StoredModel(name, version, key, self.uri(key), sha, record)

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
