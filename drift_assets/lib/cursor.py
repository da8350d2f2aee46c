"""The drift sensor's one cursor: which monthly records have been handled, kept in the warehouse
beside the records it points into.

Whichever process evaluates the sensor (the daemon, ``drift-assets backfill``, a test) reads and
writes this one state, so a record is handled once. A save succeeds only if nobody saved since
the state was loaded (a version number, compare-and-set): of two evaluations at once, one wins
and the other changes nothing.
"""

from __future__ import annotations

import sqlalchemy as sa

from drift_assets.lib.messages import Alert
from drift_assets.lib.outbox import Outbox
from drift_assets.lib.tables import create_tables

METADATA = sa.MetaData()
STATES = sa.Table(
    "sensor_cursors",
    METADATA,
    sa.Column("name", sa.String(200), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("state", sa.Text, nullable=False),
)


class SensorCursor:
    def __init__(self, engine: sa.Engine, name: str):
        self.engine, self.name = engine, name
        create_tables(METADATA, engine)

    def load(self) -> tuple[str | None, int]:
        """The saved state (None before the first save) and its version."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(STATES.c.state, STATES.c.version)
                               .where(STATES.c.name == self.name)).first()
        return (row.state, row.version) if row else (None, 0)

    def save(self, state: str, version: int, alerts: list[tuple[str, Alert]] = ()) -> bool:
        """Save ``state`` over ``version``, and put ``alerts`` (key, alert) in the outbox in the
        same transaction; False, saving and putting nothing, if another save came first."""
        Outbox(self.engine)  # its table, before the transaction that writes to it
        try:
            with self.engine.begin() as conn:
                if version == 0:
                    conn.execute(STATES.insert().values(name=self.name, version=1, state=state))
                else:
                    done = conn.execute(
                        STATES.update()
                        .where(STATES.c.name == self.name, STATES.c.version == version)
                        .values(state=state, version=version + 1))
                    if done.rowcount != 1:
                        return False
                for key, alert in alerts:
                    Outbox.put_in(conn, key, alert)
            return True
        except sa.exc.IntegrityError:  # the first save, made by another process meanwhile
            return False
