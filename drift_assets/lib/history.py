"""One record of each month's verdict: what it was compared with, what was found, and why.

``drift_report`` writes a :class:`DriftRecord` and ``data_quality_report`` a
:class:`QualityRecord` for every materialization, to tables in the warehouse (``drift_history``
with its per-column rows in ``drift_history_columns``, and ``quality_history``). Everything that
decides from past months (the drift sensor, the seasonal window that skips alerted months, the
thresholds learned from alike months) and everything that shows them (``drift-assets history``,
the charts, the notifications, the assets' metadata) reads them through :class:`MonthHistory`.
Records are appended, never updated: the newest record of a month is its verdict, and a record's
id orders what the drift sensor has handled.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field

import sqlalchemy as sa

from drift_assets.engine.verdict import alike
from drift_assets.lib.messages import DriftFact
from drift_assets.lib.reference import ReferenceWindow
from drift_assets.lib.tables import create_tables

METADATA = sa.MetaData()
DRIFT = sa.Table(
    "drift_history",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("month", sa.String(7), nullable=False, index=True),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(64)),
    # The months of ``current`` the reference window held; empty: the fixed reference table.
    sa.Column("window", sa.String(200), nullable=False),
    sa.Column("reference", sa.String(200), nullable=False),  # the declared choice
    # The fixed months that stood in for an empty rolling or seasonal window; empty: none did.
    sa.Column("fallback", sa.String(200), nullable=False),
    sa.Column("thresholds", sa.String(20), nullable=False),
    sa.Column("method_version", sa.String(20), nullable=False),
    sa.Column("drift", sa.Boolean, nullable=False),
    sa.Column("share", sa.Float, nullable=False),
    sa.Column("share_threshold", sa.Float, nullable=False),
    sa.Column("reference_rows", sa.BigInteger),
    sa.Column("current_rows", sa.BigInteger),
    sa.Column("effects", sa.Text, nullable=False),  # JSON: column or column=category -> effect
    sa.Column("relations", sa.Text),  # JSON of RelationRecord, null when not watched
    sa.Column("skipped", sa.Text, nullable=False),  # JSON: column -> why it was not tested
    sa.Column("report", sa.String(1000)),  # where the month's HTML report is
)
COLUMNS = sa.Table(
    "drift_history_columns",
    METADATA,
    sa.Column("record_id", sa.Integer, sa.ForeignKey("drift_history.id"), primary_key=True),
    sa.Column("column", sa.String(200), primary_key=True),
    sa.Column("position", sa.Integer, nullable=False),  # the column's place in the record
    sa.Column("column_type", sa.String(10), nullable=False),
    sa.Column("method", sa.String(60), nullable=False),  # the test, or the effect size
    sa.Column("category", sa.String(200)),  # the category that decided a calibrated column
    sa.Column("score", sa.Float, nullable=False),
    sa.Column("threshold", sa.Float, nullable=False),
    sa.Column("drifted", sa.Boolean, nullable=False),
    sa.Column("moved_with", sa.String(200)),  # its twin, when a drift was cleared as weather
    sa.Column("psi", sa.Float),
    sa.Column("ks_statistic", sa.Float),
)
QUALITY = sa.Table(
    "quality_history",
    METADATA,
    sa.Column("id", sa.Integer, primary_key=True, autoincrement=True),
    sa.Column("month", sa.String(7), nullable=False, index=True),
    sa.Column("written_at", sa.DateTime(timezone=True), nullable=False),
    sa.Column("run_id", sa.String(64)),
    sa.Column("passed", sa.Boolean, nullable=False),
    sa.Column("findings", sa.Text, nullable=False),  # JSON list of QualityFinding
)
# Per numeric column of a quality record: its missing share and its range, so that later months
# are held to every value seen before (not only the reference's) and the summary plots them.
QUALITY_COLUMNS = sa.Table(
    "quality_history_columns",
    METADATA,
    sa.Column("record_id", sa.Integer, sa.ForeignKey("quality_history.id"), primary_key=True),
    sa.Column("column", sa.String(200), primary_key=True),
    sa.Column("missing_share", sa.Float, nullable=False),
    sa.Column("low", sa.Float),  # null: no number in the month (or not a numeric column)
    sa.Column("high", sa.Float),
)


@dataclass(frozen=True)
class ColumnVerdict:
    column: str
    column_type: str  # "num" | "cat"
    method: str  # Evidently's test (ks, wasserstein, …) or the calibrated effect size
    score: float
    threshold: float
    drifted: bool
    category: str | None = None
    moved_with: str | None = None
    psi: float | None = None
    ks_statistic: float | None = None

    @property
    def p_value(self) -> bool:
        """Whether the score is a p-value (drifts when low) rather than a distance or effect
        (drifts when high)."""
        return self.method.split(" ")[0] in ("ks", "chisquare", "z")

    def describe(self) -> str:
        """'hum (calibrated ks_d 0.645, threshold 0.323)', for messages."""
        name = f"{self.column}={self.category}" if self.category else self.column
        twin = f", moved with {self.moved_with}" if self.moved_with else ""
        return f"{name} ({self.method} {self.score:.4g}, threshold {self.threshold:g}{twin})"


@dataclass(frozen=True)
class RelationRecord:
    error: float  # the largest residual shift of a watched column, in residual std
    threshold: float
    broken: bool
    columns: list[str]  # the columns of broken relations, largest shift first
    shifts: dict[str, float] = field(default_factory=dict)
    partners: dict[str, str] = field(default_factory=dict)

    def describe(self) -> str:
        return f"relation between {', '.join(self.columns)} broken"


@dataclass(frozen=True)
class DriftRecord:
    month: str
    window: list[str]  # the months compared against; empty: the fixed reference table
    reference: str  # the declared choice: fixed:…, rolling:N, seasonal
    # a rolling or seasonal window with no usable month: the fixed months that stood in
    fallback: list[str]
    thresholds: str  # evidently | calibrated
    method_version: str
    drift: bool  # the month's dataset verdict
    share: float
    share_threshold: float
    columns: list[ColumnVerdict]
    effects: dict[str, float] = field(default_factory=dict)
    relations: RelationRecord | None = None
    skipped: dict[str, str] = field(default_factory=dict)
    reference_rows: int | None = None
    current_rows: int | None = None
    report: str = ""
    id: int | None = None  # set once stored
    run_id: str | None = None
    written_at: dt.datetime | None = None

    @property
    def drifted(self) -> list[ColumnVerdict]:
        return [c for c in self.columns if c.drifted]

    @property
    def causes(self) -> list[str]:
        """What made the month drift: its drifted columns, and a broken relation."""
        relation = [self.relations.describe()] if self.relations and self.relations.broken \
            else []
        return [c.column for c in self.drifted] + relation

    @property
    def cause_details(self) -> list[str]:
        relation = [self.relations.describe()] if self.relations and self.relations.broken \
            else []
        return [c.describe() for c in self.drifted] + relation

    def fact(self) -> DriftFact:
        """The month as an alert states it: its share and each cause with its score."""
        return DriftFact(self.month, self.share, self.share_threshold, self.cause_details)

    @property
    def against_own_window(self) -> bool:
        """Whether the month was compared with the window it declares (a fixed reference, or
        a rolling or seasonal window with data), not with the fixed stand-in."""
        return not self.fallback

    def describe_window(self) -> str:
        """'seasonal: 2011-03', or what stood in for an empty window."""
        return ReferenceWindow(self.reference, self.window or None,
                               tuple(self.fallback)).describe()


@dataclass(frozen=True)
class QualityFinding:
    rule: str
    column: str
    severity: str  # ERROR | WARN
    message: str


@dataclass(frozen=True)
class QualityColumn:
    column: str
    missing_share: float
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class QualityRecord:
    month: str
    passed: bool  # no blocking (ERROR) finding
    findings: list[QualityFinding]
    columns: list[QualityColumn] = field(default_factory=list)
    id: int | None = None
    run_id: str | None = None
    written_at: dt.datetime | None = None

    @property
    def errors(self) -> list[QualityFinding]:
        return [f for f in self.findings if f.severity == "ERROR"]

    def describe_errors(self) -> str:
        """'hum: 52% missing (limit 10%)', the blocking findings, for messages."""
        return "; ".join(f.message for f in self.errors)


def _column(row) -> ColumnVerdict:
    return ColumnVerdict(**{k: v for k, v in row._mapping.items()
                            if k not in ("record_id", "position")})


def _utc(when: dt.datetime | None) -> dt.datetime | None:
    # SQLite keeps no time zone; every time written here is UTC
    return when.replace(tzinfo=dt.UTC) if when is not None and when.tzinfo is None else when


def _now() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


class MonthHistory:
    """Reads and appends the monthly records; the one way code learns about past months."""

    def __init__(self, engine: sa.Engine):
        self.engine = engine
        create_tables(METADATA, engine)

    # --- writing ---

    def record_drift(self, record: DriftRecord) -> DriftRecord:
        """Append ``record``; returns it with its id."""
        values = {
            "month": record.month, "written_at": _now(), "run_id": record.run_id,
            "window": ",".join(record.window), "reference": record.reference,
            "fallback": ",".join(record.fallback), "thresholds": record.thresholds,
            "method_version": record.method_version, "drift": record.drift,
            "share": record.share, "share_threshold": record.share_threshold,
            "reference_rows": record.reference_rows, "current_rows": record.current_rows,
            "effects": json.dumps(record.effects),
            "relations": json.dumps(asdict(record.relations)) if record.relations else None,
            "skipped": json.dumps(record.skipped), "report": record.report,
        }
        with self.engine.begin() as conn:
            record_id = conn.execute(DRIFT.insert().values(**values)).inserted_primary_key[0]
            if record.columns:
                conn.execute(COLUMNS.insert(), [
                    {"record_id": record_id, "position": i, **asdict(c)}
                    for i, c in enumerate(record.columns)])
        return self._drift(values | {"id": record_id}, record.columns)

    def record_quality(self, record: QualityRecord) -> QualityRecord:
        values = {"month": record.month, "written_at": _now(), "run_id": record.run_id,
                  "passed": record.passed,
                  "findings": json.dumps([asdict(f) for f in record.findings])}
        with self.engine.begin() as conn:
            record_id = conn.execute(QUALITY.insert().values(**values)).inserted_primary_key[0]
            if record.columns:
                conn.execute(QUALITY_COLUMNS.insert(), [
                    {"record_id": record_id, **asdict(c)} for c in record.columns])
        return self._quality(values | {"id": record_id}, record.columns)

    # --- reading ---

    @staticmethod
    def _drift(row: dict, columns: Iterable[ColumnVerdict]) -> DriftRecord:
        relations = json.loads(row["relations"]) if row.get("relations") else None
        return DriftRecord(
            month=row["month"], window=[m for m in row["window"].split(",") if m],
            reference=row["reference"],
            fallback=[m for m in row["fallback"].split(",") if m],
            thresholds=row["thresholds"], method_version=row["method_version"],
            drift=bool(row["drift"]), share=float(row["share"]),
            share_threshold=float(row["share_threshold"]), columns=list(columns),
            effects=json.loads(row["effects"]),
            relations=RelationRecord(**relations) if relations else None,
            skipped=json.loads(row["skipped"]), reference_rows=row["reference_rows"],
            current_rows=row["current_rows"], report=row["report"] or "", id=row["id"],
            run_id=row["run_id"], written_at=_utc(row["written_at"]),
        )

    @staticmethod
    def _quality(row: dict, columns: Iterable[QualityColumn] = ()) -> QualityRecord:
        return QualityRecord(
            month=row["month"], passed=bool(row["passed"]),
            findings=[QualityFinding(**f) for f in json.loads(row["findings"])],
            columns=list(columns), id=row["id"], run_id=row["run_id"],
            written_at=_utc(row["written_at"]))

    @staticmethod
    def _newest_per_month(table: sa.Table, after: int | None, before: str | None):
        """The id of each month's newest record (after id ``after``; of months before
        ``before``): a GROUP BY in the database."""
        query = sa.select(sa.func.max(table.c.id)).group_by(table.c.month)
        if after is not None:
            query = query.where(table.c.id > after)
        if before is not None:
            query = query.where(table.c.month < before)
        return query

    def drift_records(self, after: int | None = None, before: str | None = None
                      ) -> dict[str, DriftRecord]:
        """The newest drift record of every month, by month; only records after id ``after``,
        only months before ``before``."""
        newest = self._newest_per_month(DRIFT, after, before)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(DRIFT).where(DRIFT.c.id.in_(newest)).order_by(DRIFT.c.month))]
            columns: dict[int, list[ColumnVerdict]] = {}
            ids = [r["id"] for r in rows]
            for chunk in range(0, len(ids), 500):
                query = (sa.select(COLUMNS).where(COLUMNS.c.record_id.in_(ids[chunk:chunk + 500]))
                         .order_by(COLUMNS.c.record_id, COLUMNS.c.position))
                for c in conn.execute(query):
                    columns.setdefault(c.record_id, []).append(_column(c))
        return {r["month"]: self._drift(r, columns.get(r["id"], [])) for r in rows}

    def drift_record(self, record_id: int) -> DriftRecord:
        with self.engine.connect() as conn:
            row = conn.execute(sa.select(DRIFT).where(DRIFT.c.id == record_id)).first()
            if row is None:
                raise KeyError(f"no drift record {record_id}")
            columns = [_column(c) for c in conn.execute(
                sa.select(COLUMNS).where(COLUMNS.c.record_id == record_id)
                .order_by(COLUMNS.c.position))]
        return self._drift(dict(row._mapping), columns)

    def quality_records(self, after: int | None = None, before: str | None = None
                        ) -> dict[str, QualityRecord]:
        """The newest quality record of every month (after id ``after``; of months before
        ``before``), by month, with its per-column missing shares and ranges."""
        newest = self._newest_per_month(QUALITY, after, before)
        with self.engine.connect() as conn:
            rows = [dict(r._mapping) for r in conn.execute(
                sa.select(QUALITY).where(QUALITY.c.id.in_(newest)).order_by(QUALITY.c.month))]
            columns: dict[int, list[QualityColumn]] = {}
            query = (sa.select(QUALITY_COLUMNS).where(QUALITY_COLUMNS.c.record_id.in_(newest))
                     .order_by(QUALITY_COLUMNS.c.record_id, QUALITY_COLUMNS.c.column))
            for c in conn.execute(query):
                columns.setdefault(c.record_id, []).append(QualityColumn(
                    c.column, c.missing_share, c.low, c.high))
        return {r["month"]: self._quality(r, columns.get(r["id"], [])) for r in rows}

    # --- what past months say ---

    def alerted_months(self) -> set[str]:
        """Months whose blocking quality checks failed, or that drifted against their own
        window (drift against the fixed stand-in of an empty window is the season's): such a
        month does not serve as another month's reference."""
        drifted = {m for m, r in self.drift_records().items()
                   if r.drift and r.against_own_window}
        broken = {m for m, r in self.quality_records().items() if not r.passed}
        return drifted | broken

    def seen_ranges(self, before: str) -> dict[str, tuple[float, float]]:
        """Column -> the lowest and highest value of the months before ``before`` that passed
        their blocking checks: with the reference's, the range a month's values are held to.
        A month re-run is held to the months before it, never to itself."""
        seen: dict[str, tuple[float, float]] = {}
        for record in self.quality_records(before=before).values():
            if not record.passed:
                continue
            for c in record.columns:
                if c.low is None or c.high is None:
                    continue
                low, high = seen.get(c.column, (c.low, c.high))
                seen[c.column] = (min(low, c.low), max(high, c.high))
        return seen

    def alike_effects(self, before: str) -> dict[str, list[float]]:
        """Effect sizes per column (and per category, ``column=value``) of the months before
        ``before`` that were alike periods for that column against their own window: no drift,
        and not cleared as having moved with its twin (that was weather)."""
        history: dict[str, list[float]] = {}
        for record in self.drift_records(before=before).values():
            if not record.against_own_window:
                continue
            clean = {c.column for c in record.columns if alike(c.drifted, c.moved_with)}
            for key, effect in record.effects.items():
                if key.split("=")[0] in clean and effect == effect:  # not NaN
                    history.setdefault(key, []).append(float(effect))
        return history
