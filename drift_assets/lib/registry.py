"""The model registry: every trained version, its status, and the events that changed it.

It lives in the warehouse's database (SQLite or PostgreSQL alike), in tables ``model_registry``
and ``model_events``. Exactly one version is ``production`` once any has been promoted.
"""

from __future__ import annotations

import datetime as dt
import io
import json
from dataclasses import dataclass
from typing import Protocol

import joblib
import pandas as pd
import sqlalchemy as sa

from drift_assets.lib.tables import create_tables

CANDIDATE, PRODUCTION, RETIRED = "candidate", "production", "retired"

METADATA = sa.MetaData()
MODELS = sa.Table(
    "model_registry",
    METADATA,
    sa.Column("version", sa.Integer, primary_key=True),
    sa.Column("name", sa.String(100), nullable=False),
    sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("window_start", sa.Date),
    sa.Column("window_end", sa.Date),
    sa.Column("holdout_start", sa.Date),
    sa.Column("params", sa.Text),
    sa.Column("metric", sa.String(20)),  # the declared metric the version is judged by
    sa.Column("holdout_score", sa.Float),  # that metric on the version's holdout
    sa.Column("sha256", sa.String(64), nullable=False),
    sa.Column("storage_key", sa.String(500), nullable=False),
    sa.Column("uri", sa.String(1000)),
    sa.Column("status", sa.String(20), nullable=False),
    sa.Column("reason", sa.String(200)),
    # The training request (the run key) that made this version: one version per request.
    sa.Column("request", sa.String(300), unique=True),
)
EVENTS = sa.Table(
    "model_events",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("event", sa.String(30), nullable=False),
    sa.Column("detail", sa.Text),
)

PERFORMANCE = sa.Table(
    "model_performance",
    METADATA,
    sa.Column("month", sa.String(7), primary_key=True),
    sa.Column("version", sa.Integer, nullable=False),
    sa.Column("metric", sa.String(20)),
    sa.Column("score", sa.Float),  # realized: null until the labels arrive
    sa.Column("estimated", sa.Float),  # before the labels, from the features alone
    sa.Column("scores", sa.Text),  # JSON: every realized metric of the task
    sa.Column("at", sa.DateTime(timezone=True), nullable=False),
)


@dataclass(frozen=True)
class ModelRecord:
    version: int
    name: str
    created_at: dt.datetime
    metric: str
    holdout_score: float
    sha256: str
    storage_key: str
    uri: str
    status: str
    params: dict
    window_start: dt.date | None = None
    window_end: dt.date | None = None
    holdout_start: dt.date | None = None
    reason: str = ""
    request: str | None = None


class ModelFiles(Protocol):
    """What the registry needs of a model store (drift_assets.resources.ModelStore)."""

    def load(self, name: str, version: int, sha256: str | None = None) -> bytes: ...


def load_model(record: ModelRecord, store: ModelFiles):
    """Unpickle a registered version after checking its bytes against the registry's SHA-256
    (the store raises ValueError when they differ)."""
    return joblib.load(io.BytesIO(store.load(record.name, record.version, sha256=record.sha256)))


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class ModelRegistry:
    """Reads and changes the registry; each change is one transaction with its event."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        create_tables(METADATA, engine)

    def _record(self, row) -> ModelRecord:
        data = dict(row._mapping)
        data["params"] = json.loads(data["params"] or "{}")
        data["reason"] = data["reason"] or ""
        return ModelRecord(**data)

    def register(self, record: ModelRecord, event_detail: str = "",
                 promote: bool | None = None, decision: str = "") -> None:
        """Add ``record`` as a candidate and, in the same transaction, promote it
        (``promote`` True) or record the gate's refusal (False), with ``decision`` as detail:
        a version is never registered without the gate's answer."""
        values = {**record.__dict__, "params": json.dumps(record.params, default=str)}
        with self.engine.begin() as conn:
            conn.execute(MODELS.insert().values(**values))
            conn.execute(EVENTS.insert().values(at=_now(), version=record.version,
                                                event="registered", detail=event_detail))
            if promote:
                self._promote(conn, record.version, "promoted", decision)
            elif promote is False:
                conn.execute(EVENTS.insert().values(at=_now(), version=record.version,
                                                    event="refused", detail=decision))

    def by_request(self, request: str) -> ModelRecord | None:
        """The version trained for ``request``, if there is one."""
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(MODELS).where(MODELS.c.request == request)).first()
        return self._record(row) if row is not None else None

    def gate_answer(self, version: int) -> tuple[bool, str]:
        """Whether the gate promoted ``version`` when it was registered, and why."""
        with self.engine.connect() as conn:
            row = conn.execute(
                sa.select(EVENTS.c.event, EVENTS.c.detail)
                .where(EVENTS.c.version == version, EVENTS.c.event.in_(["promoted", "refused"]))
                .order_by(EVENTS.c.id)).first()
        return (row.event == "promoted", row.detail or "") if row else (False, "")

    def get(self, version: int) -> ModelRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(MODELS).where(MODELS.c.version == version)).first()
        if row is None:
            raise KeyError(f"model version {version} is not in the registry")
        return self._record(row)

    def all(self) -> list[ModelRecord]:
        with self.engine.connect() as conn:
            rows = conn.execute(sa.select(MODELS).order_by(MODELS.c.version)).all()
        return [self._record(r) for r in rows]

    def production(self) -> ModelRecord | None:
        return next((r for r in self.all() if r.status == PRODUCTION), None)

    def previous_production(self) -> ModelRecord | None:
        """The version that was production before the current one (the rollback target)."""
        current = self.production()
        with self.engine.connect() as conn:
            rows = conn.execute(
                sa.select(EVENTS.c.version)
                .where(EVENTS.c.event.in_(["promoted", "rolled_back_to"]))
                .order_by(EVENTS.c.id.desc())
            ).all()
        for (version,) in rows:
            if current is None or version != current.version:
                return self.get(version)
        return None

    def promote(self, version: int, event: str = "promoted", detail: str = "") -> None:
        """Make ``version`` production and retire the one it replaces, in one transaction."""
        with self.engine.begin() as conn:
            self._promote(conn, version, event, detail)

    @staticmethod
    def _promote(conn: sa.Connection, version: int, event: str, detail: str) -> None:
        conn.execute(MODELS.update().where(MODELS.c.status == PRODUCTION)
                     .values(status=RETIRED))
        done = conn.execute(MODELS.update().where(MODELS.c.version == version)
                            .values(status=PRODUCTION))
        if done.rowcount != 1:
            raise KeyError(f"model version {version} is not in the registry")
        conn.execute(EVENTS.insert().values(at=_now(), version=version, event=event,
                                            detail=detail))

    def record_event(self, version: int, event: str, detail: str = "") -> None:
        with self.engine.begin() as conn:
            conn.execute(EVENTS.insert().values(at=_now(), version=version, event=event,
                                                detail=detail))

    def record_performance(self, month: str, version: int, metric: str, score: float | None,
                           estimated: float | None = None, scores: dict | None = None) -> None:
        """The production model's ``metric`` on a month (realized once labelled, with every
        metric in ``scores``, and estimated); a re-scored month replaces its row."""
        with self.engine.begin() as conn:
            conn.execute(PERFORMANCE.delete().where(PERFORMANCE.c.month == month))
            conn.execute(PERFORMANCE.insert().values(
                month=month, version=version, metric=metric, score=score, estimated=estimated,
                scores=json.dumps(scores or {}), at=_now()))

    def performance(self, before: str | None = None) -> pd.DataFrame:
        """Monthly scores (month, version, metric, score: realized, estimated), optionally of
        the months before one."""
        query = sa.select(PERFORMANCE.c.month, PERFORMANCE.c.version, PERFORMANCE.c.metric,
                          PERFORMANCE.c.score, PERFORMANCE.c.estimated
                          ).order_by(PERFORMANCE.c.month)
        if before is not None:
            query = query.where(PERFORMANCE.c.month < before)
        with self.engine.connect() as conn:
            return pd.read_sql(query, conn)

    def events(self) -> pd.DataFrame:
        with self.engine.connect() as conn:
            return pd.read_sql(sa.select(EVENTS).order_by(EVENTS.c.id), conn)

    def table(self) -> pd.DataFrame:
        """The registry as a table a person reads."""
        rows = [{"version": r.version, "status": r.status,
                 "created_at": r.created_at.strftime("%Y-%m-%d %H:%M") if r.created_at else "",
                 "window": f"{r.window_start} .. {r.window_end}",
                 "params": ", ".join(f"{k}={v}" for k, v in
                                     (r.params.get("params") or {}).items()),
                 "metric": r.metric, "holdout": round(r.holdout_score, 4),
                 "sha256": r.sha256[:12],
                 "reason": r.reason}
                for r in self.all()]
        return pd.DataFrame(rows)
