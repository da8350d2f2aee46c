"""Reference profiles kept in the warehouse, so every worker reaches them and none recomputes one.

A profile is keyed by what it was built from (the window's months and the versions of their
data); many months that compare against the same window share one stored profile. Which window
a month is compared with is decided once, by ``reference_profile``, and recorded here with the
month (:class:`ReferenceWindow`); ``drift_report`` reads it instead of working it out again.
"""

from __future__ import annotations

import pickle

import sqlalchemy as sa

from drift_assets.lib.reference import ReferenceWindow
from drift_assets.lib.tables import create_tables

METADATA = sa.MetaData()
PROFILES = sa.Table(
    "reference_profiles",
    METADATA,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)
WINDOWS = sa.Table(
    "reference_windows",
    METADATA,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("reference", sa.String(200), nullable=False),  # the declared choice
    sa.Column("months", sa.String(200), nullable=False),  # comma-separated; empty: fixed table
    # the fixed months that stood in for an empty rolling or seasonal window; empty: none did
    sa.Column("fallback", sa.String(200), nullable=False),
)


class ProfileStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        create_tables(METADATA, engine)

    def has(self, key: str) -> bool:
        with self.engine.connect() as conn:
            return conn.execute(sa.select(PROFILES.c.key).where(PROFILES.c.key == key)).first() \
                is not None

    def get(self, key: str):
        with self.engine.connect() as conn:
            payload = conn.execute(sa.select(PROFILES.c.payload)
                                   .where(PROFILES.c.key == key)).scalar_one()
        return pickle.loads(payload)  # noqa: S301 - see for_month

    def put(self, key: str, profile) -> None:
        payload = pickle.dumps(profile, protocol=pickle.HIGHEST_PROTOCOL)
        with self.engine.begin() as conn:
            conn.execute(PROFILES.delete().where(PROFILES.c.key == key))
            conn.execute(PROFILES.insert().values(key=key, payload=payload))

    def assign(self, month: str, key: str, window: ReferenceWindow) -> None:
        """Record that ``month`` is checked against ``window``, whose profile is ``key``."""
        with self.engine.begin() as conn:
            conn.execute(WINDOWS.delete().where(WINDOWS.c.month == month))
            conn.execute(WINDOWS.insert().values(
                month=month, key=key, reference=window.reference,
                months=",".join(window.months or []), fallback=",".join(window.fallback)))

    def for_month(self, month: str):
        """(profile, :class:`ReferenceWindow`) assigned to ``month``."""
        query = (sa.select(PROFILES.c.payload, WINDOWS)
                 .join(WINDOWS, WINDOWS.c.key == PROFILES.c.key).where(WINDOWS.c.month == month))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise KeyError(f"no reference profile for {month}: materialize reference_profile")
        months = [m for m in row.months.split(",") if m] or None
        window = ReferenceWindow(row.reference, months,
                                 tuple(m for m in row.fallback.split(",") if m))
        # Only this project writes the table; its payloads are its own profiles.
        return pickle.loads(row.payload), window  # noqa: S301
