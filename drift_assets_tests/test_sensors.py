"""The drift sensor and the weekly schedule, evaluated against a real temporary instance."""

from __future__ import annotations

import datetime as dt
import json
import os
from pathlib import Path

import pytest
from dagster import RunsFilter, build_schedule_context, build_sensor_context, materialize

from drift_assets.definitions import build_defs, defs
from drift_assets.lib.cursor import SensorCursor
from drift_assets.lib.history import MonthHistory
from drift_assets.lib.trigger import TriggerState
from drift_assets.sensors import RUN_KEY_TAG
from drift_assets_tests.graph import (
    ALL_ASSETS,
    BIKE,
    bike,
    current_data,
    data_quality_report,
    drift_report,
    job,
    node,
    reference_profile,
    reference_table,
)

MONTHLY = [current_data, data_quality_report, reference_profile, drift_report]
drift_sensor = defs.resolve_sensor_def(job("drift_sensor"))
weekly_drift_schedule = defs.resolve_schedule_def(job("weekly_drift_schedule"))


def _months(resources, instance, *months, source=None):
    """Materialize the reference (once) and each month's quality and drift, for real: the
    sensor reads the records these runs write. Against the generated January, 2011-02..05 and
    2011-07..09 drift, 2011-06 does not (share 0.4)."""
    if instance.get_latest_materialization_event(reference_table.key) is None:
        materialize([reference_table], resources=resources, instance=instance)
    runs = {**resources, "source": source} if source else resources
    for month in months:
        materialize(ALL_ASSETS, selection=MONTHLY, partition_key=f"{month}-01", resources=runs,
                    instance=instance, raise_on_error=False)


def _tick(instance, resources, cursor=None):
    """One evaluation of the sensor, as the daemon makes it: with the daemon's own cursor."""
    return drift_sensor.evaluate_tick(
        build_sensor_context(instance=instance, cursor=cursor, resources=resources)
    )


def _config(request):
    return request.run_config["ops"][node("trained_model")]["config"]


def _history(resources):
    return MonthHistory(bike(resources["warehouse"]).engine)


def _state(resources) -> tuple[TriggerState, int]:
    saved, version = SensorCursor(bike(resources["warehouse"]).engine, "drift_sensor").load()
    return TriggerState.loads(saved), version


def _outbox(resources) -> list[dict]:
    path = resources["notifier"].outbox
    return [json.loads(line) for line in open(path)] if os.path.exists(path) else []


def test_nothing_new_is_a_skip_that_says_so(instance, resources):
    tick = _tick(instance, resources)
    assert tick.run_requests == [] and "no new drift record" in tick.skip_message


def test_no_drift_skips_naming_share_and_threshold(instance, resources):
    _months(resources, instance, "2011-06")
    tick = _tick(instance, resources)
    assert tick.run_requests == []
    assert "0.40 (2011-06) < threshold 0.50" in tick.skip_message


def test_a_backfill_gives_one_retrain_for_the_crossings(instance, resources):
    _months(resources, instance, "2011-02", "2011-06", "2011-07", "2011-08")
    tick = _tick(instance, resources)
    assert len(tick.run_requests) == 1
    config = _config(tick.run_requests[0])
    # February crosses; June re-arms; July crosses again; August stays above: no new crossing.
    assert config["drift_months"] == ["2011-02", "2011-07"]
    assert config["reason"] == "drift"
    records = _history(resources).drift_records()
    assert config["drift_records"] == [records["2011-02"].id, records["2011-07"].id]
    # Asked again, under the same run key, until a run with that key exists.
    again = _tick(instance, resources)
    assert [r.run_key for r in again.run_requests] == [tick.run_requests[0].run_key]
    # the daemon would now launch it:
    training = build_defs({"DRIFT_DATA_DIR": str(Path(resources["notifier"].outbox).parent)}
                          ).resolve_job_def(job("training_job"))
    training.execute_in_process(
        run_config=tick.run_requests[0].run_config, instance=instance,
        tags={RUN_KEY_TAG: tick.run_requests[0].run_key})
    done = _tick(instance, resources)
    assert done.run_requests == [] and "no new drift record" in done.skip_message
    assert _state(resources)[0].requests == []


def test_hysteresis_stays_quiet_above_and_rearms_below(instance, resources):
    _months(resources, instance, "2011-02")
    first = _tick(instance, resources)
    assert len(first.run_requests) == 1
    _state_without_requests(resources)
    _months(resources, instance, "2011-03", "2011-02")  # still above; the alerted month again
    quiet = _tick(instance, resources)
    assert quiet.run_requests == [] and "drift stays" in quiet.skip_message
    assert _outbox(resources) == []  # the retrain run notifies, not the sensor


def _state_without_requests(resources):
    """As if the requested retrain had started: the request leaves the state."""
    cursor = SensorCursor(bike(resources["warehouse"]).engine, "drift_sensor")
    state, version = _state(resources)
    state.requests = []
    assert cursor.save(state.dumps(), version)


def test_drift_during_the_cooldown_alerts_now_and_retrains_later(instance, resources):
    _months(resources, instance, "2011-02")
    first = _tick(instance, resources)
    _state_without_requests(resources)
    _months(resources, instance, "2011-06", "2011-07")  # re-arms, then a new crossing
    deferred = _tick(instance, resources)
    assert deferred.run_requests == [] and "retrain deferred until" in deferred.skip_message
    [message] = _outbox(resources)
    assert message["title"] == "Data drift in 2011-07"
    assert message["drift"][0]["month"] == "2011-07" and message["drift"][0]["causes"]
    state, version = _state(resources)
    assert state.pending == ["2011-07"]
    state.last_retrain = "2000-01-01T00:00:00+00:00"  # the cooldown has passed
    SensorCursor(bike(resources["warehouse"]).engine, "drift_sensor").save(state.dumps(), version)
    later = _tick(instance, resources)
    assert [_config(r)["drift_months"] for r in later.run_requests] == [["2011-07"]]
    assert later.run_requests[0].run_key != first.run_requests[0].run_key


def test_the_cli_and_the_daemon_share_one_state(env, instance, resources):
    """`drift-assets backfill` evaluates the sensor and runs the retrain; the daemon's next
    evaluation, with its own (empty) cursor, finds nothing to handle: no second retrain and no
    second message."""
    from drift_assets.cli.backfill import run_sensor_once

    project = build_defs(env)
    _months(resources, instance, "2011-02", "2011-06", "2011-07")
    _, versions = run_sensor_once(project, instance, BIKE)
    assert versions == {"2011-02": 1, "2011-07": 1}
    sent = _outbox(resources)
    assert [m["title"] for m in sent] == ["Data drift in 2011-02, 2011-07: model retrained"]
    daemon = _tick(instance, resources, cursor=None)
    assert daemon.run_requests == [] and "no new drift record" in daemon.skip_message
    assert _outbox(resources) == sent
    runs = instance.get_runs(RunsFilter(job_name=job("training_job")))
    assert len(runs) == 1


def test_two_evaluations_at_once_change_the_state_once(instance, resources):
    """Both load the same state; the second save finds it changed and saves nothing."""
    cursor = SensorCursor(bike(resources["warehouse"]).engine, "drift_sensor")
    state, version = _state(resources)
    assert cursor.save(TriggerState(after=1).dumps(), version)
    assert not cursor.save(TriggerState(after=2).dumps(), version)
    assert _state(resources)[0].after == 1


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
    assert weekly_drift_schedule.job_name == job("monthly_drift_job")


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

    from drift_assets.cli.backfill import run_sensor_once

    project = build_defs({**env, "DRIFT_RETRAIN_COOLDOWN_HOURS": "0"})
    monthly = project.resolve_job_def(job("monthly_drift_job"))
    project.resolve_job_def(job("reference_job")).execute_in_process(instance=instance)
    for month in ("2011-06-01", "2011-07-01"):
        monthly.execute_in_process(partition_key=month, instance=instance)

    training = type(project.resolve_job_def(job("training_job")))
    real = training.execute_in_process

    def killed(*args, **kwargs):
        raise KeyboardInterrupt("process stopped during the retrain")

    monkeypatch.setattr(training, "execute_in_process", killed)
    with pytest.raises(KeyboardInterrupt):
        run_sensor_once(project, instance, BIKE)
    monkeypatch.setattr(training, "execute_in_process", real)

    _, versions = run_sensor_once(project, instance, BIKE)  # the restarted process
    assert versions == {"2011-07": 1}
    for month in ("2011-08-01", "2011-12-01", "2012-02-01"):  # above, re-armed, crossing
        monthly.execute_in_process(partition_key=month, instance=instance)
    assert run_sensor_once(project, instance, BIKE)[1] == {"2012-02": 2}
    runs = instance.get_runs(RunsFilter(job_name=job("training_job"),
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
    monthly = [a for a in ALL_ASSETS if a.key.path[-1] in (
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


def test_a_broken_relation_is_a_cause_of_its_own():
    from drift_assets.lib.history import DriftRecord, RelationRecord

    record = DriftRecord(
        month="2014-02", window=["2013-02"], reference="seasonal", fallback=[],
        thresholds="calibrated", method_version="2", drift=True, share=0.0,
        share_threshold=0.5, columns=[],
        relations=RelationRecord(7.2, 2.0, True, ["temp", "atemp"]))
    assert record.causes == ["relation between temp, atemp broken"]
    assert record.fact().text() == "2014-02: share 0.00; relation between temp, atemp broken"


def test_a_failed_retrain_is_an_alert_once_and_later_months_still_trigger(env, instance,
                                                                         resources, monkeypatch):
    import drift_assets.lib.modelling as modelling

    _months(resources, instance, "2011-02")
    [request] = _tick(instance, resources).run_requests

    def broken(*args, **kwargs):
        raise ValueError("cannot train the model: temp: 2 values are non-finite")

    monkeypatch.setattr(modelling, "train", broken)
    training = build_defs(env).resolve_job_def(job("training_job"))
    failed = training.execute_in_process(run_config=request.run_config, instance=instance,
                                         tags={RUN_KEY_TAG: request.run_key},
                                         raise_on_error=False)
    assert not failed.success
    after = _tick(instance, resources)
    assert after.run_requests == []  # not asked again, and not counted as done
    [alert] = _outbox(resources)
    assert alert["title"] == "Retrain for drift in 2011-02 failed"
    assert dict(alert["facts"])["error"].startswith("ValueError: cannot train the model")
    _tick(instance, resources)
    assert len(_outbox(resources)) == 1  # once
    monkeypatch.undo()
    _months(resources, instance, "2011-06", "2011-07")  # re-arms, then a new crossing
    state, version = _state(resources)
    state.last_retrain = "2000-01-01T00:00:00+00:00"  # past the cooldown
    SensorCursor(bike(resources["warehouse"]).engine, "drift_sensor").save(state.dumps(), version)
    assert [_config(r)["drift_months"] for r in _tick(instance, resources).run_requests] == [
        ["2011-07"]]
