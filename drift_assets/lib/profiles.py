"""Reference profiles kept in the warehouse, so every worker reaches them and none recomputes one.

A profile is keyed by what it was built from (the window's months and the versions of their
data); many months that compare against the same window share one stored profile.
"""

from __future__ import annotations

import pickle

import sqlalchemy as sa

METADATA = sa.MetaData()
PROFILES = sa.Table(
    "reference_profiles",
    METADATA,
    sa.Column("key", sa.String(200), primary_key=True),
    sa.Column("payload", sa.LargeBinary, nullable=False),
)
MONTHS = sa.Table(
    "reference_profile_months",
    METADATA,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("key", sa.String(200), nullable=False),
    sa.Column("window", sa.String(200), nullable=False),
)


class ProfileStore:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        METADATA.create_all(engine, checkfirst=True)

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

    def assign(self, month: str, key: str, window: str) -> None:
        """Record that ``month`` is checked against the profile ``key`` (window described)."""
        with self.engine.begin() as conn:
            conn.execute(MONTHS.delete().where(MONTHS.c.month == month))
            conn.execute(MONTHS.insert().values(month=month, key=key, window=window))

    def for_month(self, month: str):
        """(profile, window description) assigned to ``month``."""
        query = (sa.select(PROFILES.c.payload, MONTHS.c.window)
                 .join(MONTHS, MONTHS.c.key == PROFILES.c.key).where(MONTHS.c.month == month))
        with self.engine.connect() as conn:
            row = conn.execute(query).first()
        if row is None:
            raise KeyError(f"no reference profile for {month}: materialize reference_profile")
        # Only this project writes the table; its payloads are its own profiles.
        return pickle.loads(row.payload), row.window  # noqa: S301
