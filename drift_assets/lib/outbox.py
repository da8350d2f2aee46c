"""Alerts on their way out, kept in the warehouse until they have been delivered, once each.

Every alert has a key that names its cause (``model:<run key>``, ``quality:<record ids>``, …).
It is put here first (in the same transaction as the state change that raised it, where there
is one) and delivered from here: marked ``sending`` before the channel is called and ``sent``
after. A channel that fails leaves the alert ``pending`` for the next delivery; a process that
dies between the call and the mark leaves it ``sending``, and the next delivery asks the channel
whether that key already arrived before sending it again. Putting a key twice keeps the first.
"""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass

import sqlalchemy as sa

from drift_assets.lib.messages import Alert
from drift_assets.lib.namespaces import dataset_of
from drift_assets.lib.tables import create_tables

PENDING, SENDING, SENT = "pending", "sending", "sent"

METADATA = sa.MetaData()
ALERTS = sa.Table(
    "alert_outbox",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("key", sa.String(300), nullable=False, unique=True),
    sa.Column("alert", sa.Text, nullable=False),
    sa.Column("status", sa.String(10), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("sent_at", sa.DateTime(timezone=True)),
)


@dataclass(frozen=True)
class Outgoing:
    key: str
    alert: Alert
    status: str


class Outbox:
    def __init__(self, engine: sa.Engine):
        self.engine = engine
        create_tables(METADATA, engine)

    @staticmethod
    def put_in(conn: sa.Connection, key: str, alert: Alert) -> bool:
        """Put ``alert`` under ``key`` on ``conn`` (the caller's transaction); False if the key
        is there already. The key is prefixed with the dataset's namespace: one channel
        carries the alerts of every dataset, and asks by key whether one arrived."""
        dataset = dataset_of(conn)
        if dataset:
            key = f"{dataset}/{key}"
        exists = conn.execute(sa.select(ALERTS.c.id).where(ALERTS.c.key == key)).first()
        if exists:
            return False
        conn.execute(ALERTS.insert().values(
            key=key, alert=json.dumps({**alert.to_dict(), "key": key}, default=str),
            status=PENDING, created_at=dt.datetime.now(dt.UTC)))
        return True

    def put(self, key: str, alert: Alert) -> bool:
        try:
            with self.engine.begin() as conn:
                return self.put_in(conn, key, alert)
        except sa.exc.IntegrityError:  # put by another process at the same moment
            return False

    def undelivered(self) -> list[Outgoing]:
        """Alerts not yet sent, oldest first."""
        query = sa.select(ALERTS).where(ALERTS.c.status != SENT).order_by(ALERTS.c.id)
        with self.engine.connect() as conn:
            return [Outgoing(r.key, Alert.from_dict(json.loads(r.alert)), r.status)
                    for r in conn.execute(query)]

    def mark(self, key: str, status: str, expected: str | None = None) -> bool:
        """Set ``key``'s status (only from ``expected``, when given); whether it changed."""
        query = ALERTS.update().where(ALERTS.c.key == key)
        if expected is not None:
            query = query.where(ALERTS.c.status == expected)
        values = {"status": status}
        if status == SENT:
            values["sent_at"] = dt.datetime.now(dt.UTC)
        with self.engine.begin() as conn:
            return conn.execute(query.values(**values)).rowcount == 1

    def deliver(self, notifier, log=None) -> int:
        """Send the undelivered alerts in order through ``notifier`` (an object with
        ``notify_safely(alert, log)`` and ``was_sent(key)``), stopping at the first that fails;
        returns how many were sent now."""
        sent = 0
        for outgoing in self.undelivered():
            if outgoing.status == SENDING and notifier.was_sent(outgoing.key):
                self.mark(outgoing.key, SENT)  # it arrived before its sender died
                continue
            if outgoing.status == PENDING and not self.mark(outgoing.key, SENDING, PENDING):
                continue  # another process is sending it
            if not notifier.notify_safely(outgoing.alert, log):
                self.mark(outgoing.key, PENDING)
                break
            self.mark(outgoing.key, SENT)
            sent += 1
        return sent

    def send(self, notifier, key: str, alert: Alert, log=None) -> None:
        """Put ``alert`` under ``key`` and deliver what is waiting; a key put before (a re-run
        of the same work) is not sent again."""
        self.put(key, alert)
        self.deliver(notifier, log)
