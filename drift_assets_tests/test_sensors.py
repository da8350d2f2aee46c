"""The drift sensor and the weekly schedule, evaluated against a real temporary instance."""

from __future__ import annotations

import datetime as dt
import json
import os

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


def _tick(instance, resources, cursor=None):
    return drift_sensor.evaluate_tick(
        build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    )


def _config(request):
    return request.run_config["ops"]["trained_model"]["config"]


def test_nothing_new_is_a_skip_that_says_so(instance, resources):
    tick = _tick(instance, resources)
    assert tick.run_requests == [] and "no new drift_report" in tick.skip_message


def test_no_drift_skips_naming_share_and_threshold(instance, resources):
    _report(instance, "2011-02", 0.2)
    _report(instance, "2011-03", 0.4)
    tick = _tick(instance, resources)
    assert tick.run_requests == []
    assert "0.40 (2011-03) < threshold 0.50" in tick.skip_message
    assert tick.cursor is not None


def test_a_backfill_gives_one_retrain_for_the_crossings(instance, resources):
    for month, share in [("2011-05", 0.6), ("2011-06", 0.2), ("2011-07", 0.8), ("2011-08", 1.0)]:
        _report(instance, month, share)
    tick = _tick(instance, resources)
    assert len(tick.run_requests) == 1
    request = tick.run_requests[0]
    config = _config(request)
    # May crosses; June re-arms; July crosses again; August stays above: no new crossing.
    assert config["drift_months"] == ["2011-05", "2011-07"]
    assert config["reason"] == "drift"
    assert config["report"] == "/reports/drift_2011-07.html"
    assert any(s.startswith("2011-07: share 0.80 >= 0.50; columns temp, atemp")
               for s in config["drift_summary"])
    again = _tick(instance, resources, tick.cursor)
    assert again.run_requests == []  # the cursor: each materialization is read once
    assert "no new drift_report" in again.skip_message


def test_hysteresis_stays_quiet_above_and_rearms_below(instance, resources):
    _report(instance, "2011-07", 0.8)
    first = _tick(instance, resources)
    assert len(first.run_requests) == 1
    _report(instance, "2011-08", 0.9)  # still above: quiet
    _report(instance, "2011-07", 0.8)  # the alerted month re-materialized: quiet
    quiet = _tick(instance, resources, first.cursor)
    assert quiet.run_requests == [] and "drift stays" in quiet.skip_message
    assert not os.path.exists(resources["notifier"].outbox)  # the run notifies, not the sensor


def test_drift_during_the_cooldown_alerts_now_and_retrains_later(instance, resources):
    _report(instance, "2011-05", 0.7)
    first = _tick(instance, resources)
    _report(instance, "2011-06", 0.1)
    _report(instance, "2011-07", 0.9)  # a new crossing within the 24 h cooldown
    deferred = _tick(instance, resources, first.cursor)
    assert deferred.run_requests == [] and "retrain deferred until" in deferred.skip_message
    outbox = open(resources["notifier"].outbox).read().splitlines()
    assert len(outbox) == 1 and "Data drift in 2011-07" in outbox[0]
    state = json.loads(deferred.cursor)
    assert state["pending"] == ["2011-07"]
    state["last_retrain"] = "2000-01-01T00:00:00+00:00"  # the cooldown has passed
    later = _tick(instance, resources, json.dumps(state))
    assert [_config(r)["drift_months"] for r in later.run_requests] == [["2011-07"]]
    assert later.run_requests[0].run_key != first.run_requests[0].run_key


@pytest.mark.parametrize(
    ("when", "partition"),
    [(dt.datetime(2011, 3, 7, 11, 0, tzinfo=dt.UTC), "2011-03-01"),
     (dt.datetime(2012, 12, 31, 11, 0, tzinfo=dt.UTC), "2012-12-01")],
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
        scheduled_execution_time=dt.datetime(2010, 6, 7, 11, tzinfo=dt.UTC),
        repository_def=defs.get_repository_def(),
    )
    result = weekly_drift_schedule.evaluate_tick(context)
    assert result.run_requests == [] and "not a partition" in result.skip_message


def test_a_restart_mid_backfill_neither_loses_nor_repeats_a_retrain(env, instance, monkeypatch):
    """The CLI plays the daemon: its tick is saved before the retrain runs, so a process killed
    during the retrain finishes it on the next start, once, and later months still trigger."""
    from dagster import DagsterRunStatus, RunsFilter

    from drift_assets.cli import run_sensor_once
    from drift_assets.definitions import build_defs

    project = build_defs({**env, "DRIFT_RETRAIN_COOLDOWN_HOURS": "0"})
    monthly = project.resolve_job_def("monthly_drift_job")
    project.resolve_job_def("reference_job").execute_in_process(instance=instance)
    for month in ("2011-06-01", "2011-07-01"):
        monthly.execute_in_process(partition_key=month, instance=instance)

    training = type(project.resolve_job_def("training_job"))
    real = training.execute_in_process

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("process stopped during the retrain")

    monkeypatch.setattr(training, "execute_in_process", killed)
    with pytest.raises(KeyboardInterrupt):
        run_sensor_once(project, instance)
    monkeypatch.setattr(training, "execute_in_process", real)

    _, versions = run_sensor_once(project, instance)  # the restarted process
    assert versions == {"2011-07": 1}
    for month in ("2011-08-01", "2011-12-01", "2012-02-01"):  # above, re-armed, crossing
        monthly.execute_in_process(partition_key=month, instance=instance)
    assert run_sensor_once(project, instance)[1] == {"2012-02": 2}
    runs = instance.get_runs(RunsFilter(job_name="training_job",
                                        statuses=[DagsterRunStatus.SUCCESS]))
    months = [r.tags["drift_assets/drift_months"] for r in runs]
    assert len(months) == len(set(months))  # no month retrained twice
    assert sorted(months) == ["2011-07", "2012-02"]  # none missed


def test_a_broken_month_raises_one_alert_naming_its_cause(resources, instance, tmp_path):
    """Half of hum missing: the blocking check stops drift and model scoring for the month, and
    the sensor sends one message naming the cause and what it suppressed."""
    from dagster import materialize

    from drift_assets.lib.generator import generate_month
    from drift_assets.resources import FileSource
    from drift_assets_tests.graph import ALL_ASSETS, reference_table

    materialize([reference_table], resources=resources, instance=instance)
    broken = generate_month("2011-05")
    broken.loc[broken.index[::2], "hum"] = None
    broken.to_csv(tmp_path / "2011-05.csv", index=False)
    files = {**resources, "source": FileSource(location=str(tmp_path / "{month}.csv"))}
    monthly = [a for a in ALL_ASSETS if a.key.path[0] in (
        "current_data", "data_quality_report", "reference_profile", "drift_report",
        "model_performance")]
    materialize(ALL_ASSETS, selection=monthly, partition_key="2011-05-01", resources=files,
                instance=instance, raise_on_error=False)
    tick = _tick(instance, resources)
    assert tick.run_requests == []
    messages = [json.loads(line) for line in open(resources["notifier"].outbox)]
    assert len(messages) == 1
    assert messages[0]["title"] == "Data quality failure in 2011-05: hum: 52% missing (limit 10%)"
    assert "suppressed for 2011-05: the drift alert and the model performance alert" in (
        messages[0]["action"])
    _tick(instance, resources, tick.cursor)
    assert len(open(resources["notifier"].outbox).read().splitlines()) == 1  # alerted once


def test_a_broken_relation_is_named_in_the_alert():
    from dagster import AssetMaterialization

    from drift_assets.sensors import _report

    event = AssetMaterialization(
        asset_key="drift_report", partition="2014-02-01",
        metadata={"drift_detected": True, "drift_share": 0.0, "drifted_columns": "",
                  "relations/drift": True, "relations/columns": "temp, atemp"})
    report = _report(event)
    assert report.drift is True
    assert report.columns == ["relation between temp, atemp broken"]  # a cause of its own
    assert report.details == "relation between temp, atemp broken"
