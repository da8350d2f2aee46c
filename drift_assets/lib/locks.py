"""One process at a time for work that must not run twice at once (training a model for one
request), whatever machine it runs on: a PostgreSQL advisory lock on a server warehouse, a file
lock beside an embedded one. Both are released when their process dies, so a crash never leaves
the work locked."""

from __future__ import annotations

import fcntl
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import sqlalchemy as sa

from drift_assets.lib.namespaces import namespace_of

_MEMORY = threading.Lock()


@contextmanager
def exclusive(engine: sa.Engine, name: str) -> Iterator[None]:
    """Hold the lock ``name`` for the warehouse behind ``engine`` while the block runs; the
    engine's dataset namespace is part of the name, so two datasets never wait for each other."""
    namespace = namespace_of(engine)
    if namespace:
        name = f"{namespace} {name}"
    if engine.dialect.name == "postgresql":
        with engine.connect() as conn:
            key = sa.func.hashtext(f"drift_assets {name}")
            conn.execute(sa.select(sa.func.pg_advisory_lock(key)))
            try:
                yield
            finally:
                conn.execute(sa.select(sa.func.pg_advisory_unlock(key)))
                conn.commit()
        return
    database = engine.url.database
    if engine.dialect.name != "sqlite" or not database or database == ":memory:":
        with _MEMORY:
            yield
        return
    safe = re.sub(r"[^\w.-]", "_", name)
    path = Path(database).with_name(f"{Path(database).name}.{safe}.lock")
    with path.open("a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
