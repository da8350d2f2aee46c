"""Where a dataset's tables live: the namespace its warehouse engine writes to."""

from __future__ import annotations

import sqlalchemy as sa

PREFIX = "drift_"  # a dataset's PostgreSQL schema (or attached SQLite database) is drift_<name>


def namespace(dataset: str) -> str:
    return PREFIX + dataset


def namespace_of(bind: sa.Engine | sa.Connection) -> str | None:
    """The namespace (a PostgreSQL schema, an attached SQLite database) that the unqualified
    tables of ``bind`` are placed in; None for the bare warehouse."""
    return (bind.get_execution_options().get("schema_translate_map") or {}).get(None)


def dataset_of(bind: sa.Engine | sa.Connection) -> str | None:
    """The dataset whose namespace ``bind`` writes to; None for the bare warehouse."""
    found = namespace_of(bind)
    return found.removeprefix(PREFIX) if found else None
