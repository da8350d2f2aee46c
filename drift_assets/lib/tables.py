"""Tables made on first use, by whichever process comes first."""

from __future__ import annotations

import sqlalchemy as sa


def create_tables(metadata: sa.MetaData, engine: sa.Engine, attempts: int = 5) -> None:
    """``metadata``'s tables that do not exist yet.

    Two processes starting on a fresh database (two backfills, two workers) can both find a
    table missing and both create it; the second's "already exists" (on PostgreSQL also a
    duplicate row of ``pg_type``) means the first made it, so it looks again rather than fail.
    """
    for attempt in range(attempts):
        try:
            metadata.create_all(engine, checkfirst=True)
            return
        except sa.exc.DBAPIError as exc:
            text = str(exc.orig).lower()
            raced = "already exists" in text or "pg_type_typname_nsp_index" in text
            if not raced or attempt == attempts - 1:
                raise
