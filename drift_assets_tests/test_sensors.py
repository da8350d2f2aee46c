"""The drift sensor and the weekly schedule, evaluated against a real temporary instance."""

from __future__ import annotations

import datetime as dt

import pytest
from dagster import (
    AssetMaterialization,
    DagsterInstance,
    build_schedule_context,
    build_sensor_context,
)

from drift_assets.definitions import defs
from drift_assets.schedules import weekly_drift_schedule
from drift_assets.sensors import drift_sensor


def _report(instance: DagsterInstance, month: str, share: float, columns: str = "temp, atemp"):
    instance.report_runless_asset_event(
        AssetMaterialization(
            "drift_report",
            partition=f"{month}-01",
            metadata={
                "drift_detected": share >= 0.5,
                "drift_share": share,
                "drift_share_threshold": 0.5,
                "drifted_columns": columns if share >= 0.5 else "",
                "report": f"/reports/drift_{month}.html",
            },
        )
    )


def _tick(instance, cursor=None):
    return drift_sensor.evaluate_tick(
        build_sensor_context(instance=instance, cursor=cursor, definitions=defs)
    )


def test_nothing_new_is_a_skip_that_says_so(instance):
    tick = _tick(instance)
    assert tick.run_requests == [] and "no new drift_report" in tick.skip_message


def test_no_drift_skips_naming_share_and_threshold(instance):
    _report(instance, "2011-02", 0.2)
    _report(instance, "2011-03", 0.4)
    tick = _tick(instance)
    assert tick.run_requests == []
    assert "0.40 (2011-03) < threshold 0.50" in tick.skip_message
    assert tick.cursor is not None


def test_a_backfill_gives_one_retrain_and_each_report_triggers_once(instance):
    for month, share in [("2011-05", 0.6), ("2011-06", 0.2), ("2011-07", 0.8), ("2011-08", 1.0)]:
        _report(instance, month, share)
    tick = _tick(instance)
    assert len(tick.run_requests) == 1
    request = tick.run_requests[0]
    config = request.run_config["ops"]["trained_model"]["config"]
    assert config["drift_months"] == ["2011-05", "2011-07", "2011-08"]
    assert config["reason"] == "drift"
    assert config["report"] == "/reports/drift_2011-08.html"
    assert any("2011-07: share 0.80 >= 0.50; columns temp, atemp" in s
               for s in config["drift_summary"])
    assert request.run_key.startswith("retrain-after-")
    again = _tick(instance, tick.cursor)
    assert again.run_requests == []  # the cursor: each materialization triggers at most once
    _report(instance, "2011-09", 0.6)
    later = _tick(instance, tick.cursor)
    assert [r.run_config["ops"]["trained_model"]["config"]["drift_months"]
            for r in later.run_requests] == [["2011-09"]]
    assert later.run_requests[0].run_key != request.run_key


def test_a_rematerialized_month_counts_with_its_latest_report(instance):
    _report(instance, "2011-05", 0.8)
    _report(instance, "2011-05", 0.2)
    tick = _tick(instance)
    assert tick.run_requests == []


@pytest.mark.parametrize(
    ("when", "partition"),
    [(dt.datetime(2011, 3, 7, 11, 0, tzinfo=dt.timezone.utc), "2011-03-01"),
     (dt.datetime(2012, 12, 31, 11, 0, tzinfo=dt.timezone.utc), "2012-12-01")],
)
def test_weekly_schedule_requests_the_month_in_progress(instance, when, partition):
    assert weekly_drift_schedule.cron_schedule == "0 11 * * MON"
    context = build_schedule_context(instance=instance, scheduled_execution_time=when,
                                     repository_def=defs.get_repository_def())
    request = weekly_drift_schedule.evaluate_tick(context).run_requests[0]
    assert request.partition_key == partition
    assert weekly_drift_schedule.job_name == "monthly_drift_job"


def test_schedule_skips_before_the_first_partition(instance):
    context = build_schedule_context(
        instance=instance,
        scheduled_execution_time=dt.datetime(2010, 6, 7, 11, tzinfo=dt.timezone.utc),
        repository_def=defs.get_repository_def(),
    )
    result = weekly_drift_schedule.evaluate_tick(context)
    assert result.run_requests == [] and "not a partition" in result.skip_message


def test_a_drift_already_alerted_does_not_alert_again_until_it_clears(instance):
    _report(instance, "2011-07", 0.8)
    first = _tick(instance)
    assert len(first.run_requests) == 1
    _report(instance, "2011-07", 0.8)  # the month re-materialized, still drifting
    repeat = _tick(instance, first.cursor)
    assert repeat.run_requests == [] and "already alerted" in repeat.skip_message
    _report(instance, "2011-07", 0.2)  # back below the threshold: re-armed
    cleared = _tick(instance, repeat.cursor)
    _report(instance, "2011-07", 0.9)
    again = _tick(instance, cleared.cursor)
    assert len(again.run_requests) == 1
