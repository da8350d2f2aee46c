"""The month history on SQLite and PostgreSQL: records go in typed and come back equal; each
month's newest record is its verdict; what past months say is read from the records alone."""

from __future__ import annotations

import pytest
import sqlalchemy as sa

from drift_assets.lib.history import (
    ColumnVerdict,
    DriftRecord,
    MonthHistory,
    QualityColumn,
    QualityFinding,
    QualityRecord,
    RelationRecord,
)


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def history(request, tmp_path):
    if request.param == "sqlite":
        engine = sa.create_engine(f"sqlite:///{tmp_path / 'warehouse.db'}")
    else:
        url, _ = request.getfixturevalue("pg_database")("history")
        engine = sa.create_engine(url)
    yield MonthHistory(engine)
    engine.dispose()


def _record(month: str, drift: bool, effects: dict, columns=None, **more) -> DriftRecord:
    return DriftRecord(
        month=month, window=more.pop("window", []), reference=more.pop("reference", "seasonal"),
        fallback=more.pop("fallback", []), thresholds="calibrated", method_version="2",
        drift=drift, share=0.2 if drift else 0.0, share_threshold=0.5,
        columns=columns or [ColumnVerdict("hum", "num", "calibrated ks_d", effects.get("hum", 0),
                                          0.3, drift)],
        effects=effects, **more)


def test_a_record_comes_back_as_it_went_in(history):
    record = _record(
        "2012-03", True, {"hum": 0.64, "weathersit": 0.4, "weathersit=3": 0.4},
        columns=[ColumnVerdict("weathersit", "cat", "calibrated cohen_h", 0.4, 0.99, False,
                               category="3"),
                 ColumnVerdict("temp", "num", "calibrated ks_d", 0.5, 0.3, False,
                               moved_with="atemp", psi=0.7, ks_statistic=0.5),
                 ColumnVerdict("hum", "num", "calibrated ks_d", 0.64, 0.32, True)],
        window=["2011-03"],
        relations=RelationRecord(1.1, 2.0, False, [], {"temp": 1.1}, {"temp": "atemp"}),
        skipped={"notes": "text"}, reference_rows=31, current_rows=31, report="/r.html",
        run_id="abc")
    stored = history.record_drift(record)
    assert stored.id is not None and stored.written_at is not None
    back = history.drift_records()["2012-03"]
    assert back == stored == history.drift_record(stored.id)
    assert [c.column for c in back.columns] == ["weathersit", "temp", "hum"]  # in order
    assert back.causes == ["hum"] and back.describe_window() == "seasonal: 2011-03"
    quality = history.record_quality(QualityRecord("2012-06", False, [
        QualityFinding("missing_values", "hum", "ERROR", "hum: 50% missing (limit 10%)"),
        QualityFinding("value_ranges", "temp", "WARN", "temp: 8% outside")]))
    assert history.quality_records()["2012-06"] == quality
    assert quality.describe_errors() == "hum: 50% missing (limit 10%)"


def test_the_newest_record_of_a_month_is_its_verdict(history):
    first = history.record_drift(_record("2011-07", True, {"hum": 0.9}))
    history.record_drift(_record("2011-08", False, {"hum": 0.1}))
    again = history.record_drift(_record("2011-07", False, {"hum": 0.2}))
    latest = history.drift_records()
    assert latest["2011-07"].id == again.id and latest["2011-07"].drift is False
    assert set(history.drift_records(after=first.id)) == {"2011-07", "2011-08"}
    assert set(history.drift_records(after=again.id)) == set()
    assert set(history.drift_records(before="2011-08")) == {"2011-07"}


def test_alerted_months_and_alike_effects_come_from_the_records(history):
    history.record_drift(_record("2012-01", False, {"hum": 0.11}))
    history.record_drift(_record("2012-02", True, {"hum": 0.70}))  # drifted: not alike
    history.record_drift(_record("2012-03", False, {"hum": 0.12}, fallback=["2011-01"]))
    history.record_drift(_record("2012-04", False, {"hum": 0.13}, columns=[
        ColumnVerdict("hum", "num", "calibrated ks_d", 0.13, 0.3, False, moved_with="temp")]))
    history.record_drift(_record("2012-05", True, {"hum": 0.9}, fallback=["2011-01"]))
    history.record_quality(QualityRecord("2012-06", False, []))
    history.record_quality(QualityRecord("2012-07", True, []))
    # drift against its own window, or a failed quality check; not drift against a stand-in
    assert history.alerted_months() == {"2012-02", "2012-06"}
    # alike: no drift, against its own window, not cleared as moved with its twin
    assert history.alike_effects(before="2012-12") == {"hum": [0.11]}
    assert history.alike_effects(before="2012-01") == {}


def test_a_month_is_held_to_the_range_of_the_clean_months_before_it(history):
    """Each quality record keeps its columns' ranges; a month's seen range is the union over
    the months before it that passed their blocking checks: a broken month widens nothing,
    and a month re-run is not held to itself."""
    def record(month, passed, low, high):
        return history.record_quality(QualityRecord(
            month, passed, [], columns=[QualityColumn("temp", 0.0, low, high),
                                        QualityColumn("notes", 0.5)]))

    record("2011-02", True, 0.1, 0.5)
    record("2011-03", False, -5.0, 9.0)  # an impossible value: not a range to keep
    record("2011-04", True, 0.2, 0.9)
    assert history.seen_ranges(before="2011-02") == {}
    assert history.seen_ranges(before="2011-04") == {"temp": (0.1, 0.5)}
    assert history.seen_ranges(before="2011-05") == {"temp": (0.1, 0.9)}
    record("2011-04", True, 0.3, 0.4)  # re-run: the newest record of the month counts
    assert history.seen_ranges(before="2011-05") == {"temp": (0.1, 0.5)}
    back = history.quality_records()["2011-04"]
    assert back.columns == [QualityColumn("notes", 0.5), QualityColumn("temp", 0.0, 0.3, 0.4)]
